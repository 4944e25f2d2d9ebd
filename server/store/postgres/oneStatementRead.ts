/**
 * A read of ONE statement without BEGIN and COMMIT (issue 17; the port's `read(fn, { oneStatement:
 * true })`): a single statement is its own transaction in PostgreSQL and sees one snapshot of
 * committed data, which is all a REPEATABLE READ, READ ONLY transaction around it would add, at two
 * round trips fewer. fn gets only the read repositories (ReadTx), as in any read. A second
 * statement would see another snapshot, so it is refused with a TypeError (a programming error
 * the tests find), never run.
 *
 * A connection that turns out broken (the server restarted since it was opened) is closed and the
 * read runs once more on a fresh one: it changed nothing.
 */
import type { ReadTx } from '../../ports/store.js';
import { isConnectionFailure, StoreUnavailable } from './errors.js';
import { oneStatementOn, type PostgresPool } from './pool.js';
import { readTxOf } from './repositories.js';

export async function readInOneStatement<T>(pool: PostgresPool, fn: (tx: ReadTx) => Promise<T>): Promise<T> {
  for (let tries = 0; ; tries++) {
    const client = await pool.acquire();
    const { sql } = oneStatementOn(client, 'store.read({ oneStatement: true }): fn ran a second statement, which would see another snapshot');
    try {
      const value = await fn(readTxOf(sql));
      client.release();
      return value;
    } catch (err) {
      const broken = isConnectionFailure(err) || err instanceof StoreUnavailable;
      client.release(broken);
      if (broken && tries === 0) continue;
      throw err;
    }
  }
}
