/**
 * Every statement this process sends to its database, told to the listeners: each pg query
 * (BEGIN and COMMIT included) and each better-sqlite3 statement run, get, all, iterate or exec in
 * this thread. The drivers' prototypes are wrapped once, delegating to them. Used by the tests'
 * statement log (statementLog.ts) and the bench's round-trip count (scripts/bench/stageBreakdown.ts):
 * issue 17, what one request costs in round trips.
 */
import Database from 'better-sqlite3';
import pg from 'pg';

/** `sqlite-statement`: a prepared statement's source; `sqlite-exec`: SQL text run by exec(). */
export type StatementVia = 'pg' | 'sqlite-statement' | 'sqlite-exec';
export type StatementListener = (sql: string, via: StatementVia) => void;

const listeners = new Set<StatementListener>();
let installed = false;

function textOf(sql: unknown): string {
  if (typeof sql === 'string') return sql;
  if (typeof sql === 'object' && sql !== null && 'text' in sql && typeof sql.text === 'string') return sql.text;
  return '';
}

function tell(sql: string, via: StatementVia): void {
  for (const listener of listeners) listener(sql, via);
}

function install(): void {
  if (installed) return;
  installed = true;
  const pgQuery = pg.Client.prototype.query;
  pg.Client.prototype.query = function tapped(this: pg.Client, ...args: unknown[]) {
    tell(textOf(args[0]), 'pg');
    return (pgQuery as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof pgQuery;
  const probe = new Database(':memory:');
  const statementProto = Object.getPrototypeOf(probe.prepare('SELECT 1')) as Record<string, unknown>;
  probe.close();
  for (const name of ['run', 'get', 'all', 'iterate']) {
    const original = statementProto[name];
    if (typeof original !== 'function') continue;
    statementProto[name] = function tapped(this: unknown, ...args: unknown[]) {
      tell(typeof this === 'object' && this !== null && 'source' in this && typeof this.source === 'string' ? this.source : '', 'sqlite-statement');
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    };
  }
  const exec = Database.prototype.exec;
  Database.prototype.exec = function tapped(this: Database.Database, source: string) {
    tell(source, 'sqlite-exec');
    return exec.call(this, source);
  };
}

/** Tells `listener` of every statement from now on; returns the function that stops telling it. */
export function tapStatements(listener: StatementListener): () => void {
  install();
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
  };
}
