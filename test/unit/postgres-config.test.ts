/**
 * GATEWAY_DATABASE_URL and its companions: parsed and checked up front, PostgreSQL only when set,
 * the password never printed.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, test } from 'node:test';
import { inspect } from 'node:util';
import { ConfigError, loadConfig } from '../../server/config.js';
import { createLogger } from '../../server/logger.js';
import { createRuntime } from '../../server/runtime.js';
import { DatabaseUrl, DatabaseUrlError } from '../../server/store/postgres/databaseUrl.js';
import { StoreUnavailable } from '../../server/ports/storeErrors.js';
import { freshDatabase } from '../support/postgres.js';

const SECRET = 'S3cr3t-p%40ss';
const DECODED = 'S3cr3t-p@ss';

function refused(raw: string, pattern: RegExp): void {
  assert.throws(() => DatabaseUrl.parse(raw), (err: unknown) => {
    assert.ok(err instanceof DatabaseUrlError, `expected DatabaseUrlError for ${raw}`);
    assert.match(err.message, pattern);
    assert.ok(!err.message.includes('S3cr3t'), 'the message never repeats the password');
    return true;
  });
}

describe('GATEWAY_DATABASE_URL parsing', () => {
  test('a TCP URL with verify-full: host, port, database, user and the decoded password', () => {
    const url = DatabaseUrl.parse(`postgresql://gateway:${SECRET}@db.example.dk:6432/idp?sslmode=verify-full&sslrootcert=ca.pem`, (p) => `/etc/gw/${p}`);
    assert.equal(url.host, 'db.example.dk');
    assert.equal(url.port, 6432);
    assert.equal(url.database, 'idp');
    assert.equal(url.user, 'gateway');
    assert.equal(url.revealPassword(), DECODED);
    assert.equal(url.sslMode, 'verify-full');
    assert.equal(url.sslRootCert, '/etc/gw/ca.pem');
    assert.equal(url.isSocket, false);
  });

  test('a Unix socket in ?host= (libpq form, with or without localhost before it); TLS off by default there', () => {
    for (const raw of ['postgres://gateway@/idp?host=/run/postgresql', 'postgres://gateway@localhost:5433/idp?host=%2Frun%2Fpostgresql']) {
      const url = DatabaseUrl.parse(raw);
      assert.equal(url.host, '/run/postgresql');
      assert.equal(url.isSocket, true);
      assert.equal(url.sslMode, 'disable');
      assert.equal(url.hasPassword, false);
    }
  });

  test('NSIS 4.1.6 (Low) 2: a remote host gets verify-full by default; disable, require, prefer and verify-ca are refused for it', () => {
    assert.equal(DatabaseUrl.parse('postgres://gw:pw@10.0.0.5/idp').sslMode, 'verify-full');
    refused('postgres://gw:pw@10.0.0.5/idp?sslmode=disable', /only allowed for a Unix socket or a loopback/);
    refused('postgres://gw:pw@db.example.dk/idp?sslmode=require', /accepts any server certificate/);
    refused('postgres://gw:pw@db.example.dk/idp?sslmode=prefer', /falls back to no encryption/);
    refused('postgres://gw:pw@db.example.dk/idp?sslmode=verify-ca', /does not check the host name/);
    assert.equal(DatabaseUrl.parse('postgres://gw:pw@127.0.0.1/idp').sslMode, 'disable');
    assert.equal(DatabaseUrl.parse('postgres://gw:pw@[::1]:5432/idp').sslMode, 'disable');
  });

  test('malformed URLs are refused naming what is wrong, never echoing the password', () => {
    refused(`mysql://gw:${SECRET}@db/idp`, /expected postgres:\/\//);
    refused(`postgres://db.example.dk/idp`, /name the database user/);
    refused(`postgres://gw:${SECRET}@db.example.dk/`, /name the database/);
    refused(`postgres://gw:${SECRET}@db1,db2/idp`, /one host only/);
    refused(`postgres://gw:${SECRET}@db.example.dk:99999/idp`, /port/);
    refused(`postgres://gw:${SECRET}@db.example.dk/idp?sslmod=verify-full`, /unknown parameter "sslmod"/);
    refused(`postgres://gw:${SECRET}@db.example.dk/idp?sslmode=disable&sslmode=verify-full`, /given twice/);
    refused(`postgres://gw:${SECRET}@db.example.dk/idp?host=/run/pg`, /host is given twice/);
    refused(`postgres://gw:${SECRET}@/idp?host=/run/../etc`, /plain absolute path/);
    refused(`postgres://gw:${SECRET}@bad_host!/idp`, /neither a host name/);
    refused(`postgres://gw:@db.example.dk/idp`, /password is empty/);
    refused(`postgres://gw:${SECRET}@/idp?host=/run/pg&sslmode=verify-full`, /TLS over a Unix socket/);
    refused(`postgres://gw:${SECRET}@db.example.dk/idp#frag`, /without a fragment/);
  });

  test('the parsed URL prints, serialises, inspects and logs with the password as ***', () => {
    const url = DatabaseUrl.parse(`postgres://gateway:${SECRET}@db.example.dk/idp`);
    for (const text of [String(url), JSON.stringify({ url }), inspect(url), inspect({ nested: { url } })]) {
      assert.ok(!text.includes('S3cr3t'), `no password in ${text}`);
      assert.match(text, /gateway:\*\*\*@db\.example\.dk:5432\/idp/);
    }
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    createLogger('info', sink).info({ database: url }, 'connecting');
    assert.equal(lines.length, 1);
    assert.ok(!lines[0]?.includes('S3cr3t'));
    assert.match(lines[0] ?? '', /gateway:\*\*\*@/);
  });
});

describe('configuration keys of the PostgreSQL backend', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gw-pgconf-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('unset GATEWAY_DATABASE_URL means SQLite; set, PostgreSQL with a pool of 10 unless told', () => {
    assert.equal(loadConfig({}, dir).database, undefined);
    const config = loadConfig({ GATEWAY_DATABASE_URL: 'postgres://gw:pw@127.0.0.1/idp' }, dir);
    assert.equal(config.database?.poolSize, 10);
    assert.equal(config.database?.url.database, 'idp');
    assert.equal(loadConfig({ GATEWAY_DATABASE_URL: 'postgres://gw:pw@127.0.0.1/idp', GATEWAY_DATABASE_POOL_SIZE: '40' }, dir).database?.poolSize, 40);
  });

  test('a bad URL is a ConfigError naming GATEWAY_DATABASE_URL and not its password', () => {
    assert.throws(
      () => loadConfig({ GATEWAY_DATABASE_URL: `postgres://gw:${SECRET}@db.example.dk/idp?sslmode=disable` }, dir),
      (err: unknown) => err instanceof ConfigError && err.key === 'GATEWAY_DATABASE_URL' && !err.message.includes('S3cr3t'),
    );
  });

  test('companion keys without the URL, GATEWAY_DB_FILE with it, and a password in two places are refused', () => {
    const key = (env: Record<string, string>) => {
      try {
        loadConfig(env, dir);
      } catch (err) {
        return err instanceof ConfigError ? err.key : 'other';
      }
      return 'accepted';
    };
    assert.equal(key({ GATEWAY_DATABASE_POOL_SIZE: '5' }), 'GATEWAY_DATABASE_POOL_SIZE');
    assert.equal(key({ GATEWAY_DATABASE_PASSWORD_FILE: 'pw' }), 'GATEWAY_DATABASE_PASSWORD_FILE');
    assert.equal(key({ GATEWAY_DATABASE_URL: 'postgres://gw@127.0.0.1/idp', GATEWAY_DB_FILE: 'x.db' }), 'GATEWAY_DB_FILE');
    assert.equal(key({ GATEWAY_DATABASE_URL: 'postgres://gw@127.0.0.1/idp', GATEWAY_DATABASE_POOL_SIZE: '0' }), 'GATEWAY_DATABASE_POOL_SIZE');
    const pw = path.join(dir, 'db.pw');
    writeFileSync(pw, 'from-file\n', { mode: 0o600 });
    assert.equal(key({ GATEWAY_DATABASE_URL: 'postgres://gw:pw@127.0.0.1/idp', GATEWAY_DATABASE_PASSWORD_FILE: pw }), 'GATEWAY_DATABASE_PASSWORD_FILE');
  });

  test('GATEWAY_DATABASE_PASSWORD_FILE must be private to its owner', () => {
    const pw = path.join(dir, 'shared.pw');
    writeFileSync(pw, 'from-file\n', { mode: 0o600 });
    const config = loadConfig({ GATEWAY_DATABASE_URL: 'postgres://gw@127.0.0.1/idp', GATEWAY_DATABASE_PASSWORD_FILE: pw }, dir);
    assert.equal(config.database?.passwordFile, pw);
    chmodSync(pw, 0o640);
    assert.throws(
      () => loadConfig({ GATEWAY_DATABASE_URL: 'postgres://gw@127.0.0.1/idp', GATEWAY_DATABASE_PASSWORD_FILE: pw }, dir),
      (err: unknown) => err instanceof ConfigError && err.key === 'GATEWAY_DATABASE_PASSWORD_FILE' && /chmod 600/.test(err.message),
    );
  });
});

describe('a gateway asked for PostgreSQL', () => {
  test('NSIS 3.2.3 (Substantial) 6: runs on PostgreSQL (the store port over the PostgreSQL adapter, schema migrated, health answering) and makes no SQLite file', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gw-pgstart-'));
    const db = await freshDatabase({ migrated: false });
    try {
      const config = loadConfig({ GATEWAY_DATABASE_URL: db.urlText, GATEWAY_VAR_DIR: dir }, dir);
      const runtime = await createRuntime(config, { withHsm: false, log: createLogger('silent') });
      try {
        assert.equal(runtime.store.engine, 'postgres');
        await runtime.store.health();
        assert.ok((await runtime.store.schemaVersion()) >= 2, 'the empty database was migrated at start');
        assert.equal(await runtime.store.read((tx) => tx.signingKeys.list()).then((k) => k.length), 0, 'a fresh database, read through the port');
      } finally {
        await runtime.close();
      }
      assert.ok(!existsSync(config.dbFile), 'no SQLite file was made');
    } finally {
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an unreachable PostgreSQL: the gateway refuses to start (StoreUnavailable, the password never printed) rather than fall back to SQLite', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gw-pgstart-'));
    try {
      // A socket directory with no server in it: connection refused at once.
      const config = loadConfig({ GATEWAY_DATABASE_URL: `postgres://gw:${SECRET}@/idp?host=${encodeURIComponent(dir)}`, GATEWAY_VAR_DIR: dir }, dir);
      await assert.rejects(createRuntime(config, { withHsm: false, log: createLogger('silent') }), (err: unknown) => {
        assert.ok(err instanceof StoreUnavailable, String(err));
        assert.ok(!err.message.includes('S3cr3t'));
        return true;
      });
      assert.ok(!existsSync(config.dbFile), 'no SQLite file was made');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('operator tools asked for PostgreSQL', () => {
  const root = path.resolve(import.meta.dirname, '..', '..');
  const run = (script: string, args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'scripts', script), ...args], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, GATEWAY_DATABASE_URL: `postgres://gw:${SECRET}@127.0.0.1/idp`, GATEWAY_LOG_LEVEL: 'silent' },
      timeout: 60_000,
    });

  test('npm run backup refuses (exit 2) and points to pg_dump and point-in-time recovery; npm run audit:verify reads PostgreSQL, never the SQLite file (an unreachable database: exit 2)', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gw-pgtools-'));
    try {
      const backup = run('backup.ts', [path.join(dir, 'copy.db')]);
      assert.equal(backup.status, 2, backup.stderr);
      assert.match(backup.stderr, /pg_dump or point-in-time recovery/);
      assert.ok(!existsSync(path.join(dir, 'copy.db')));
      const verify = run('verify-audit.ts', []);
      assert.equal(verify.status, 2, verify.stderr);
      assert.match(verify.stderr, /^audit: postgres:\/\/gw:\*\*\*@127\.0\.0\.1:5432\/idp\?sslmode=disable cannot be opened: The database/);
      assert.equal(verify.stdout, '', 'no report: nothing (and no SQLite file) was verified');
      for (const out of [backup.stderr, backup.stdout, verify.stderr, verify.stdout]) assert.ok(!out.includes('S3cr3t'), 'no password printed');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
