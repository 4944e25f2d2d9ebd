/**
 * Issue 18: people bound before the outbound sync was switched on are sent to MitID Erhverv.
 * A gateway runs without the sync and binds people (by hand and by SCIM, one of them suspended by
 * the directory); then the same deployment starts with the sync configured (a second runtime on
 * the same store, as a restart does): every bound person without a subject name id gets one and a
 * bind job, exactly once: across restarts, across two runtimes backfilling at the same moment and
 * across a reconciliation; the dispatcher then creates each employee once at the contract server.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../server/config.js';
import { backfillIdmPeople } from '../../server/flows/idm/backfillIdmPeople.js';
import { createLogger } from '../../server/logger.js';
import { createRuntime, type Runtime } from '../../server/runtime.js';
import { field, obj } from '../support/apiClient.js';
import { activeAdmin, activeEmployee } from '../support/journeys.js';
import { type IdmHarness, startIdm } from '../support/idmHarness.js';
import { auditEntries, read } from '../support/storeReads.js';
import { repoRoot, startTestGateway, type TestGateway } from '../support/testGateway.js';

const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

describe('issue 18: people bound before the sync was switched on', { timeout: 300_000 }, () => {
  let idm: IdmHarness;
  let gw: TestGateway;
  let admin: Awaited<ReturnType<typeof activeAdmin>>;
  let token = '';
  const runtimes: Runtime[] = [];

  /** The same deployment started again with the sync configured (no HTTP, no HSM: the IdM parts only). */
  const restartWithSync = async (): Promise<Runtime> => {
    const env = {
      GATEWAY_PORT: '0',
      GATEWAY_ORIGIN: gw.origin,
      GATEWAY_VAR_DIR: gw.varDir,
      GATEWAY_HSM_PIN_FILE: path.join(repoRoot, 'var', 'hsm-user.pin'),
      GATEWAY_LOG_LEVEL: 'silent',
      ...gw.storeEnv,
      ...idm.env(),
      GATEWAY_IDM_SUBJECT_NAME_ID_SUFFIX: '@demo.example',
    };
    const runtime = await createRuntime(loadConfig(env, repoRoot), { withHsm: false, log: createLogger('silent') });
    runtimes.push(runtime);
    return runtime;
  };
  const scim = async (method: string, p: string, body: unknown) => {
    const res = await fetch(`${gw.origin}/scim/v2${p}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' }, body: JSON.stringify(body) });
    return { status: res.status, body: obj(await res.json()) };
  };
  const bindJobs = async () => (await read(gw.runtime.store, (tx) => tx.idm.jobs(10_000))).filter((j) => j.kind === 'bind');

  before(async () => {
    idm = await startIdm();
    gw = await startTestGateway();
    admin = await activeAdmin(gw);
    const res = await admin.client.post('/api/admin/provisioning/clients', { label: 'Entra ID', ial: 'substantial', proofingMethod: 'HR onboarding: passport checked in person' });
    assert.equal(res.status, 201);
    token = field<string>(res.body, 'token', 'token');
  });
  after(async () => {
    for (const r of runtimes) await r.close();
    await gw?.close();
    await idm?.close();
  });

  it('issue 18 / NSIS 5.2: when the sync becomes configured every bound person without an IdM link gets one bind job, exactly once across restarts and two instances; a directory suspension follows (NSIS 3.2.3)', async () => {
    assert.equal(gw.runtime.config.idm.enabled, false, 'the first gateway runs without the sync');
    const byHand = await activeEmployee(gw, admin.client, 'early.bird@demo.example', 'Early Bird');
    const created = await scim('POST', '/Users', {
      schemas: [USER_SCHEMA],
      userName: 'sofie@demo.example',
      externalId: 'sofie',
      name: { givenName: 'Sofie', familyName: 'Holm', formatted: 'Sofie Holm' },
      emails: [{ type: 'work', value: 'sofie@demo.example', primary: true }],
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const off = await scim('PATCH', `/Users/${String(created.body['id'])}`, { schemas: [PATCH_SCHEMA], Operations: [{ op: 'Replace', path: 'active', value: false }] });
    assert.equal(off.status, 200);
    const sofieId = await read(gw.runtime.store, async (tx) => (await tx.identities.findActiveByEmail('sofie@demo.example'))?.id);
    assert.ok(sofieId);
    const bound = await read(gw.runtime.store, (tx) => tx.idm.unlinked(10_000));
    assert.ok(bound.includes(byHand.identityId) && bound.includes(sofieId));
    assert.deepEqual(await bindJobs(), [], 'nothing was queued while the sync was off');

    // Two instances start with the sync at the same moment, then one restarts.
    const [one, two] = [await restartWithSync(), await restartWithSync()];
    const results = await Promise.all([backfillIdmPeople(one.flows), backfillIdmPeople(two.flows)]);
    assert.equal(results.reduce((n, r) => n + r.queued, 0), bound.length, 'each person queued by one instance only');
    assert.equal(results.reduce((n, r) => n + r.suspended, 0), 1, 'the suspended person also gets a suspend-person job');
    const three = await restartWithSync();
    assert.deepEqual(await backfillIdmPeople(three.flows), { queued: 0, suspended: 0, skipped: 0 }, 'a restart queues nothing again');

    const jobs = await bindJobs();
    assert.equal(jobs.length, bound.length);
    assert.equal(new Set(jobs.map((j) => j.identityId)).size, bound.length, 'one bind job per person');
    const sofie = await read(gw.runtime.store, (tx) => tx.idm.person(sofieId));
    assert.equal(sofie?.subjectNameId, 'sofie@demo.example', 'the directory’s externalId under the configured rule');
    assert.equal((await read(gw.runtime.store, (tx) => tx.idm.person(byHand.identityId)))?.subjectNameId, `${byHand.identityId}@demo.example`, 'the identity id for a person bound by hand');
    assert.ok((await auditEntries(gw.runtime.store)).some((e) => e.type === 'idm.backfilled'));

    const dispatcher = one.idm;
    assert.ok(dispatcher);
    assert.ok((await dispatcher.runOnce()) >= bound.length);
    for (const id of bound) {
      const p = await read(gw.runtime.store, (tx) => tx.idm.person(id));
      assert.ok(p?.employeeUuid, `${id} created there`);
      assert.equal(idm.server.effects.filter((e) => e.kind === 'create' && e.uuid === p.employeeUuid).length, 1, 'created once');
      const there = idm.server.employees.get(p.employeeUuid);
      assert.deepEqual(there?.authenticators.map((a) => [a.type, a.id]), [['LocalIdentityProvider', p.subjectNameId]]);
    }
    const sofieThere = idm.server.employees.get((await read(gw.runtime.store, (tx) => tx.idm.person(sofieId)))?.employeeUuid ?? '');
    assert.equal(sofieThere?.status, 'Suspended', 'NSIS 3.2.3: suspended there as here');
  });

  it('issue 18 / NSIS 5.2: a reconciliation first links and queues a person bound (without the sync) after the start, once; a second run queues nothing more', async () => {
    const late = await activeEmployee(gw, admin.client, 'late.comer@demo.example', 'Late Comer');
    const runtime = runtimes[0];
    assert.ok(runtime?.idmReconciler && runtime.idm);
    const first = await runtime.idmReconciler.run({ kind: 'on-demand', actorId: gw.seed.admin.id });
    assert.ok(first !== 'busy' && first.status === 'done', JSON.stringify(first));
    // NSIS 3.2.3: the person the directory set inactive before they had a key is suspended on both sides: no difference.
    assert.deepEqual(first.reported.filter((r) => r.kind === 'suspended-there-only'), []);
    const jobs = (await read(gw.runtime.store, (tx) => tx.idm.jobsOf(late.identityId))).filter((j) => j.kind === 'bind');
    assert.equal(jobs.length, 1, 'one bind job, not one from the backfill and another from the here-not-there repair');
    const second = await runtime.idmReconciler.run({ kind: 'on-demand', actorId: gw.seed.admin.id });
    assert.ok(second !== 'busy' && second.status === 'done');
    assert.equal((await read(gw.runtime.store, (tx) => tx.idm.jobsOf(late.identityId))).filter((j) => j.kind === 'bind').length, 1);
    await runtime.idm.runOnce();
    const p = await read(gw.runtime.store, (tx) => tx.idm.person(late.identityId));
    assert.ok(p?.employeeUuid);
    assert.equal(idm.server.effects.filter((e) => e.kind === 'create' && e.uuid === p.employeeUuid).length, 1);
  });
});
