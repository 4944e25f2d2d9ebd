/**
 * The words and times people receive, through the real API: a key's history says it was
 * registered (not "other"), a key may be revoked as damaged and the receipt says so in the words
 * the pages use, mails give times in the organisation's zone with the zone named, and counts of
 * someone's keys leave revoked keys out.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REASON_LABELS } from '../../i18n/index.js';
import { FixedClock } from '../../server/clock.js';
import { MIGRATIONS } from '../../server/store/sqlite/migrations/index.js';
import { SqliteStore } from '../../server/store/sqlite/index.js';
import { ApiClient, field } from '../support/apiClient.js';
import { activate, activeAdmin, activeEmployee, enrol, signIn } from '../support/journeys.js';
import { SoftAuthenticator } from '../support/softAuthenticator.js';
import { openSqlFile } from '../support/sqliteInspection.js';
import { startTestGateway, type TestGateway } from '../support/testGateway.js';
import { sqliteOnly } from '../support/backend.js';

/** Why this runs on SQLite only (the PostgreSQL run reports it skipped with this reason). */
const SQLITE_ONLY =
  'it upgrades an older SQLite file (SQLite migration); the PostgreSQL schema was born with registrations recorded as registered';

describe('reasons and dates in the words people read', () => {
  const clock = new FixedClock('2026-01-15T12:00:00.000Z');
  let gw: TestGateway;
  let admin: Awaited<ReturnType<typeof activeAdmin>>;
  let emp: Awaited<ReturnType<typeof activeEmployee>>;

  before(async () => {
    gw = await startTestGateway({ clock });
    admin = await activeAdmin(gw);
    emp = await activeEmployee(gw, admin.client, 'dora.damgaard@demo.example', 'Dora Damgaard');
  });
  after(async () => {
    await gw.close();
  });

  it('NSIS 3.2.2: a key’s history starts with its registration, recorded as registered, not as "other"', async () => {
    const res = await emp.client.get(`/api/me/credentials/${emp.keyId}/history`);
    assert.equal(res.status, 200);
    const [first] = field<{ action: string; reason: string }[]>(res.body, 'events');
    assert.equal(first?.action, 'issue');
    assert.equal(first?.reason, 'registered');
  });

  it('the activation code mail says when the code expires in Copenhagen time, the zone named', async () => {
    const mail = (await gw.mailsTo(emp.email)).find((m) => m.kind === 'activation-code');
    assert.match(mail?.text ?? '', /expires on 15 Jan 2026, 13:30 CET \(Europe\/Copenhagen\)\./);
  });

  it('NSIS 3.2.3 (Low) 4: staff revoke a damaged key; the receipt gives the reason in the pages’ words and the time in local time', async () => {
    // A second key to revoke, so Dora keeps one.
    assert.equal((await admin.client.post(`/api/admin/identities/${emp.identityId}/enrolments`, {})).status, 201);
    const link = await gw.latestEnrolmentLink(emp.email);
    const client = new ApiClient(gw.origin);
    const auth = new SoftAuthenticator();
    const second = await enrol(gw, client, auth, link, 'Cracked key');
    assert.equal((await activate(gw, client, auth, emp.email)).status, 200);
    clock.advance(90 * 60_000);
    // Past the step-up window: the administrator confirms with his key again.
    assert.equal((await signIn(gw, admin.client, admin.auth, admin.email)).status, 200);

    const res = await admin.client.post(`/api/helpdesk/credentials/${second}/revoke`, { reason: 'damaged', note: 'Cracked casing' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(field(res.body, 'credential', 'stateReason'), 'damaged');
    const receipt = (await gw.mailsTo(emp.email)).filter((m) => m.kind === 'revocation-receipt').at(-1);
    assert.match(receipt?.text ?? '', new RegExp(`^ {2}Reason: {3}${REASON_LABELS.en.damaged}$`, 'm'));
    assert.match(receipt?.text ?? '', /^ {2}Time: {5}15 Jan 2026, 14:30 CET \(Europe\/Copenhagen\)$/m);

    // Suspending as damaged is not in the lifecycle table.
    const refused = await admin.client.post(`/api/helpdesk/credentials/${emp.keyId}/suspend`, { reason: 'damaged' });
    assert.equal(refused.status, 409);
    assert.equal(refused.code, 'LIFECYCLE_REASON_REFUSED');
  });

  it('the staff search counts the keys a person has: revoked ones are left out', async () => {
    const res = await admin.client.get(`/api/helpdesk/identities?q=${encodeURIComponent(emp.email)}`);
    assert.equal(res.status, 200);
    const [row] = field<{ keyCount: number; activeKeyCount: number }[]>(res.body, 'identities');
    assert.deepEqual({ keyCount: row?.keyCount, activeKeyCount: row?.activeKeyCount }, { keyCount: 1, activeKeyCount: 1 });
  });
});

describe('migration: registrations recorded as "other" read "registered"', sqliteOnly(SQLITE_ONLY), () => {
  it('an older database has its registration rows corrected, and nothing else', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gw-migrate-'));
    const file = path.join(dir, 'gateway.db');
    try {
      const migration = MIGRATIONS.find((m) => m.sql.includes("SET reason = 'registered'"));
      assert.ok(migration, 'the migration exists');
      await SqliteStore.open(file).close();
      const db = openSqlFile(file);
      db.pragma('foreign_keys = OFF');
      const row = db.prepare(
        `INSERT INTO credential_events (credential_id, action, from_state, to_state, actor_id, actor_role, reason, note, clause, at, audit_seq)
         VALUES ('k', ?, ?, ?, NULL, 'holder', 'other', NULL, 'NSIS 3.2.2', '2025-01-01T00:00:00.000Z', 1)`,
      );
      row.run('issue', null, 'issued');
      row.run('suspend', 'active', 'suspended');
      db.prepare('DELETE FROM schema_migrations WHERE version = ?').run(migration.version);
      db.close();
      await SqliteStore.open(file).close();
      const check = openSqlFile(file, { readonly: true });
      const reasons = check.prepare("SELECT action, reason FROM credential_events WHERE credential_id = 'k' ORDER BY id").all();
      check.close();
      assert.deepEqual(reasons, [
        { action: 'issue', reason: 'registered' },
        { action: 'suspend', reason: 'other' },
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
