/**
 * Repair agent entry: `npm run agent` claims and repairs runtime bugs every AGENT_POLL_SECONDS;
 * `npm run agent -- --once` handles what is claimable now, prints a summary and exits (1 when
 * Log Center could not be reached or told a result, 2 on bad configuration).
 */
import { formatSummary, runForever, runOnce } from './agent';
import { ConfigError, loadConfig } from './config';

const USAGE = `usage: npm run agent [-- --once]

  --once   handle the bugs claimable now, print a summary, exit

Environment: LOG_CENTER_URL, LOG_CENTER_TOKEN, AGENT_ID, AGENT_PROJECTS, AGENT_WORKDIR,
AGENT_POLL_SECONDS, AGENT_FIXER_CMD, AGENT_FIXER_TIMEOUT_SECONDS, AGENT_TEST_CMD,
AGENT_TEST_TIMEOUT_SECONDS, AGENT_LEASE_SECONDS, GITEA_URL, GITEA_TOKEN, AGENT_PR_PROVIDER,
GITHUB_TOKEN, GITHUB_API_URL, AGENT_GIT_NAME, AGENT_GIT_EMAIL`;

const line = (text: string) => process.stdout.write(`${new Date().toISOString()} ${text}\n`);

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const unknown = argv.filter((arg) => arg !== '--once');
  if (unknown.length > 0) {
    process.stderr.write(`unknown argument ${unknown[0]}\n${USAGE}\n`);
    return 2;
  }
  const once = argv.includes('--once');

  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    const problems = error instanceof ConfigError ? error.problems : [String(error)];
    process.stderr.write(`invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}\n`);
    return 2;
  }

  // The first signal lets the current repair end as FAILED ("agent is shutting down") so the bug is
  // not left FIXING; a second one exits at once and leaves the bug to its lease.
  const stop = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stop.signal.aborted) process.exit(130);
      line(`${signal}: finishing the current bug, then exiting (again to exit now)`);
      stop.abort();
    });
  }

  line(
    `repair agent ${config.agentId}: ${once ? 'once' : `polling every ${config.pollSeconds}s`}, ` +
      `Log Center ${config.logCenterUrl}, projects ${config.projects?.join(',') ?? 'all'}, fixer: ${config.fixerCommand}`,
  );
  if (once) {
    const summary = await runOnce(config, { progress: line, signal: stop.signal });
    for (const text of formatSummary(summary)) line(text);
    return summary.errors.length > 0 ? 1 : 0;
  }
  await runForever(config, { progress: line, signal: stop.signal });
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    line(`agent crashed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exitCode = 1;
  },
);
