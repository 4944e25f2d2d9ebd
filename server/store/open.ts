/**
 * Opens the store the configuration names: the embedded SQLite adapter on GATEWAY_DB_FILE (under
 * var/ by default). The PostgreSQL adapter (server/store/postgres/) joins here, chosen by
 * GATEWAY_DATABASE_URL. Nothing else in the gateway names an adapter.
 */
import type { Config } from '../config.js';
import type { Store } from '../ports/store.js';
import { SqliteStore } from './sqlite/index.js';

export interface OpenStoreOptions {
  /** Where an after-commit callback that threw is reported (it never fails its commit). */
  onHookError?: (err: unknown) => void;
}

export function openStore(config: Readonly<Config>, opts: OpenStoreOptions = {}): Store {
  return SqliteStore.open(config.dbFile, opts.onHookError ? { onHookError: opts.onHookError } : {});
}
