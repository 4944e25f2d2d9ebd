/**
 * The PostgreSQL adapter's engine plumbing (the repositories over the store port come on top):
 * URL parsing, the pool, transactions with retries, advisory locks, leases, migrations, health
 * and the mapping of driver errors to the store's typed errors.
 */
export { DatabaseUrl, DatabaseUrlError, type SslMode } from './databaseUrl.js';
export { PostgresFailure, StoreBusy, StoreConflict, StoreError, StoreUnavailable, toStoreError } from './errors.js';
export { PostgresPool, parseTimestamptz, type PoolLog, type PostgresPoolOptions, type Row, type Sql, type TxSql } from './pool.js';
export { inTransaction, type IsolationLevel, type TransactionOptions } from './transaction.js';
export { ADVISORY_LOCKS, GATEWAY_LOCK_CLASS, lockAuditChain, lockForTransaction, tryLockForTransaction, type AdvisoryLockName } from './advisoryLocks.js';
export { acquireLease, holdLease, releaseLease, type Lease } from './leases.js';
export { MIGRATIONS_DIR, SchemaMismatch, loadMigrations, migrate, schemaVersion, type PostgresMigration } from './migrate.js';
export { checkHealth, type PostgresHealth } from './health.js';
export { readPasswordFile } from './passwordFile.js';
