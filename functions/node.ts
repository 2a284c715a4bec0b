import { startServer } from './server';

const port = Number(process.env.PORT ?? 8002);
const server = await startServer({ host: process.env.HOST ?? '127.0.0.1', port });

const loginUrl = `${server.url}/?token=${encodeURIComponent(server.token)}`;
console.log(`Log Center listening on ${server.url}`);
console.log(`Database: ${server.databaseUrl}`);
if (process.env.LOG_CENTER_API_TOKEN) {
  console.log('API token: from LOG_CENTER_API_TOKEN');
} else {
  console.log(
    `API token (${server.tokenGenerated ? 'generated' : 'kept'} in the data directory): ${server.token}`,
  );
}
console.log(`Dashboard: ${loginUrl}`);

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal} received, draining`);
    server.close().then(
      () => {
        console.log('Stopped cleanly');
        process.exit(0);
      },
      (error) => {
        console.error('Shutdown failed', error);
        process.exit(1);
      },
    );
  });
}
