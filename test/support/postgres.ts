/**
 * PostgreSQL for tests: a database of its own per test file on the throw-away cluster of
 * scripts/postgres-cluster.sh (scripts/run-tests.sh starts it for a whole run and exports
 * GATEWAY_TEST_DATABASE_URL; a test file run on its own starts it here and stops it again when the
 * process exits).
 *
 * A test database belongs to the role `gateway_test_app`, which is NOT a superuser: the gateway's
 * migrations and statements must work with the rights an operator gives the gateway's own role.
 * A migrated database is copied from a template (CREATE DATABASE ... TEMPLATE), which is built
 * once per schema (named after the migrations' checksums) and then reused: copying a template is
 * much faster than migrating each time. `drop()` removes the database again; databases of killed
 * test processes are dropped by the next fresh start of the cluster (gw_test_<pid>_*).
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import {
  postgresClusterRunning,
  startPostgresCluster,
  stopPostgresCluster,
  type PostgresClusterEnv,
  type PostgresClusterTls,
} from '../../scripts/lib/postgresCluster.js';
import { DatabaseUrl } from '../../server/store/postgres/databaseUrl.js';
import { loadMigrations, migrate } from '../../server/store/postgres/migrate.js';
import { PostgresPool, type PostgresPoolOptions } from '../../server/store/postgres/pool.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const APP_ROLE = 'gateway_test_app';

export interface TestCluster {
  /** The superuser's URL (maintenance database `postgres`). */
  adminUrl: string;
  /** The cluster's directory; pass it to stop/start a private cluster. */
  dir: string;
  binDir: string;
}

let shared: TestCluster | undefined;

/** The run's cluster: from GATEWAY_TEST_DATABASE_URL, or started here for this process. */
export function testCluster(): TestCluster {
  if (shared) return shared;
  const fromEnv = process.env['GATEWAY_TEST_DATABASE_URL'];
  const dir = process.env['GATEWAY_TEST_POSTGRES_DIR'];
  const binDir = process.env['GATEWAY_TEST_POSTGRES_BIN'];
  if (fromEnv && dir && binDir) {
    shared = { adminUrl: fromEnv, dir, binDir };
    return shared;
  }
  const startedHere = !postgresClusterRunning();
  const env: PostgresClusterEnv = startPostgresCluster();
  if (startedHere) {
    // Nobody else started it (scripts/run-tests.sh does for a whole run): stop it with this process.
    process.on('exit', () => stopPostgresCluster());
  }
  shared = env;
  return shared;
}

/**
 * A cluster of this process's own under var/postgres-fresh/ (not /tmp: should the process die
 * first, scripts/run-tests.sh stops what is left there), for tests that stop and start PostgreSQL.
 * Stopped and removed when the process exits.
 */
