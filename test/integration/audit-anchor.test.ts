/**
 * The audit trail's anchor outside the database (issue 11, attack 5), on a real gateway
 * in-process (real SQLite file, real SoftHSM token): kids are RFC 7638 thumbprints and the
 * verifier's keys come from the HSM; checkpoints chain; the running checkpointer refuses a
 * re-chained head or removed checkpoints and raises the alarm (log, metrics, mail to the security
 * officers); the remote witness receives every checkpoint; prunes are signed.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { calculateJwkThumbprint } from 'jose';
import { pruneAudit } from '../../server/audit/prune.js';
import { verifyAudit, verifyStoreAudit } from '../../server/audit/verifyAudit.js';
import { listWitnessDirectory, witnessFileName } from '../../server/audit/witness.js';
import { FixedClock, systemClock } from '../../server/clock.js';
import { Approvals } from '../../server/approvals/Approvals.js';
import { KeyManager } from '../../server/keys/KeyManager.js';
import { SqliteStore } from '../../server/store/sqlite/index.js';
import { createIdentity } from '../../server/flows/identities/createIdentity.js';
import { openSqlFile } from '../support/sqliteInspection.js';
import { createEs256Signer, destroyKeyPair, generateSigningKeyPair } from '../../hsm/index.js';
import { SYSTEM_ACTOR } from '../../server/domain/types.js';
import { createLogger } from '../../server/logger.js';
import { dropTriggers, forgeKey, rechainFrom } from '../support/auditTamper.js';
import { activeAdmin, signIn } from '../support/journeys.js';
import { startTestGateway, type TestGateway } from '../support/testGateway.js';
import { sqliteOnly } from '../support/backend.js';

const TAMPERS_WITH_FILE =
  "the attacker edits the SQLite file offline (test/support/auditTamper.ts writes SQLite); the checkpointer's refusal it proves reads through the store port on either engine";
import { auditEntries, read } from '../support/storeReads.js';

const gateways: TestGateway[] = [];
after(async () => {
  for (const gw of gateways) await gw.close();
});

async function gateway(opts: Parameters<typeof startTestGateway>[0] = {}): Promise<TestGateway> {
  const gw = await startTestGateway(opts);
  gateways.push(gw);
  return gw;
}

function checkpointer(gw: TestGateway) {
  const c = gw.runtime.checkpointer;
  assert.ok(c, 'the gateway has a checkpointer');
  return c;
}

function witnessOf(gw: TestGateway) {
  const dir = gw.runtime.config.auditWitnessDir;
  return { source: dir, checkpoints: listWitnessDirectory(dir) };
}

async function anchorOf(gw: TestGateway) {
  const keys = gw.runtime.keys;
  assert.ok(keys);
  return keys.trustAnchor();
}

describe('audit trail anchored outside the database (NSIS 6 (Low) 7, 4.1.6, 4.1.7; issue 11 attack 5)', () => {
  it('NSIS 6 (Low) 7, 4.1.6 (Substantial) 6: every kid is its key\'s RFC 7638 thumbprint; verification trusts the keys the HSM token proves, and reaches a destroyed key only through a signed record of its successor', async () => {
    const gw = await gateway();
    const admin = await activeAdmin(gw);
    await checkpointer(gw).checkpoint(true);
    const keys = gw.runtime.keys;
    assert.ok(keys);
    const [first] = (await read(gw.runtime.store, (tx) => tx.signingKeys.list()));
    assert.ok(first);
    assert.equal(await calculateJwkThumbprint({ kty: 'EC', crv: 'P-256', x: first.publicJwk['x'] ?? '', y: first.publicJwk['y'] ?? '' }), first.kid);
    const anchor = await keys.trustAnchor();
    assert.equal(anchor.source, 'hsm');
    assert.ok(anchor.keys.some((k) => k.kid === first.kid), 'the HSM proves the active key');
    let report = await verifyStoreAudit(gw.runtime.store, { anchor, witness: witnessOf(gw) });
    assert.equal(report.ok, true, report.problems.join('\n'));
    assert.deepEqual(report.keys.map((k) => k.trust), ['anchor']);

    // An emergency rotation by two officers destroys the first key: the HSM no longer holds it.
    const officer = await createIdentity(gw.runtime.flows, SYSTEM_ACTOR, {
      organisationId: gw.seed.admin.organisationId,
      name: 'Second Officer',
      email: 'officer2@demo.example',
      ial: 'substantial',
      proofingMethod: 'test',
      roles: ['security-officer'],
    });
    const { request: req } = await keys.request({ identityId: gw.seed.admin.id, role: 'security-officer' }, 'emergency-rotation', first.kid, 'test: suspected compromise');
    assert.ok(req, 'two officers: the request waits for the second');
    await keys.approve({ identityId: officer.id, role: 'security-officer' }, req.id);
    assert.equal((await read(gw.runtime.store, (tx) => tx.signingKeys.get(first.kid)))?.state, 'destroyed');
    assert.equal((await signIn(gw, admin.client, admin.auth, admin.email)).status, 200);
    await checkpointer(gw).checkpoint(true);
    const after = await keys.trustAnchor();
    assert.ok(!after.keys.some((k) => k.kid === first.kid), 'the destroyed key is gone from the token');
    report = await verifyStoreAudit(gw.runtime.store, { anchor: after, witness: witnessOf(gw) });
    assert.equal(report.ok, true, report.problems.join('\n'));
    assert.deepEqual(
      report.keys.map((k) => [k.state, k.trust]),
      [
        ['destroyed', 'record'],
        ['active', 'anchor'],
      ],
    );
    assert.ok(report.checkpoints.length >= 2 && report.checkpoints.every((c) => c.ok));
  });

  it('NSIS 6 (Low) 7: checkpoints chain: each signed note names the previous checkpoint\'s hash and its number as well as the head, and is written to the witness as it is made', async () => {
    const gw = await gateway();
    const admin = await activeAdmin(gw);
    const one = await checkpointer(gw).checkpoint(true);
    assert.equal((await signIn(gw, admin.client, admin.auth, admin.email)).status, 200);
    const two = await checkpointer(gw).checkpoint(true);
    assert.ok(one?.note && two?.note);
    assert.equal(one.n, 1);
    assert.equal(one.prevHash, null);
    assert.equal(two.n, 2);
    assert.equal(two.prevHash, createHash('sha256').update(one.note).digest('hex'));
    assert.match(two.note, new RegExp(`\\nprev ${Buffer.from(two.prevHash ?? '', 'hex').toString('base64').replace(/[+/]/g, '\\$&')}\\n`));
    assert.match(two.note, new RegExp(`^localhost:\\d+/audit\\n${two.seq}\\n`));
    const dir = gw.runtime.config.auditWitnessDir;
    assert.equal(fs.readFileSync(path.join(dir, witnessFileName(1)), 'utf8'), one.note);
    assert.equal(fs.readFileSync(path.join(dir, witnessFileName(2)), 'utf8'), two.note);
  });

  it('NSIS 6 (Low) 7, 4.1.6 (Low) 4 (attack 5): after an offline re-chain the running checkpointer refuses to sign the forged head and raises the alarm: error log, metrics, one mail to every security officer, an audit event', sqliteOnly(TAMPERS_WITH_FILE), async () => {
    const lines: string[] = [];
    const gw = await gateway({ log: createLogger('error', { write: (s: string) => void lines.push(s) }) });
    const admin = await activeAdmin(gw);
    const cp = await checkpointer(gw).checkpoint(true);
    assert.ok(cp);
    for (let i = 0; i < 3; i++) assert.equal((await signIn(gw, admin.client, admin.auth, admin.email)).status, 200);
    const before = (await read(gw.runtime.store, (tx) => tx.checkpoints.count()));

    // Someone with write access to the file edits an entry the checkpoint covers and re-chains
    // everything after it, so the chain itself is consistent again.
    const db = openSqlFile(gw.runtime.config.dbFile);
    dropTriggers(db);
    db.prepare(`UPDATE audit_events SET data = json_set(data, '$.forged', 1) WHERE seq = ?`).run(cp.seq - 1);
    rechainFrom(db, cp.seq - 1);
    db.close();

    assert.equal(await checkpointer(gw).checkpoint(true), undefined, 'nothing is signed');
    assert.equal(await checkpointer(gw).checkpoint(true), undefined, 'still nothing');
    assert.equal((await read(gw.runtime.store, (tx) => tx.checkpoints.count())), before);
    assert.ok(lines.some((l) => l.includes('AUDIT ALARM') && l.includes('chain-rewritten')), 'an error in the log');
    const metrics = await fetch(`${gw.origin}/metrics`);
    assert.equal(metrics.status, 200);
    const text = await metrics.text();
    assert.match(text, /^gateway_audit_integrity_alarm 1$/m);
    assert.match(text, /^gateway_audit_checkpoint_refusals_total\{reason="chain-rewritten"\} 2$/m);
    const mails = (await gw.mailsTo(admin.email)).filter((m) => m.kind === 'audit-alarm');
    assert.equal(mails.length, 1, 'one mail per finding, to the security officer');
    assert.match(mails[0]?.text ?? '', /chain-rewritten[\s\S]*npm run audit:verify/);
    const refused = (await auditEntries(gw.runtime.store)).filter((e) => e.type === 'audit.checkpoint-refused');
    assert.equal(refused.length, 1);
    assert.equal(refused[0]?.data['reason'], 'chain-rewritten');
  });

  it('NSIS 6 (Low) 7 (attack 5): the checkpointer also refuses when the database lost checkpoints its witness holds (truncation, or an older copy restored)', sqliteOnly(TAMPERS_WITH_FILE), async () => {
    const gw = await gateway();
    const admin = await activeAdmin(gw);
    await checkpointer(gw).checkpoint(true);
    assert.equal((await signIn(gw, admin.client, admin.auth, admin.email)).status, 200);
    const last = await checkpointer(gw).checkpoint(true);
    assert.ok(last);
    const db = openSqlFile(gw.runtime.config.dbFile);
    dropTriggers(db);
    db.prepare('DELETE FROM audit_checkpoints WHERE id = ?').run(last.id);
    db.prepare('DELETE FROM audit_events WHERE seq > ?').run(last.seq - 2);
    db.close();
    assert.equal((await signIn(gw, admin.client, admin.auth, admin.email)).status, 200);
    assert.equal(await checkpointer(gw).checkpoint(true), undefined);
    const text = await gw.runtime.metrics.text();
    assert.match(text, /^gateway_audit_checkpoint_refusals_total\{reason="checkpoints-removed"\} 1$/m);
    assert.ok((await gw.mailsTo(admin.email)).some((m) => m.kind === 'audit-alarm' && m.text.includes('checkpoints-removed')));
  });

  it('NSIS 6 (Low) 7: every checkpoint is also POSTed to the remote witness (a real HTTP server on 127.0.0.1), in order, retried after a failure; that copy verifies the database', async () => {
    const received: { n: string; type: string; auth: string; body: string }[] = [];
    let failNext = 1;
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString('utf8')));
      req.on('end', () => {
        if (failNext > 0) {
          failNext--;
          res.writeHead(503).end();
          return;
        }
        received.push({ n: String(req.headers['checkpoint-number']), type: String(req.headers['content-type']), auth: String(req.headers.authorization), body });
        res.writeHead(201).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/checkpoints`;
      const gw = await gateway({ env: { GATEWAY_AUDIT_WITNESS_URL: url, GATEWAY_AUDIT_WITNESS_TOKEN: 'witness-token-0123456789' } });
      const admin = await activeAdmin(gw);
      const one = await checkpointer(gw).checkpoint(true);
      assert.equal(received.length, 0, 'the first delivery was refused (503)');
      assert.equal((await signIn(gw, admin.client, admin.auth, admin.email)).status, 200);
      const two = await checkpointer(gw).checkpoint(true);
      assert.deepEqual(
        received.map((r) => [r.n, r.body]),
        [
          ['1', one?.note],
          ['2', two?.note],
        ],
      );
      assert.ok(received.every((r) => r.type === 'text/plain; charset=utf-8' && r.auth === 'Bearer witness-token-0123456789'));
      // The remote copy is a witness in its own right.
      const remoteDir = path.join(gw.varDir, 'remote-copy');
      fs.mkdirSync(remoteDir);
      for (const r of received) fs.writeFileSync(path.join(remoteDir, witnessFileName(Number(r.n))), r.body);
      const report = await verifyStoreAudit(gw.runtime.store, { anchor: await anchorOf(gw), witness: { source: remoteDir, checkpoints: listWitnessDirectory(remoteDir) } });
      assert.equal(report.ok, true, report.problems.join('\n'));
      assert.equal(report.witness?.matched, 2);
    } finally {
      server.close();
    }
  });

  it('NSIS 4.1.4, 6 (Low) 7: a retention prune is recorded as a statement signed by the HSM key; it verifies against the HSM anchor and anchors what remains', async () => {
    const clock = new FixedClock(new Date());
    const gw = await gateway({ clock });
    const admin = await activeAdmin(gw);
    const cp = await checkpointer(gw).checkpoint(true);
    assert.ok(cp);
    clock.advance(3 * 86_400_000);
    assert.equal((await signIn(gw, admin.client, admin.auth, admin.email)).status, 200);
    await checkpointer(gw).checkpoint(true);
    const keys = gw.runtime.keys;
    assert.ok(keys);
    const result = await pruneAudit(gw.runtime.store, keys, clock, gw.origin, 1, { identityId: null, role: 'system' });
    assert.equal(result.throughSeq, cp.seq);
    const [prune] = (await read(gw.runtime.store, (tx) => tx.checkpoints.prunes()));
    assert.ok(prune?.jws, 'the prune record is signed');
    const report = await verifyStoreAudit(gw.runtime.store, { anchor: await anchorOf(gw), witness: witnessOf(gw) });
    assert.equal(report.ok, true, report.problems.join('\n'));
    assert.deepEqual(report.prunes.map((p) => p.ok), [true]);
    assert.equal(report.firstSeq, cp.seq + 1);
    // The running checkpointer accepts the pruned trail and goes on signing.
    assert.equal((await signIn(gw, admin.client, admin.auth, admin.email)).status, 200);
    assert.ok(await checkpointer(gw).checkpoint(true));
  });

  it('NSIS 4.1.6 (Substantial) 6: key rows made before signed key records existed get one at start: a key the HSM holds is proven, a destroyed one is adopted (and the verifier says so), a live row the HSM lacks is not registered and is reported', async () => {
    const gw = await gateway();
    const group = gw.runtime.hsm;
    assert.ok(group);
    const hsm = group.current();
    const store = SqliteStore.open(path.join(gw.varDir, 'legacy.db'));
    const ref = await generateSigningKeyPair(hsm, { label: 'legacy-test-key' });
    try {
      const signer = await createEs256Signer(hsm, ref.ckaId);
      const destroyed = forgeKey();
      const missing = forgeKey();
      const long = '2020-01-01T00:00:00.000Z';
      const now = new Date().toISOString();
      // As an older gateway left them: rows only, no records.
      await store.write(async (tx) => {
        for (const [k, cka] of [
          [destroyed, 'aa'.repeat(16)],
          [missing, 'bb'.repeat(16)],
        ] as const) {
          await tx.signingKeys.insert({ kid: k.kid, ckaId: cka, label: 'legacy', alg: 'ES256', publicJwk: k.jwk, state: 'pending', createdAt: long, promoteAt: null, activatedAt: null });
          await tx.signingKeys.promote(k.kid, long);
          await tx.signingKeys.retire(k.kid, long, long, false);
        }
        await tx.signingKeys.markDestroyed(destroyed.kid, long);
        await tx.signingKeys.insert({ kid: signer.kid, ckaId: ref.ckaId, label: ref.label, alg: 'ES256', publicJwk: { ...signer.publicJwk }, state: 'pending', createdAt: now, promoteAt: null, activatedAt: null });
        await tx.signingKeys.promote(signer.kid, now);
      });
      const approvals = new Approvals({ store, clock: systemClock, config: gw.runtime.config, kickOutbox: () => gw.runtime.outbox.kick() });
      const keys = new KeyManager({ store, hsm: group, approvals, clock: systemClock, config: gw.runtime.config, log: createLogger('silent') });
      assert.equal(await keys.registerUnrecordedKeys(), 2);
      assert.equal(await keys.registerUnrecordedKeys(), 0, 'once');
      assert.deepEqual(
        (await auditEntries(store)).filter((e) => e.type === 'signing-key.registered').map((e) => e.subjectId).sort(),
        [destroyed.kid, signer.kid].sort(),
      );
      const anchor = await keys.trustAnchor();
      const report = await store.read((tx) => verifyAudit(tx, { anchor }));
      assert.deepEqual(
        Object.fromEntries(report.keys.map((k) => [k.kid, k.trust])),
        { [destroyed.kid]: 'record', [missing.kid]: 'untrusted', [signer.kid]: 'anchor' },
      );
      assert.ok(report.notes.some((n) => n.includes(destroyed.kid) && n.includes('adopted')), report.notes.join('\n'));
      assert.deepEqual(report.problems, [`key ${missing.kid} exists only in the database: the trust anchor does not hold it and no record signed by a trusted key vouches for it (a forged key row)`]);
    } finally {
      await store.close();
      await destroyKeyPair(hsm, ref.ckaId);
    }
  });
});
