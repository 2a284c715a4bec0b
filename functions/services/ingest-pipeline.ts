import type { Deps } from '../env';
import { AppError } from '../lib/errors';
import { safeEqual } from '../lib/secrets';
import { hasAlertTarget } from './alerts';
import type { AdmittedReport, IngestResult } from './ingest';
import { projectLimit } from './projects';

export type IngestDeps = Pick<
  Deps,
  'db' | 'config' | 'sink' | 'projectSettings' | 'rateLimiter' | 'alertsQueued' | 'bugCreated'
>;

export interface Admission {
  /** The ingest key the client sent, however its protocol carries it. */
  key: string | null | undefined;
  /** How to send the key, for the 401 message. */
  keyHint: string;
}

/**
 * What every producer of reports shares once its body is a normalised report: the project's
 * ingest key, its rate, whether a new bug may alert, then the write that answers only once
 * the report is stored. Protocol routes (the report API, Sentry envelopes) only parse.
 */
export async function ingestReport(
  deps: IngestDeps,
  report: AdmittedReport,
  admission: Admission,
): Promise<IngestResult> {
  const settings = await deps.projectSettings.get(deps.db, report.projectId);
  if (settings?.ingestKey && !safeEqual(admission.key, settings.ingestKey)) {
    throw new AppError('invalid_ingest_key', `This project requires a valid ${admission.keyHint}`);
  }
  report.alert = hasAlertTarget(deps.config, settings?.alertSettings);
  const perMinute = settings?.rateLimitPerMinute ?? deps.config.RATE_LIMIT_PER_MINUTE;
  const allowed = deps.rateLimiter.take(report.projectId, perMinute);
  if (!allowed.ok) {
    throw new AppError(
      'rate_limited',
      `Project ${report.projectId} is over its rate of ${perMinute} reports per minute`,
      {},
      allowed.retryAfterSeconds,
    );
  }
  // The limit is checked inside the write (services/ingest.ts UPSERT_PROJECT), where
  // concurrent new ids are counted exactly; a cached count here could overshoot.
  report.maxProjects = deps.config.MAX_PROJECTS;
  const result = await deps.sink.submit(report);
  if (result.outcome === 'project_limit') throw projectLimit(report.projectId, deps.config.MAX_PROJECTS);
  // The alert row was stored with the report; it is sent after the answer, so a slow or
  // dead receiver never holds up (or fails) a report.
  if (result.outcome !== 'dedup') deps.alertsQueued();
  if (result.outcome === 'new') deps.bugCreated?.();
  return result;
}
