/**
 * Several gateway instances as one (issue 14, NSIS 3.2.3 (Substantial) 6): each instance is the
 * real gateway process (`server/main.ts`, childGateway.ts) on its own port with its own var/
 * (its own file outbox), all on ONE PostgreSQL database of the test cluster and one SoftHSM
 * token, as N stateless instances behind a load balancer run in production. Each instance has
 * its own origin here (its own port); the security key's RP ID (localhost) is the same for all.
 *
 * What must hold: a suspension acknowledged by one instance is refused by every other on the very
 * next request; an instance killed with SIGKILL in a storm leaves the others serving and the
 * shared database consistent (test/support/invariants.ts, read from PostgreSQL); the outbox,
 * claimed by every instance at once, sends each mail exactly once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import type { Store } from '../../server/ports/store.js';
import { DatabaseUrl, PostgresStore } from '../../server/store/postgres/index.js';
import { ApiClient, field } from '../support/apiClient.js';
import { rememberStore, type StoreRef } from '../support/backend.js';
import { disposeChildVarDir, readOutbox, startChildGateway, type ChildGateway } from '../support/childGateway.js';
import { checkAcknowledged, checkInvariants } from '../support/invariants.js';
import { activeEmployee, signIn } from '../support/journeys.js';
import { freshDatabase, type TestDatabase } from '../support/postgres.js';
import { buildPopulation, startStorm, STORM_ENV, type Person, type Population, type Staff } from '../support/storm.js';
import { auditEntries } from '../support/storeReads.js';

/** The same people and staff, with browsers (cookie jars) talking to another instance. */
async function onInstance(gw: ChildGateway, staff: Staff, people: Person[]): Promise<Population> {
  const client = new ApiClient(gw.origin);
  const signed = await signIn(gw, client, staff.auth, staff.email);
  assert.equal(signed.status, 200, `staff sign-in on ${gw.origin}: ${JSON.stringify(signed.body)}`);
  const rebound: Staff = { ...staff, client };
  return { admin: rebound, operators: [], people: people.map((p) => ({ ...p, client: new ApiClient(gw.origin), triedCodes: new Set(p.triedCodes) })) };
}

