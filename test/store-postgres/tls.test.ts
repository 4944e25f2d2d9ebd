/**
 * sslmode=verify-full against a real PostgreSQL with TLS on 127.0.0.1: the gateway talks only to a
 * server whose certificate the configured CA issued for the host name it dialled.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DatabaseUrl } from '../../server/store/postgres/databaseUrl.js';
import { StoreUnavailable } from '../../server/store/postgres/errors.js';
import { PostgresPool } from '../../server/store/postgres/pool.js';
import { appRole, freshDatabase, privateCluster, type TestDatabase } from '../support/postgres.js';

function openssl(args: string[], cwd: string): void {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
}

/** A CA, and a server certificate it issued for DNS:localhost only; and a second, unrelated CA. */
function makeCertificates(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const ca of ['ca', 'other-ca']) {
    openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${ca}.key`, '-out', `${ca}.crt`, '-days', '2', '-subj', `/CN=${ca}`], dir);
  }
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost'], dir);
  writeFileSync(path.join(dir, 'san.ext'), 'subjectAltName=DNS:localhost\n');
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'san.ext'], dir);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

describe('TLS to PostgreSQL (sslmode=verify-full)', () => {
  let db: TestDatabase;
  let port: number;
  let certDir: string;
  const pools: PostgresPool[] = [];
  before(async () => {
    port = await freePort();
    certDir = mkdtempSync(path.join(tmpdir(), 'gw-pg-tls-'));
    makeCertificates(certDir);
    db = await freshDatabase({ cluster: privateCluster({ tls: { port, certDir } }) });
  });
  after(async () => {
    await Promise.all(pools.map((p) => p.end()));
    await db.drop();
    rmSync(certDir, { recursive: true, force: true });
  });

  const url = (host: string, ca: string) => {
    const { user, password } = appRole(db.cluster);
    return DatabaseUrl.parse(`postgres://${user}:${password}@${host}:${port}/${db.name}?sslmode=verify-full&sslrootcert=${encodeURIComponent(path.join(certDir, ca))}`);
  };
  const query = async (host: string, ca: string) => {
    const pool = new PostgresPool({ url: url(host, ca), max: 1 });
    pools.push(pool);
    return pool.rows('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
  };

  test('NSIS 4.1.6 (Low) 2: with the CA that issued the server certificate, for the host name in it, the connection is encrypted', async () => {
    assert.deepEqual(await query('localhost', 'ca.crt'), [{ ssl: true }]);
  });

  test('NSIS 4.1.6 (Low) 2: a certificate from another CA, or one not issued for the address dialled, is refused (StoreUnavailable)', async () => {
    const refusedFor = (code: RegExp) => (err: unknown) => {
      assert.ok(err instanceof StoreUnavailable, String(err));
      const cause = err.cause;
      assert.ok(cause instanceof Error && 'code' in cause && typeof cause.code === 'string', 'the TLS failure is kept as the cause code');
      assert.match(cause.code, code);
      return true;
    };
    await assert.rejects(query('localhost', 'other-ca.crt'), refusedFor(/CERT|SIGNATURE|ISSUER/));
    await assert.rejects(query('127.0.0.1', 'ca.crt'), refusedFor(/ERR_TLS_CERT_ALTNAME_INVALID/));
  });
});
