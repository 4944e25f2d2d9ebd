/**
 * Seeding keys for the growth benchmark (issue 7): `npm run seed` adds keys to a stopped
 * gateway's database that look exactly like enrolled and activated ones (every invariant the
 * crash-safety test checks holds, the audit chain verifies), and the restarted gateway serves on:
 * a real employee signs in, the seeded people are found and their keys explained by their history,
 * and a helpdesk action on a seeded key chains onto the seeded audit trail.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { seedKeys } from '../../scripts/seed-keys.js';
import { verifyAudit } from '../../server/audit/verifyAudit.js';
import { SqliteStore } from '../../server/store/sqlite/index.js';
import { withSqliteFile } from '../../server/store/sqlite/fileReader.js';
import { num, str } from '../../server/store/sqlite/rows.js';
import { ApiClient, field } from '../support/apiClient.js';
import { disposeChildVarDir, startChildGateway, type ChildGateway } from '../support/childGateway.js';
import { checkInvariants } from '../support/invariants.js';
import { activeAdmin, activeEmployee, signIn } from '../support/journeys.js';
import { openSqlFile } from '../support/sqliteInspection.js';
import { repoRoot } from '../support/testGateway.js';
import { sqliteOnly } from '../support/backend.js';

/** Why this runs on SQLite only (the PostgreSQL run reports it skipped with this reason). */
const SQLITE_ONLY =
  'npm run seed is the SQLite adapter\'s own bulk loader (it writes the file directly)';

const SEEDED = 2000;

interface IdentityHit {
  id: string;
  email: string;
  keyCount: number;
  activeKeyCount: number;
}

interface KeyDetail {
  id: string;
  state: string;
  aal: string;
  attestationFormat: string;
  history: { action: string; fromState: string | null; toState: string; actorRole: string; reason: string; auditSeq: number }[];
}

/** Index names and definitions, and a few counts, read-only from the file. */
function snapshot(dbFile: string): { indexes: string[]; identities: number; credentials: number; audit: number; journal: string } {
  const db = openSqlFile(dbFile, { readonly: true });
  try {
    const count = (table: string) => num(db.prepare(`SELECT count(*) AS n FROM ${table}`).get(), 'n');
    return {
      indexes: db
        .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name")
        .all()
        .map((r) => `${str(r, 'name')}: ${r !== null && typeof r === 'object' && 'sql' in r ? String(r.sql) : ''}`),
      identities: count('identities'),
      credentials: count('credentials'),
      audit: count('audit_events'),
      journal: String(db.pragma('journal_mode', { simple: true })),
    };
  } finally {
    db.close();
  }
}