describe('several gateway instances on one PostgreSQL (issue 14)', () => {
  let db: TestDatabase;
  let ref: StoreRef;
  let store: Store;
  const instances: ChildGateway[] = [];
  let a: ChildGateway;
  let b: ChildGateway;
  let pop: Population;
  let victim: Awaited<ReturnType<typeof activeEmployee>>;

  const start = async (extra: Record<string, string> = {}) => {
    const gw = await startChildGateway({ storeRef: ref, env: { ...STORM_ENV, ...extra } });
    instances.push(gw);
    return gw;
  };

  before(async () => {
    db = await freshDatabase();
    ref = { engine: 'postgres', urlText: db.urlText, name: db.name };
    // Instance A alone first: the demo seed's first administrator enrols through it, and every
    // activation code of the population is mailed by its outbox (read from its var/).
    a = await start();
    rememberStore(a.varDir, ref);
    pop = await buildPopulation(a, { people: 8, operators: 2, tag: 'multi' });
    victim = await activeEmployee(a, pop.admin.client, 'victim@demo.example', 'Victim');
    b = await start();
    store = await PostgresStore.open({ url: DatabaseUrl.parse(db.urlText), poolSize: 2, migrate: false });
  });

  after(async () => {
    for (const gw of instances) await gw.kill();
    await store?.close();
    // A's var/ remembers the shared database: its disposal destroys the signing keys and drops it.
    for (const gw of instances) if (gw !== a) await disposeChildVarDir(gw.varDir);
    if (a) await disposeChildVarDir(a.varDir);
    await db?.drop();
  });

  it('NSIS 3.2.3 (Substantial) 6, (Low) 1: a suspension acknowledged by instance A is refused by instance B on the very next sign-in, while B serves that key at full speed; no sign-in sent after the acknowledgement succeeds anywhere', async () => {
    const onB = new ApiClient(b.origin);
    let running = true;
    let ackAt = Number.POSITIVE_INFINITY;
    const tally = { before: 0, afterAck: 0, refusedAfter: 0 };
    const loop = (async () => {
      while (running) {
        const opt = await onB.post('/api/signin/options', { email: victim.email });
        if (opt.status !== 200) continue;
        const response = await victim.auth.getAssertion(field<PublicKeyCredentialRequestOptionsJSON>(opt.body, 'options'), b.origin);
        const sentAt = performance.now();
        const res = await onB.post('/api/signin/verify', { response });
        if (sentAt > ackAt) {
          if (res.status === 200) tally.afterAck++;
          else {
            assert.equal(res.status, 401, JSON.stringify(res.body));
            assert.equal(res.code, 'SIGNIN_FAILED');
            tally.refusedAfter++;
          }
        } else if (res.status === 200) tally.before++;
      }
    })();
    // B has served the key at least a few times before A suspends it.
    while (tally.before < 5) await new Promise((resolve) => setTimeout(resolve, 20));
    const res = await pop.admin.client.post(`/api/helpdesk/credentials/${victim.keyId}/suspend`, { reason: 'lost' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    ackAt = performance.now();
    while (tally.refusedAfter < 5) await new Promise((resolve) => setTimeout(resolve, 20));
    running = false;
    await loop;
    assert.equal(tally.afterAck, 0, `sign-ins on B sent after A acknowledged the suspension succeeded: ${JSON.stringify(tally)}`);
    // And in the shared audit trail: no signin.succeeded of the key after its credential.suspend.
    const events = (await auditEntries(store)).filter((e) => e.subjectId === victim.keyId);
    const suspendedAt = events.find((e) => e.type === 'credential.suspend')?.seq;
    assert.ok(suspendedAt);
    assert.deepEqual(events.filter((e) => e.seq > suspendedAt && e.type === 'signin.succeeded'), []);
  });

  it('NSIS 3.2.3 (Substantial) 6: an outbox claimed by two instances at once sends each mail exactly once', async () => {
    const n = 24;
    const emails: string[] = [];
    // Committed through A; both instances' dispatchers claim due mail (FOR UPDATE SKIP LOCKED).
    await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const email = `mail${i}@demo.example`;
        emails.push(email);
        const created = await pop.admin.client.post('/api/admin/identities', { name: `Mail ${i}`, email, ial: 'substantial', proofingMethod: 'ID document checked in person by HR' });
        assert.equal(created.status, 201, JSON.stringify(created.body));
        const issued = await pop.admin.client.post(`/api/admin/identities/${field<string>(created.body, 'identity', 'id')}/enrolments`, { delivery: 'mail' });
        assert.equal(issued.status, 201, JSON.stringify(issued.body));
      }),
    );
    const until = Date.now() + 120_000;
    while ((await store.read((tx) => tx.outbox.pendingCount())) > 0) {
      if (Date.now() > until) throw new Error('the outbox was not drained by the two instances');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    for (const email of emails) {
      const mails = [...readOutbox(a.outboxDir, email), ...readOutbox(b.outboxDir, email)].filter((m) => m.kind === 'enrolment-link');
      assert.equal(mails.length, 1, `${email}: ${mails.length} enrolment mails across both instances`);
    }
  });

  it('NSIS 3.2.3 (Substantial) 6, 6 (Low) 7: kill -9 of one instance in a storm of sign-ins and transitions on both: the other keeps serving, and on the PostgreSQL data the chain verifies, every transition has its audit event and no acknowledged change is lost', async (t) => {
    // A third instance takes A's place in the storm so that two storms run, one per instance.
    const [op1, op2] = pop.operators;
    assert.ok(op1 && op2);
    const popA: Population = { admin: pop.admin, operators: [op1], people: pop.people.slice(0, 4) };
    const popB = await onInstance(b, op2, pop.people.slice(4));
    const stormA = startStorm(a, popA, { seed: 41, revokeShare: 0 });
    const stormB = startStorm(b, popB, { seed: 43, revokeShare: 0 });
    await stormA.until(15, 60_000);
    await a.kill();
    const statsA = await stormA.stop();
    // B serves on: its storm makes more acknowledged transitions after A is gone.
    const afterKill = stormB.transitionCount() + 10;
    await stormB.until(afterKill, 60_000);
    const statsB = await stormB.stop();
    t.diagnostic(`A (killed): ${JSON.stringify(statsA)}; B: ${JSON.stringify(statsB)}`);
    assert.ok(stormB.transitionCount() >= afterKill);

    const signed = await signIn(b, popB.admin.client, popB.admin.auth, popB.admin.email);
    assert.equal(signed.status, 200, 'B serves a sign-in after A died');
    const acked = new Map<string, number>();
    for (const m of [stormA.acked, stormB.acked]) for (const [k, n] of m) acked.set(k, (acked.get(k) ?? 0) + n);
    const report = await checkInvariants(ref);
    assert.deepEqual(report.violations, [], 'the invariants hold on the shared PostgreSQL data');
    assert.deepEqual(await checkAcknowledged(ref, acked), [], 'every change acknowledged by either instance is there');
    t.diagnostic(JSON.stringify(report.counts));
  });
});
