/**
 * Pod monitor entry: `npm run monitor` polls every POLL_SECONDS; `npm run monitor -- --once` scans
 * once and exits (for a CronJob), with exit code 1 when Kubernetes or Log Center could not be reached.
 */
import { ConfigError, loadConfig } from './config';
import { describeError, jsonLogger } from './log';
import { createMonitor, pollForever } from './monitor';

async function main(argv: string[]): Promise<number> {
  const once = argv.includes('--once');
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    jsonLogger().error('invalid configuration', {
      problems: error instanceof ConfigError ? error.problems : [describeError(error)],
    });
    return 2;
  }

  const logger = jsonLogger({ level: config.LOG_LEVEL, base: { component: 'pod-monitor' } });
  // Keep going on a stray rejection (it is logged); an uncaught exception leaves the process in an
  // unknown state, so exit and let Kubernetes restart the container.
  process.on('unhandledRejection', (reason) =>
    logger.error('unhandled rejection', { error: describeError(reason) }),
  );
  process.on('uncaughtException', (error) => {
    logger.error('uncaught exception', { error: describeError(error), stack: error.stack });
    process.exit(1);
  });

  let wiring: ReturnType<typeof createMonitor>;
  try {
    wiring = createMonitor(config, once ? 'once' : 'poll', logger);
  } catch (error) {
    logger.error('cannot configure the Kubernetes client', { error: describeError(error) });
    return 2;
  }
  logger.info('pod monitor starting', {
    mode: once ? 'once' : 'poll',
    namespaces: config.MONITOR_NAMESPACE,
    log_center: config.LOG_CENTER_URL,
    kubernetes: wiring.kubernetes,
    poll_seconds: config.POLL_SECONDS,
  });

  if (once) {
    const summary = await wiring.monitor.scan();
    return summary.outage || summary.listFailures > 0 ? 1 : 0;
  }

  const stop = new AbortController();
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      logger.info('stopping', { signal });
      stop.abort();
    });
  }
  await pollForever(wiring.monitor, { pollMs: config.POLL_SECONDS * 1000, signal: stop.signal, logger });
  return 0;
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
