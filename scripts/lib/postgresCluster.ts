/**
 * The throw-away PostgreSQL cluster of scripts/postgres-cluster.sh, from TypeScript: start (or
 * find running), stop, and the variables of its env file. Shared by the PostgreSQL store tests
 * and, later, the benchmark's PostgreSQL runs.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseEnvFile } from './tpm2Simulator.js';

const script = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'postgres-cluster.sh');

export interface PostgresClusterEnv {
  /** The cluster's superuser on the maintenance database `postgres`, over the private socket. */
  adminUrl: string;
  /** The cluster's directory (var/postgres unless given). */
  dir: string;
  /** The PostgreSQL binaries it runs (pg_dump, psql ... live there too). */
  binDir: string;
}

function run(args: string[], timeout: number): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync('bash', [script, ...args], { encoding: 'utf8', timeout });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function envOf(file: string): PostgresClusterEnv {
  const env = parseEnvFile(file);
  const adminUrl = env['GATEWAY_TEST_DATABASE_URL'];
  const dir = env['GATEWAY_TEST_POSTGRES_DIR'];
  const binDir = env['GATEWAY_TEST_POSTGRES_BIN'];
  if (!adminUrl || !dir || !binDir) throw new Error(`${file} lacks GATEWAY_TEST_DATABASE_URL, _POSTGRES_DIR or _POSTGRES_BIN`);
  return { adminUrl, dir, binDir };
}

/** TLS on 127.0.0.1:port besides the socket, with certDir/server.crt and server.key. */
export interface PostgresClusterTls {
  port: number;
  certDir: string;
}

/** Starts (or finds running) the cluster in `dir` (default var/postgres). */
export function startPostgresCluster(dir?: string, options: { tls?: PostgresClusterTls } = {}): PostgresClusterEnv {
  const tls = options.tls ? ['--tls-port', String(options.tls.port), '--tls-dir', options.tls.certDir] : [];
  const result = run(['start', ...(dir ? ['--dir', dir] : []), ...tls], 180_000);
  if (result.status !== 0) throw new Error(`scripts/postgres-cluster.sh start failed (exit ${result.status}):\n${result.stderr}\n${result.stdout}`);
  return envOf(result.stdout.trim().split('\n').pop() ?? '');
}

/**
 * Fast shutdown: clients are disconnected, open transactions rolled back. `immediate` stops it
 * as a crash would: recovery runs at the next start, and UNLOGGED tables come back empty.
 */
export function stopPostgresCluster(dir?: string, options: { immediate?: boolean } = {}): void {
  const result = run(['stop', ...(dir ? ['--dir', dir] : []), ...(options.immediate ? ['--immediate'] : [])], 120_000);
  if (result.status !== 0) throw new Error(`scripts/postgres-cluster.sh stop failed (exit ${result.status}):\n${result.stderr}`);
}

export function postgresClusterRunning(dir?: string): boolean {
  return run(['status', ...(dir ? ['--dir', dir] : [])], 30_000).status === 0;
}
