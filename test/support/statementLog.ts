/**
 * The SQL this process sends to its database while a test listens: every pg query (BEGIN and
 * COMMIT included) and every better-sqlite3 statement run or exec'd in this thread (the gateway
 * of startTestGateway runs in-process). Wraps the drivers' prototypes once, delegating to them;
 * records only between start() and stop(). Issue 17: what one request costs in round trips.
 */
import Database from 'better-sqlite3';
import pg from 'pg';

let recording: string[] | undefined;
let installed = false;

function textOf(sql: unknown): string {
  if (typeof sql === 'string') return sql;
  if (typeof sql === 'object' && sql !== null && 'text' in sql && typeof sql.text === 'string') return sql.text;
  return '';
}

function install(): void {
  if (installed) return;
  installed = true;
  const pgQuery = pg.Client.prototype.query;
  pg.Client.prototype.query = function logged(this: pg.Client, ...args: unknown[]) {
    recording?.push(textOf(args[0]));
    return (pgQuery as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof pgQuery;
  const probe = new Database(':memory:');
  const statementProto = Object.getPrototypeOf(probe.prepare('SELECT 1')) as Record<string, unknown>;
  probe.close();
  for (const name of ['run', 'get', 'all', 'iterate']) {
    const original = statementProto[name];
    if (typeof original !== 'function') continue;
    statementProto[name] = function logged(this: unknown, ...args: unknown[]) {
      recording?.push(typeof this === 'object' && this !== null && 'source' in this && typeof this.source === 'string' ? this.source : '');
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    };
  }
  const exec = Database.prototype.exec;
  Database.prototype.exec = function logged(this: Database.Database, source: string) {
    recording?.push(source);
    return exec.call(this, source);
  };
}

/** The statements sent while `fn` runs (nothing else of this process may touch the database meanwhile). */
export async function statementsOf(fn: () => Promise<unknown>): Promise<string[]> {
  install();
  const seen: string[] = [];
  recording = seen;
  try {
    await fn();
  } finally {
    recording = undefined;
  }
  return seen;
}
