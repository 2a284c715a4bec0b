import type { AlertTarget, ProjectRow } from '../../../schema';
import { DEFAULT_TIMEOUT_MS, type FlushOptions, post } from './outbox';
import { type AlertConfig, alertTargets } from './policy';
import { slackTestMessage } from './render/slack';
import { webhookTestMessage } from './render/webhook';

/** Posts a test message to a project's targets now, so a person can check the setup. */
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
  const fetchImpl = options.fetch ?? fetch;
  return Promise.all(
    (Object.keys(targets) as AlertTarget[]).map(async (target) => {
      const outcome = await post(
        targets[target]!,
        bodies[target],
        fetchImpl,
        options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      );
      return outcome.ok ? { target, ok: true } : { target, ok: false, error: outcome.error };
    }),
  );
}
