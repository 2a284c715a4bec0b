import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LibsqlHandle, migrateLibsql, openLibsql } from '../../functions/lib/db-libsql';

export interface TempDatabase {
  /** The folder holding the database file; anything else the suite writes may go there too. */
  dir: string;
  file: string;
  handle: LibsqlHandle;
  /** Closes the database and removes the folder. */
  remove(): void;
}

/** A migrated libSQL file in a fresh temporary folder. */
export async function openTempDatabase(prefix: string): Promise<TempDatabase> {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  const file = join(dir, 'db.sqlite');
  const handle = await openLibsql(`file:${file}`);
  await migrateLibsql(handle);
  return {
    dir,
    file,
    handle,
    remove() {
      handle.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
