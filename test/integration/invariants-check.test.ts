/**
 * The crash-safety invariants (test/support/invariants.ts) are only worth something if they fail
 * when they should: a copy of a real gateway database is damaged in each way a crash or a bug could
 * leave it, and the check must name the damage. The undamaged copy passes.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SqliteStore } from '../../server/store/sqlite/index.js';
import { openSqlFile, type SqlConnection } from '../support/sqliteInspection.js';
import { checkAcknowledged, checkInvariants } from '../support/invariants.js';
import { activeAdmin, activeEmployee, signIn } from '../support/journeys.js';
import { startTestGateway, type TestGateway } from '../support/testGateway.js';
import { sqliteOnly } from '../support/backend.js';

/** Why this runs on SQLite only (the PostgreSQL run reports it skipped with this reason). */
const SQLITE_ONLY =
  'it damages copies of the SQLite file to prove the checker finds each damage; the checker itself reads PostgreSQL through the same InvariantSource (test/multi-instance)';

describe('crash-safety invariants detect damage', sqliteOnly(SQLITE_ONLY), () => {
  let gw: TestGateway;
  let suspendedKey: string;
  let activeKey: string;
  let n = 0;
  before(async () => {
    gw = await startTestGateway();
    const admin = await activeAdmin(gw);
    const a = await activeEmployee(gw, admin.client, 'inv-a@demo.example', 'A');
    const b = await activeEmployee(gw, admin.client, 'inv-b@demo.example', 'B');
    assert.equal((await signIn(gw, a.client, a.auth, a.email)).status, 200);
    assert.equal((await admin.client.post(`/api/helpdesk/credentials/${a.keyId}/suspend`, { reason: 'lost' })).status, 200);
    suspendedKey = a.keyId;
    activeKey = b.keyId;
  });
  after(async () => {
    await gw.close();
  });

  /** A consistent copy of the live database (the store's backup tool), damaged by `damage`. */
  const damagedCopy = async (damage: (db: SqlConnection) => void): Promise<string> => {
    const file = path.join(gw.varDir, `copy-${++n}.db`);
    await gw.runtime.store.tools.backup(file);
    const db = openSqlFile(file);
    try {
      damage(db);
    } finally {
      db.close();
    }
    return file;
  };

  it('an undamaged database passes, with its counts', async () => {
    const report = await checkInvariants(await damagedCopy(() => undefined));
    assert.deepEqual(report.violations, []);
    assert.ok(report.counts.transitions >= 4 && report.counts.signIns >= 4, JSON.stringify(report.counts));
  });

  it('NSIS 3.2.3: a key state its history does not explain is found', async () => {
    const report = await checkInvariants(await damagedCopy((db) => db.prepare("UPDATE credentials SET state = 'active' WHERE id = ?").run(suspendedKey)));
    assert.ok(report.violations.some((v) => v.includes(`key ${suspendedKey}: is active but its history ends in suspended`)), report.violations.join('\n'));
  });

  it('NSIS 6 (Low) 7: a transition without its history row, or a history row without its audit event, is found', async () => {
    const lostHistory = await checkInvariants(await damagedCopy((db) => db.prepare("DELETE FROM credential_events WHERE credential_id = ? AND action = 'suspend'").run(suspendedKey)));
    assert.ok(lostHistory.violations.some((v) => /credential\.suspend of .* has no state-history row/.test(v)), lostHistory.violations.join('\n'));
    assert.ok(lostHistory.violations.some((v) => v.includes('is suspended but its history ends in active')));
    const unaudited = await checkInvariants(
      await damagedCopy((db) =>
        db
          .prepare(
            "INSERT INTO credential_events (credential_id, action, from_state, to_state, actor_id, actor_role, reason, note, clause, at, audit_seq) VALUES (?, 'suspend', 'active', 'suspended', NULL, 'system', 'suspected-clone', NULL, 'x', '2030-01-01T00:00:00.000Z', 999999)",
          )
          .run(activeKey),
      ),
    );
    assert.ok(unaudited.violations.some((v) => v.includes('its audit event 999999 does not exist')), unaudited.violations.join('\n'));
    assert.ok(unaudited.violations.some((v) => v.includes(`key ${activeKey}: is active but its history ends in suspended`)));
  });

  it('NSIS 3.2.3: a step the lifecycle table does not allow is found', async () => {
    // Straight from suspended back to active without the holder's possession and code: the
    // history says "reactivate by helpdesk", which no row allows.
    const file = await damagedCopy(() => undefined);
    const store = SqliteStore.open(file);
    try {
      await store.write(async (tx) => {
        const seq = (
          await tx.audit.append({
            at: new Date().toISOString(),
            type: 'credential.reactivate',
            actorId: null,
            actorRole: 'helpdesk',
            subjectId: suspendedKey,
            data: { from: 'suspended', to: 'active' },
          })
        ).seq;
        await tx.credentials.addEvent({ credentialId: suspendedKey, action: 'reactivate', fromState: 'suspended', toState: 'active', actorId: null, actorRole: 'helpdesk', reason: 'found', note: null, clause: 'x', at: new Date().toISOString(), auditSeq: seq });
        await tx.credentials.setState(suspendedKey, 'suspended', 'active', 'found', new Date().toISOString());
      });
    } finally {
      await store.close();
    }
    const report = await checkInvariants(file);
    assert.ok(report.violations.some((v) => v.includes('suspended -reactivate-> active by helpdesk for found is not in the lifecycle table')), report.violations.join('\n'));
  });

  it('NSIS 3.2.3 (Low) 1: a sign-in recorded after the suspension, and a session without its sign-in, are found', async () => {
    const file = await damagedCopy(() => undefined);
    const store = SqliteStore.open(file);
    try {
      await store.write((tx) => tx.audit.append({ at: new Date().toISOString(), type: 'signin.succeeded', actorId: null, actorRole: 'holder', subjectId: suspendedKey, data: { session: 'ffffffffffffffff' } }));
    } finally {
      await store.close();
    }
    const report = await checkInvariants(file);
    assert.ok(report.violations.some((v) => v.includes(`a sign-in succeeded with key ${suspendedKey} while it was suspended`)), report.violations.join('\n'));
    assert.ok(report.violations.some((v) => v.includes('sign-in with 0 matching sessions')));
  });

  it('NSIS 6 (Low) 7: a changed audit entry breaks the chain and is found; a lost acknowledged change is found', async () => {
    const file = await damagedCopy((db) => {
      db.exec('DROP TRIGGER audit_events_no_update');
      db.prepare("UPDATE audit_events SET data = '{}' WHERE seq = 3").run();
    });
    const report = await checkInvariants(file);
    assert.ok(report.violations.some((v) => v.startsWith('audit: chain broken at entry 3')), report.violations.join('\n'));
    const lost = await checkAcknowledged(file, new Map([[`${activeKey}|credential.suspend`, 1]]));
    assert.deepEqual(lost, [`credential.suspend of ${activeKey}: 1 acknowledged, 0 stored`]);
  });
});
