/**
 * The one place that reads a PostgreSQL driver error: it maps them to the store port's typed
 * failures (server/ports/storeErrors.ts), which are re-exported here for the adapter's modules.
 * Nothing outside server/store/postgres/ sees a pg error, a SQLSTATE or a socket error code.
 *
 * A driver error is never chained as it is: its message and `detail` can carry row values
 * (`Key (email_norm)=(...) already exists`), which are personal data and must not reach a log.
 * The mapped error carries a {@link PostgresFailure} instead: SQLSTATE, constraint, table.
 */
import pg from 'pg';
import { StoreBusy, StoreConflict, StoreError, StoreUnavailable } from '../../ports/storeErrors.js';

export { StoreBusy, StoreConflict, StoreError, StoreUnavailable };

const { DatabaseError } = pg;

/** What of a driver error may be logged: no message text, no row values. */
export class PostgresFailure extends Error {
  constructor(
    /** SQLSTATE (e.g. 40001) or the socket/driver code (e.g. ECONNREFUSED), if any. */
    readonly code: string | undefined,
    readonly constraint: string | undefined,
    readonly table: string | undefined,
  ) {
    super(`PostgreSQL failure ${code ?? '(no code)'}${constraint ? ` on ${constraint}` : ''}${table ? ` in ${table}` : ''}`);
    this.name = 'PostgresFailure';
  }
}

function prop(err: object, key: string): string | undefined {
  const v = (err as Record<string, unknown>)[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** The SQLSTATE or socket error code of a driver error, if it has one. */
export function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null ? prop(err, 'code') : undefined;
}

function failure(err: unknown): PostgresFailure {
  if (typeof err !== 'object' || err === null) return new PostgresFailure(undefined, undefined, undefined);
  return new PostgresFailure(prop(err, 'code'), prop(err, 'constraint'), prop(err, 'table'));
}

/** Serialization failure and deadlock: the transaction may simply be run again. */
export function isRetryableConflict(err: unknown): boolean {
  const code = errorCode(err);
  return code === '40001' || code === '40P01';
}

/** Socket-level codes meaning the server is not there (or went away). */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOENT', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND']);

/**
 * Messages node-postgres (pg 8) gives the plain Errors that have no code: the socket closed under
 * a query, a query on a client that already failed, a connect that timed out.
 */
const UNREACHABLE_MESSAGES = [
  'Connection terminated',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
  'timeout expired',
];

/** A SQLSTATE the server reports about itself: it is going away, or cannot take connections. */
function isServerGoneState(code: string): boolean {
  // 08: connection exception; 57P01-03: admin shutdown, crash shutdown, cannot connect now
  // (starting up, shutting down, in recovery); 25006: a read-only transaction, i.e. we reached a
  // standby (a failover the address in front has not followed yet); 53100 disk full and 58
  // system errors.
  return (
    code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || code === '25006' || code === '53100' || code.startsWith('58')
  );
}

/**
 * SQLSTATEs of a server that is there but refuses more work for now: 55P03 lock_not_available
 * (lock_timeout), 53300 too_many_connections, 57014 query_canceled (statement_timeout), 53200
 * out of memory, and serialization failures and deadlocks that outlived the retries.
 */
const BUSY_STATES = new Set(['55P03', '53300', '57014', '53200', '40001', '40P01']);

/** True when `err` is a socket or driver error saying the server cannot be reached or dropped the connection. */
export function isConnectionFailure(err: unknown): boolean {
  if (err instanceof DatabaseError) return err.code !== undefined && isServerGoneState(err.code);
  // Only the driver's and the socket's own errors, which are plain Errors (name 'Error'); never
  // our typed errors or a TypeError, which name themselves.
  if (!(err instanceof Error) || err.name !== 'Error') return false;
  const code = errorCode(err);
  if (code !== undefined) return UNREACHABLE_CODES.has(code);
  return UNREACHABLE_MESSAGES.some((m) => err.message.includes(m));
}

/**
 * Maps an error met while talking to PostgreSQL to the store's typed errors; an error that did
 * not come from the driver (thrown by the caller's own code inside a transaction) comes back
 * as it was. Every error the server reported becomes a StoreError of some kind: the ones about
 * availability StoreBusy or StoreUnavailable, a unique violation StoreConflict, and everything
 * else (a CHECK, a foreign key, an append-only trigger, a bug in our SQL) a plain StoreError
 * naming only its SQLSTATE, constraint and table, answered with a generic 500 at the boundary.
 */
export function toStoreError(err: unknown, context?: { commitOutcomeUnknown?: boolean }): unknown {
  if (err instanceof StoreError) return err;
  if (isConnectionFailure(err)) {
    if (context?.commitOutcomeUnknown) {
      // The connection went away during COMMIT: the transaction may or may not have committed.
      // Never retried automatically: the request fails, and the client decides.
      return new StoreUnavailable('The database connection was lost while committing; the change may or may not have been saved.', 5, {
        cause: failure(err),
      });
    }
    return new StoreUnavailable(undefined, 5, { cause: failure(err) });
  }
  if (!(err instanceof DatabaseError)) return err;
  const code = err.code ?? '';
  if (BUSY_STATES.has(code)) return new StoreBusy(undefined, 1, { cause: failure(err) });
  if (code === '23505') return new StoreConflict('A concurrent change took this value first; nothing was changed.', { cause: failure(err) });
  return new StoreError(`The database refused a statement (SQLSTATE ${code || 'unknown'}).`, { cause: failure(err) });
}
