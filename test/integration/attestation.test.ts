/**
 * Authenticator assurance afterwards (NSIS 3.2.1, 3.2.3 (Low) 4): the FIDO metadata in force, a
 * newer BLOB reporting a model compromised, and what the gateway does about it. BLOBs are built
 * in the test and signed by a test root configured as GATEWAY_MDS_ROOT_FILE.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { field } from '../support/apiClient.js';
import { activeAdmin, activeEmployee } from '../support/journeys.js';
import { signBlob, tamperSignature, createTestPki, type TestPki } from '../support/mdsFixtures.js';
import { SoftAuthenticator } from '../support/softAuthenticator.js';
import { createAttestationCa } from '../support/attestationCa.js';
import { startTestGateway, type TestGateway } from '../support/testGateway.js';
import { auditEntries, read } from '../support/storeReads.js';

const MODEL_A = '4b1e3a0c-1111-4c2b-9d6e-aaaaaaaaaaaa';
const MODEL_B = '4b1e3a0c-2222-4c2b-9d6e-bbbbbbbbbbbb';

function entry(aaguid: string, description: string, statusReports: { status: string; effectiveDate: string }[], roots: string[] = []) {
  return {
    aaguid,
    metadataStatement: { description, aaguid, authenticatorVersion: 1, protocolFamily: 'fido2', attestationRootCertificates: roots },
    statusReports,
    timeOfLastStatusChange: statusReports[statusReports.length - 1]?.effectiveDate,
  };
}

describe('FIDO metadata and model compromise', () => {
  let gw: TestGateway;
  let pki: TestPki;
  let blobFile: string;
  let admin: Awaited<ReturnType<typeof activeAdmin>>;
  const certified = [{ status: 'FIDO_CERTIFIED_L2', effectiveDate: '2023-01-01' }];

  before(async () => {
    pki = await createTestPki();
    const dir = fs.mkdtempSync(path.join(process.env['TMPDIR'] ?? '/tmp', 'gw-mds-'));
    blobFile = path.join(dir, 'blob.jwt');
    fs.writeFileSync(path.join(dir, 'root.der'), pki.rootDer);
    fs.writeFileSync(blobFile, await signBlob(pki, { no: 1, nextUpdate: '2040-01-01', entries: [entry(MODEL_A, 'Acme Key A', certified), entry(MODEL_B, 'Acme Key B', certified)] }));
    gw = await startTestGateway({ env: { GATEWAY_MDS_ROOT_FILE: path.join(dir, 'root.der'), GATEWAY_MDS_BLOB_FILE: blobFile } });
    admin = await activeAdmin(gw);
  });
  after(async () => {
    await gw.close();
  });

  it('the BLOB from the configured file is verified and in force at start', async () => {
    const res = await admin.client.get('/api/security/fleet');
    assert.equal(res.status, 200);
    assert.equal(field(res.body, 'metadata', 'number'), 1);
    assert.equal(field(res.body, 'metadataConfigured'), true, 'the security page offers "Reload FIDO metadata"');
    assert.ok((await auditEntries(gw.runtime.store)).some((e) => e.type === 'metadata.loaded'));
  });

  it('NSIS 3.2.1: a claimed certification without a verified attestation chain does not reach High', async () => {
    const emp = await activeEmployee(gw, admin.client, 'selfattest@demo.example', 'Self Attested', 'high');
    // activeEmployee used a "none" attestation; a packed self-attestation claiming model A:
    const key = (await read(gw.runtime.store, (tx) => tx.credentials.get(emp.keyId)));
    assert.equal(key?.aal, 'substantial');
    assert.equal(key?.attestationVerified, false);
    const auth = new SoftAuthenticator({ aaguid: MODEL_A, attestation: 'packed-self' });
    await admin.client.post(`/api/admin/identities/${emp.identityId}/enrolments`, {});
    const link = await gw.latestEnrolmentLink(emp.email);
    const { enrol } = await import('../support/journeys.js');
    const id = await enrol(gw, new (await import('../support/apiClient.js')).ApiClient(gw.origin), auth, link, 'Self-attested A');
    assert.equal((await read(gw.runtime.store, (tx) => tx.credentials.get(id)))?.aal, 'substantial', 'self attestation is not a verified chain');
    assert.equal((await read(gw.runtime.store, (tx) => tx.credentials.get(id)))?.model, null, 'no vendor name from an unverified AAGUID');
  });

  it('NSIS 3.2.3 (Low) 4: a newer BLOB reporting a model compromised suspends exactly that model’s keys; owners and helpdesk are told', async () => {
    const a1 = await activeEmployee(gw, admin.client, 'a1@demo.example', 'A One', 'substantial', new SoftAuthenticator({ aaguid: MODEL_A }));
    const a2 = await activeEmployee(gw, admin.client, 'a2@demo.example', 'A Two', 'substantial', new SoftAuthenticator({ aaguid: MODEL_A }));
    const b1 = await activeEmployee(gw, admin.client, 'b1@demo.example', 'B One', 'substantial', new SoftAuthenticator({ aaguid: MODEL_B }));
    const store = gw.runtime.store;
    fs.writeFileSync(
      blobFile,
      await signBlob(pki, {
        no: 2,
        nextUpdate: '2040-01-01',
        entries: [entry(MODEL_A, 'Acme Key A', [...certified, { status: 'USER_KEY_REMOTE_COMPROMISE', effectiveDate: '2024-06-01' }]), entry(MODEL_B, 'Acme Key B', certified)],
      }),
    );
    const res = await admin.client.post('/api/security/metadata/reload', {});
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(field(res.body, 'compromisedModels'), [MODEL_A]);
    for (const e of [a1, a2]) {
      assert.equal((await read(store, (tx) => tx.credentials.get(e.keyId)))?.state, 'suspended');
      assert.equal((await read(store, (tx) => tx.credentials.get(e.keyId)))?.stateReason, 'suspected-compromise');
      assert.equal((await e.client.get('/api/me')).status, 401, 'their sessions ended');
      const notice = (await gw.mailsTo(e.email)).find((m) => m.kind === 'suspend-notice');
      assert.match(notice?.text ?? '', /can never be used again/);
    }
    assert.equal((await read(store, (tx) => tx.credentials.get(b1.keyId)))?.state, 'active', 'other models untouched');
    assert.ok((await gw.mailsTo(admin.email)).some((m) => m.kind === 'compromise-alert'));
    const fleet = await admin.client.get('/api/security/fleet');
    const rows = field<{ aaguid: string; state: string; count: number }[]>(fleet.body, 'fleet');
    assert.equal(rows.find((r) => r.aaguid === MODEL_A && r.state === 'suspended')?.count, 2);
    const react = await admin.client.post(`/api/helpdesk/credentials/${a1.keyId}/reactivate`, { reason: 'found' });
    assert.equal(react.code, 'LIFECYCLE_REACTIVATION_FORBIDDEN');
  });

  it('a BLOB with a broken signature is refused and the previous one stays in force', async () => {
    const good = fs.readFileSync(blobFile, 'utf8');
    const newer = await signBlob(pki, { no: 3, nextUpdate: '2040-01-01', entries: [] });
    fs.writeFileSync(blobFile, tamperSignature(newer));
    const res = await admin.client.post('/api/security/metadata/reload', {});
    assert.equal(res.status, 200);
    assert.equal(field(res.body, 'results', '0', 'replaced'), false);
    assert.equal(field(res.body, 'results', '0', 'code'), 'MDS_SIGNATURE_INVALID');
    assert.equal(gw.runtime.metadata?.metadata.current()?.number, 2);
    assert.ok((await auditEntries(gw.runtime.store)).some((e) => e.type === 'metadata.refused'));
    fs.writeFileSync(blobFile, good);
  });
});

describe('a verified attestation of a certified model reaches High (NSIS 3.2.1 (High) 5-6)', () => {
  const MODEL_H = '4b1e3a0c-3333-4c2b-9d6e-cccccccccccc';
  let gw: TestGateway;
  let pki: TestPki;
  let blobFile: string;
  let admin: Awaited<ReturnType<typeof activeAdmin>>;
  const attCa = createAttestationCa();
  const root = Buffer.from(attCa.rootDer).toString('base64');

  before(async () => {
    pki = await createTestPki();
    const dir = fs.mkdtempSync(path.join(process.env['TMPDIR'] ?? '/tmp', 'gw-mds-high-'));
    blobFile = path.join(dir, 'blob.jwt');
    fs.writeFileSync(path.join(dir, 'root.der'), pki.rootDer);
    fs.writeFileSync(blobFile, await signBlob(pki, { no: 1, nextUpdate: '2040-01-01', entries: [entry(MODEL_H, 'Acme High Key', [{ status: 'FIDO_CERTIFIED_L2', effectiveDate: '2023-01-01' }], [root])] }));
    gw = await startTestGateway({ env: { GATEWAY_MDS_ROOT_FILE: path.join(dir, 'root.der'), GATEWAY_MDS_BLOB_FILE: blobFile, GATEWAY_FEDERATION_LOA: 'high' } });
    admin = await activeAdmin(gw);
  });
  after(async () => {
    await gw.close();
  });

  it('the key is rated High with its model name, and an identity proofed at High gets LoA High for acr_values High', async () => {
    const emp = await activeEmployee(gw, admin.client, 'high@demo.example', 'High Person', 'high', new SoftAuthenticator({ aaguid: MODEL_H, attestation: 'packed-x5c', attestationCa: attCa }));
    const key = (await read(gw.runtime.store, (tx) => tx.credentials.get(emp.keyId)));
    assert.equal(key?.attestationVerified, true);
    assert.equal(key?.aal, 'high');
    assert.equal(key?.model, 'Acme High Key');
    assert.equal(key?.certification, 'FIDO_CERTIFIED_L2');
    const keys = await emp.client.get('/api/me/credentials');
    assert.equal(field(keys.body, 'credentials', '0', 'model'), 'Acme High Key', 'the model name is shown instead of the AAGUID');
    const token = await emp.client.post('/api/tokens', { audience: 'urn:demo:intranet' });
    const payload: unknown = JSON.parse(Buffer.from(field<string>(token.body, 'token').split('.')[1] ?? '', 'base64url').toString('utf8'));
    assert.equal(field(payload, 'loa'), 'https://data.gov.dk/concept/core/nsis/loa/High');
  });

  it('an attestation chaining to another root is not verified and stays Substantial', async () => {
    const other = createAttestationCa();
    const emp = await activeEmployee(gw, admin.client, 'forged@demo.example', 'Forged Model', 'high', new SoftAuthenticator({ aaguid: MODEL_H, attestation: 'packed-x5c', attestationCa: other }));
    const key = (await read(gw.runtime.store, (tx) => tx.credentials.get(emp.keyId)));
    assert.equal(key?.attestationVerified, false);
    assert.equal(key?.aal, 'substantial');
  });

  it('a certification downgrade in newer metadata lowers the level of that model’s keys', async () => {
    const emp = await activeEmployee(gw, admin.client, 'down@demo.example', 'Downgraded', 'high', new SoftAuthenticator({ aaguid: MODEL_H, attestation: 'packed-x5c', attestationCa: attCa }));
    assert.equal((await read(gw.runtime.store, (tx) => tx.credentials.get(emp.keyId)))?.aal, 'high');
    fs.writeFileSync(blobFile, await signBlob(pki, { no: 2, nextUpdate: '2040-01-01', entries: [entry(MODEL_H, 'Acme High Key', [{ status: 'FIDO_CERTIFIED_L1', effectiveDate: '2024-01-01' }], [root])] }));
    const res = await admin.client.post('/api/security/metadata/reload', {});
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.ok(field<number>(res.body, 'reRated') >= 1);
    assert.equal((await read(gw.runtime.store, (tx) => tx.credentials.get(emp.keyId)))?.aal, 'substantial');
    assert.equal((await read(gw.runtime.store, (tx) => tx.credentials.get(emp.keyId)))?.state, 'active', 're-rated, not taken out of use');
  });
});
