/**
 * A write of ONE statement without BEGIN and COMMIT (issue 17; the port's `write(fn, { oneStatement:
 * true })`, for `signIns.commit`): a single statement is its own transaction in PostgreSQL, READ
 * COMMITTED, durable when it is answered (synchronous_commit as configured), all or nothing. One
 * round trip instead of BEGIN, the statement and COMMIT; above all, the locks it takes (the audit
 * chain's head) are released by the server's own commit, not after a round trip to the gateway.
 * fn gets the write repositories, and a second statement is refused with a TypeError (a
 * programming error the tests find), never run.
 *
 * Failures: a deadlock (40P01) rolled the statement back, so it runs once more, as inTransaction
 * does; a connection lost while the statement ran leaves its outcome unknown (StoreUnavailable
 * saying so, never retried); a connection found broken before anything was sent is replaced.
 */
import type { WriteTx } from '../../ports/store.js';
import { isConnectionFailure, isRetryableConflict, StoreBusy, StoreUnavailable } from './errors.js';
import { oneStatementOn, type PostgresPool } from './pool.js';
import { writeTxOf } from './repositories.js';

const MAX_ATTEMPTS = 3;

export async function writeInOneStatement<T>(pool: PostgresPool, fn: (tx: WriteTx) => Promise<T>, hooks: () => (() => void)[]): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const client = await pool.acquire();
    const { sql, sent } = oneStatementOn(client, 'store.write({ oneStatement: true }): fn ran a second statement, which would be a transaction of its own');
    try {
      const tx = writeTxOf(sql, hooks());
      const value = await fn(tx);
      // Entries held back would be a second statement: refused above, like any other (none are
      // expected: signIns.commit appends its own).
      await tx.audit.appendHeld();
      client.release();
      return value;
    } catch (err) {
      const broken = isConnectionFailure(err) || err instanceof StoreUnavailable;
      client.release(broken);
      if (broken && sent()) {
        throw new StoreUnavailable('The database connection was lost while a change was being committed; the change may or may not have been saved.', 5, { cause: err });
      }
      if (broken && attempt === 1) continue;
      if (isRetryableConflict(err) || isRetryableConflict(err instanceof Error ? err.cause : undefined)) {
        if (attempt < MAX_ATTEMPTS) continue;
        throw new StoreBusy('The database kept refusing this change because of concurrent ones; nothing was changed.', 1, { cause: err });
      }
      throw err;
    }
  }
}
