/**
 * npm run bench: ingestion against a bare Hono endpoint under the same load, plus the
 * insert-heavy and update-heavy cases and the reads of a 100k-bug store (bench/reads.ts: the
 * list, statistics, bug pages, and the list while ingesting). Prints a table and writes
 * bench/results.json. Load comes from wrk when installed (apt-get install wrk), else
 * autocannon; the stored-count check always uses a fixed number of requests so every
 * answer is counted.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { configSchema } from '../functions/lib/config';
import { openLibsql } from '../functions/lib/db-libsql';
import { runtimeReport } from '../test/helpers/payloads';
import { readRows, readScenarios, readTargets } from './reads';
import { equivalentReport, sentryLargeEnvelope, sentryPythonEnvelope } from './sentry-envelope';

const DURATION_S = Number(process.env.BENCH_SECONDS ?? 10);
/** Load before each measured run, not counted: module loading and JIT warm-up are not steady state. */
const WARMUP_S = Number(process.env.BENCH_WARMUP_SECONDS ?? 2);
const CONNECTIONS = 50;
const COUNT_CHECK_REQUESTS = Number(process.env.BENCH_COUNT_REQUESTS ?? 20_000);
const TOKEN = 'bench-token';
const work = mkdtempSync(join(tmpdir(), 'log-center-bench-'));
const hasWrk = (() => {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (error) {
    return (error as { status?: number }).status === 1; // wrk --version exits 1
  }
})();

const step = (text: string) => console.log(`▸ ${text}`);

/**
 * `BENCH_ONLY=name,name`: run only these scenarios (the names of SCENARIOS below), print their
 * table and write no bench/results.json. For iterating on one path without the whole run.
 */
const ONLY = process.env.BENCH_ONLY?.split(',')
  .map((name) => name.trim())
  .filter(Boolean);

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ, 100 on Linux). */
const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds (user + system) of each thread of a process, by thread id. */
function threadSeconds(pid: number | undefined): Map<string, number> {
  const out = new Map<string, number>();
  if (pid === undefined) return out;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(tid, (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS);
    }
  } catch {
    // not Linux, or the process is gone
  }
  return out;
}

/** User plus system CPU seconds a process has used so far, all its threads together. */
function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    // The command name (field 2) may hold spaces; the fields after its closing paren are fixed.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS; // utime, stime
  } catch {
    return Number.NaN; // not Linux, or the process is gone
  }
}

interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  non2xx: number;
  errors: number;
  /** Answers by status, when counted: `429+retry` is a 429 with Retry-After, `429` one without. */
  statuses?: Record<string, number>;
  /**
   * The server process's CPU time (all threads, user + system) over the measured run divided by
   * its requests, in µs: steadier than req/s on a shared machine. Absent where not measured.
   */
  cpuUsPerReq?: number;
}

interface Server {
  url: string;
  child: ChildProcess;
  peakRss: () => number;
  stop(): Promise<void>;
}

/**
 * The shell's environment without Log Center's own settings: a SLACK_WEBHOOK_URL or
 * LIBSQL_URL exported there must not make the bench post real alerts or use another database.
 */
function shellEnvWithoutLogCenter(): NodeJS.ProcessEnv {
  const settings = new Set([...Object.keys(configSchema.shape), 'LIBSQL_URL', 'LIBSQL_AUTH_TOKEN']);
  return Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !settings.has(key) && !key.startsWith('LOG_CENTER_')),
  );
}

