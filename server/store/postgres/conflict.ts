/**
 * Uniqueness on PostgreSQL without aborting the transaction. A unique violation aborts the whole
 * PostgreSQL transaction (every later statement fails with 25P02), where SQLite fails only the
 * statement. The port promises StoreConflict for "this value was taken", and a flow may go on
 * after it; so inserts say `ON CONFLICT DO NOTHING` and an insert that wrote nothing is the
 * conflict (no extra round trip), and the rare UPDATE that can hit a uniqueness runs in a
 * savepoint.
 */
import { StoreConflict } from './errors.js';
import type { Sql } from './pool.js';

/** Runs an `INSERT ... ON CONFLICT DO NOTHING`; nothing inserted means a uniqueness was taken. */
export async function insertOrConflict(sql: Sql, text: string, params: readonly unknown[]): Promise<void> {
  if (!/ON CONFLICT DO NOTHING\s*$/.test(text)) throw new TypeError('insertOrConflict: the statement must end in ON CONFLICT DO NOTHING');
  if ((await sql.count(text, params)) === 0) throw new StoreConflict('A concurrent change took this value first; nothing was changed.');
}

/**
 * Runs one statement in a savepoint: if it fails (a StoreConflict, say), only it is undone and the
 * transaction goes on, as after a failed statement on SQLite.
 */
export async function inSavepoint<T>(sql: Sql, statement: () => Promise<T>): Promise<T> {
  await sql.count('SAVEPOINT gw_statement');
  try {
    const result = await statement();
    await sql.count('RELEASE SAVEPOINT gw_statement');
    return result;
  } catch (err) {
    await sql.count('ROLLBACK TO SAVEPOINT gw_statement');
    await sql.count('RELEASE SAVEPOINT gw_statement');
    throw err;
  }
}
