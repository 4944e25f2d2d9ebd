/**
 * One transaction on one connection: BEGIN, the caller's statements, COMMIT; ROLLBACK on any
 * error. The store port's write(fn) and read(fn) run on this.
 *
 * Retries: a serialization failure (40001, under REPEATABLE READ or SERIALIZABLE) or a deadlock
 * (40P01) rolls the whole transaction back, so running fn again from the start is safe. fn must
 * therefore do nothing but statements on the `sql` it is given (the port's rule: no I/O inside a
 * write; after-commit effects are queued, never run, until the commit). Once the retries are used
 * up, StoreBusy. A lock wait past lock_timeout (55P03) is not retried: the lock is held by a
 * transaction that is taking long, so the caller gets StoreBusy (503 + Retry-After) at once.
 *
 * Connections: a connection that fails at BEGIN (the server restarted since it was opened) is
 * closed and the transaction starts again on a fresh one: nothing had run yet. A connection lost
 * after BEGIN fails the transaction with StoreUnavailable; lost during COMMIT, with a
 * StoreUnavailable that says the outcome is unknown (never retried).
 */
import type pg from 'pg';
import { isConnectionFailure, isRetryableConflict, StoreBusy, StoreError, StoreUnavailable, toStoreError } from './errors.js';
import { sqlOn, type PostgresPool, type TxSql } from './pool.js';

export type IsolationLevel = 'read committed' | 'repeatable read' | 'serializable';

export interface TransactionOptions {
  /** Default read committed: each statement sees what was committed before it began. */
  isolation?: IsolationLevel;
  /** A read-only transaction (the port's read(fn)); with repeatable read, one snapshot throughout. */
  readOnly?: boolean;
  /** Runs of fn at most, counting the first (default 5). */
  maxAttempts?: number;
}

const BEGIN: Record<IsolationLevel, string> = {
  'read committed': 'BEGIN ISOLATION LEVEL READ COMMITTED',
  'repeatable read': 'BEGIN ISOLATION LEVEL REPEATABLE READ',
  serializable: 'BEGIN ISOLATION LEVEL SERIALIZABLE',
};

function beginStatement(options: TransactionOptions): string {
  return `${BEGIN[options.isolation ?? 'read committed']}${options.readOnly ? ' READ ONLY' : ''}`;
}

/** A short, random pause before running a conflicted transaction again (decorrelates the retries). */
function backoff(attempt: number): Promise<void> {
  const ms = Math.min(50, 2 ** attempt) * (0.5 + Math.random());
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function txSql(client: pg.PoolClient): TxSql {
  return { ...sqlOn(client), inTransaction: true };
}

/** A connection with a transaction begun on it; one retry on a fresh connection if the first is stale. */
async function begin(pool: PostgresPool, statement: string): Promise<pg.PoolClient> {
  for (let tries = 0; ; tries++) {
    const client = await pool.acquire();
    try {
      await client.query(statement);
      return client;
    } catch (err) {
      client.release(true);
      if (tries === 0 && isConnectionFailure(err)) continue;
      throw toStoreError(err);
    }
  }
}

/** Runs fn in one transaction and returns its result once committed. */
export async function inTransaction<T>(pool: PostgresPool, fn: (sql: TxSql) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
  const maxAttempts = options.maxAttempts ?? 5;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new TypeError('inTransaction: maxAttempts must be a positive integer');
  const statement = beginStatement(options);
  for (let attempt = 1; ; attempt++) {
    const client = await begin(pool, statement);
    let result: T;
    try {
      result = await fn(txSql(client));
    } catch (err) {
      const broken = isConnectionFailure(err) || err instanceof StoreUnavailable;
      if (!broken) {
        try {
          await client.query('ROLLBACK');
        } catch {
          client.release(true);
          throw toStoreError(err);
        }
      }
      client.release(broken);
      if (isRetryableConflict(err) || isRetryableConflict(causeOf(err))) {
        if (attempt < maxAttempts) {
          await backoff(attempt);
          continue;
        }
        throw new StoreBusy('The database kept refusing this change because of concurrent ones; nothing was changed.', 1, {
          cause: toStoreError(err),
        });
      }
      throw toStoreError(err);
    }
    let committed: boolean;
    try {
      // PostgreSQL answers COMMIT of a transaction that failed earlier (fn caught a statement's
      // error and went on) with ROLLBACK, not an error: that must not pass for a commit.
      committed = (await client.query('COMMIT')).command === 'COMMIT';
    } catch (err) {
      const lost = isConnectionFailure(err);
      if (!lost) {
        // COMMIT itself refused (a deferred constraint, or a serialization failure found at
        // commit under SERIALIZABLE): the transaction is rolled back already.
        try {
          await client.query('ROLLBACK');
          client.release();
        } catch {
          client.release(true);
        }
        if (isRetryableConflict(err) && attempt < maxAttempts) {
          await backoff(attempt);
          continue;
        }
      } else {
        client.release(true);
      }
      throw toStoreError(err, { commitOutcomeUnknown: lost });
    }
    client.release();
    if (!committed) throw new StoreError('A statement of this transaction failed, so it was rolled back; nothing was changed.');
    return result;
  }
}

/** The driver error a StoreError was mapped from carries only its SQLSTATE, in `cause`. */
function causeOf(err: unknown): unknown {
  return err instanceof Error ? err.cause : undefined;
}
