import { spawn } from 'node:child_process';

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Written to stdin, which is then closed. Without it stdin is closed at once. */
  input?: string;
  /** Run through `/bin/sh -c` (the fixer and test commands are shell command lines). */
  shell?: boolean;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Characters kept of each captured stream; the middle of a longer stream is dropped. */
  maxOutputChars?: number;
}

export interface RunResult {
  /** Exit code, or null when the process was ended by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved in arrival order, which is how a person reads a test run. */
  output: string;
  timedOut: boolean;
  aborted: boolean;
  durationMs: number;
}

/**
 * The credentials the agent holds. The fixer and the project's tests run code the agent did not
 * write, prompted by reports from the internet, so they get the agent's environment without these.
 */
const AGENT_SECRETS = ['LOG_CENTER_TOKEN', 'GITEA_TOKEN', 'GITHUB_TOKEN'];

export function untrustedEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const name of AGENT_SECRETS) delete env[name];
  return env;
}

const DEFAULT_MAX_OUTPUT = 256 * 1024;
const KILL_GRACE_MS = 2_000;

/** Keeps the beginning and the end of a long text: the command line and the verdict are at the ends. */
export class BoundedText {
  private head = '';
  private tail = '';
  private omitted = 0;

  constructor(private readonly limit: number) {}

  push(chunk: string): void {
    const half = Math.floor(this.limit / 2);
    if (this.head.length < half) {
      const room = half - this.head.length;
      this.head += chunk.slice(0, room);
      chunk = chunk.slice(room);
    }
    if (!chunk) return;
    this.tail += chunk;
    const excess = this.tail.length - (this.limit - half);
    if (excess > 0) {
      this.tail = this.tail.slice(excess);
      this.omitted += excess;
    }
  }

  toString(): string {
    if (this.omitted === 0) return this.head + this.tail;
    return `${this.head}\n[… ${this.omitted} characters omitted …]\n${this.tail}`;
  }
}

export function truncateMiddle(text: string, limit: number): string {
  if (text.length <= limit) return text;
  const bounded = new BoundedText(limit);
  bounded.push(text);
  return bounded.toString();
}

/**
 * Runs a process asynchronously (tests run Log Center in the same process, so nothing here may block
 * the event loop). The child leads its own process group so that a timeout ends everything it
 * started: `sh -c` around a CLI around a language server would otherwise leave grandchildren
 * holding the output pipes open, and the run would never finish.
 */
export function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const started = Date.now();
  const limit = options.maxOutputChars ?? DEFAULT_MAX_OUTPUT;
  const stdout = new BoundedText(limit);
  const stderr = new BoundedText(limit);
  const output = new BoundedText(limit);

  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(options.signal.reason ?? new Error('aborted'));
      return;
    }
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      shell: options.shell ?? false,
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
    });

    let timedOut = false;
    let aborted = false;
    let settled = false;
    const timers: NodeJS.Timeout[] = [];

    const killGroup = (sig: NodeJS.Signals) => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, sig);
      } catch {
        // the group is already gone
      }
    };
    const stop = () => {
      killGroup('SIGTERM');
      timers.push(setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS));
      // A process that left our group can still hold the pipes open; stop waiting for it.
      timers.push(
        setTimeout(() => {
          child.stdout.destroy();
          child.stderr.destroy();
          finish(child.exitCode, child.signalCode);
        }, KILL_GRACE_MS * 2),
      );
    };
    const onAbort = () => {
      aborted = true;
      stop();
    };

    const finish = (code: number | null, sig: NodeJS.Signals | null) => {
      if (settled) return;
      settled = true;
      for (const timer of timers) clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      resolve({
        code,
        signal: sig,
        stdout: stdout.toString(),
        stderr: stderr.toString(),
        output: output.toString(),
        timedOut,
        aborted,
        durationMs: Date.now() - started,
      });
    };

    if (options.timeoutMs !== undefined) {
      timers.push(
        setTimeout(() => {
          timedOut = true;
          stop();
        }, options.timeoutMs),
      );
    }
    options.signal?.addEventListener('abort', onAbort, { once: true });

    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdout.push(chunk);
      output.push(chunk);
    });
    child.stderr.on('data', (chunk: string) => {
      stderr.push(chunk);
      output.push(chunk);
    });
    // A command that never reads stdin closes it early; that is not an error.
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');

    child.on('error', (error) => {
      if (settled) return;
      settled = true;
      for (const timer of timers) clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      reject(error);
    });
    child.on('close', (code, sig) => finish(code, sig));
  });
}

/** `exit 1`, `killed by SIGTERM`, `timed out after 30s`: how a finished run reads in a report. */
export function describeExit(result: RunResult, timeoutMs?: number): string {
  if (result.timedOut) return `timed out after ${Math.round((timeoutMs ?? result.durationMs) / 1000)}s`;
  if (result.aborted) return 'stopped because the agent is shutting down';
  if (result.code !== null) return `exit ${result.code}`;
  return `killed by ${result.signal ?? 'a signal'}`;
}
