/**
 * Issue 16, "mails in the person's language", through the real API and the test mail sink: each
 * person's mails in their own language (set at binding, by the CSV import, on enrolment from the
 * page, or by themselves), else the organisation's (GATEWAY_DEFAULT_LANGUAGE); problem+json in
 * the request's language with its stable code unchanged.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CATALOGUES } from '../../i18n/index.js';
import { FixedClock } from '../../server/clock.js';
import { ApiClient, field } from '../support/apiClient.js';
import { activate, activeAdmin, enrol } from '../support/journeys.js';
import { SoftAuthenticator } from '../support/softAuthenticator.js';
import { startTestGateway, type TestGateway } from '../support/testGateway.js';

/** A Danish date as the mails write it: "22. jan. 2026, 13.00 CET (Europe/Copenhagen)". */
const DANISH_DATE = /\d{1,2}\. (jan|feb|mar)\. 2026, \d{2}\.\d{2} CET \(Europe\/Copenhagen\)/;
const ENGLISH_DATE = /\d{1,2} (Jan|Feb|Mar) 2026, \d{2}:\d{2} CET \(Europe\/Copenhagen\)/;

describe('issue 16: mails in the person’s language, problems in the request’s', { timeout: 300_000 }, () => {
  const clock = new FixedClock('2026-01-15T12:00:00.000Z');
  let gw: TestGateway;
  let admin: Awaited<ReturnType<typeof activeAdmin>>;

  before(async () => {
    // A Danish organisation: Danish unless a person chose otherwise.
    gw = await startTestGateway({ clock, env: { GATEWAY_DEFAULT_LANGUAGE: 'da' } });
    admin = await activeAdmin(gw);
  });
  after(async () => {
    await gw.close();
  });

  /** The admin binds a person (with `language`, if given), mails them a link; they enrol and activate on `client`. */
  async function person(name: string, email: string, language?: 'da' | 'en', client = new ApiClient(gw.origin)) {
    const created = await admin.client.post('/api/admin/identities', { name, email, ial: 'substantial', proofingMethod: 'ID document checked in person by HR', ...(language ? { language } : {}) });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const identityId = field<string>(created.body, 'identity', 'id');
    assert.equal(field(created.body, 'identity', 'language'), language ?? null);
    const issued = await admin.client.post(`/api/admin/identities/${identityId}/enrolments`, {});
    assert.equal(issued.status, 201, JSON.stringify(issued.body));
    const auth = new SoftAuthenticator();
    const keyId = await enrol(gw, client, auth, await gw.latestEnrolmentLink(email));
    const act = await activate(gw, client, auth, email);
    assert.equal(act.status, 200, JSON.stringify(act.body));
    return { client, auth, keyId, identityId, email };
  }

  async function mailOf(to: string, kind: string) {
    const mail = (await gw.mailsTo(to)).filter((m) => m.kind === kind).at(-1);
    assert.ok(mail, `a ${kind} mail to ${to}`);
    return mail;
  }

  it('issue 16: a Danish person receives the enrolment link, the activation code and the suspension notice in Danish with Danish dates', async () => {
    const dorte = await person('Dorte Dansk', 'dorte.dansk@demo.example', 'da');
    const link = await mailOf(dorte.email, 'enrolment-link');
    assert.equal(link.subject, CATALOGUES.da['mail.link.subject']);
    assert.match(link.text, /^Kære Dorte Dansk$/m);
    assert.match(link.text, new RegExp(`udløber ${DANISH_DATE.source}`));
    const code = await mailOf(dorte.email, 'activation-code');
    assert.equal(code.subject, CATALOGUES.da['mail.code.subject.activate']);
    assert.match(code.text, DANISH_DATE);
    assert.doesNotMatch(code.text, /Hello|expires on|security key/);
    const lost = await dorte.client.post(`/api/me/credentials/${dorte.keyId}/report-lost`, {});
    assert.equal(lost.status, 200, JSON.stringify(lost.body));
    const notice = await mailOf(dorte.email, 'suspend-notice');
    assert.match(notice.subject, /^Din sikkerhedsnøgle ".*" er nu spærret$/);
    assert.match(notice.text, /Årsag: +Bortkommet/);
    assert.match(notice.text, DANISH_DATE);
  });

  it('issue 16: an English person in a Danish organisation receives the same mails in English with English dates', async () => {
    const eve = await person('Eve English', 'eve.english@demo.example', 'en');
    const link = await mailOf(eve.email, 'enrolment-link');
    assert.equal(link.subject, 'Register your security key');
    assert.match(link.text, /^Hello Eve English,$/m);
    assert.match(link.text, new RegExp(`expires on ${ENGLISH_DATE.source}`));
    const code = await mailOf(eve.email, 'activation-code');
    assert.equal(code.subject, 'Your security key activation code');
    assert.doesNotMatch(code.text, /Kære|udløber|sikkerhedsnøgle/);
    const lost = await eve.client.post(`/api/me/credentials/${eve.keyId}/report-lost`, {});
    assert.equal(lost.status, 200, JSON.stringify(lost.body));
    assert.match((await mailOf(eve.email, 'suspend-notice')).subject, /^Your security key ".*" is now suspended$/);
  });

  it('issue 16: a person who chose no language receives the organisation’s (GATEWAY_DEFAULT_LANGUAGE=da)', async () => {
    const nobody = await person('Nanna Neutral', 'nanna.neutral@demo.example');
    assert.equal((await mailOf(nobody.email, 'enrolment-link')).subject, CATALOGUES.da['mail.link.subject']);
    assert.equal((await mailOf(nobody.email, 'activation-code')).subject, CATALOGUES.da['mail.code.subject.activate']);
  });

  it('issue 16: a person who chooses their language (POST /api/me/language) has it stored, and their next mail follows it', async () => {
    const ole = await person('Ole Omskifter', 'ole.omskifter@demo.example', 'da');
    const chosen = await ole.client.post('/api/me/language', { language: 'en' });
    assert.equal(chosen.status, 200, JSON.stringify(chosen.body));
    assert.equal(field((await ole.client.get('/api/me')).body, 'identity', 'language'), 'en');
    const refused = await ole.client.post('/api/me/language', { language: 'de' });
    assert.equal(refused.status, 400);
    assert.equal(refused.code, 'VALIDATION_FAILED');
    // (Reporting the session's own key lost ends the session.)
    const lost = await ole.client.post(`/api/me/credentials/${ole.keyId}/report-lost`, {});
    assert.equal(lost.status, 200);
    const notice = await mailOf(ole.email, 'suspend-notice');
    assert.match(notice.subject, /^Your security key ".*" is now suspended$/);
    assert.match(notice.text, ENGLISH_DATE);
    const anonymous = await new ApiClient(gw.origin).post('/api/me/language', { language: 'da' });
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.code, 'UNAUTHENTICATED');
  });

  it('issue 16: the language chosen on the enrolment page (gw_lang) becomes the person’s, and the activation code comes in it', async () => {
    const created = await admin.client.post('/api/admin/identities', { name: 'Siri Skifter', email: 'siri.skifter@demo.example', ial: 'substantial', proofingMethod: 'ID document checked in person by HR', language: 'en' });
    assert.equal(created.status, 201);
    const identityId = field<string>(created.body, 'identity', 'id');
    assert.equal((await admin.client.post(`/api/admin/identities/${identityId}/enrolments`, {})).status, 201);
    const client = new ApiClient(gw.origin);
    client.setCookie('gw_lang', 'da');
    await enrol(gw, client, new SoftAuthenticator(), await gw.latestEnrolmentLink('siri.skifter@demo.example'));
    assert.equal((await mailOf('siri.skifter@demo.example', 'activation-code')).subject, CATALOGUES.da['mail.code.subject.activate']);
  });

  it('issue 16: the CSV import’s language column binds each person with their language; a language we do not have refuses the import (IMPORT_INVALID)', async () => {
    const csv = ['name,email,ial,proofing_method,language', 'Ida Import,ida.import@demo.example,substantial,ID checked by HR,da', 'Ian Import,ian.import@demo.example,substantial,ID checked by HR,en'].join('\n');
    const imported = await admin.client.post('/api/admin/identities/import', { csv });
    assert.equal(imported.status, 200, JSON.stringify(imported.body));
    const created = field<{ id: string; email: string }[]>(imported.body, 'created');
    const languages = await gw.runtime.store.read(async (tx) => Promise.all(created.map(async (c) => (await tx.identities.get(c.id))?.language)));
    assert.deepEqual(languages, ['da', 'en']);
    const bad = await admin.client.post('/api/admin/identities/import', { csv: 'name,email,ial,proofing_method,language\nBo Bad,bo.bad@demo.example,substantial,ID checked by HR,de' });
    assert.equal(bad.status, 400);
    assert.equal(bad.code, 'IMPORT_INVALID');
    assert.ok(JSON.stringify(bad.body).includes('row 2 language'));
  });

  it('issue 16 / RFC 7643 §4.1.1: a person provisioned through SCIM gets the language of their preferredLanguage, and a later replace with another one changes it', async () => {
    const registered = await admin.client.post('/api/admin/provisioning/clients', { label: 'Entra ID (HR sync)', ial: 'substantial', proofingMethod: 'HR onboarding: passport checked in person', tokenDays: 30 });
    assert.equal(registered.status, 201, JSON.stringify(registered.body));
    const token = field<string>(registered.body, 'token', 'token');
    const scim = async (method: string, path: string, body: unknown) => {
      const res = await fetch(`${gw.origin}/scim/v2${path}`, { method, headers: { authorization: `Bearer ${token}`, accept: 'application/scim+json', 'content-type': 'application/scim+json' }, body: JSON.stringify(body) });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const user = (preferredLanguage: string) => ({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: 'preben.provisioned@demo.example',
      active: true,
      name: { givenName: 'Preben', familyName: 'Provisioned', formatted: 'Preben Provisioned' },
      emails: [{ primary: true, type: 'work', value: 'preben.provisioned@demo.example' }],
      preferredLanguage,
    });
    const created = await scim('POST', '/Users', user('en-GB'));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body['preferredLanguage'], 'en-GB', 'kept and returned as sent');
    const person = async () => gw.runtime.store.read((tx) => tx.identities.findActiveByEmail('preben.provisioned@demo.example'));
    assert.equal((await person())?.language, 'en');
    const replaced = await scim('PUT', `/Users/${String(created.body['id'])}`, user('da-DK'));
    assert.equal(replaced.status, 200, JSON.stringify(replaced.body));
    assert.equal((await person())?.language, 'da');
  });

  it('issue 16: problem details in Danish with the gw_lang cookie, in English by Accept-Language, else the person’s language, else the organisation’s; the code never changes', async () => {
    const danish = new ApiClient(gw.origin);
    danish.setCookie('gw_lang', 'da');
    const da = await danish.get('/api/me');
    assert.equal(da.status, 401);
    assert.equal(da.code, 'UNAUTHENTICATED');
    assert.equal(field(da.body, 'title'), 'Ikke logget ind');
    assert.equal(field(da.body, 'detail'), CATALOGUES.da['problem.UNAUTHENTICATED']);
    assert.equal(da.headers.get('content-language'), 'da');
    const english = await new ApiClient(gw.origin).request('GET', '/api/me', undefined, { 'accept-language': 'en-GB,en;q=0.8' });
    assert.equal(english.status, 401);
    assert.equal(english.code, 'UNAUTHENTICATED');
    assert.equal(field(english.body, 'title'), 'Unauthorized');
    assert.equal(english.headers.get('content-language'), 'en');
    const organisation = await new ApiClient(gw.origin).get('/api/me');
    assert.equal(organisation.code, 'UNAUTHENTICATED');
    assert.equal(organisation.headers.get('content-language'), 'da', 'the organisation’s language');
    // Signed in, no cookie and no browser preference: the person's own language.
    const eng = await person('Emil Engelsk', 'emil.engelsk@demo.example', 'en');
    const missing = await eng.client.get('/api/me/credentials/00000000-0000-4000-8000-000000000000/history');
    assert.equal(missing.status, 404);
    assert.equal(missing.code, 'NOT_FOUND');
    assert.equal(missing.headers.get('content-language'), 'en');
    assert.equal(field(missing.body, 'title'), 'Not Found');
    eng.client.setCookie('gw_lang', 'da');
    const chosen = await eng.client.get('/api/me/credentials/00000000-0000-4000-8000-000000000000/history');
    assert.equal(chosen.code, 'NOT_FOUND');
    assert.equal(field(chosen.body, 'title'), 'Ikke fundet');
    assert.equal(field(chosen.body, 'detail'), CATALOGUES.da['problem.NOT_FOUND']);
  });

  it('issue 16: the styled error page is in the language of the gw_lang cookie, else the organisation’s, with the same error code', async () => {
    const chooser = new ApiClient(gw.origin);
    chooser.setCookie('gw_lang', 'en');
    const en = await chooser.request('GET', '/api/no-such-thing', undefined, { accept: 'text/html' });
    assert.equal(en.status, 404);
    assert.match(String(en.body), /<html lang="en"/);
    assert.match(String(en.body), new RegExp(CATALOGUES.en['errorPage.notFound.heading']));
    assert.match(String(en.body), /<code>NOT_FOUND<\/code>/);
    const organisation = await new ApiClient(gw.origin).request('GET', '/api/no-such-thing', undefined, { accept: 'text/html' });
    assert.equal(organisation.status, 404);
    assert.match(String(organisation.body), /<html lang="da"/);
    assert.match(String(organisation.body), new RegExp(CATALOGUES.da['errorPage.notFound.heading']));
    assert.match(String(organisation.body), /<code>NOT_FOUND<\/code>/);
  });
});