describe('seeding keys for the growth benchmark (issue 7)', sqliteOnly(SQLITE_ONLY), () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gw-seed-'));
  let gw: ChildGateway | undefined;
  let varDir: string | undefined;
  after(async () => {
    await gw?.stop();
    if (varDir) await disposeChildVarDir(varDir);
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('refuses what is not a migrated gateway database with an organisation to seed into, and changes nothing', async () => {
    await assert.rejects(seedKeys({ dbFile: path.join(tmp, 'missing.db'), keys: 1 }), /no database at/);

    const other = path.join(tmp, 'other.db');
    const db = openSqlFile(other, { create: true });
    db.exec('CREATE TABLE notes (body TEXT)');
    db.close();
    await assert.rejects(seedKeys({ dbFile: other, keys: 1 }), /not a gateway database/);

    const old = path.join(tmp, 'old.db');
    const o = openSqlFile(old, { create: true });
    o.exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL); INSERT INTO schema_migrations VALUES (1, 'lifecycle core', '2026-01-01')");
    o.close();
    await assert.rejects(seedKeys({ dbFile: old, keys: 1 }), /schema version 1/);

    const empty = path.join(tmp, 'empty.db');
    await SqliteStore.open(empty).close();
    await assert.rejects(seedKeys({ dbFile: empty, keys: 1 }), /no organisation with CVR 12345674/);
    const after = snapshot(empty);
    assert.equal(after.identities + after.credentials + after.audit, 0);
    assert.equal(after.journal, 'wal', 'the database is left in the mode the gateway runs it in');

    await assert.rejects(seedKeys({ dbFile: empty, keys: 0 }), TypeError);
  });

  it('a seed killed midway (kill -9) leaves nothing behind: the next open rolls it back, and seeding again works', async () => {
    const file = path.join(tmp, 'killed.db');
    const store = SqliteStore.open(file);
    await store.write(async (tx) => {
      await tx.organisations.insert({ id: 'org-1', cvr: '12345674', name: 'Demo Organisation ApS', createdAt: '2026-01-01T00:00:00.000Z' });
      await tx.audit.append({ at: '2026-01-01T00:00:00.000Z', type: 'organisation.created', actorId: null, actorRole: 'system', subjectId: 'org-1', data: { cvr: '12345674' } });
    });
    await store.close();
    const before = snapshot(file);
    // The child kills itself with SIGKILL after its second batch: mid-load, deterministically.
    const script = path.join(tmp, 'seed-and-die.mts');
    fs.writeFileSync(
      script,
      `import { seedKeys } from ${JSON.stringify(path.join(repoRoot, 'scripts', 'seed-keys.ts'))};
await seedKeys({ dbFile: ${JSON.stringify(file)}, keys: 5000, batchKeys: 1000, onProgress: (done) => { if (done >= 2000) process.kill(process.pid, 'SIGKILL'); } });`,
    );
    const child = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: repoRoot, encoding: 'utf8' });
    assert.equal(child.signal, 'SIGKILL', child.stderr);

    const reopened = SqliteStore.open(file);
    await reopened.close();
    const after = snapshot(file);
    assert.deepEqual(after, before, 'no seeded row, every index back, WAL again');
    assert.equal((await withSqliteFile(file, (tx) => verifyAudit(tx))).ok, true);
    const again = await seedKeys({ dbFile: file, keys: 300 });
    assert.equal(again.keys, 300);
    assert.equal((await checkInvariants(file)).violations.length, 0);
  });

  it('NSIS 3.2.2, 3.2.3, 6 (Low) 7: seeded keys look enrolled and activated, every invariant holds, and the restarted gateway serves on', async (t) => {
    gw = await startChildGateway();
    varDir = gw.varDir;
    const admin = await activeAdmin(gw);
    const emp = await activeEmployee(gw, admin.client, 'real.employee@demo.example', 'Real Employee');

    // A running gateway has the database open: the seed refuses and writes nothing.
    const running = snapshot(gw.dbFile);
    await assert.rejects(seedKeys({ dbFile: gw.dbFile, keys: 10 }), /in use by another process: stop the gateway/);
    await gw.stop();
    const before = snapshot(gw.dbFile);
    assert.equal(before.credentials, running.credentials);
    assert.equal(before.audit, running.audit);

    const progress: number[] = [];
    const result = await seedKeys({ dbFile: gw.dbFile, keys: SEEDED, batchKeys: 500, onProgress: (done) => progress.push(done) });
    t.diagnostic(`seeded ${SEEDED} keys in ${result.seconds.toFixed(2)} s`);
    assert.deepEqual(progress, [500, 1000, 1500, 2000]);
    assert.equal(result.keys, SEEDED);
    assert.equal(result.identities, SEEDED);
    // Per key: identity.created, enrolment.issued, credential.issued, activation-code.issued,
    // credential.activate, signin.succeeded; and one start and one end marker for the run.
    assert.equal(result.auditEntries, SEEDED * 6 + 2);

    const seeded = snapshot(gw.dbFile);
    assert.equal(seeded.credentials, before.credentials + SEEDED);
    assert.equal(seeded.audit, before.audit + result.auditEntries);
    assert.deepEqual(seeded.indexes, before.indexes, 'the same indexes, defined as the migrations define them');
    assert.equal(seeded.journal, 'wal');
    const db = openSqlFile(gw.dbFile, { readonly: true });
    try {
      assert.deepEqual(db.pragma('foreign_key_check'), [], 'every reference of every seeded row resolves');
      assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    } finally {
      db.close();
    }
    const report = await withSqliteFile(gw.dbFile, (tx) => verifyAudit(tx));
    assert.equal(report.chain.ok && report.chain.entries, seeded.audit, 'the audit chain verifies across the seeded entries');
    // Histories explain every key's state, each history row has its audit event and the reverse,
    // mails and codes match their events, sessions match their sign-ins (test/support/invariants.ts).
    const invariants = await checkInvariants(gw.dbFile);
    assert.deepEqual(invariants.violations, []);
    assert.equal(invariants.counts.keys, seeded.credentials);

    gw = await startChildGateway({ varDir: gw.varDir, port: gw.port });
    // A normally enrolled employee and the administrator sign in as before.
    assert.equal((await signIn(gw, emp.client, emp.auth, emp.email)).status, 200);
    assert.equal((await signIn(gw, admin.client, admin.auth, admin.email)).status, 200);

    // Seeded people are found like anyone else, each with one active key...
    const found = await admin.client.get('/api/helpdesk/identities?q=bench.demo.example');
    assert.equal(found.status, 200);
    const hits = field<IdentityHit[]>(found.body, 'identities');
    assert.equal(hits.length, 50, 'a page of seeded people');
    const person = hits[0];
    assert.ok(person);
    assert.equal(person.keyCount, 1);
    assert.equal(person.activeKeyCount, 1);
    const byEmail = await admin.client.get(`/api/helpdesk/identities?q=${encodeURIComponent(person.email)}`);
    assert.deepEqual(
      field<IdentityHit[]>(byEmail.body, 'identities').map((i) => i.id),
      [person.id],
    );

    // ...and their key's state is explained by its history: issued by its holder, activated by its holder.
    const detail = await admin.client.get(`/api/helpdesk/identities/${person.id}`);
    assert.equal(detail.status, 200);
    const key = field<KeyDetail[]>(detail.body, 'credentials')[0];
    assert.ok(key);
    assert.equal(key.state, 'active');
    assert.equal(key.aal, 'substantial');
    assert.equal(key.attestationFormat, 'none');
    assert.deepEqual(
      key.history.map((h) => [h.action, h.fromState, h.toState, h.actorRole, h.reason]),
      [
        ['issue', null, 'issued', 'holder', 'registered'],
        ['activate', 'issued', 'active', 'holder', 'activated'],
      ],
    );
    const trail = await admin.client.get(`/api/helpdesk/identities/${person.id}/audit`);
    const types = field<{ type: string; seq: number }[]>(trail.body, 'events').map((e) => e.type);
    assert.deepEqual(types.slice().reverse(), ['identity.created', 'enrolment.issued', 'credential.issued', 'activation-code.issued', 'credential.activate', 'signin.succeeded']);

    // The fleet report counts them (NSIS 3.2.1: keys by model, level and state).
    const fleet = await admin.client.get('/api/security/fleet');
    const rows = field<{ aal: string | null; state: string; count: number }[]>(fleet.body, 'fleet');
    const activeSubstantial = rows.filter((r) => r.state === 'active' && r.aal === 'substantial').reduce((a, r) => a + r.count, 0);
    assert.ok(activeSubstantial >= SEEDED, `${activeSubstantial} active Substantial keys`);

    // NSIS 3.2.3 (Low) 1: the helpdesk suspends a seeded key; the change chains onto the seeded trail.
    const suspended = await admin.client.post(`/api/helpdesk/credentials/${key.id}/suspend`, { reason: 'lost', note: 'reported by phone' });
    assert.equal(suspended.status, 200, JSON.stringify(suspended.body));
    assert.equal(field(suspended.body, 'credential', 'state'), 'suspended');
    const audit = await admin.client.get('/api/security/audit');
    assert.equal(field(audit.body, 'ok'), true, JSON.stringify(field(audit.body, 'problems')));
    const after = await checkInvariants(gw.dbFile);
    assert.deepEqual(after.violations, []);
  });
});
