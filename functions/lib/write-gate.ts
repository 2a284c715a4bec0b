import type { Client, InStatement, Transaction, TransactionMode } from '@libsql/client';

/**
 * One writer at a time inside this process. SQLite takes one write transaction per
 * database file, and a connection that finds it taken waits in SQLite's busy handler,
 * which sleeps synchronously: on the main thread that stalls every request, and a
 * connection without a busy timeout fails at once. The ingest writer thread and the
 * main thread's connections (status changes, alerts, the sweep) therefore queue here,
 * asynchronously and in arrival order, before they touch the database.
 */
export class WriteGate {
  private tail: Promise<void> = Promise.resolve();

  /** Resolves with a release function once every earlier holder has released. */
  acquire(): Promise<() => void> {
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const turn = this.tail.then(() => release);
    this.tail = this.tail.then(() => held);
    return turn;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    const release = await this.acquire();
    try {
      return await task();
    } finally {
      release();
    }
  }
}

/**
 * Statements that never write: drizzle's selects. Every pragma counts as a write, since some
 * without arguments write too (`optimize` runs ANALYZE).
 */
const READ_ONLY = /^\s*(select|explain)\b/i;

const sqlOf = (statement: InStatement) => (typeof statement === 'string' ? statement : statement.sql);

/**
 * The same client, with every write passing through the gate. Reads go straight through:
 * in WAL mode they never wait for a writer.
 */
export function gatedClient(client: Client, gate: WriteGate): Client {
  const execute: Client['execute'] = ((statement: InStatement, args?: unknown) =>
    READ_ONLY.test(sqlOf(statement))
      ? client.execute(statement as never, args as never)
      : gate.run(() => client.execute(statement as never, args as never))) as Client['execute'];
  const batch: Client['batch'] = (statements, mode) =>
    mode === 'read' ? client.batch(statements, mode) : gate.run(() => client.batch(statements, mode));
  const transaction = async (mode?: TransactionMode): Promise<Transaction> => {
    if (mode === 'read') return client.transaction(mode);
    const release = await gate.acquire();
    try {
      return holdUntilDone(await client.transaction(mode), release);
    } catch (error) {
      release();
      throw error;
    }
  };
  const overrides: Partial<Client> = {
    execute,
    batch,
    transaction: transaction as Client['transaction'],
    migrate: (statements) => gate.run(() => client.migrate(statements)),
    executeMultiple: (sql) => gate.run(() => client.executeMultiple(sql)),
  };
  return new Proxy(client, {
    get(target, property) {
      if (Object.hasOwn(overrides, property)) return overrides[property as keyof Client];
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** An interactive transaction keeps the gate until it commits, rolls back or closes. */
function holdUntilDone(transaction: Transaction, release: () => void): Transaction {
  let released = false;
  const done = () => {
    if (!released) {
      released = true;
      release();
    }
  };
  return new Proxy(transaction, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (property === 'commit' || property === 'rollback') {
        return () => (value as () => Promise<void>).call(target).finally(done);
      }
      if (property === 'close') {
        return () => {
          try {
            (value as () => void).call(target);
          } finally {
            done();
          }
        };
      }
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
