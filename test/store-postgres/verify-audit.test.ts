/**
 * Audit verification of a PostgreSQL database (issue 14: verify a restored copy with
 * `npm run audit:verify`): through the store port, in one read transaction, with the same report
 * as the SQLite file's verification; the same events make the same chain on both engines.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { verifyAudit, verifyStoreAudit } from '../../server/audit/verifyAudit.js';
import { openSqliteFileReader } from '../../server/store/sqlite/index.js';
import type { AuditInput } from '../../server/domain/audit.js';
import type { Store } from '../../server/ports/store.js';
import { PostgresStore } from '../../server/store/postgres/PostgresStore.js';
import { SqliteStore } from '../../server/store/sqlite/index.js';
import { repoRoot } from '../support/testGateway.js';
import { freshDatabase, type TestDatabase } from '../support/postgres.js';
import { later } from '../store/adapters.js';

/** The same events, in the same order, for both engines. */
const EVENTS: AuditInput[] = Array.from({ length: 2_500 }, (_, i) => ({
  at: later(i),
  type: i % 7 === 0 ? 'credential.suspended' : 'signin.succeeded',
  actorId: i % 3 === 0 ? null : `actor-${i % 11}`,
  actorRole: i % 3 === 0 ? 'system' : 'holder',
  subjectId: `key-${i % 13}`,
  data: { i, reason: i % 2 === 0 ? 'lost' : 'æøå "quoted" \\ \u0001', nested: { list: [i, null, true], n: i / 4 } },
}));

async function appendAll(store: Store): Promise<void> {
  for (let i = 0; i < EVENTS.length; i += 500) {
    await store.write(async (tx) => {
      for (const e of EVENTS.slice(i, i + 500)) await tx.audit.append(e);
    });
  }
}

function verifyScript(urlText: string): ReturnType<typeof spawnSync> {
  return spawnSync(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'scripts', 'verify-audit.ts'), '--no-witness'], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: { ...process.env, GATEWAY_DATABASE_URL: urlText, GATEWAY_LOG_LEVEL: 'silent' },
    timeout: 120_000,
  });
}

describe('audit verification of a PostgreSQL database', () => {
  let db: TestDatabase;
  let pg: PostgresStore;
  let dir: string;
  let sqlite: SqliteStore;
  before(async () => {
    db = await freshDatabase();
    pg = await PostgresStore.open({ url: db.url, poolSize: 2 });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gw-verify-'));
    sqlite = SqliteStore.open(path.join(dir, 'gateway.db'));
    await Promise.all([appendAll(pg), appendAll(sqlite)]);
  });
  after(async () => {
    await pg.close();
    await sqlite.close();
    await db.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('NSIS 6 (Low) 7: the same events make the same hash chain, entry for entry, on PostgreSQL and on SQLite', async () => {
    const [a, b] = await Promise.all([pg.read((tx) => tx.audit.page(1, 10_000)), sqlite.read((tx) => tx.audit.page(1, 10_000))]);
    assert.equal(a.length, EVENTS.length);
    assert.deepEqual(a, b);
  });

  it('NSIS 6 (Low) 7: verification through the port gives the report the SQLite file verification gives, in pages, with progress', async () => {
    const progress: number[] = [];
    const viaPort = await verifyStoreAudit(pg, { onProgress: (n) => progress.push(n), progressEvery: 1000 });
    const file = openSqliteFileReader(path.join(dir, 'gateway.db'));
    let viaFile;
    try {
      viaFile = await verifyAudit(file.tx);
    } finally {
      file.close();
    }
    assert.equal(viaPort.ok, true, viaPort.problems.join('; '));
    assert.deepEqual(viaPort, viaFile);
    assert.deepEqual(progress, [0, 1000, 2000, EVENTS.length], 'from 0, every progressEvery entries, to every entry');
    assert.deepEqual(await verifyStoreAudit(sqlite), viaFile, 'and through the port on SQLite');
  });

  it('NSIS 6 (Low) 7: npm run audit:verify with GATEWAY_DATABASE_URL verifies the database (exit 0), never printing its password, and names the first altered entry of a tampered copy (exit 1)', async () => {
    const ok = verifyScript(db.urlText);
    assert.equal(ok.status, 0, `${ok.stdout}\n${ok.stderr}`);
    assert.match(String(ok.stdout), new RegExp(`audit: database postgres://gateway_test_app:\\*\\*\\*@.*/${db.name}`));
    assert.match(String(ok.stdout), new RegExp(`chain intact: ${EVENTS.length} entries`));
    const password = db.url.revealPassword() ?? '';
    assert.ok(password.length > 0 && !String(ok.stdout).includes(password) && !String(ok.stderr).includes(password));
    // Someone with the database's owner rights lifts the guard and rewrites one entry.
    await db.admin(async (c) => {
      await c.query('ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update');
      await c.query("UPDATE audit_events SET data = '{\"i\":1200,\"forged\":true}' WHERE seq = 1201");
      await c.query('ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update');
    });
    const tampered = verifyScript(db.urlText);
    assert.equal(tampered.status, 1, `${tampered.stdout}\n${tampered.stderr}`);
    assert.match(String(tampered.stdout), /chain BROKEN at entry 1201: entry 1201 was altered/);
  });

  it('a database at another schema version is refused (exit 2) and left as it was', async () => {
    const empty = await freshDatabase({ migrated: false });
    try {
      const r = verifyScript(empty.urlText);
      assert.equal(r.status, 2, `${r.stdout}\n${r.stderr}`);
      assert.match(String(r.stderr), /schema version 0/);
      const tables = await empty.admin(async (c) => (await c.query("SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'")).rows[0]);
      assert.deepEqual(tables, { n: 0 });
    } finally {
      await empty.drop();
    }
  });
});
