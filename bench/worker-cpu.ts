/**
 * npm run bench:worker (also run by npm run bench): CPU time per report inside workerd, with
 * D1 local, for the native report API and for Sentry envelopes, against the Workers free
 * plan's 10 ms per request.
 *
 * Local workerd enforces no CPU limit and reports no CPU time of its own (a tail event's
 * cpuTime is filled in by Cloudflare's runtime only). Two figures stand in for it, reports
 * sent one at a time after a warm-up:
 *
 * - `workerd_process_cpu_ms_per_report`, the one the target is read from: user + system CPU of
 *   the whole workerd process (/proc) over the reports. An upper bound: it holds the Worker's
 *   isolate and also D1's SQLite (another isolate locally; not the Worker's CPU on Cloudflare)
 *   and workerd's HTTP. A busy machine does not inflate it much, since waiting is not counted.
 * - `cpu_ms_per_report`: the non-idle samples of a V8 CPU profile of the Worker's isolate,
 *   taken through workerd's inspector. A sample's interval is wall time, so on a loaded machine
 *   the time the thread waited for a core is counted too, and the profiler adds its own; it is
 *   kept for where the time goes (BENCH_WORKER_PROFILE_DIR writes the profiles), not as the figure.
 *
 * The machine is not Cloudflare's: read the result as an order of magnitude, not a promise.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Miniflare } from 'miniflare';
import WebSocket from 'ws';
import { runtimeReport } from '../test/helpers/payloads';
import { sentryPythonEnvelope } from './sentry-envelope';

const REPORTS = Number(process.env.BENCH_WORKER_REPORTS ?? 300);
const WARMUP = 100;
const TOKEN = 'bench-token';
const FREE_PLAN_CPU_MS = 10;
const ORIGIN = 'http://bench.local';

interface Profile {
  nodes: { id: number; callFrame: { functionName: string } }[];
  samples: number[];
  timeDeltas: number[];
}

/** workerd's processes (miniflare starts it as a child of this one). */
function workerdPids(): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        return (
          stat.includes('(workerd)') &&
          Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === process.pid
        );
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** CPU milliseconds (user + system) a process has used so far, from /proc. */
function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in ticks of 1/100 s
}

/** Milliseconds of samples that were not idle: the isolate's time on the thread. */
function busyMs(profile: Profile): { busy: number; total: number } {
  const idle = new Set(profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
  let busy = 0;
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    total += dt;
    if (!idle.has(id)) busy += dt;
  });
  return { busy: busy / 1000, total: total / 1000 };
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

/** A DevTools protocol session with the Worker's isolate. */
async function inspect(port: number) {
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json`)).json()) as {
    id: string;
    title: string;
    webSocketDebuggerUrl: string;
  }[];
  const target = targets.find((t) => !t.id.includes('miniflare') && !t.title.includes('miniflare'));
  if (!target) throw new Error(`no Worker among the inspector's targets: ${JSON.stringify(targets)}`);
  const socket = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  let nextId = 1;
  const waiting = new Map<number, (result: unknown) => void>();
  socket.on('message', (data) => {
    const message = JSON.parse(String(data)) as { id?: number; result?: unknown };
    if (message.id !== undefined) waiting.get(message.id)?.(message.result);
  });
  return {
    send<T>(method: string, params: Record<string, unknown> = {}): Promise<T> {
      const id = nextId++;
      return new Promise<T>((resolve) => {
        waiting.set(id, resolve as (result: unknown) => void);
        socket.send(JSON.stringify({ id, method, params }));
      });
    },
    close: () => socket.close(),
  };
}

