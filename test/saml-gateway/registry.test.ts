/**
 * The service-provider registry (issue 15): SPs registered from their metadata by an org-admin
 * with step-up through the admin API, or from GATEWAY_SAML_SP_FILE at start; validated, audited;
 * per-SP settings where the reference implementations disagree (NameID, legacy encryption, extra
 * attributes); an ACS that is not in the metadata is never answered.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FixedClock } from '../../server/clock.js';
import { ALG } from '../../server/saml/index.js';
import { ApiClient, field } from '../support/apiClient.js';
import { activeAdmin, activeEmployee, signIn } from '../support/journeys.js';
import type { SoftAuthenticator } from '../support/softAuthenticator.js';
import { auditEntries } from '../support/storeReads.js';
import { startTestGateway, type TestGateway } from '../support/testGateway.js';
import { SAML_ENV, makeGatewaySp, postedForm, registerSp, signInThroughSso, startSso } from './harness.js';

describe('SAML service-provider registry and per-SP settings (issue 15)', () => {
  let gw: TestGateway;
  let clock: FixedClock;
  let admin: Awaited<ReturnType<typeof activeAdmin>>;
  let person: { client: ApiClient; auth: SoftAuthenticator; email: string; identityId: string };
  let spFileDir: string;

  before(async () => {
    spFileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'saml-sp-file-'));
    clock = new FixedClock(new Date());
    gw = await startTestGateway({ env: SAML_ENV, clock });
    admin = await activeAdmin(gw);
    person = await activeEmployee(gw, admin.client, 'registry.person@demo.example', 'Registry Person');
  });
  after(async () => {
    await gw?.close();
    fs.rmSync(spFileDir, { recursive: true, force: true });
  });

  it('NSIS 6: only an org-admin registers a service provider, with a recent key touch (403 ROLE_REQUIRED, 401 STEP_UP_REQUIRED)', async () => {
    const sp = await makeGatewaySp(gw, { entityId: 'https://role-sp.example.dk/metadata' });
    const byEmployee = await registerSp(person.client, sp);
    assert.deepEqual([byEmployee.status, byEmployee.code], [403, 'ROLE_REQUIRED']);
    clock.advance((gw.runtime.config.stepUpMinutes + 1) * 60_000);
    const stale = await registerSp(admin.client, sp);
    assert.deepEqual([stale.status, stale.code], [401, 'STEP_UP_REQUIRED']);
    assert.equal((await signIn(gw, admin.client, admin.auth, admin.email)).status, 200);
    const ok = await registerSp(admin.client, sp);
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    const again = await registerSp(admin.client, sp);
    assert.deepEqual([again.status, field(again.body, 'changed')], [200, false]);
    const list = await admin.client.get('/api/admin/saml/service-providers');
    assert.equal(list.status, 200);
    assert.ok(field<{ entityId: string }[]>(list.body, 'serviceProviders').some((s) => s.entityId === sp.entityId));
    const registered = (await auditEntries(gw.runtime.store)).filter((e) => e.type === 'saml.sp.registered' && e.subjectId === sp.entityId);
    assert.equal(registered.length, 1, 'registered once, audited once');
    assert.equal(registered[0]?.actorId, gw.seed.admin.id);
    // Back to the time the SPs (node-saml, on the real clock) stamp their requests with.
    clock.set(new Date());
  });

  it('saml-metadata 2.4.4: metadata that does not validate (no ACS, DOCTYPE, not XML) and unknown settings are refused 400 with stable codes, audited', async () => {
    const sp = await makeGatewaySp(gw, { entityId: 'https://bad-sp.example.dk/metadata' });
    const noAcs = sp.metadataXml.replace(/<AssertionConsumerService[^>]*\/>/g, '');
    const cases = [noAcs, `<!DOCTYPE x [<!ENTITY e "x">]>${sp.metadataXml}`, 'not xml at all'];
    for (const metadataXml of cases) {
      const r = await admin.client.post('/api/admin/saml/service-providers', { metadataXml });
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.equal(r.code, 'SAML_METADATA_REFUSED');
      assert.match(String(field(r.body, 'samlCode')), /^SAML_/);
    }
    const badSettings = await registerSp(admin.client, sp, { encryption: 'rot13' });
    assert.deepEqual([badSettings.status, badSettings.code], [400, 'VALIDATION_FAILED']);
    const refused = (await auditEntries(gw.runtime.store)).filter((e) => e.type === 'saml.sp.refused');
    assert.ok(refused.length >= 4);
  });

  it('OIOSAML 3 / saml-profiles 4.1.4.1: an AuthnRequest naming an ACS the metadata does not list is refused, never answered there (SAML_ACS_NOT_IN_METADATA)', async () => {
    clock.set(new Date());
    const sp = await makeGatewaySp(gw, { entityId: 'https://acs-sp.example.dk/metadata' });
    const moved = { ...sp, metadataXml: sp.metadataXml.replace(sp.acs, 'https://acs-sp.example.dk/other-acs') };
    assert.equal((await registerSp(admin.client, moved)).status, 201);
    const url = new URL(await sp.saml.getAuthorizeUrlAsync('r', undefined, {}));
    const r = await new ApiClient(gw.origin).request('GET', url.pathname + url.search, undefined, { accept: 'application/json' });
    assert.deepEqual([r.status, r.code, field(r.body, 'samlCode')], [400, 'SAML_REQUEST_REFUSED', 'SAML_ACS_NOT_IN_METADATA']);
  });

  it('OIOSAML 3 per-SP settings: NameID format and value, legacy encryption (AES-256-CBC + rsa-oaep-mgf1p) and extra attributes', async () => {
    clock.set(new Date());
    const sp = await makeGatewaySp(gw, { entityId: 'https://settings-sp.example.dk/metadata' });
    const reg = await registerSp(admin.client, sp, {
      nameIdTemplate: '{email}',
      encryption: 'legacy',
      extraAttributes: [{ name: 'https://data.gov.dk/model/core/eid/email', source: 'email' }],
    });
    assert.equal(reg.status, 201, JSON.stringify(reg.body));
    const form = postedForm(await signInThroughSso(gw, new ApiClient(gw.origin), person.auth, person.email, sp));
    const xml = Buffer.from(form.fields['SAMLResponse'] ?? '', 'base64').toString('utf8');
    assert.match(xml, new RegExp(`Algorithm="${ALG.aes256Cbc}"`));
    assert.match(xml, new RegExp(`Algorithm="${ALG.rsaOaepMgf1p}"`));
    const sent = (await auditEntries(gw.runtime.store)).filter((e) => e.type === 'saml.response.sent' && field(e.data, 'saml', 'destination') === sp.acs).pop();
    assert.ok(sent);
    assert.equal(field(sent.data, 'saml', 'nameId'), person.email);
    assert.ok(JSON.stringify(field(sent.data, 'saml', 'attributes')).includes('https://data.gov.dk/model/core/eid/email'));
  });

  it('issue 15: service providers from GATEWAY_SAML_SP_FILE are registered at start (source config), audited; a bad entry stops the start naming the key', async () => {
    const sp = await makeGatewaySp(gw, { entityId: 'https://file-sp.example.dk/metadata' });
    fs.writeFileSync(path.join(spFileDir, 'file-sp.xml'), sp.metadataXml);
    const file = path.join(spFileDir, 'sps.json');
    fs.writeFileSync(file, JSON.stringify([{ metadataFile: 'file-sp.xml', settings: { encryption: 'modern' } }]));
    const second = await startTestGateway({ env: { ...SAML_ENV, GATEWAY_SAML_SP_FILE: file } });
    try {
      const row = await second.runtime.store.read((tx) => tx.saml.serviceProvider(sp.entityId));
      assert.equal(row?.source, 'config');
      assert.ok((await auditEntries(second.runtime.store)).some((e) => e.type === 'saml.sp.registered' && e.subjectId === sp.entityId));
      const browser = new ApiClient(second.origin);
      assert.equal((await startSso(second, browser, { ...sp, saml: (await makeGatewaySp(second, { entityId: sp.entityId })).saml })).status, 400, 'another SP key than the registered metadata is refused');
    } finally {
      await second.close();
    }
    fs.writeFileSync(file, JSON.stringify([{ metadataFile: 'missing.xml' }]));
    await assert.rejects(startTestGateway({ env: { ...SAML_ENV, GATEWAY_SAML_SP_FILE: file } }), /GATEWAY_SAML_SP_FILE/);
  });
});