export function privateCluster(options: { tls?: PostgresClusterTls } = {}): TestCluster & { stop(options?: { immediate?: boolean }): void; start(): void } {
  const parent = path.join(repoRoot, 'var', 'postgres-fresh');
  mkdirSync(parent, { recursive: true, mode: 0o700 });
  const dir = mkdtempSync(path.join(parent, 'pg-'));
  process.on('exit', () => {
    try {
      stopPostgresCluster(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  const env = startPostgresCluster(dir, options);
  return { ...env, stop: (stopOptions = {}) => stopPostgresCluster(dir, stopOptions), start: () => void startPostgresCluster(dir, options) };
}

function clientConfig(url: DatabaseUrl, database = url.database): pg.ClientConfig {
  return { host: url.host, port: url.port, user: url.user, password: url.revealPassword(), database };
}

async function withAdmin<T>(cluster: TestCluster, fn: (client: pg.Client) => Promise<T>, database?: string): Promise<T> {
  const client = new pg.Client(clientConfig(DatabaseUrl.parse(cluster.adminUrl), database));
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** The app role's password: derived from the superuser's, so every test process agrees without sharing state. */
function appPassword(cluster: TestCluster): string {
  const admin = DatabaseUrl.parse(cluster.adminUrl).revealPassword() ?? '';
  return createHmac('sha256', admin).update(APP_ROLE).digest('hex').slice(0, 32);
}

/** The ordinary role test databases belong to, and its password (for URLs a test builds itself). */
export function appRole(cluster: TestCluster): { user: string; password: string } {
  return { user: APP_ROLE, password: appPassword(cluster) };
}

/** The URL of `database` for the app role, in the form GATEWAY_DATABASE_URL takes. */
function appUrlText(cluster: TestCluster, database: string): string {
  const admin = DatabaseUrl.parse(cluster.adminUrl);
  const hostPart = admin.isSocket ? `localhost:${admin.port}` : `${admin.host}:${admin.port}`;
  const query = admin.isSocket ? `?host=${encodeURIComponent(admin.host)}` : '';
  return `postgres://${APP_ROLE}:${appPassword(cluster)}@${hostPart}/${database}${query}`;
}

async function ensureAppRole(cluster: TestCluster): Promise<void> {
  await withAdmin(cluster, async (c) => {
    try {
      await c.query(`CREATE ROLE ${APP_ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE`);
    } catch (err) {
      // 42710 duplicate_object: made already (by this run or a parallel test process).
      if (!(err instanceof pg.DatabaseError && err.code === '42710')) throw err;
    }
    await c.query(`ALTER ROLE ${APP_ROLE} PASSWORD '${appPassword(cluster)}'`);
  });
}

const TEMPLATE_LOCK = 0x47575431; // "GWT1": one process builds a template at a time.

/** The migrated template of the current migrations, built if missing. */
async function migratedTemplate(cluster: TestCluster): Promise<string> {
  const digest = createHash('sha256');
  for (const m of loadMigrations()) digest.update(m.checksum);
  const name = `gw_template_${digest.digest('hex').slice(0, 16)}`;
  await withAdmin(cluster, async (c) => {
    await c.query('SELECT pg_advisory_lock($1)', [TEMPLATE_LOCK]);
    try {
      const found = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      if (found.rowCount === 1) return;
      // Templates of earlier schemas are of no use any more.
      const stale = await c.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE 'gw\\_template\\_%'");
      for (const { datname } of stale.rows) {
        await c.query(`ALTER DATABASE "${datname}" WITH IS_TEMPLATE false`);
        await c.query(`DROP DATABASE "${datname}" WITH (FORCE)`);
      }
      const building = `${name}_build`;
      await c.query(`DROP DATABASE IF EXISTS "${building}" WITH (FORCE)`);
      await c.query(`CREATE DATABASE "${building}" OWNER ${APP_ROLE} TEMPLATE template0`);
      const pool = new PostgresPool({ url: DatabaseUrl.parse(appUrlText(cluster, building)), max: 1 });
      try {
        await migrate(pool);
      } finally {
        await pool.end();
      }
      // The migrating connection's server process may still be exiting: renaming needs it gone.
      for (let i = 0; ; i++) {
        const busy = await c.query('SELECT 1 FROM pg_stat_activity WHERE datname = $1', [building]);
        if (busy.rowCount === 0) break;
        if (i >= 200) throw new Error(`${building}: a connection stays open`);
        await delay(50);
      }
      await c.query(`ALTER DATABASE "${building}" RENAME TO "${name}"`);
      await c.query(`ALTER DATABASE "${name}" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false`);
    } finally {
      await c.query('SELECT pg_advisory_unlock($1)', [TEMPLATE_LOCK]);
    }
  });
  return name;
}

export interface TestDatabase {
  name: string;
  /** GATEWAY_DATABASE_URL of this database for the (non-superuser) app role; holds its password. */
  urlText: string;
  url: DatabaseUrl;
  cluster: TestCluster;
  /** A pool on this database (ended by drop()). */
  pool(options?: Partial<Omit<PostgresPoolOptions, 'url'>>): PostgresPool;
  /** A plain driver connection as the superuser, for what a test does behind the gateway's back. */
  admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T>;
  /** Ends this database's pools and drops it. */
  drop(): Promise<void>;
}

/**
 * A new database for this test file: empty (`migrated: false`) or at the newest schema (a copy
 * of the migrated template). Call drop() in after().
 */
export async function freshDatabase(options: { migrated?: boolean; cluster?: TestCluster } = {}): Promise<TestDatabase> {
  const cluster = options.cluster ?? testCluster();
  await ensureAppRole(cluster);
  const template = options.migrated === false ? 'template0' : await migratedTemplate(cluster);
  const name = `gw_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  await withAdmin(cluster, (c) => c.query(`CREATE DATABASE "${name}" OWNER ${APP_ROLE} TEMPLATE "${template}"`));
  const urlText = appUrlText(cluster, name);
  const url = DatabaseUrl.parse(urlText);
  const pools: PostgresPool[] = [];
  return {
    name,
    urlText,
    url,
    cluster,
    pool(poolOptions = {}) {
      const pool = new PostgresPool({ max: 4, ...poolOptions, url });
      pools.push(pool);
      return pool;
    },
    admin: (fn) => withAdmin(cluster, fn, name),
    async drop() {
      await Promise.all(pools.map((p) => p.end()));
      await withAdmin(cluster, (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
}

/** Drops a test database by name (one a child gateway's var/ remembers; see backend.ts). */
export async function dropTestDatabase(name: string, cluster: TestCluster = testCluster()): Promise<void> {
  if (!/^gw_test_\d+_[0-9a-f]+$/.test(name)) throw new TypeError(`not a test database: ${name}`);
  await withAdmin(cluster, (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
}
