/**
 * The SAML signing key's security-officer API behind the security page (issues 15, 16): the keys
 * with their certificate details, the PKCS#10 request for the CA, the import of the CA-issued
 * certificate; every refusal answered with a stable code and in the audit trail
 * (saml.key.change-refused), never a 5xx for bad input.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ApiClient, field } from '../support/apiClient.js';
import { activeAdmin, activeEmployee } from '../support/journeys.js';
import { auditEntries } from '../support/storeReads.js';
import { startTestGateway, type TestGateway } from '../support/testGateway.js';
import { idpCertificates, SAML_ENV } from './harness.js';

interface KeyView {
  kid: string;
  state: string;
  algorithm: string;
  certificate: { subject: string; issuer: string; validFrom: string; validTo: string; sha256: string; selfSigned: boolean; pem: string };
}

describe('OIOSAML 3 signing key API for the security page (issues 15, 16)', () => {
  let gw: TestGateway;
  let officer: ApiClient;
  let employee: ApiClient;

  before(async () => {
    gw = await startTestGateway({ env: SAML_ENV });
    officer = (await activeAdmin(gw)).client;
    employee = (await activeEmployee(gw, officer, 'saml.api.person@demo.example', 'Api Person')).client;
  });
  after(async () => {
    await gw?.close();
  });

  async function refusals(): Promise<Array<Record<string, unknown>>> {
    return (await auditEntries(gw.runtime.store)).filter((e) => e.type === 'saml.key.change-refused').map((e): Record<string, unknown> => e.data);
  }

  it('NSIS 4.1.6 (Low) 3 / OIOSAML 3: the SAML keys are listed with state, RSA-3072, kid and the certificate’s subject, issuer, validity, SHA-256 fingerprint and self-signed flag; never the HSM object id', async () => {
    const res = await officer.get('/api/security/saml/keys');
    assert.equal(res.status, 200);
    const keys = field<KeyView[]>(res.body, 'keys');
    const active = keys.find((k) => k.state === 'active');
    assert.ok(active);
    assert.equal(active.algorithm, 'RSA-3072');
    const cert = new X509Certificate(active.certificate.pem);
    assert.equal(active.certificate.sha256, cert.fingerprint256);
    assert.equal(active.certificate.subject, cert.subject);
    assert.equal(active.certificate.selfSigned, true);
    assert.equal(active.certificate.validTo, new Date(cert.validTo).toISOString());
    assert.ok(!JSON.stringify(res.body).includes('ckaId'), 'the HSM object id stays on the server');
  });

  it('NSIS 4.1.6 (Low) 3 / OIOSAML 3: the PKCS#10 request of a key is served as a PEM file, signed by that key', async () => {
    const [active] = field<KeyView[]>((await officer.get('/api/security/saml/keys')).body, 'keys');
    assert.ok(active);
    const res = await officer.get(`/api/security/saml/keys/${active.kid}/csr`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /application\/pkcs10/);
    assert.match(String(res.body), /-----BEGIN CERTIFICATE REQUEST-----/);
  });

  it('NSIS 6 (Substantial) 11: the SAML key API is refused to a person without the security-officer role (403 with a problem code), audited', async () => {
    const before = (await refusals()).length;
    const list = await employee.get('/api/security/saml/keys');
    assert.equal(list.status, 403);
    assert.ok(list.code);
    const make = await employee.post('/api/security/saml/keys', {});
    assert.equal(make.status, 403);
    const after = await refusals();
    assert.ok(after.length >= before + 2, 'both refusals are in the audit trail');
    assert.equal(after.at(-1)?.['status'], 403);
  });

  it('NSIS 4.1.6 (Low) 3 / OIOSAML 3: a certificate that does not certify the pending key is refused 400 X509_KEY_MISMATCH, garbage 400 X509_MALFORMED, an unknown key 404, an active key 409 SAML_KEY_STATE; each audited, never a 5xx', async () => {
    const made = await officer.post('/api/security/saml/keys', {});
    assert.equal(made.status, 201);
    const pendingKid = field<string>(made.body, 'key', 'kid');
    const [activeCert] = await idpCertificates(gw);
    const mismatch = await officer.post(`/api/security/saml/keys/${pendingKid}/certificate`, { certificatePem: activeCert });
    assert.equal(mismatch.status, 400);
    assert.equal(mismatch.code, 'X509_KEY_MISMATCH');
    const garbage = await officer.post(`/api/security/saml/keys/${pendingKid}/certificate`, { certificatePem: 'not a certificate' });
    assert.equal(garbage.status, 400);
    assert.equal(garbage.code, 'X509_MALFORMED');
    const unknown = await officer.get('/api/security/saml/keys/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/csr');
    assert.equal(unknown.status, 404);
    const activeKid = field<KeyView[]>((await officer.get('/api/security/saml/keys')).body, 'keys').find((k) => k.state === 'active')?.kid ?? '';
    const notPending = await officer.post(`/api/security/saml/keys/${activeKid}/certificate`, { certificatePem: activeCert });
    assert.equal(notPending.status, 409);
    assert.equal(notPending.code, 'SAML_KEY_STATE');
    const codes = (await refusals()).map((r) => r['code']);
    for (const code of ['X509_KEY_MISMATCH', 'X509_MALFORMED', 'SAML_KEY_STATE']) assert.ok(codes.includes(code), `${code} is audited`);
  });
});
