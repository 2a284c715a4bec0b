import { AppError } from '../lib/errors';
import type { BatchRunner } from '../lib/sql-batch';
import { type IngestResult, type ProjectCache, type ReportSink, writeReports } from './ingest';
import type { NormalisedReport } from './report';

export interface GroupCommitOptions {
  /**
   * How long a report waits for company when the writer is idle. 0 writes on the next turn
   * of the event loop, after every request already read has been queued; while a batch is
   * being written the queue fills on its own, so batches grow with the load.
   */
  maxDelayMs: number;
  /** A batch is written as soon as it has this many reports. */
  maxBatch: number;
  /**
   * A batch takes reports from the queue up to this many held bytes (always at least one):
   * the batch is copied to the writer thread and bound into SQLite whole, so its size, not
   * just the queue's, is what big reports cost in memory at once.
   */
  maxBatchBytes: number;
  /** Reports waiting beyond this are refused with 429 instead of growing memory without bound. */
  maxQueue: number;
  /**
   * The same bound in bytes of the reports held, queued and being written (their text as
   * stored, `heldBytes`): 2,000 reports of 256 KiB would not fit.
   */
  maxQueueBytes: number;
}

export const defaultGroupCommit: GroupCommitOptions = {
  maxDelayMs: 0,
  maxBatch: 256,
  maxBatchBytes: 4 * 1024 * 1024,
  maxQueue: 2_000,
  maxQueueBytes: 16 * 1024 * 1024,
};

/**
 * What a queued report holds in memory: its text fields, the stored stack and context JSON
 * above all. The request body it came in is gone by then (a 1 MiB Sentry event may keep 40 KiB),
 * so this, not the body's size, is what the queue's byte bound counts. Characters, counted as
 * one byte each: the JSON of a stack is ASCII but for what the report itself carried.
 */
export function heldBytes(report: NormalisedReport): number {
  return (
    report.stackJson.length +
    report.contextJson.length +
    report.message.length +
    report.errorType.length +
    report.fingerprint.length +
    (report.filePath?.length ?? 0) +
    (report.version?.length ?? 0) +
    (report.repoUrl?.length ?? 0) +
    256 // the other fields and the object itself
  );
}

interface Pending {
  report: NormalisedReport;
  bytes: number;
  resolve(result: IngestResult): void;
  reject(error: unknown): void;
}

/**
 * Group commit: concurrent reports are written together in one batch (one transaction),
 * and each caller is answered only after the batch holding its report has committed.
 * One batch is in flight at a time; the next one is whatever queued meanwhile.
 */
export class GroupCommitSink implements ReportSink {
  private queue: Pending[] = [];
  private pendingFlush: { cancel(): void } | null = null;
  private inFlight: Promise<void> | null = null;
  private closed = false;
  /** Body bytes of the reports queued or in the batch being written. */
  private heldBytes = 0;
  private readonly options: GroupCommitOptions;

  constructor(
    private readonly run: BatchRunner,
    options: Partial<GroupCommitOptions> = {},
    private readonly knownProjects?: ProjectCache,
    private readonly write: typeof writeReports = writeReports,
  ) {
    this.options = { ...defaultGroupCommit, ...options };
  }

  get depth(): number {
    return this.queue.length;
  }

  /** `bytes`: what the report holds, measured from the report when not given. */
  submit(report: NormalisedReport, bytes = heldBytes(report)): Promise<IngestResult> {
    if (this.closed) return Promise.reject(new AppError('shutting_down', 'Server is shutting down'));
    const full =
      this.queue.length >= this.options.maxQueue ||
      (this.heldBytes > 0 && this.heldBytes + bytes > this.options.maxQueueBytes);
    if (full) {
      return Promise.reject(new AppError('queue_full', 'Ingestion queue is full, retry shortly', {}, 1));
    }
    this.heldBytes += bytes;
    return new Promise<IngestResult>((resolve, reject) => {
      this.queue.push({ report, bytes, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    // While a batch is being written the queue fills; the batch that finishes picks it up.
    if (this.inFlight || this.queue.length === 0) return;
    if (this.queue.length >= this.options.maxBatch) {
      this.flushNow();
    } else if (!this.pendingFlush) {
      const flush = () => {
        this.pendingFlush = null;
        this.flushNow();
      };
      if (this.options.maxDelayMs > 0) {
        const timer = setTimeout(flush, this.options.maxDelayMs);
        this.pendingFlush = { cancel: () => clearTimeout(timer) };
      } else {
        const immediate = setImmediate(flush);
        this.pendingFlush = { cancel: () => clearImmediate(immediate) };
      }
    }
  }

  private flushNow(): void {
    this.pendingFlush?.cancel();
    this.pendingFlush = null;
    if (this.inFlight || this.queue.length === 0) return;
    let count = 0;
    let bytes = 0;
    const { maxBatch, maxBatchBytes } = this.options;
    while (count < this.queue.length && count < maxBatch) {
      bytes += this.queue[count]!.bytes;
      if (count > 0 && bytes > maxBatchBytes) break;
      count++;
    }
    const items = this.queue.splice(0, count);
    this.inFlight = this.writeBatch(items).finally(() => {
      for (const item of items) this.heldBytes -= item.bytes;
      this.inFlight = null;
      this.schedule();
    });
  }

  private async writeBatch(items: Pending[]): Promise<void> {
    try {
      const results = await this.write(
        this.run,
        items.map((item) => item.report),
        this.knownProjects,
      );
      for (const [i, item] of items.entries()) item.resolve(results[i]!);
    } catch (batchError) {
      if (items.length === 1) {
        items[0]!.reject(batchError);
        return;
      }
      // The batch rolled back as a whole; retry each report alone so one bad row
      // costs only its own report.
      for (const item of items) {
        try {
          const [result] = await this.write(this.run, [item.report], this.knownProjects);
          item.resolve(result!);
        } catch (error) {
          item.reject(error);
        }
      }
    }
  }

  /** Stops taking reports and resolves once every queued report is committed. */
  async drain(): Promise<void> {
    this.closed = true;
    while (this.queue.length > 0 || this.inFlight) {
      if (this.inFlight) await this.inFlight;
      else this.flushNow();
    }
  }
}
