/**
 * Randomised concurrency: three worker threads (each its own SQLite connection, as separate
 * gateway processes would have) and the HTTP API fire lifecycle actions at the same keys at
 * once. Whatever the interleaving, every key's history must be a valid path through the
 * lifecycle table, match its current state, and have exactly one audit event per transition.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { verifyChain } from '../../server/audit/index.js';
import { LIFECYCLE_TABLE } from '../../server/lifecycle/index.js';
import { activate, activeAdmin, activeEmployee } from '../support/journeys.js';
import { repoRoot, startTestGateway, type TestGateway } from '../support/testGateway.js';
import { auditEntries, read } from '../support/storeReads.js';

describe('concurrent lifecycle transitions (WHERE state = ? guards)', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway();
  });
  after(async () => {
    await gw.close();
  });

  it('NSIS 3.2.3: many concurrent transitions from several processes always leave valid, fully audited histories', async (t) => {
    const admin = await activeAdmin(gw);
    const employees = [];
    for (let i = 0; i < 6; i++) employees.push(await activeEmployee(gw, admin.client, `worker${i}@demo.example`, `Worker ${i}`));
    const keys = employees.map((e) => ({ id: e.keyId, holderId: e.identityId }));
    const env = {
      GATEWAY_VAR_DIR: gw.varDir, ...gw.storeEnv,
      GATEWAY_ORIGIN: gw.origin,
      GATEWAY_PORT: new URL(gw.origin).port,
      GATEWAY_LOG_LEVEL: 'silent',
    };
    const workers = [11, 23, 37].map(
      (seed) =>
        new Promise<Record<string, number>>((resolve, reject) => {
          const w = new Worker(path.join(repoRoot, 'test', 'support', 'tsWorker.mjs'), {
            workerData: { entry: path.join(repoRoot, 'test', 'support', 'transitionWorker.ts'), env, cwd: repoRoot, keys, staffId: gw.seed.admin.id, actions: 150, seed },
          });
          w.once('message', resolve);
          w.once('error', reject);
        }),
    );
    // Meanwhile the holders keep trying to reactivate through the HTTP API with whatever code
    // reached them, racing the workers.
    let racing = true;
    const holders = (async () => {
      let activations = 0;
      while (racing) {
        for (const e of employees) {
          const key = (await read(gw.runtime.store, (tx) => tx.credentials.get(e.keyId)));
          if (key?.state !== 'suspended' || !(await read(gw.runtime.store, (tx) => tx.codes.latestOpen(e.keyId)))) continue;
          try {
            const res = await activate(gw, e.client, e.auth, e.email);
            if (res.status === 200) activations++;
          } catch {
            // the key stopped being offered between our check and the options call
          }
        }
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      return activations;
    })();
    const results = await Promise.all(workers);
    racing = false;
    const activations = await holders;

    const all: Record<string, number> = {};
    for (const r of results) for (const [k, v] of Object.entries(r)) all[k] = (all[k] ?? 0) + v;
    assert.ok(!Object.keys(all).some((k) => k.startsWith('crash')), `no untyped failures: ${JSON.stringify(all)}`);
    assert.ok((all['ok:suspend'] ?? 0) > 0 && (all['ok:revoke'] ?? 0) > 0, JSON.stringify(all));
    assert.ok(Object.keys(all).some((k) => k.startsWith('refused:LIFECYCLE_')), 'some actions were refused by the table');

    const store = gw.runtime.store;
    const allowed = new Set(LIFECYCLE_TABLE.flatMap((r) => r.from.map((f) => `${f}|${r.action}|${r.to}`)));
    let transitions = 0;
    for (const { id } of keys) {
      const events = (await read(store, (tx) => tx.credentials.events(id)));
      assert.equal(events[0]?.action, 'issue');
      let state = events[0]?.toState;
      for (const e of events.slice(1)) {
        assert.equal(e.fromState, state, `key ${id}: event ${e.id} starts where the previous ended`);
        assert.ok(allowed.has(`${e.fromState}|${e.action}|${e.toState}`), `key ${id}: ${e.fromState} -${e.action}-> ${e.toState} is in the table`);
        state = e.toState;
        transitions++;
      }
      assert.equal((await read(store, (tx) => tx.credentials.get(id)))?.state, state, `key ${id}: current state is explained by its history`);
    }
    const audited = (await auditEntries(store)).filter((e) => /^credential\.(activate|suspend|reactivate|revoke|expire|reactivation-requested)$/.test(e.type));
    const keyIds = new Set(keys.map((k) => k.id));
    assert.equal(audited.filter((e) => e.subjectId !== null && keyIds.has(e.subjectId)).length, transitions);
    assert.equal(verifyChain((await auditEntries(store))).ok, true);
    t.diagnostic(`outcomes ${JSON.stringify(all)}; holder reactivations over HTTP ${activations}; transitions ${transitions}`);
  });
});
