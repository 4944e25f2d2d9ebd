/**
 * The SQL this process sends to its database while a test listens (driverTap.ts): every pg query
 * (BEGIN and COMMIT included) and every better-sqlite3 statement run or exec'd in this thread (the
 * gateway of startTestGateway runs in-process). Issue 17: what one request costs in round trips.
 */
import { tapStatements } from './driverTap.js';

/** The statements sent while `fn` runs (nothing else of this process may touch the database meanwhile). */
export async function statementsOf(fn: () => Promise<unknown>): Promise<string[]> {
  const seen: string[] = [];
  const stop = tapStatements((sql) => seen.push(sql));
  try {
    await fn();
  } finally {
    stop();
  }
  return seen;
}
