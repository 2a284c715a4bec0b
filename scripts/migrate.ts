import { migrateLibsql, openLibsql } from '../functions/lib/db-libsql';

// Applies the committed migrations to LIBSQL_URL (a file, sqld or Turso).
const url = process.env.LIBSQL_URL ?? 'file:./data/log-center.db';
console.log(`Migrating ${url.replace(/\/\/[^@]*@/, '//***@')} ...`);
const handle = await openLibsql(url, process.env.LIBSQL_AUTH_TOKEN);
await migrateLibsql(handle);
handle.close();
console.log('Migrations applied');
