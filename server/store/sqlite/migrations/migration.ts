/** One schema migration of the SQLite adapter (index.ts lists them in order). */
export interface Migration {
  version: number;
  name: string;
  sql: string;
  /**
   * Rewrite the whole file (VACUUM) and empty the WAL once this migration has been applied to an
   * existing database: content that earlier releases left in free pages (clear activation codes,
   * issue 13, 5) is gone from the file afterwards.
   */
  rewriteAfter?: boolean;
}
