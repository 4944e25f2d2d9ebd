/**
 * The scale-out adapter of the store port (docs/architecture-postgres.md): every gateway process
 * of every instance opens a pool to the one PostgreSQL primary; PostgreSQL's transactions, row
 * locks and advisory locks make them one.
 *
 * - `write(fn)`: one READ COMMITTED transaction on a connection of its own. Guarded and single-use
 *   methods are one `UPDATE ... WHERE <guard> RETURNING` each; the audit entries are held back and
 *   appended by one statement right before COMMIT, which takes the chain's lock (auditAppend.ts);
 *   the staff cap's count the actor's lock. A deadlock PostgreSQL breaks (40P01) rolls the
 *   whole transaction back and fn runs again from the start on a fresh transaction (fn does only
 *   store work, by the port's rule; its after-commit callbacks are collected afresh each run).
 *   After-commit callbacks run once COMMIT has been answered with COMMIT, never after a rollback
 *   or a COMMIT whose outcome is unknown.
 * - `read(fn)`: REPEATABLE READ, READ ONLY: one snapshot of committed data for the whole of fn.
 * - `ephemeral`: UNLOGGED tables, one autocommit statement per call (ephemeral.ts).
 * - No group commit of our own: each write commits on its own connection, and PostgreSQL flushes
 *   concurrent commits together (its WAL writer; commit_delay if an operator wants more).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { ReadOptions, ReadTx, Store, StoreTools, WriteOptions, WriteTx } from '../../ports/store.js';
import type { DatabaseUrl } from './databaseUrl.js';
import { PgEphemeral } from './ephemeral.js';
import { StoreError, StoreUnavailable } from './errors.js';
import { checkServerHashing } from './audit.js';
import { checkHealth } from './health.js';
import { loadMigrations, migrate, SchemaMismatch, schemaVersion, type PostgresMigration } from './migrate.js';
import { PostgresPool, type PoolLog } from './pool.js';
import { readTxOf, writeTxOf } from './repositories.js';
import { str } from './rows.js';
import { readInOneStatement } from './oneStatementRead.js';
import { writeInOneStatement } from './oneStatementWrite.js';
import { inTransaction } from './transaction.js';

export interface PostgresStoreOptions {
  url: DatabaseUrl;
  /** From GATEWAY_DATABASE_PASSWORD_FILE (never also in the URL). */
  password?: string;
  /** Connections this process may open (GATEWAY_DATABASE_POOL_SIZE; default 10). */
  poolSize?: number;
  /** Where dropped idle connections are reported. */
  log?: PoolLog;
  /** Where after-commit callbacks that throw are reported (they never fail the commit). */
  onHookError?: (err: unknown) => void;
  /**
   * Bring the schema to this release's at open (default). false: refuse a database at another
   * version instead of changing it (the operator's read-only tools, e.g. verifying a restored copy).
   */
  migrate?: boolean;
}

export class PostgresStore implements Store {
  readonly engine = 'postgres' as const;
  readonly ephemeral: PgEphemeral;
  readonly tools: StoreTools;
  private closed = false;
  /** Marks the async context of a running write: a write() from inside it would wait on itself. */
  private readonly inside = new AsyncLocalStorage<true>();

  private constructor(
    private readonly pool: PostgresPool,
    private readonly migrations: readonly PostgresMigration[],
    private readonly onHookError: (err: unknown) => void,
  ) {
    this.ephemeral = new PgEphemeral(pool);
    this.tools = {
      backup: async () => {
        // The port's backup is one self-contained file written while serving; on PostgreSQL that
        // is the database's own tools' business, with point-in-time recovery besides.
        throw new StoreError(
          'The gateway does not back up PostgreSQL itself: use pg_dump --format=custom --no-unlogged-table-data, or a base backup with WAL archiving for point-in-time recovery, then verify the restored copy with npm run audit:verify (docs/architecture-postgres.md, "Backup, restore and verification").',
        );
      },
      describe: () => this.describe(),
    };
  }

