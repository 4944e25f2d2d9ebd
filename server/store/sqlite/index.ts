/** The SQLite adapter of the store port, and its tools (bulk seeding, migrations for tests). */
export { SqliteStore, ephemeralFileOf, type SqliteStoreOptions } from './SqliteStore.js';
export { SeedRepository } from './seed.js';
export type * from './seed.js';
export { MIGRATIONS, type Migration } from './migrations/index.js';
export { LATEST_SCHEMA_VERSION } from './migrate.js';
export { openSqliteFileReader, withSqliteFile, type FileReader } from './fileReader.js';
