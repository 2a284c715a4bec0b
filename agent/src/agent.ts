import type { AgentConfig } from './config';
import { type Bug, LogCenterClient } from './log-center';
import { type BugOutcome, repairBug } from './repair';

export interface RunOptions {
  progress?: (line: string) => void;
  signal?: AbortSignal;
  fetch?: typeof fetch;
  now?: () => Date;
}

export interface RunSummary {
  claimed: number;
  outcomes: BugOutcome[];
  /** Problems of the agent itself (Log Center unreachable, results not recorded), not of the bugs. */
  errors: string[];
}

/**
 * Handles every runtime bug claimable now, one at a time, and returns what became of each.
 *
 * Bugs are claimed one by one rather than in a batch: a claimed bug's lease runs from the claim, so a
 * batch would spend the later bugs' leases while the first ones are repaired, and would keep them
 * from other agents meanwhile.
 */
export async function runOnce(config: AgentConfig, options: RunOptions = {}): Promise<RunSummary> {
  const progress = options.progress ?? (() => {});
  const api = new LogCenterClient({
    baseUrl: config.logCenterUrl,
    token: config.logCenterToken,
    fetch: options.fetch,
  });
  const summary: RunSummary = { claimed: 0, outcomes: [], errors: [] };
  const handled = new Set<number>();

  // With AGENT_PROJECTS the claim is scoped per project; without it, any project's bug will do.
  for (const projectId of config.projects ?? [undefined]) {
    while (!options.signal?.aborted) {
      let bug: Bug | undefined;
      try {
        [bug] = await api.claim({
          agent_id: config.agentId,
          project_id: projectId,
          source: 'runtime',
          limit: 1,
          lease_seconds: config.leaseSeconds,
        });
      } catch (error) {
        const message = `claim${projectId ? ` for ${projectId}` : ''} failed: ${(error as Error).message}`;
        summary.errors.push(message);
        progress(message);
        break;
      }
      if (!bug) break;
      // A bug this run already finished cannot be claimable again unless the server lost our result.
      if (handled.has(bug.id)) {
        summary.errors.push(`bug #${bug.id} was handed out twice in one run; stopping`);
        break;
      }
      handled.add(bug.id);
      summary.claimed++;
      const outcome = await repairBug(bug, {
        config,
        api,
        progress,
        signal: options.signal,
        fetch: options.fetch,
        now: options.now,
      });
      summary.outcomes.push(outcome);
      if (outcome.error) summary.errors.push(`bug #${bug.id}: ${outcome.error}`);
      // A dirty checkout or an unreachable remote would fail every further bug of the project the
      // same way; one FAILED bug with the reason is enough for a person to act on.
      // A follow-up whose pull request branch is gone concerns that bug only.
      if (outcome.status !== 'PENDING_REVIEW' && outcome.stage === 'repository' && !outcome.onlyThisBug) {
        progress(
          `not claiming more bugs${projectId ? ` of ${projectId}` : ''} in this run: the repository could not be prepared`,
        );
        break;
      }
    }
  }
  return summary;
}

/** The lines printed at the end of `--once`, and after each poll that found work. */
export function formatSummary(summary: RunSummary): string[] {
  const count = (status: BugOutcome['status']) => summary.outcomes.filter((o) => o.status === status).length;
  const lines = [
    `summary: ${summary.claimed} claimed, ${count('PENDING_REVIEW')} pending review, ${count('FAILED')} failed` +
      `${count('FIXING') ? `, ${count('FIXING')} not recorded` : ''}, ${summary.errors.length} error(s)`,
  ];
  for (const o of summary.outcomes) {
    const detail =
      o.status === 'PENDING_REVIEW'
        ? `PR #${o.prNumber} ${o.prUrl ?? ''}${o.followUp ? ` (follow-up commit ${o.commit?.slice(0, 10)} on ${o.branch})` : ''}`
        : (o.reason ?? '');
    lines.push(`  bug #${o.bugId} (${o.projectId}) ${o.status}: ${detail}`);
  }
  for (const error of summary.errors) lines.push(`  error: ${error}`);
  return lines;
}

/** `npm run agent`: runOnce every AGENT_POLL_SECONDS until the signal aborts. */
export async function runForever(config: AgentConfig, options: RunOptions = {}): Promise<void> {
  const progress = options.progress ?? (() => {});
  while (!options.signal?.aborted) {
    const summary = await runOnce(config, options);
    if (summary.claimed > 0 || summary.errors.length > 0)
      for (const line of formatSummary(summary)) progress(line);
    await sleep(config.pollSeconds * 1000, options.signal);
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
