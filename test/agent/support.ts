import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { type AgentConfig, loadConfig } from '../../agent/src/config';
import { runtimeReport } from '../helpers/payloads';
import { type LogCenterHandle, startLogCenter } from '../helpers/server';

export { CART_JS, createRepos, FIXER, fixerCommand, git, type Repos } from './repos';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

export interface GiteaStandIn {
  url: string;
  token: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/**
 * Gitea cannot run here, so this answers the one call the agent makes, as Gitea documents it:
 * `POST /api/v1/repos/{owner}/{repo}/pulls` with a `CreatePullRequestOption` body answers 201 and a
 * `PullRequest` (modules/structs/pull.go); without `Authorization: token …` it answers 401
 * `{"message":"token is required"}`. GitHub's `POST /repos/{owner}/{repo}/pulls` (Bearer token) is
 * answered the same way for the second provider.
 */
export async function startGiteaStandIn(token = 'gitea-test-token'): Promise<GiteaStandIn> {
  const requests: RecordedRequest[] = [];
  let nextNumber = 1;
  const server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      raw += chunk;
    });
    req.on('end', () => {
      const path = req.url ?? '/';
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(raw || '{}');
      } catch {
        // recorded as {}; answered 422 below
      }
      requests.push({ method: req.method ?? '', path, headers: req.headers, body });
      const send = (status: number, payload: unknown) => {
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(payload));
      };

      const match = /^(\/api\/v1)?\/repos\/([^/]+)\/([^/]+)\/pulls$/.exec(path);
      if (req.method !== 'POST' || !match) return send(404, { message: 'not found' });
      const github = match[1] === undefined;
      const auth = req.headers.authorization ?? '';
      const presented = github ? /^Bearer (.+)$/.exec(auth)?.[1] : /^token (.+)$/.exec(auth)?.[1];
      if (!presented) return send(401, { message: 'token is required' });
      if (presented !== token) return send(401, { message: 'the stand-in does not know this token' });
      const { title, head, base } = body;
      if (typeof title !== 'string' || typeof head !== 'string' || typeof base !== 'string') {
        return send(422, { message: '[Head]: Required; [Base]: Required; [Title]: Required' });
      }
      const [owner, repo] = [match[2]!, match[3]!];
      const number = nextNumber++;
      const site = github ? 'https://github.test' : url;
      return send(201, {
        id: 1000 + number,
        number,
        url: `${url}${github ? '' : '/api/v1'}/repos/${owner}/${repo}/pulls/${number}`,
        html_url: `${site}/${owner}/${repo}/pulls/${number}`,
        state: 'open',
        title,
        body: body.body ?? '',
        head: { label: head, ref: head },
        base: { label: base, ref: base },
        merged: false,
      });
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    token,
    requests,
    close: () => new Promise((done) => server.close(() => done())),
  };
}

/** A runtime bug in Log Center for the shop repository, and the project settings pointing at it. */
export async function seedBug(
  lc: LogCenterHandle,
  project: string,
  settings: { repo_url?: string | null; local_path?: string | null; test_command?: string | null },
): Promise<number> {
  const put = await lc.api(`/api/v1/projects/${project}`, {
    method: 'PUT',
    body: JSON.stringify({
      name: 'Shop',
      description: 'Online shop backend; carts are plain arrays of {price, quantity}.',
      ...settings,
    }),
  });
  if (put.status !== 200) throw new Error(`project update: ${put.status} ${await put.text()}`);
  const res = await lc.report(
    runtimeReport(project, {
      environment: 'production',
      error: {
        type: 'TypeError',
        message: "Cannot read properties of null (reading 'reduce')",
        file_path: 'src/cart.js',
        line_number: 2,
        stack_trace: [
          "TypeError: Cannot read properties of null (reading 'reduce')",
          '    at total (src/cart.js:2:16)',
          '    at checkout (src/routes/checkout.js:14:10)',
        ],
      },
      context: { url: '/api/checkout', method: 'POST', user_id: 'guest' },
    }),
  );
  const answer = (await res.json()) as { id: number };
  if (res.status !== 200) throw new Error(`report: ${res.status} ${JSON.stringify(answer)}`);
  return answer.id;
}

export interface BugDetail {
  id: number;
  status: string;
  pr_number: number | null;
  pr_url: string | null;
  branch_name: string | null;
  claimed_by: string | null;
  repair_reports: Array<Record<string, unknown>>;
  history: Array<{ from_status: string | null; to_status: string; actor: string; note: string | null }>;
}

export async function bugDetail(lc: LogCenterHandle, id: number): Promise<BugDetail> {
  const res = await lc.api(`/api/v1/bugs/${id}`);
  if (res.status !== 200) throw new Error(`bug ${id}: ${res.status}`);
  return (await res.json()) as BugDetail;
}

/** The agent's configuration as `loadConfig` reads it from the environment. */
export function agentConfig(
  lc: LogCenterHandle,
  gitea: GiteaStandIn,
  env: Record<string, string | undefined>,
): AgentConfig {
  return loadConfig({
    LOG_CENTER_URL: lc.url,
    LOG_CENTER_TOKEN: lc.token,
    AGENT_ID: 'agent-test',
    GITEA_URL: gitea.url,
    GITEA_TOKEN: gitea.token,
    AGENT_FIXER_TIMEOUT_SECONDS: '60',
    AGENT_TEST_TIMEOUT_SECONDS: '60',
    AGENT_POLL_SECONDS: '1',
    ...env,
  });
}

export async function readRecord(path: string): Promise<Record<string, unknown> | null> {
  if (!existsSync(path)) return null;
  return JSON.parse(await readFile(path, 'utf8'));
}

/**
 * One real Log Center and one Gitea stand-in per suite, and the repositories a test created,
 * removed after it.
 */
export function useAgentSuite() {
  const suite = {
    lc: undefined as unknown as LogCenterHandle,
    gitea: undefined as unknown as GiteaStandIn,
    cleanups: [] as Array<() => Promise<void>>,
  };
  beforeAll(async () => {
    suite.lc = await startLogCenter();
    suite.gitea = await startGiteaStandIn();
  });
  afterAll(async () => {
    await suite.gitea.close();
    await suite.lc.stop();
  });
  afterEach(async () => {
    for (const cleanup of suite.cleanups.splice(0)) await cleanup();
    suite.gitea.requests.length = 0;
  });
  return suite;
}
