import type { AlertTarget, ProjectRow } from '../../../schema';
import { type FlushOptions, logLine, postOptionsOf, sendTo } from './outbox';
import { type AlertConfig, alertTargets } from './policy';
import { dingtalkTestMessage } from './render/dingtalk';
import { emailTestMessage } from './render/email';
import { slackTestMessage } from './render/slack';
import { webhookTestMessage } from './render/webhook';
import { wecomTestMessage } from './render/wecom';

export type TestAlertResult =
  | { target: AlertTarget; ok: true }
  | { target: AlertTarget; ok: false; error: string }
  /** Not sent on purpose: email on the Worker, which has no SMTP client. */
  | { target: AlertTarget; ok: false; skipped: true; reason: string };

/**
 * Sends a test message to a project's targets now, so a person can check the setup. The
 * answer says only whether each target took it (a status or a robot's error code at most);
 * why it did not is in the server log, so the route cannot be used to probe what listens
 * where.
 */
export async function sendTestAlert(
  config: AlertConfig,
  project: ProjectRow,
  options: FlushOptions = {},
): Promise<TestAlertResult[]> {
  const targets = alertTargets(config, project.alertSettings);
  const named = { id: project.id, name: project.name ?? project.id };
  const bodies: Record<AlertTarget, () => Record<string, unknown>> = {
    slack: () => slackTestMessage(named, config),
    webhook: () => webhookTestMessage(named, config),
    email: () => emailTestMessage(named, config),
    dingtalk: () => dingtalkTestMessage(named, config),
    wecom: () => wecomTestMessage(named, config),
  };
  const sendOptions = postOptionsOf(config, options);
  const log = options.log ?? logLine;
  return Promise.all(
    (Object.keys(targets) as AlertTarget[]).map(async (target): Promise<TestAlertResult> => {
      const outcome = await sendTo(target, targets, bodies[target](), sendOptions);
      if (outcome.ok === true) return { target, ok: true };
      if (outcome.ok === 'skipped') {
        log({
          level: 'info',
          msg: 'test alert skipped',
          project_id: project.id,
          target,
          reason: outcome.reason,
        });
        return { target, ok: false, skipped: true, reason: outcome.reason };
      }
      log({ level: 'warn', msg: 'test alert failed', project_id: project.id, target, error: outcome.detail });
      return { target, ok: false, error: outcome.error };
    }),
  );
}