async function main() {
  const work = mkdtempSync(join(tmpdir(), 'log-center-worker-cpu-'));
  try {
    console.log('▸ building the Worker as deployed (wrangler deploy --dry-run)');
    execFileSync('npx', ['wrangler', 'deploy', '--dry-run', '--outdir', work], { stdio: 'ignore' });
    const inspectorPort = await freePort();
    const mf = new Miniflare({
      modules: true,
      scriptPath: join(work, 'worker.js'),
      modulesRoot: work,
      compatibilityDate: '2026-04-01',
      compatibilityFlags: ['nodejs_compat'],
      d1Databases: { DB: 'log-center' },
      d1Persist: join(work, 'd1'),
      bindings: { LOG_CENTER_API_TOKEN: TOKEN, RATE_LIMIT_PER_MINUTE: '0' },
      inspectorPort,
    });
    try {
      const d1 = await mf.getD1Database('DB');
      for (const file of readdirSync('schema/migrations')
        .filter((f) => f.endsWith('.sql'))
        .sort()) {
        const sql = readFileSync(join('schema/migrations', file), 'utf8');
        for (const statement of sql.split('--> statement-breakpoint'))
          if (statement.trim()) await d1.prepare(statement).run();
      }
      const api = (path: string, init: RequestInit = {}) =>
        mf.dispatchFetch(`${ORIGIN}${path}`, {
          ...init,
          headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json', ...init.headers },
        } as never);
      await (await api('/api/v1/projects/bench_project', { method: 'PUT', body: '{}' })).text();
      const project = (await (await api('/api/v1/projects/bench_project')).json()) as {
        sentry_id: number;
        sentry_dsn: string;
      };

      const native = (i: number) =>
        mf.dispatchFetch(`${ORIGIN}/api/v1/logs/report`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ ...runtimeReport('bench_project'), fingerprint: [String(i % 1000)] }),
        });
      const envelopes = Array.from({ length: 100 }, (_, i) => sentryPythonEnvelope(i, project.sentry_dsn));
      const envelope = (i: number) =>
        mf.dispatchFetch(`${ORIGIN}/api/${project.sentry_id}/envelope/`, {
          method: 'POST',
          headers: {
            'Content-Type': 'application/x-sentry-envelope',
            'Content-Encoding': 'gzip',
            'X-Sentry-Auth': 'Sentry sentry_key=public, sentry_version=7',
          },
          body: envelopes[i % envelopes.length]!,
        });

      const session = await inspect(inspectorPort);
      await session.send('Profiler.enable');
      await session.send('Profiler.setSamplingInterval', { interval: 100 });
      const [workerd] = workerdPids();
      if (workerd === undefined) throw new Error('cannot find the workerd process');
      const measure = async (name: string, send: (i: number) => ReturnType<Miniflare['dispatchFetch']>) => {
        for (let i = 0; i < WARMUP; i++) await (await send(i)).arrayBuffer();
        // First without the profiler: the whole workerd process's CPU time (the Worker, D1's
        // SQLite, HTTP), an upper bound that a busy machine does not inflate.
        const processBefore = processCpuMs(workerd);
        for (let i = 0; i < REPORTS; i++) await (await send(WARMUP + i)).arrayBuffer();
        const processMsPerReport = (processCpuMs(workerd) - processBefore) / REPORTS;
        await session.send('Profiler.start');
        const started = performance.now();
        let failed = 0;
        for (let i = 0; i < REPORTS; i++) {
          const response = await send(WARMUP + i);
          await response.arrayBuffer();
          if (!response.ok) failed++;
        }
        const wallMs = performance.now() - started;
        const { profile } = await session.send<{ profile: Profile }>('Profiler.stop');
        const { busy } = busyMs(profile);
        if (process.env.BENCH_WORKER_PROFILE_DIR)
          writeFileSync(
            join(process.env.BENCH_WORKER_PROFILE_DIR, `${name.split(' ')[0]}.cpuprofile`),
            JSON.stringify(profile),
          );
        if (failed) throw new Error(`${name}: ${failed} of ${REPORTS} requests were not answered 2xx`);
        const cpuMsPerReport = busy / REPORTS;
        console.log(
          `${name}: ${cpuMsPerReport.toFixed(2)} ms per report in the Worker's isolate (profile), ${processMsPerReport.toFixed(2)} ms of workerd process CPU with D1 local, ${(wallMs / REPORTS).toFixed(2)} ms wall (${REPORTS} reports)`,
        );
        return {
          cpu_ms_per_report: cpuMsPerReport,
          workerd_process_cpu_ms_per_report: processMsPerReport,
          wall_ms_per_report: wallMs / REPORTS,
          reports: REPORTS,
        };
      };
      console.log(
        `▸ CPU time per report in workerd, D1 local, ${REPORTS} reports one at a time after ${WARMUP} warm-up`,
      );
      const results = {
        native: await measure('native report (~600 B)', native),
        sentry: await measure('Sentry envelope (gzip, ~13 KiB event)', envelope),
        free_plan_cpu_ms: FREE_PLAN_CPU_MS,
        measured_as:
          "cpu_ms_per_report: non-idle samples of a V8 CPU profile of the Worker's isolate in local workerd (miniflare), divided by the reports sent one at a time; workerd_process_cpu_ms_per_report: user+system CPU of the whole workerd process (Worker, D1 local, HTTP) over the same number of reports, without the profiler",
      };
      session.close();
      writeFileSync('bench/worker-results.json', `${JSON.stringify(results, null, 2)}\n`);
      console.log('written bench/worker-results.json');
    } finally {
      await mf.dispose();
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
