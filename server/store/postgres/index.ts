/**
 * The PostgreSQL adapter of the store port (PostgresStore), and its engine plumbing: URL parsing,
 * the pool, transactions with retries, advisory locks, leases, migrations, health and the mapping
 * of driver errors to the port's typed errors.
 */
export { PostgresStore, type PostgresStoreOptions } from './PostgresStore.js';
export { DatabaseUrl, DatabaseUrlError, type SslMode } from './databaseUrl.js';
export { PostgresFailure, StoreBusy, StoreConflict, StoreError, StoreUnavailable, toStoreError } from './errors.js';
export { PostgresPool, parseTimestamptz, type PoolLog, type PostgresPoolOptions, type Row, type Sql, type TxSql } from './pool.js';
export { inTransaction, type IsolationLevel, type TransactionOptions } from './transaction.js';
export {
  ADVISORY_LOCKS,
  GATEWAY_LOCK_CLASS,
  KEYED_ADVISORY_LOCKS,
  lockForTransaction,
  lockKeyForTransaction,
  tryLockForTransaction,
  type AdvisoryLockName,
  type KeyedAdvisoryLockName,
} from './advisoryLocks.js';
export { acquireLease, holdLease, releaseLease, PgLeases, type Lease } from './leases.js';
export { MIGRATIONS_DIR, SchemaMismatch, loadMigrations, migrate, schemaVersion, type PostgresMigration } from './migrate.js';
export { checkHealth, type PostgresHealth } from './health.js';
export { readPasswordFile } from './passwordFile.js';
