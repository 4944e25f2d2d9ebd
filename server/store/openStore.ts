/**
 * The store port's adapter for a configuration (issue 14): GATEWAY_DATABASE_URL selects
 * PostgreSQL (server/store/postgres/); unset, SQLite in GATEWAY_DB_FILE under var/
 * (server/store/sqlite/). The one place that chooses, for the runtime and the operator's tools.
 */
import type { Config } from '../config.js';
import type { Store } from '../ports/store.js';
import { PostgresStore, readPasswordFile, type PoolLog } from './postgres/index.js';
import { SqliteStore } from './sqlite/index.js';

export interface OpenStoreOptions {
  /** Where after-commit callbacks that throw are reported. */
  onHookError?: (err: unknown) => void;
  /** PostgreSQL: where dropped idle connections are reported; SQLite: failed WAL checkpoints (a pino logger fits). */
  log?: PoolLog;
  /**
   * PostgreSQL: false opens without migrating and refuses a database at another schema version
   * (tools that only read, e.g. verifying a restored copy). SQLite always migrates its file.
   */
  migrate?: boolean;
  /** PostgreSQL: connections of this process (default GATEWAY_DATABASE_POOL_SIZE). */
  poolSize?: number;
}

export async function openStore(config: Readonly<Pick<Config, 'database' | 'dbFile'> & Partial<Pick<Config, 'sqliteCheckpoint'>>>, options: OpenStoreOptions = {}): Promise<Store> {
  const pg = config.database;
  if (!pg) {
    const log = options.log;
    return SqliteStore.open(config.dbFile, {
      ...(options.onHookError ? { onHookError: options.onHookError } : {}),
      ...(config.sqliteCheckpoint !== undefined ? { checkpoint: config.sqliteCheckpoint } : {}),
      ...(log ? { onCheckpointError: (err: unknown) => log.warn({ err: err instanceof Error ? err.message : String(err) }, 'SQLite WAL checkpoint failed; retried') } : {}),
    });
  }
  return PostgresStore.open({
    url: pg.url,
    poolSize: options.poolSize ?? pg.poolSize,
    ...(pg.passwordFile !== undefined ? { password: readPasswordFile(pg.passwordFile) } : {}),
    ...(options.log ? { log: options.log } : {}),
    ...(options.onHookError ? { onHookError: options.onHookError } : {}),
    ...(options.migrate !== undefined ? { migrate: options.migrate } : {}),
  });
}

/** Where the store's data lives, for messages (a PostgreSQL URL prints with its password masked). */
export function storeLocation(config: Readonly<Pick<Config, 'database' | 'dbFile'>>): string {
  return config.database ? String(config.database.url) : config.dbFile;
}