  /** Connects, and migrates (or, with `migrate: false`, checks) the schema. */
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const pool = new PostgresPool({
      url: options.url,
      max: options.poolSize ?? 10,
      ...(options.password !== undefined ? { password: options.password } : {}),
      ...(options.log ? { log: options.log } : {}),
    });
    const migrations = loadMigrations();
    try {
      if (options.migrate ?? true) await migrate(pool, migrations);
      else {
        const version = await schemaVersion(pool);
        if (version !== migrations.length) {
          throw new SchemaMismatch(`the database is at schema version ${version}, this release reads version ${migrations.length}; nothing was changed`);
        }
      }
      await checkServerHashing(pool);
    } catch (err) {
      await pool.end();
      throw err;
    }
    return new PostgresStore(pool, migrations, options.onHookError ?? (() => undefined));
  }

  async write<T>(fn: (tx: WriteTx) => Promise<T>, options: WriteOptions = {}): Promise<T> {
    if (this.inside.getStore()) throw new TypeError('store.write() inside a write transaction: use the transaction you were given');
    if (this.closed) throw new StoreUnavailable('The database is closed.');
    let hooks: (() => void)[] = [];
    // A run that PostgreSQL aborted (a deadlock) left callbacks that must never run.
    const fresh = (): (() => void)[] => (hooks = []);
    const value =
      options.oneStatement === true
        ? await writeInOneStatement(this.pool, (tx) => this.inside.run(true, () => fn(tx)), fresh)
        : await inTransaction(this.pool, (sql) =>
            this.inside.run(true, async () => {
              const tx = writeTxOf(sql, fresh());
              const result = await fn(tx);
              // Issue 17: the audit entries fn added, in one statement right before COMMIT: the
              // chain's head row is locked for this round trip and the COMMIT only (auditAppend.ts).
              await tx.audit.appendHeld();
              return result;
            }),
          );
    for (const hook of hooks) {
      try {
        hook();
      } catch (err) {
        this.onHookError(err);
      }
    }
    return value;
  }

  async read<T>(fn: (tx: ReadTx) => Promise<T>, options: ReadOptions = {}): Promise<T> {
    if (this.closed) throw new StoreUnavailable('The database is closed.');
    if (options.oneStatement === true) return readInOneStatement(this.pool, fn);
    return inTransaction(this.pool, (sql) => fn(readTxOf(sql)), { isolation: 'repeatable read', readOnly: true });
  }

  /** The primary answers within 2 s at this release's schema version (health.ts). */
  async health(): Promise<void> {
    if (this.closed) throw new StoreUnavailable('The database is closed.');
    await checkHealth(this.pool, this.migrations.length);
  }

  schemaVersion(): Promise<number> {
    return schemaVersion(this.pool);
  }

  private async describe(): Promise<{ engine: 'postgres'; location: string; settings: Record<string, string | number> }> {
    const [r] = await this.pool.rows(
      `SELECT current_setting('server_version') AS server_version, current_setting('synchronous_commit') AS synchronous_commit,
              current_setting('fsync') AS fsync, current_setting('wal_level') AS wal_level,
              current_setting('synchronous_standby_names') AS synchronous_standby_names, current_setting('lock_timeout') AS lock_timeout`,
    );
    if (r === undefined) throw new StoreUnavailable('The database did not describe itself.');
    const settings: Record<string, string | number> = { pool_size: this.pool.max };
    for (const key of ['server_version', 'synchronous_commit', 'fsync', 'wal_level', 'synchronous_standby_names', 'lock_timeout']) settings[key] = str(r, key);
    // The URL prints with its password masked (databaseUrl.ts).
    return { engine: 'postgres', location: String(this.pool.url), settings };
  }

  /** Waits for the transactions under way, then closes every connection. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}
