/**
 * Which store adapter the integration tests run the gateway on (issue 14: the integration suite
 * runs on both backends). scripts/run-tests.sh runs test/integration once on SQLite (the default)
 * and once more with GATEWAY_TEST_BACKEND=postgres, where every gateway a test starts (in process,
 * testGateway.ts, or as a child process, childGateway.ts) gets a fresh PostgreSQL database of its
 * own on the test cluster (postgres.ts), dropped when the gateway is disposed.
 *
 * A test about the SQLite file itself (pragmas, bytes on disk, VACUUM INTO, tampering with the
 * file) says so with `sqliteOnly(reason)`: on PostgreSQL it is reported as skipped WITH that
 * reason, never silently passed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { dropTestDatabase, freshDatabase, type TestDatabase } from './postgres.js';

export type TestBackend = 'sqlite' | 'postgres';

/** GATEWAY_TEST_BACKEND: `postgres`, or unset/`sqlite`. Anything else is a mistake of the runner. */
export function testBackend(): TestBackend {
  const value = process.env['GATEWAY_TEST_BACKEND'] ?? 'sqlite';
  if (value !== 'sqlite' && value !== 'postgres') throw new TypeError(`GATEWAY_TEST_BACKEND must be sqlite or postgres, not ${value}`);
  return value;
}

export const onPostgres = testBackend() === 'postgres';

/**
 * The node:test options of a test that is about the SQLite adapter's file: skipped on the
 * PostgreSQL run with the reason (the runner prints `# SKIP <reason>`).
 */
export function sqliteOnly(reason: string): { skip: string | false } {
  return { skip: onPostgres ? `SQLite only: ${reason}` : false };
}

/** Where a gateway's store lives: its SQLite file, or its PostgreSQL test database. */
export type StoreRef = { engine: 'sqlite'; file: string } | { engine: 'postgres'; urlText: string; name: string };

export interface GatewayDatabase {
  /** The environment that points a gateway (or a tool) at it: GATEWAY_DATABASE_URL, or nothing. */
  env: Record<string, string>;
  ref: StoreRef;
  database: TestDatabase | undefined;
  /** Drops the PostgreSQL database (nothing for SQLite: the file goes with var/). */
  drop(): Promise<void>;
}

/** The database of a new gateway whose var/ is `varDir`, on the backend of this run. */
export async function gatewayDatabase(varDir: string): Promise<GatewayDatabase> {
  if (!onPostgres) {
    return { env: {}, ref: { engine: 'sqlite', file: path.join(varDir, 'gateway.db') }, database: undefined, drop: async () => undefined };
  }
  const database = await freshDatabase();
  const ref: StoreRef = { engine: 'postgres', urlText: database.urlText, name: database.name };
  // Remembered in var/ (0600: the URL holds the app role's test password) so a child gateway
  // restarted on the same var/ finds its database again, and disposal drops it.
  rememberStore(varDir, ref);
  return { env: { GATEWAY_DATABASE_URL: database.urlText }, ref, database, drop: () => database.drop() };
}

/**
 * Records in `varDir` which PostgreSQL database it belongs to (0600: the URL holds the app role's
 * test password): a restart on the same var/ finds it, and disposeChildVarDir drops it. Several
 * instances sharing one database: remember it in ONE of their var/ directories.
 */
export function rememberStore(varDir: string, ref: StoreRef): void {
  if (ref.engine === 'postgres') fs.writeFileSync(refFile(varDir), JSON.stringify(ref), { mode: 0o600 });
}

function refFile(varDir: string): string {
  return path.join(varDir, 'test-database.json');
}

const REF = z.object({ engine: z.literal('postgres'), urlText: z.string(), name: z.string() });

/** The store of the gateway whose var/ is `varDir` (what gatewayDatabase made for it). */
export function storeRefOf(varDir: string): StoreRef {
  const file = refFile(varDir);
  if (!fs.existsSync(file)) return { engine: 'sqlite', file: path.join(varDir, 'gateway.db') };
  return REF.parse(JSON.parse(fs.readFileSync(file, 'utf8')));
}

/** The environment pointing a tool at the store of `ref`. */
export function storeEnv(ref: StoreRef): Record<string, string> {
  return ref.engine === 'postgres' ? { GATEWAY_DATABASE_URL: ref.urlText } : {};
}

/** Drops the PostgreSQL database of `ref` (nothing for SQLite). */
export async function dropStore(ref: StoreRef): Promise<void> {
  if (ref.engine === 'postgres') await dropTestDatabase(ref.name);
}
