/**
 * PostgreSQL for the benchmark: a private throw-away cluster under var/bench-postgres-<pid> (started
 * the way the tests start theirs, scripts/postgres-cluster.sh: Debian's postgresql, an
 * unprivileged server user, a private Unix socket, fsync and synchronous_commit on), one fresh
 * database for the run, dropped and the cluster stopped at the end (also after a failure or
 * Ctrl-C: registered with children.ts's cleanups).
 */
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { startPostgresCluster, stopPostgresCluster } from '../lib/postgresCluster.js';
import { onCleanup } from './children.js';
import { repoRoot } from './serverProcess.js';

export interface BenchDatabase {
  /** GATEWAY_DATABASE_URL of the run's database (the cluster's superuser, over the socket). */
  url: string;
  /** `server_version`, `synchronous_commit`, `fsync`, `shared_buffers` as the server reports them. */
  settings: string;
  /** The cluster's data directory (its postmaster.pid names the postmaster, for PostgreSQL's CPU). */
  dataDir: string;
}

/** Why PostgreSQL cannot be benchmarked here, or undefined when it can. */
export function postgresMissing(): string | undefined {
  const lib = '/usr/lib/postgresql';
  const found = fs.existsSync(lib) && fs.readdirSync(lib).some((v) => fs.existsSync(path.join(lib, v, 'bin', 'initdb')));
  return found ? undefined : 'PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin (run: bash scripts/bootstrap.sh --for-tests)';
}

async function admin<T>(adminUrl: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Clusters of earlier runs whose bench process is gone (killed before its cleanup): stopped and removed. */
function removeLeftovers(): void {
  const varDir = path.join(repoRoot, 'var');
  for (const entry of fs.existsSync(varDir) ? fs.readdirSync(varDir) : []) {
    const m = /^bench-postgres-(\d+)$/.exec(entry);
    if (!m || fs.existsSync(`/proc/${m[1]}`)) continue;
    const dir = path.join(varDir, entry);
    try {
      stopPostgresCluster(dir);
    } catch {
      // not running
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Starts a cluster of this run's own (var/bench-postgres-<pid>: two runs at once, e.g. the smoke
 * test beside a full run, never stop each other's) and creates the run's database; at cleanup the
 * database is dropped, the cluster stopped and its directory removed.
 */
export async function startBenchDatabase(): Promise<BenchDatabase> {
  removeLeftovers();
  const dir = path.join(repoRoot, 'var', `bench-postgres-${process.pid}`);
  onCleanup(async () => {
    try {
      stopPostgresCluster(dir);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
  const env = startPostgresCluster(dir);
  const name = `gw_bench_${process.pid}`;
  onCleanup(async () => {
    await admin(env.adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
  });
  const settings = await admin(env.adminUrl, async (c) => {
    await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await c.query(`CREATE DATABASE "${name}" TEMPLATE template0`);
    const r = await c.query<{ name: string; setting: string; unit: string | null }>(
      "SELECT name, setting, unit FROM pg_settings WHERE name IN ('server_version', 'synchronous_commit', 'fsync', 'shared_buffers', 'max_connections', 'wal_sync_method') ORDER BY name",
    );
    return r.rows.map((row) => `${row.name}=${row.setting}${row.unit && row.unit !== '' ? ` ${row.unit}` : ''}`).join(', ');
  });
  const url = new URL(env.adminUrl);
  url.pathname = `/${name}`;
  // scripts/postgres-cluster.sh keeps the cluster in <dir>/cluster/data.
  return { url: url.toString(), settings, dataDir: path.join(dir, 'cluster', 'data') };
}
