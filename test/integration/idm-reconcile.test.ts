/**
 * Issue 18: reconciliation with MitID Erhverv run by the gateway, against the IdM contract server
 * (real HTTPS with mTLS against a test CA): on demand by an org-admin with step-up, nightly at
 * GATEWAY_IDM_RECONCILE_HOUR in GATEWAY_TIME_ZONE on one process only (the store lease), the
 * repairs queued as IdM jobs and run once, the outcome audited and shown on the admin page.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FixedClock } from '../../server/clock.js';
import { IdmReconciler, RECONCILE_SUBJECT } from '../../server/idm/reconciler.js';
import { ApiClient, field, obj } from '../support/apiClient.js';
import { activeAdmin, activeEmployee, signIn } from '../support/journeys.js';
import { type IdmHarness, startIdm } from '../support/idmHarness.js';
import { auditEntries } from '../support/storeReads.js';
import { startTestGateway, type TestGateway } from '../support/testGateway.js';

const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';

describe('issue 18: reconciliation with MitID Erhverv, run by the gateway', { timeout: 300_000 }, () => {
  let idm: IdmHarness;
  let gw: TestGateway;
  let token = '';
  let admin: Awaited<ReturnType<typeof activeAdmin>>;
  const clock = new FixedClock(new Date());

  const scimCreate = async (user: string, given: string, family: string) => {
    const res = await fetch(`${gw.origin}/scim/v2/Users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
      body: JSON.stringify({ schemas: [USER_SCHEMA], userName: `${user}@demo.example`, externalId: user, name: { givenName: given, familyName: family }, emails: [{ type: 'work', value: `${user}@demo.example`, primary: true }] }),
    });
    assert.equal(res.status, 201);
  };
  const employeeWith = (subjectNameId: string) =>
    [...idm.server.employees.values()].find((e) => e.authenticators.some((a) => a.type === 'LocalIdentityProvider' && a.id === subjectNameId));
  const runs = async () => (await auditEntries(gw.runtime.store)).filter((e) => e.subjectId === RECONCILE_SUBJECT && (e.type === 'idm.reconciled' || e.type === 'idm.reconcile-failed'));
  const refusals = async () => (await auditEntries(gw.runtime.store)).filter((e) => e.type === 'idm.reconcile-refused');
  const dispatcher = () => {
    assert.ok(gw.runtime.idm, 'the sync is on');
    return gw.runtime.idm;
  };

  before(async () => {
    idm = await startIdm();
    gw = await startTestGateway({
      clock,
      env: {
        ...idm.env({ timeoutMs: 5_000 }),
        GATEWAY_IDM_SUBJECT_NAME_ID_SUFFIX: '@demo.example',
        GATEWAY_IDM_RECONCILE_HOUR: '2',
        GATEWAY_TIME_ZONE: 'Europe/Copenhagen',
        GATEWAY_SESSION_IDLE_MINUTES: '1440',
        GATEWAY_SESSION_ABSOLUTE_MINUTES: '1440',
        GATEWAY_STEP_UP_MINUTES: '60',
      },
    });
    admin = await activeAdmin(gw);
    const res = await admin.client.post('/api/admin/provisioning/clients', { label: 'Entra ID', ial: 'substantial', proofingMethod: 'HR onboarding: passport checked in person' });
    assert.equal(res.status, 201);
    token = field<string>(res.body, 'token', 'token');
    await scimCreate('anna', 'Anna', 'Berg');
    await scimCreate('bo', 'Bo', 'Dahl');
    await scimCreate('carl', 'Carl', 'Eriksen');
    await dispatcher().runOnce();
    assert.ok(employeeWith('anna@demo.example') && employeeWith('bo@demo.example') && employeeWith('carl@demo.example'));
  });
  after(async () => {
    await gw?.close();
    await idm?.close();
  });

  it('NSIS 5.2 / issue 18: an on-demand run finds differences planted at MitID Erhverv, repairs the clear ones through the IdM job queue once, reports the rest, and audits the outcome', async () => {
    // Planted at MitID Erhverv: Anna's employee deleted by hand, Bo's email changed, Carl suspended there.
    const anna = employeeWith('anna@demo.example');
    const bo = employeeWith('bo@demo.example');
    const carl = employeeWith('carl@demo.example');
    assert.ok(anna && bo && carl);
    idm.server.employees.delete(anna.uuid);
    bo.emailAddress = 'bo.private@example.org';
    carl.status = 'Suspended';

    const res = await admin.client.post('/api/admin/idm/reconcile', {});
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const outcome = obj(field(res.body, 'reconciliation'));
    assert.equal(outcome['status'], 'done');
    assert.deepEqual(outcome['findings'], { 'here-not-there': 1, 'email-differs': 1, 'suspended-there-only': 1 });
    assert.equal(outcome['jobsQueued'], 2, 'bind for Anna, contact-change for Bo');
    assert.deepEqual(
      (outcome['reported'] as { kind: string }[]).map((r) => r.kind),
      ['suspended-there-only'],
      'a suspension made at MitID Erhverv is reported for a person to decide, never undone by the gateway',
    );

    // A second run before the jobs ran queues nothing twice.
    const again = await admin.client.post('/api/admin/idm/reconcile', {});
    assert.equal(again.status, 200);
    assert.equal(field(again.body, 'reconciliation', 'jobsQueued'), 0);
    assert.equal(field(again.body, 'reconciliation', 'alreadyQueued'), 2);

    assert.equal(await dispatcher().runOnce(), 2, 'the repairs run through the IdM job queue');
    assert.ok(employeeWith('anna@demo.example'), 'Anna exists at MitID Erhverv again');
    assert.equal(employeeWith('bo@demo.example')?.emailAddress, 'bo@demo.example', 'Bo’s email is the directory’s again');
    assert.equal(employeeWith('carl@demo.example')?.status, 'Suspended', 'not reactivated by the gateway');
    assert.equal(idm.server.effects.filter((e) => e.kind === 'reactivate').length, 0);
    assert.equal(await dispatcher().runOnce(), 0, 'nothing is sent twice');

    const audited = await runs();
    assert.equal(audited.length, 2);
    const first = audited.find((e) => e.data['jobsQueued'] === 2);
    assert.equal(first?.type, 'idm.reconciled');
    assert.equal(first?.data['trigger'], 'on-demand');
    assert.equal(first?.actorRole, 'org-admin');

    // The admin page shows the latest outcome and the nightly hour.
    const overview = await admin.client.get('/api/admin/provisioning');
    assert.equal(overview.status, 200);
    assert.equal(field(overview.body, 'idm', 'reconcileHour'), 2);
    assert.equal(field(overview.body, 'idm', 'reconciliation', 'status'), 'done');
    assert.equal(field(overview.body, 'idm', 'reconciliation', 'data', 'alreadyQueued'), 2);
  });

  it('issue 18: two concurrent run requests give one run; the other is refused with IDM_RECONCILIATION_RUNNING (409) and audited; a failing API is audited as a failed run', async () => {
    const before = (await runs()).length;
    const searches = () => idm.server.callsTo('POST', /\/search$/).length;
    const seen = searches();
    idm.server.fail({ method: 'POST', path: /\/search$/, times: 1, fault: { kind: 'hang' } });
    const first = admin.client.post('/api/admin/idm/reconcile', {});
    // The first run holds the lease while MitID Erhverv does not answer its search.
    while (searches() === seen) await new Promise((r) => setImmediate(r));
    const second = await admin.client.post('/api/admin/idm/reconcile', {});
    assert.equal(second.status, 409);
    assert.equal(field(second.body, 'code'), 'IDM_RECONCILIATION_RUNNING');
    const done = await first;
    assert.equal(done.status, 200);
    assert.equal(field(done.body, 'reconciliation', 'status'), 'failed', 'the hanging search times out');
    const after = await runs();
    assert.equal(after.length, before + 1, 'one run');
    assert.equal(after.at(-1)?.type, 'idm.reconcile-failed');
    assert.match(String(after.at(-1)?.data['error']), /IDM|time/i);
    assert.ok((await refusals()).some((e) => e.data['code'] === 'IDM_RECONCILIATION_RUNNING'));
  });

  it('NSIS 3.1.2 (Substantial) 8 / issue 18: a run is refused without the org-admin role (403 ROLE_REQUIRED) and without a fresh security-key sign-in (401 STEP_UP_REQUIRED), each audited', async () => {
    const before = (await runs()).length;
    const employee = await activeEmployee(gw, admin.client, 'dora@demo.example', 'Dora Falk');
    const noRole = await employee.client.post('/api/admin/idm/reconcile', {});
    assert.equal(noRole.status, 403);
    assert.equal(field(noRole.body, 'code'), 'ROLE_REQUIRED');

    clock.advance(61 * 60_000);
    const stale = await admin.client.post('/api/admin/idm/reconcile', {});
    assert.equal(stale.status, 401);
    assert.equal(field(stale.body, 'code'), 'STEP_UP_REQUIRED');
    assert.equal((await runs()).length, before, 'no run');
    const codes = (await refusals()).map((e) => e.data['code']);
    assert.ok(codes.includes('ROLE_REQUIRED') && codes.includes('STEP_UP_REQUIRED'));

    // After a fresh sign-in, the same admin may run it.
    const fresh = new ApiClient(gw.origin);
    assert.equal((await signIn(gw, fresh, admin.auth, admin.email)).status, 200);
    assert.equal((await fresh.post('/api/admin/idm/reconcile', {})).status, 200);
  });

  it('issue 18 / NSIS 5.2: the nightly run starts at GATEWAY_IDM_RECONCILE_HOUR in GATEWAY_TIME_ZONE, once a night, on one of two instances (store lease)', async () => {
    const reconciler = gw.runtime.idmReconciler;
    assert.ok(reconciler);
    const other = new IdmReconciler(gw.runtime.store, idm.client(), clock, gw.runtime.flows.log, { hour: 2, timeZone: 'Europe/Copenhagen' });
    const night = new Date(clock.now().getTime() + 3 * 86_400_000).toISOString().slice(0, 10);
    clock.set(`${night}T00:30:00Z`); // 01:30 in Copenhagen (winter time, UTC+1)
    assert.equal(await reconciler.tick(), 'not-due');
    const before = (await runs()).length;
    clock.set(`${night}T01:10:00Z`); // 02:10 in Copenhagen
    const [a, b] = await Promise.all([reconciler.tick(), other.tick()]);
    const ran = [a, b].filter((r) => typeof r === 'object');
    assert.equal(ran.length, 1, `exactly one instance ran: ${JSON.stringify([a, b])}`);
    assert.ok([a, b].some((r) => r === 'busy' || r === 'not-due'));
    clock.set(`${night}T01:40:00Z`); // 02:40: ran tonight already
    assert.equal(await reconciler.tick(), 'not-due');
    assert.equal(await other.tick(), 'not-due');
    const nightly = (await runs()).filter((e) => e.data['trigger'] === 'nightly');
    assert.equal((await runs()).length, before + 1);
    assert.equal(nightly.length, 1);
    assert.equal(nightly[0]?.type, 'idm.reconciled');
    assert.equal(nightly[0]?.actorRole, 'system');
    assert.equal(nightly[0]?.data['day'], night);
    other.stop();
  });
});