async function startProcess(
  args: string[],
  env: Record<string, string>,
  readyPattern: RegExp,
): Promise<Server> {
  const child = spawn(process.execPath, args, {
    env: { ...shellEnvWithoutLogCenter(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = output.match(readyPattern);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`server exited with ${code}:\n${output}`)));
  });
  let peak = 0;
  const sampler = setInterval(() => {
    try {
      const kb = Number(readFileSync(`/proc/${child.pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)?.[1] ?? 0);
      peak = Math.max(peak, kb);
    } catch {
      // process gone
    }
  }, 100);
  return {
    url,
    child,
    peakRss: () => peak / 1024,
    async stop() {
      clearInterval(sampler);
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** The node flags `npm start` uses (heap limits included), read from package.json. */
const SERVER_NODE_FLAGS = (() => {
  const start: string = JSON.parse(readFileSync('package.json', 'utf8')).scripts.start;
  const flags = start.match(/\bnode ((?:--\S+ )*)dist\/server\/node\.mjs/)?.[1];
  if (flags === undefined) throw new Error(`cannot find the node flags in the start script: ${start}`);
  // BENCH_SERVER_FLAGS: more flags for a run (a profile, a GC setting tried before it goes in
  // `npm start`); the figures then describe that setting, not the start script's.
  const extra = process.env.BENCH_SERVER_FLAGS ?? '';
  return `${flags} ${extra}`.trim().split(/\s+/).filter(Boolean);
})();

const startLogCenter = (dataDir: string) =>
  startProcess(
    [...SERVER_NODE_FLAGS, 'dist/server/node.mjs'],
    { PORT: '0', LOG_CENTER_DATA_DIR: dataDir, LOG_CENTER_API_TOKEN: TOKEN, RATE_LIMIT_PER_MINUTE: '0' },
    /listening on (http:\/\/\S+)/,
  );

type BodyKind = 'rotating' | 'unique' | 'hot' | 'large' | 'sentry-equivalent';
/** Sentry envelopes: gzip bodies written to `dir` as env-<i>.bin, sent in turn to `path`. */
interface EnvelopeLoad {
  path: string;
  dir: string;
  count: number;
  key: string;
}
type LoadKind = BodyKind | { get: string[] } | { envelope: EnvelopeLoad };
const ENVELOPE_HEADERS = (key: string) => ({
  'Content-Type': 'application/x-sentry-envelope',
  'Content-Encoding': 'gzip',
  'X-Sentry-Auth': `Sentry sentry_key=${key}, sentry_version=7, sentry_client=sentry.python.django/2.19.2`,
});
const baseBody = runtimeReport('bench_project');
/** About 200 KiB, near the 256 KiB limit: a long message and 190 long stack lines. */
const largeBody = {
  ...baseBody,
  error: {
    ...baseBody.error,
    message: `${baseBody.error.message} ${'m'.repeat(6_000)}`,
    stack_trace: Array.from(
      { length: 190 },
      (_, i) => `  File "app/views.py", line ${i}, in handler ${'x'.repeat(1_000)}`,
    ),
  },
};
/** The envelope scenario's error as a native report with the same kept content (~5 KiB). */
const sentryEquivalentBody = equivalentReport(0);
const bodyOf = (kind: BodyKind) =>
  kind === 'large' ? largeBody : kind === 'sentry-equivalent' ? sentryEquivalentBody : baseBody;
const fingerprintLua = (kind: BodyKind) =>
  kind === 'unique'
    ? `fp = "${runId()}-" .. thread_id .. "-" .. n`
    : kind === 'hot'
      ? 'fp = "hot"'
      : 'fp = tostring(n % 1000)';

/** A Lua script for wrk: POST bodies as the scenario asks, or GETs of the given paths. */
function wrkScript(kind: LoadKind): string {
  if (typeof kind === 'object' && 'envelope' in kind) {
    const { path, dir, count, key } = kind.envelope;
    const headers = Object.entries(ENVELOPE_HEADERS(key))
      .map(([name, value]) => `[${JSON.stringify(name)}] = ${JSON.stringify(value)}`)
      .join(', ');
    return `
local bodies = {}
function init(args)
  for i = 0, ${count - 1} do
    local f = io.open(${JSON.stringify(dir)} .. "/env-" .. i .. ".bin", "rb")
    bodies[i] = f:read("*a")
    f:close()
  end
end
local n = 0
request = function()
  n = n + 1
  return wrk.format("POST", ${JSON.stringify(path)}, { ${headers} }, bodies[n % ${count}])
end`;
  }
  if (typeof kind === 'object') {
    return `
local paths = { ${kind.get.map((p) => JSON.stringify(p)).join(', ')} }
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", paths[(n % #paths) + 1], { ["Authorization"] = "Bearer ${TOKEN}" })
end`;
  }
  const template = JSON.stringify({ ...bodyOf(kind), fingerprint: ['FP'] }).replace('"FP"', '"%s"');
  return `
local template = ${JSON.stringify(template)}
local thread_id = 0
local threads = 0
function setup(thread) thread:set("tid", threads); threads = threads + 1 end
function init(args) thread_id = tid or 0 end
local n = 0
request = function()
  n = n + 1
  local fp
  ${fingerprintLua(kind)}
  return wrk.format("POST", "/api/v1/logs/report", { ["Content-Type"] = "application/json" }, string.format(template, fp))
end`;
}

/**
 * Appended to a wrk script: counts the answers by status (a 429 with Retry-After apart) and
 * prints them once the run is done. Reading each answer costs wrk some speed, so only the
 * scenarios that expect refusals count.
 */
const STATUS_LUA = `
statuses = {}
response = function(status, headers, body)
  local key = tostring(status)
  if status == 429 then
    key = (headers["Retry-After"] or headers["retry-after"]) and "429+retry" or "429"
  end
  statuses[key] = (statuses[key] or 0) + 1
end
local all_threads = {}
local base_setup = setup
setup = function(thread)
  table.insert(all_threads, thread)
  if base_setup then base_setup(thread) end
end
done = function(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(all_threads) do
    for key, n in pairs(thread:get("statuses") or {}) do total[key] = (total[key] or 0) + n end
  end
  local parts = {}
  for key, n in pairs(total) do table.insert(parts, key .. "=" .. n) end
  print("STATUSES " .. table.concat(parts, " "))
end`;

function parseStatuses(out: string): Record<string, number> | undefined {
  const line = out.match(/^STATUSES(.*)$/m)?.[1];
  if (line === undefined) return undefined;
  return Object.fromEntries(
    line
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map((pair) => {
        const [key, n] = pair.split('=');
        return [key!, Number(n)];
      }),
  );
}

function parseWrk(out: string): LoadResult {
  const ms = (v: string) => {
    const m = v.match(/([\d.]+)(us|ms|s|m)\b/);
    if (!m) return Number.NaN;
    const n = Number(m[1]);
    return { us: n / 1000, ms: n, s: n * 1000, m: n * 60_000 }[m[2] as 'us' | 'ms' | 's' | 'm'];
  };
  const requests = Number(out.match(/(\d+) requests in/)?.[1] ?? 0);
  const errors = out.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
  return {
    rps: Number(out.match(/Requests\/sec:\s+([\d.]+)/)?.[1] ?? 0),
    p50: ms(out.match(/^\s+50%\s+(\S+)/m)?.[1] ?? ''),
    p99: ms(out.match(/^\s+99%\s+(\S+)/m)?.[1] ?? ''),
    requests,
    non2xx: Number(out.match(/Non-2xx or 3xx responses: (\d+)/)?.[1] ?? 0),
    errors: errors ? errors.slice(1).reduce((a, b) => a + Number(b), 0) : 0,
    statuses: parseStatuses(out),
  };
}

/** Each run's unique fingerprints differ from every other run's, warm-up included. */
const runId = () => Math.random().toString(36).slice(2, 10);

/**
 * A warm-up run, then the measured one. With `serverPid`, the server's CPU time over the
 * measured run is read from /proc and given per request (`cpuUsPerReq`).
 */
async function load(
  url: string,
  kind: LoadKind,
  connections = CONNECTIONS,
  countStatuses = false,
  serverPid?: number,
): Promise<LoadResult> {
  if (WARMUP_S > 0) await loadFor(WARMUP_S, url, kind, connections);
  const before = cpuSeconds(serverPid);
  const threadsBefore = process.env.BENCH_DEBUG ? threadSeconds(serverPid) : undefined;
  const result = await loadFor(DURATION_S, url, kind, connections, countStatuses);
  const used = cpuSeconds(serverPid) - before;
  if (Number.isFinite(used) && result.requests > 0) result.cpuUsPerReq = (used * 1e6) / result.requests;
  if (threadsBefore && result.requests > 0) {
    // Which threads the CPU went to (main first, then V8's, libuv's and the worker threads).
    const perThread = [...threadSeconds(serverPid)].map(
      ([tid, seconds]) => [tid, ((seconds - (threadsBefore.get(tid) ?? 0)) * 1e6) / result.requests] as const,
    );
    console.log(
      `server CPU µs/request by thread: ${perThread
        .filter(([, us]) => us >= 1)
        .map(([tid, us]) => `${tid === String(serverPid) ? 'main' : tid}:${us.toFixed(0)}`)
        .join(' ')}`,
    );
  }
  return result;
}

async function loadFor(
  seconds: number,
  url: string,
  kind: LoadKind,
  connections: number,
  countStatuses = false,
): Promise<LoadResult> {
  if (hasWrk) {
    const script = join(work, `load-${runId()}.lua`);
    writeFileSync(script, wrkScript(kind) + (countStatuses ? STATUS_LUA : ''));
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn('wrk', [
        '-t2',
        `-c${connections}`,
        `-d${seconds}s`,
        '--latency',
        // Where answers are counted, a slow answer is waited for rather than counted as an error.
        ...(countStatuses ? ['--timeout', '10s'] : []),
        '-s',
        script,
        url,
      ]);
      let text = '';
      child.stdout.on('data', (d) => {
        text += d;
      });
      child.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`wrk exited ${code}`))));
    });
    if (process.env.BENCH_DEBUG) console.log(out);
    return parseWrk(out);
  }
  return autocannonLoad(url, kind, { duration: seconds }, connections);
}

async function autocannonLoad(
  url: string,
  kind: LoadKind,
  limit: { duration?: number; amount?: number },
  connections = CONNECTIONS,
): Promise<LoadResult & { ok: number }> {
  let n = 0;
  const run = runId();
  const result = await autocannon({
    url,
    connections,
    ...limit,
    requests: [
      typeof kind === 'object' && 'envelope' in kind
        ? {
            method: 'POST',
            path: kind.envelope.path,
            headers: ENVELOPE_HEADERS(kind.envelope.key),
            setupRequest: (req) => ({
              ...req,
              body: envelopeBodies(kind.envelope)[n++ % kind.envelope.count],
            }),
          }
        : typeof kind === 'object'
          ? {
              method: 'GET',
              headers: { authorization: `Bearer ${TOKEN}` },
              setupRequest: (req) => ({ ...req, path: kind.get[n++ % kind.get.length] }),
            }
          : {
              method: 'POST',
              path: '/api/v1/logs/report',
              headers: { 'content-type': 'application/json' },
              setupRequest: (req) => {
                n++;
                const fp = kind === 'unique' ? `${run}-${n}` : kind === 'hot' ? 'hot' : String(n % 1000);
                return { ...req, body: JSON.stringify({ ...bodyOf(kind), fingerprint: [fp] }) };
              },
            },
    ],
  });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    ok: result['2xx'],
  };
}

async function storedOccurrences(dataDir: string, project: string): Promise<number> {
  const handle = await openLibsql(`file:${join(dataDir, 'log-center.db')}`);
  const rs = await handle.client.execute({
    sql: 'SELECT coalesce(sum(occurrence_count), 0) AS n FROM bugs WHERE project_id = ?',
    args: [project],
  });
  handle.close();
  return Number(rs.rows[0]!.n);
}

async function ingestScenario(name: string, kind: BodyKind) {
  const dataDir = join(work, name);
  step(`${name}: starting Log Center on a temporary database`);
  const server = await startLogCenter(dataDir);
  step(
    `${name}: ${WARMUP_S}s warm-up, then ${DURATION_S}s of load at ${CONNECTIONS} connections (${hasWrk ? 'wrk' : 'autocannon'})`,
  );
  const result = await load(server.url, kind, CONNECTIONS, kind === 'large', server.child.pid);
  await server.stop();
  return { ...result, rssMb: server.peakRss() };
}

const bodiesByDir = new Map<string, Buffer[]>();
function envelopeBodies(load: EnvelopeLoad): Buffer[] {
  let bodies = bodiesByDir.get(load.dir);
  if (!bodies) {
    bodies = Array.from({ length: load.count }, (_, i) => readFileSync(join(load.dir, `env-${i}.bin`)));
    bodiesByDir.set(load.dir, bodies);
  }
  return bodies;
}

/**
 * Creates the project through the API and writes rotating gzip envelopes for its DSN: 1000
 * typical ones, or 100 holding a ~1 MiB event each.
 */
async function prepareEnvelopes(server: Server, name: string, large = false): Promise<EnvelopeLoad> {
  const headers = { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' };
  await fetch(`${server.url}/api/v1/projects/bench_project`, { method: 'PUT', headers, body: '{}' });
  const project = (await (
    await fetch(`${server.url}/api/v1/projects/bench_project`, { headers })
  ).json()) as {
    sentry_id: number;
    sentry_dsn: string;
  };
  const dir = join(work, `${name}-envelopes`);
  mkdirSync(dir, { recursive: true });
  const count = large ? 100 : 1000;
  for (let i = 0; i < count; i++) {
    const envelope = large
      ? sentryLargeEnvelope(i, project.sentry_dsn)
      : sentryPythonEnvelope(i, project.sentry_dsn);
    writeFileSync(join(dir, `env-${i}.bin`), envelope);
  }
  return { path: `/api/${project.sentry_id}/envelope/`, dir, count, key: 'public' };
}

async function envelopeScenario() {
  const name = 'sentry-envelopes';
  step(`${name}: starting Log Center on a temporary database`);
  const server = await startLogCenter(join(work, name));
  const envelopes = await prepareEnvelopes(server, name);
  const size = readFileSync(join(envelopes.dir, 'env-0.bin')).length;
  step(
    `${name}: gzip envelopes (${size} bytes on the wire, ~13 KiB of JSON), 1000 rotating errors, ${WARMUP_S}s warm-up, then ${DURATION_S}s at ${CONNECTIONS} connections`,
  );
  const result = await load(server.url, { envelope: envelopes }, CONNECTIONS, false, server.child.pid);
  await server.stop();
  return { ...result, rssMb: server.peakRss() };
}

/** ~1 MiB events: memory stays bounded, and what the queue cannot take is refused with Retry-After. */
async function largeEnvelopeScenario() {
  const name = 'sentry-large-envelopes';
  step(`${name}: starting Log Center on a temporary database`);
  const server = await startLogCenter(join(work, name));
  const envelopes = await prepareEnvelopes(server, name, true);
  const size = readFileSync(join(envelopes.dir, 'env-0.bin')).length;
  step(
    `${name}: gzip envelopes (${size} bytes on the wire, a ~1 MiB event), 100 rotating errors, ${WARMUP_S}s warm-up, then ${DURATION_S}s at ${CONNECTIONS} connections`,
  );
  const result = await load(server.url, { envelope: envelopes }, CONNECTIONS, true, server.child.pid);
  await server.stop();
  return { ...result, rssMb: server.peakRss(), wireBytes: size };
}

async function envelopeCountCheck() {
  const dataDir = join(work, 'envelope-count-check');
  step(`envelope stored-count check: ${COUNT_CHECK_REQUESTS} envelopes, every answer counted (autocannon)`);
  const server = await startLogCenter(dataDir);
  const envelopes = await prepareEnvelopes(server, 'envelope-count-check');
  const result = await autocannonLoad(server.url, { envelope: envelopes }, { amount: COUNT_CHECK_REQUESTS });
  await server.stop();
  return {
    answered2xx: result.ok,
    stored: await storedOccurrences(dataDir, 'bench_project'),
    non2xx: result.non2xx,
  };
}

async function countCheck() {
  const dataDir = join(work, 'count-check');
  step(`stored-count check: ${COUNT_CHECK_REQUESTS} reports, every answer counted (autocannon)`);
  const server = await startLogCenter(dataDir);
  const result = await autocannonLoad(server.url, 'rotating', { amount: COUNT_CHECK_REQUESTS });
  await server.stop();
  return {
    answered2xx: result.ok,
    stored: await storedOccurrences(dataDir, 'bench_project'),
    non2xx: result.non2xx,
  };
}

/** CPU time per report inside workerd (bench/worker-cpu.ts, also `npm run bench:worker`). */
function workerCpu(): {
  native: { workerd_process_cpu_ms_per_report: number; cpu_ms_per_report: number };
  sentry: { workerd_process_cpu_ms_per_report: number; cpu_ms_per_report: number };
} {
  step('Worker: CPU time per report in workerd with D1 local (bench/worker-cpu.ts)');
  execFileSync(process.execPath, ['--import', 'tsx', 'bench/worker-cpu.ts'], {
    stdio: 'inherit',
    env: shellEnvWithoutLogCenter(),
  });
  return JSON.parse(readFileSync('bench/worker-results.json', 'utf8'));
}

/** A baseline server (bare.ts, no-storage.ts) under the rotating load. */
async function baselineScenario(args: string[]) {
  const server = await startProcess(args, { PORT: '0' }, /listening on (http:\/\/\S+)/);
  const result = await load(server.url, 'rotating', CONNECTIONS, false, server.child.pid);
  await server.stop();
  return { ...result, rssMb: server.peakRss() };
}

function bareScenario() {
  step('bare Hono endpoint (parses the same JSON, stores nothing)');
  return baselineScenario(['--import', 'tsx', 'bench/bare.ts']);
}

function noStorageScenario() {
  step('the same app with storage left out (where the time goes)');
  return baselineScenario([...SERVER_NODE_FLAGS, '--import', 'tsx', 'bench/no-storage.ts']);
}

type Row = LoadResult & { rssMb: number };
const fmt = (n: number | undefined, digits = 0) => (n === undefined ? '–' : n.toFixed(digits));

function printTable(rows: readonly (readonly [string, Row])[]): void {
  console.log(
    '\n| scenario | req/s | p50 ms | p99 ms | non-2xx | errors | peak RSS MB | server CPU µs/req |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const [name, r] of rows) {
    console.log(
      `| ${name} | ${r.rps.toFixed(0)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.non2xx} | ${r.errors} | ${r.rssMb.toFixed(0)} | ${fmt(r.cpuUsPerReq)} |`,
    );
  }
}

/** Ingest against bare by throughput (the target figure) and by server CPU per request. */
function ratios(rotating: Row, bare: Row) {
  return {
    ratio: rotating.rps / bare.rps,
    cpu_ratio:
      rotating.cpuUsPerReq && bare.cpuUsPerReq ? bare.cpuUsPerReq / rotating.cpuUsPerReq : Number.NaN,
  };
}

/**
 * BENCH_ONLY: the named scenarios alone, in the order given, with the ratios that the chosen
 * ones allow. Nothing is written: bench/results.json holds whole runs only.
 */
async function runOnly(names: string[]) {
  const scenarios: Record<string, [string, () => Promise<Row>]> = {
    bare: ['bare Hono endpoint', bareScenario],
    'no-storage': ['Log Center app, storage left out', noStorageScenario],
    rotating: [
      'ingest, 1000 rotating fingerprints',
      () => ingestScenario('ingest-1000-fingerprints', 'rotating'),
    ],
    unique: ['ingest, all unique (insert-heavy)', () => ingestScenario('ingest-unique', 'unique')],
    hot: ['ingest, one hot fingerprint (update-heavy)', () => ingestScenario('ingest-hot', 'hot')],
    large: ['ingest, ~200 KiB reports, 1000 fingerprints', () => ingestScenario('ingest-large', 'large')],
    envelopes: ['Sentry envelopes, gzip, 1000 rotating errors', envelopeScenario],
    'large-envelopes': ['Sentry envelopes, gzip, ~1 MiB event, 100 rotating errors', largeEnvelopeScenario],
    equivalent: [
      'native reports with the same kept content as the envelopes',
      () => ingestScenario('ingest-sentry-equivalent', 'sentry-equivalent'),
    ],
  };
  if (names.includes('reads')) {
    // The reads are one run on one store: they go alone.
    if (names.length > 1) throw new Error('BENCH_ONLY: reads runs alone');
    step('building the server bundle (dist/server/node.mjs)');
    execFileSync(process.execPath, ['scripts/build-server.mjs'], { stdio: 'inherit' });
    const reads = await readScenarios({ work, step, startLogCenter, load });
    printTable(readRows(reads));
    for (const [name, { figure, met }] of Object.entries(readTargets(reads)))
      console.log(`${name}: p99 ${figure.toFixed(1)} ms, ${met ? 'met' : 'NOT met'}`);
    console.log('BENCH_ONLY: bench/results.json not written');
    return;
  }
  const unknown = names.filter((name) => !(name in scenarios));
  if (unknown.length) {
    throw new Error(
      `BENCH_ONLY: unknown ${unknown.join(', ')}; known: ${Object.keys(scenarios).join(', ')}, reads`,
    );
  }
  step('building the server bundle (dist/server/node.mjs)');
  execFileSync(process.execPath, ['scripts/build-server.mjs'], { stdio: 'inherit' });
  const results = new Map<string, Row>();
  for (const name of names) results.set(name, await scenarios[name]![1]());
  printTable(names.map((name) => [scenarios[name]![0], results.get(name)!] as const));
  const rotating = results.get('rotating');
  const bare = results.get('bare');
  const noStorage = results.get('no-storage');
  if (rotating && bare) {
    const { ratio, cpu_ratio } = ratios(rotating, bare);
    console.log(
      `\ningest / bare: ${ratio.toFixed(2)}× by req/s (target ≥ 0.3×), ${cpu_ratio.toFixed(2)}× by CPU`,
    );
  }
  if (rotating && noStorage) {
    console.log(`ingest / the same app without storage: ${(rotating.rps / noStorage.rps).toFixed(2)}×`);
  }
  for (const name of ['large', 'large-envelopes']) {
    const r = results.get(name);
    if (r)
      console.log(`${name}: answers ${JSON.stringify(r.statuses ?? {})}, peak RSS ${r.rssMb.toFixed(0)} MB`);
  }
  console.log('BENCH_ONLY: bench/results.json not written');
}

async function main() {
  if (ONLY) return runOnly(ONLY);
  step('building the server bundle (dist/server/node.mjs)');
  execFileSync(process.execPath, ['scripts/build-server.mjs'], { stdio: 'inherit' });

  const bare = await bareScenario();
  const noStorage = await noStorageScenario();

  const rotating = await ingestScenario('ingest-1000-fingerprints', 'rotating');
  const unique = await ingestScenario('ingest-unique', 'unique');
  const hot = await ingestScenario('ingest-hot', 'hot');
  const large = await ingestScenario('ingest-large', 'large');
  const envelopes = await envelopeScenario();
  const largeEnvelopes = await largeEnvelopeScenario();
  const equivalent = await ingestScenario('ingest-sentry-equivalent', 'sentry-equivalent');
  const count = await countCheck();
  const envelopeCount = await envelopeCountCheck();
  const reads = await readScenarios({ work, step, startLogCenter, load });
  const worker = workerCpu();

  const rows = [
    ['bare Hono endpoint', bare],
    ['Log Center app, storage left out', noStorage],
    ['ingest, 1000 rotating fingerprints', rotating],
    ['ingest, all unique (insert-heavy)', unique],
    ['ingest, one hot fingerprint (update-heavy)', hot],
    ['ingest, ~200 KiB reports, 1000 fingerprints (429 when the queue holds 16 MiB)', large],
    ['Sentry envelopes, gzip, 1000 rotating errors', envelopes],
    [
      `Sentry envelopes, gzip, ~1 MiB event (${Math.round(largeEnvelopes.wireBytes / 1024)} KiB on the wire), 100 rotating errors`,
      largeEnvelopes,
    ],
    ['native reports with the same kept content as the envelopes, 1000 fingerprints', equivalent],
    ...readRows(reads),
  ] as const;
  printTable(rows);
  const { ratio, cpu_ratio } = ratios(rotating, bare);
  const storageShare = rotating.rps / noStorage.rps;
  console.log(
    `\ningest / bare: ${ratio.toFixed(2)}× by req/s (target ≥ 0.3×), ${cpu_ratio.toFixed(2)}× by CPU`,
  );
  console.log(
    `server CPU µs/request: bare ${fmt(bare.cpuUsPerReq)}, storage left out ${fmt(noStorage.cpuUsPerReq)}, ingest ${fmt(rotating.cpuUsPerReq)}, unique ${fmt(unique.cpuUsPerReq)}, hot ${fmt(hot.cpuUsPerReq)}`,
  );
  console.log(`ingest / the same app without storage: ${storageShare.toFixed(2)}× (target ≥ 0.6×)`);
  const answers = (r: LoadResult) =>
    Object.entries(r.statuses ?? {})
      .map(([status, n]) => `${status}: ${n}`)
      .join(', ') || 'not counted';
  console.log(`~200 KiB reports, answers: ${answers(large)}`);
  console.log(`~1 MiB Sentry events, answers: ${answers(largeEnvelopes)}`);
  console.log(
    `stored-count check: ${count.answered2xx} answered 2xx, ${count.stored} stored, ${count.non2xx} non-2xx`,
  );
  const envelopeRatio = envelopes.rps / rotating.rps;
  const envelopeLikeForLike = envelopes.rps / equivalent.rps;
  console.log(`Sentry envelopes / native reports: ${envelopeRatio.toFixed(2)}× (target ≥ 0.8×)`);
  console.log(
    `Sentry envelopes / native reports with the same kept content: ${envelopeLikeForLike.toFixed(2)}×`,
  );
  console.log(
    `envelope stored-count check: ${envelopeCount.answered2xx} answered 2xx, ${envelopeCount.stored} stored, ${envelopeCount.non2xx} non-2xx`,
  );
  /** Every answer 2xx, or 429 with Retry-After (the queue is full), and no socket errors. */
  const onlyStoredOrRetry = (r: LoadResult) =>
    r.statuses !== undefined &&
    r.errors === 0 &&
    Object.entries(r.statuses).every(
      ([status, n]) => n === 0 || /^2\d\d$/.test(status) || status === '429+retry',
    );
  console.log(
    `Worker CPU per report (workerd process, D1 local; free plan 10 ms): native ${worker.native.workerd_process_cpu_ms_per_report.toFixed(2)} ms, Sentry envelope ${worker.sentry.workerd_process_cpu_ms_per_report.toFixed(2)} ms`,
  );
  const readChecks = readTargets(reads);
  for (const [name, { figure, met }] of Object.entries(readChecks))
    console.log(`${name}: p99 ${figure.toFixed(1)} ms, ${met ? 'met' : 'NOT met'}`);
  const checks = {
    ...Object.fromEntries(Object.entries(readChecks).map(([name, { met }]) => [name, met])),
    ratio_at_least_0_3: ratio >= 0.3,
    ratio_to_app_without_storage_at_least_0_6: storageShare >= 0.6,
    large_reports_rss_under_150mb: large.rssMb < 150,
    large_reports_2xx_or_429_with_retry_after: onlyStoredOrRetry(large),
    sentry_1mib_rss_under_200mb: largeEnvelopes.rssMb < 200,
    sentry_1mib_2xx_or_429_with_retry_after: onlyStoredOrRetry(largeEnvelopes),
    worker_native_cpu_under_10ms: worker.native.workerd_process_cpu_ms_per_report < 10,
    worker_sentry_cpu_under_10ms: worker.sentry.workerd_process_cpu_ms_per_report < 10,
    p99_under_50ms: rotating.p99 < 50,
    zero_non_2xx: rotating.non2xx === 0 && rotating.errors === 0,
    rss_under_150mb: rotating.rssMb < 150,
    stored_equals_2xx: count.answered2xx === count.stored,
    envelopes_at_least_0_8_of_reports: envelopeRatio >= 0.8,
    envelopes_zero_non_2xx: envelopes.non2xx === 0 && envelopes.errors === 0 && envelopeCount.non2xx === 0,
    envelopes_stored_equals_2xx: envelopeCount.answered2xx === envelopeCount.stored,
  };
  console.log(
    'targets:',
    Object.entries(checks)
      .map(([k, v]) => `${k}=${v ? 'met' : 'NOT met'}`)
      .join(', '),
  );
  const results = {
    at: new Date().toISOString(),
    load_tool: hasWrk ? 'wrk -t2 -c50' : 'autocannon -c50',
    duration_s: DURATION_S,
    warmup_s: WARMUP_S,
    node: process.version,
    scenarios: Object.fromEntries(rows.map(([name, r]) => [name, r])),
    ratio,
    /**
     * Bare's server CPU per request over ingest's: the same comparison as `ratio` by CPU time,
     * which a busy machine disturbs less than throughput (`ratio` stays the target figure).
     */
    cpu_ratio,
    cpu_us_per_request: {
      bare: bare.cpuUsPerReq,
      no_storage: noStorage.cpuUsPerReq,
      rotating: rotating.cpuUsPerReq,
      unique: unique.cpuUsPerReq,
      hot: hot.cpuUsPerReq,
      large: large.cpuUsPerReq,
      sentry_envelopes: envelopes.cpuUsPerReq,
      sentry_large_envelopes: largeEnvelopes.cpuUsPerReq,
      sentry_equivalent: equivalent.cpuUsPerReq,
    },
    ratio_to_app_without_storage: storageShare,
    count_check: count,
    envelope_ratio_to_reports: envelopeRatio,
    envelope_ratio_to_equivalent_reports: envelopeLikeForLike,
    envelope_count_check: envelopeCount,
    worker_cpu: worker,
    read_targets: readChecks,
    targets: checks,
  };
  writeFileSync('bench/results.json', `${JSON.stringify(results, null, 2)}\n`);
  console.log('written bench/results.json');
}

main()
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => rmSync(work, { recursive: true, force: true }));
