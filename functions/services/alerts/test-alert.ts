import type { AlertTarget, ProjectRow } from '../../../schema';
import { type FlushOptions, logLine, post, postOptionsOf } from './outbox';
import { type AlertConfig, alertTargets } from './policy';
import { slackTestMessage } from './render/slack';
import { webhookTestMessage } from './render/webhook';

/**
 * Posts a test message to a project's targets now, so a person can check the setup. The
 * answer says only whether each target took it (a status at most); why it did not is in the
 * server log, so the route cannot be used to probe what listens where.
 */
export async function sendTestAlert(
  config: AlertConfig,
  project: ProjectRow,
  options: FlushOptions = {},
): Promise<{ target: AlertTarget; ok: boolean; error?: string }[]> {
  const targets = alertTargets(config, project.alertSettings);
  const named = { id: project.id, name: project.name ?? project.id };
  const bodies: Record<AlertTarget, Record<string, unknown>> = {
    slack: slackTestMessage(named, config),
    webhook: webhookTestMessage(named, config),
  };
  const postOptions = postOptionsOf(config, options);
  const log = options.log ?? logLine;
  return Promise.all(
    (Object.keys(targets) as AlertTarget[]).map(async (target) => {
      const outcome = await post(targets[target]!, bodies[target], postOptions);
      if (outcome.ok) return { target, ok: true };
      log({ level: 'warn', msg: 'test alert failed', project_id: project.id, target, error: outcome.detail });
      return { target, ok: false, error: outcome.error };
    }),
  );
}
