/**
 * Issue 16, the applications page: an org-admin names a SAML service provider (the sign-in page
 * shows that name instead of the entityID), disables and enables it, and sees its metadata's
 * certificates and endpoints; every change and every refusal is audited with its problem code.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FixedClock } from '../../server/clock.js';
import { SYSTEM_ACTOR } from '../../server/domain/types.js';
import { registerServiceProvider } from '../../server/flows/saml/registerServiceProvider.js';
import { ApiClient, field } from '../support/apiClient.js';
import { activeAdmin, activeEmployee, signIn } from '../support/journeys.js';
import type { SoftAuthenticator } from '../support/softAuthenticator.js';
import { auditEntries } from '../support/storeReads.js';
import { startTestGateway, type TestGateway } from '../support/testGateway.js';
import { SAML_ENV, browse, locationOf, makeGatewaySp, postedForm, registerSp, signInThroughSso, startSso } from './harness.js';

const SETTINGS = '/api/admin/saml/service-providers/settings';

describe('issue 16: SAML service providers managed by an org-admin', () => {
  let gw: TestGateway;
  let clock: FixedClock;
  let admin: Awaited<ReturnType<typeof activeAdmin>>;
  let person: { client: ApiClient; auth: SoftAuthenticator; email: string; identityId: string };

  const refusalsAudited = async (code: string): Promise<number> =>
    (await auditEntries(gw.runtime.store)).filter((e) => e.type === 'saml.sp.change-refused' && e.data['code'] === code).length;

  before(async () => {
    clock = new FixedClock(new Date());
    gw = await startTestGateway({ env: { ...SAML_ENV, GATEWAY_STEP_UP_MINUTES: '30', GATEWAY_SESSION_IDLE_MINUTES: '600', GATEWAY_SESSION_ABSOLUTE_MINUTES: '6000' }, clock });
    admin = await activeAdmin(gw);
    person = await activeEmployee(gw, admin.client, 'sp-console.person@demo.example', 'SP Console Person');
  });
  after(async () => {
    await gw?.close();
  });

  it('NSIS 6 (Low) 7: a display name is what the sign-in page names the SP by; the metadata’s certificates and endpoints are shown; the change is audited', async () => {
    clock.set(new Date());
    const sp = await makeGatewaySp(gw, { entityId: 'https://named-sp.example.dk/metadata' });
    const reg = await registerSp(admin.client, sp, { displayName: 'Named Service' });
    assert.equal(reg.status, 201, JSON.stringify(reg.body));
    const view = field<{ certificates: { use: string; sha256: string; validTo: string }[]; assertionConsumerServices: { location: string }[] }>(reg.body, 'serviceProvider');
    assert.deepEqual(view.certificates.map((c) => c.use).sort(), ['encryption', 'signing']);
    assert.ok(view.certificates.every((c) => /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/.test(c.sha256)));
    assert.deepEqual(view.assertionConsumerServices.map((a) => a.location), [sp.acs]);

    const renamed = await admin.client.post(SETTINGS, { entityId: sp.entityId, displayName: 'Renamed Service' });
    assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
    assert.equal(field<{ settings: { displayName: string } }>(renamed.body, 'serviceProvider').settings.displayName, 'Renamed Service');
    const audited = (await auditEntries(gw.runtime.store)).filter((e) => (e.type === 'saml.sp.registered' || e.type === 'saml.sp.replaced') && e.subjectId === sp.entityId);
    assert.equal(audited.length, 2, 'the registration and the new name are both in the audit trail');

    // A browser with no session yet: it is sent to the sign-in page, which asks whom to name.
    const browser = new ApiClient(gw.origin);
    const resume = locationOf(await startSso(gw, browser, sp));
    const page = locationOf(await browse(gw, browser, resume.toString()));
    const requestId = page.searchParams.get('saml') ?? '';
    const named = await browser.get(`/api/saml/authn-request?id=${encodeURIComponent(requestId)}`);
    assert.equal(named.status, 200);
    assert.deepEqual([field(named.body, 'serviceProvider'), field(named.body, 'displayName')], [sp.entityId, 'Renamed Service']);
  });

  it('issue 16: a disabled service provider is refused as an unknown one (audited in the broker log); enabled again it is answered', async () => {
    const sp = await makeGatewaySp(gw, { entityId: 'https://disabled-sp.example.dk/metadata' });
    assert.equal((await registerSp(admin.client, sp)).status, 201);
    const off = await admin.client.post(SETTINGS, { entityId: sp.entityId, enabled: false });
    assert.equal(off.status, 200, JSON.stringify(off.body));
    assert.equal(field<{ settings: { disabled?: boolean } }>(off.body, 'serviceProvider').settings.disabled, true);
    clock.set(new Date());
    const refused = await startSso(gw, person.client, sp);
    assert.equal(refused.status, 400, 'a disabled SP’s AuthnRequest is refused on a page, never sent to its ACS');
    assert.match(String(refused.body), /SAML_UNKNOWN_ISSUER/);
    const logged = (await auditEntries(gw.runtime.store)).filter((e) => e.type === 'saml.authn-request.refused' && JSON.stringify(e.data).includes('SAML_UNKNOWN_ISSUER'));
    assert.ok(logged.length >= 1, 'the refusal is in the broker log');
    const on = await admin.client.post(SETTINGS, { entityId: sp.entityId, enabled: true });
    assert.equal(on.status, 200);
    const answered = await signInThroughSso(gw, new ApiClient(gw.origin), person.auth, person.email, sp);
    assert.equal(postedForm(answered).action, sp.acs);
  });

  it('issue 16: refusals are answered with problem+json and audited: wrong role (403 ROLE_REQUIRED), no step-up (401 STEP_UP_REQUIRED), bad metadata (400 SAML_METADATA_REFUSED), unknown SP (404), config-file SP (409 SAML_SP_READ_ONLY)', async () => {
    const sp = await makeGatewaySp(gw, { entityId: 'https://refusals-sp.example.dk/metadata' });
    const byEmployee = await registerSp(person.client, sp);
    assert.deepEqual([byEmployee.status, byEmployee.code], [403, 'ROLE_REQUIRED']);
    assert.equal(await refusalsAudited('ROLE_REQUIRED'), 1);

    const bad = await admin.client.post('/api/admin/saml/service-providers', { metadataXml: '<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://x.example"/>' });
    assert.deepEqual([bad.status, bad.code], [400, 'SAML_METADATA_REFUSED']);
    assert.equal(await refusalsAudited('SAML_METADATA_REFUSED'), 1);

    const unknown = await admin.client.post(SETTINGS, { entityId: 'https://nobody.example.dk/metadata', enabled: false });
    assert.deepEqual([unknown.status, unknown.code], [404, 'NOT_FOUND']);
    assert.equal(await refusalsAudited('NOT_FOUND'), 1);

    await registerServiceProvider(gw.runtime.saml ?? assert.fail('SAML runs'), { metadataXml: sp.metadataXml, settings: {}, source: 'config', actor: SYSTEM_ACTOR });
    const fromFile = await admin.client.post(SETTINGS, { entityId: sp.entityId, displayName: 'Not here' });
    assert.deepEqual([fromFile.status, fromFile.code], [409, 'SAML_SP_READ_ONLY']);
    assert.equal(await refusalsAudited('SAML_SP_READ_ONLY'), 1);

    clock.advance(31 * 60_000);
    const stale = await admin.client.post(SETTINGS, { entityId: sp.entityId, enabled: false });
    assert.deepEqual([stale.status, stale.code], [401, 'STEP_UP_REQUIRED']);
    assert.equal(await refusalsAudited('STEP_UP_REQUIRED'), 1);
    assert.equal((await signIn(gw, admin.client, admin.auth, admin.email)).status, 200);
    clock.set(new Date());
  });
});
