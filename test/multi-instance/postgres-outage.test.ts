/**
 * PostgreSQL stopped and started again under two running gateway instances (issue 14; NSIS 3.2.3
 * (Substantial) 6): a cluster of this test's own (test/support/postgres.ts privateCluster), so
 * stopping it disturbs no other test. While it is down every API answer that needs the database
 * is a 503 application/problem+json with Retry-After, and the load balancer's readiness probe
 * answers its documented 503 health report naming the database,
 * nothing is half-written, and once it is back the same processes serve again by themselves: no
 * restart of a gateway.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Store } from '../../server/ports/store.js';
import { DatabaseUrl, PostgresStore } from '../../server/store/postgres/index.js';
import { ApiClient, type ApiResponse } from '../support/apiClient.js';
import { rememberStore, type StoreRef } from '../support/backend.js';
import { disposeChildVarDir, startChildGateway, type ChildGateway } from '../support/childGateway.js';
import { checkInvariants } from '../support/invariants.js';
import { activeAdmin, activeEmployee, signIn } from '../support/journeys.js';
import { freshDatabase, privateCluster, type TestDatabase } from '../support/postgres.js';
import { STORM_ENV } from '../support/storm.js';

/** The readiness probe's documented 503 (a health report for the load balancer, not a problem). */
async function assertNotReady(c: ApiClient, what: string): Promise<void> {
  const res = await c.get('/health/ready');
  assert.equal(res.status, 503, `${what}: ${res.status} ${JSON.stringify(res.body)}`);
  assert.deepEqual((res.body as { database?: unknown }).database, { status: 'unavailable' }, `${what}: the database is named`);
}

function assertUnavailable(res: ApiResponse, what: string): void {
  assert.equal(res.status, 503, `${what}: ${res.status} ${JSON.stringify(res.body)}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/, `${what}: content type`);
  assert.ok(typeof res.code === 'string' && res.code.length > 0, `${what}: a stable error code`);
  assert.match(res.headers.get('retry-after') ?? '', /^\d+$/, `${what}: Retry-After`);
}

describe('PostgreSQL stopped and started under two running instances (issue 14)', () => {
  let cluster: ReturnType<typeof privateCluster>;
  let db: TestDatabase;
  let ref: StoreRef;
  const instances: ChildGateway[] = [];

  before(async () => {
    cluster = privateCluster();
    db = await freshDatabase({ cluster });
    ref = { engine: 'postgres', urlText: db.urlText, name: db.name };
  });

  after(async () => {
    for (const gw of instances) await gw.kill();
    cluster.start();
    for (const gw of instances.slice(1)) await disposeChildVarDir(gw.varDir);
    // The first instance's var/ remembers the database: its disposal destroys the signing keys.
    if (instances[0]) await disposeChildVarDir(instances[0].varDir);
    else await db.drop();
  });

  it('NSIS 3.2.3 (Substantial) 6: while PostgreSQL is down every API answer that needs it is 503 problem+json with Retry-After on every instance (readiness 503) and nothing is half-written; started again, the same processes serve by themselves', async () => {
    const a = await startChildGateway({ storeRef: ref, env: { ...STORM_ENV } });
    instances.push(a);
    rememberStore(a.varDir, ref);
    const admin = await activeAdmin(a);
    const emp = await activeEmployee(a, admin.client, 'outage@demo.example', 'Outage');
    const b = await startChildGateway({ storeRef: ref, env: { ...STORM_ENV } });
    instances.push(b);
    const onB = new ApiClient(b.origin);
    assert.equal((await signIn(b, onB, emp.auth, emp.email)).status, 200, 'B serves before the outage');
    // A sign-in's options taken before the outage, to be completed during it.
    const opt = await onB.post('/api/signin/options', { email: emp.email });
    assert.equal(opt.status, 200);

    cluster.stop();
    for (const gw of [a, b]) {
      const c = new ApiClient(gw.origin);
      await assertNotReady(c, `${gw.origin} readiness`);
      assertUnavailable(await c.post('/api/signin/options', { email: emp.email }), `${gw.origin} sign-in options`);
    }
    // A suspension and the holder's own requests, sent meanwhile: 503, and nothing of them lands.
    assertUnavailable(await admin.client.post(`/api/helpdesk/credentials/${emp.keyId}/suspend`, { reason: 'lost' }), 'suspension through A');
    assertUnavailable(await emp.client.get('/api/me'), 'the holder’s session on A');
    const response = await emp.auth.getAssertion((opt.body as { options: Parameters<typeof emp.auth.getAssertion>[0] }).options, b.origin);
    assertUnavailable(await onB.post('/api/signin/verify', { response }), 'a sign-in completed on B');

    cluster.start();
    // Each instance comes back by itself: poll its readiness (no restart, no operator action).
    for (const gw of [a, b]) {
      const c = new ApiClient(gw.origin);
      const until = Date.now() + 120_000;
      for (;;) {
        const ready = await c.get('/health/ready');
        if (ready.status === 200) break;
        assert.equal(ready.status, 503, `${gw.origin} readiness while PostgreSQL starts`);
        if (Date.now() > until) throw new Error(`${gw.origin} did not become ready again`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
    const store: Store = await PostgresStore.open({ url: DatabaseUrl.parse(db.urlText), poolSize: 1, migrate: false });
    try {
      const key = await store.read((tx) => tx.credentials.get(emp.keyId));
      assert.equal(key?.state, 'active', 'the suspension answered 503 did not happen');
      assert.deepEqual((await store.read((tx) => tx.credentials.events(emp.keyId))).map((e) => e.action), ['issue', 'activate'], 'no half-written history');
    } finally {
      await store.close();
    }
    assert.equal((await signIn(b, onB, emp.auth, emp.email)).status, 200, 'B signs in again after the outage');
    const suspended = await admin.client.post(`/api/helpdesk/credentials/${emp.keyId}/suspend`, { reason: 'lost' });
    assert.equal(suspended.status, 200, `A suspends again after the outage: ${JSON.stringify(suspended.body)}`);
    assert.equal((await signIn(b, new ApiClient(b.origin), emp.auth, emp.email)).status, 401, 'and B refuses the suspended key at once');
    const report = await checkInvariants(ref);
    assert.deepEqual(report.violations, []);
  });
});
