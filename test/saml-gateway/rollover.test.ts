/**
 * The SAML signing key's life in the running gateway (issue 15): an RSA key in the real SoftHSM
 * token, pending -> active -> retired -> destroyed, its certificate self-signed in the HSM or
 * issued by a CA for a PKCS#10 request signed in the HSM (imported only if it certifies the key),
 * and the rollover as MitID Erhverv needs it (each step a metadata upload): node-saml accepts
 * assertions before and after the switch. `npm run saml:metadata` exports what /saml/metadata
 * publishes.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { SYSTEM_ACTOR } from '../../server/domain/types.js';
import type { SamlKeyRing } from '../../server/keys/SamlKeyRing.js';
import { ApiClient } from '../support/apiClient.js';
import { activeAdmin, activeEmployee } from '../support/journeys.js';
import type { SoftAuthenticator } from '../support/softAuthenticator.js';
import { auditEntries } from '../support/storeReads.js';
import { repoRoot, startTestGateway, type TestGateway } from '../support/testGateway.js';
import { SAML_ENV, idpCertificates, makeGatewaySp, postedForm, registerSp, signInThroughSso, type GatewaySp } from './harness.js';

/**
 * Child processes run asynchronously: a synchronous one blocks the in-process gateway's event loop
 * for seconds, its kept-alive sockets expire and the next fetch fails ("fetch failed").
 */
const run = promisify(execFile);

const body = (pem: string): string => pem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s+/g, '');

describe('OIOSAML 3 signing key life cycle and rollover in the gateway (issue 15)', () => {
  let gw: TestGateway;
  let keys: SamlKeyRing;
  let admin: ApiClient;
  let person: { auth: SoftAuthenticator; email: string };

  before(async () => {
    gw = await startTestGateway({ env: SAML_ENV });
    const saml = gw.runtime.saml;
    assert.ok(saml, 'the SAML identity provider runs');
    keys = saml.keys;
    admin = (await activeAdmin(gw)).client;
    const emp = await activeEmployee(gw, admin, 'rollover.person@demo.example', 'Rollover Person');
    person = { auth: emp.auth, email: emp.email };
  });
  after(async () => {
    await gw?.close();
  });

  async function assertionFrom(sp: GatewaySp): Promise<void> {
    const form = postedForm(await signInThroughSso(gw, new ApiClient(gw.origin), person.auth, person.email, sp));
    const { profile } = await sp.saml.validatePostResponseAsync({ SAMLResponse: form.fields['SAMLResponse'] ?? '' });
    assert.ok(profile?.nameID);
  }

  it('NSIS 4.1.6 (Low) 3 / OIOSAML 3 rollover: metadata lists active then next; node-saml accepts assertions before and after the switch; the old key retires, then leaves the HSM and the metadata', async () => {
    const [first] = await keys.keys();
    assert.ok(first && first.state === 'active', 'the gateway made and activated its first SAML key at start');
    const next = await keys.generate(SYSTEM_ACTOR);
    // Step 1: upload { active: A, next: B }; an SP that tries every certificate accepts both.
    const step1 = await idpCertificates(gw);
    assert.deepEqual(step1.map(body), [body(first.certificatePem), body(next.certificatePem)]);
    const sp = await makeGatewaySp(gw, { entityId: 'https://rollover-sp.example.dk/metadata', idpCert: step1 });
    assert.equal((await registerSp(admin, sp)).status, 201);
    await assertionFrom(sp);
    // Step 2: switch; { active: B, previous: A }.
    await keys.activate(next.kid, SYSTEM_ACTOR);
    assert.deepEqual((await idpCertificates(gw)).map(body), [body(next.certificatePem), body(first.certificatePem)]);
    await assertionFrom(sp);
    const onlyOld = await makeGatewaySp(gw, { entityId: 'https://old-cert-sp.example.dk/metadata', idpCert: [first.certificatePem] });
    assert.equal((await registerSp(admin, onlyOld)).status, 201);
    const form = postedForm(await signInThroughSso(gw, new ApiClient(gw.origin), person.auth, person.email, onlyOld));
    await assert.rejects(onlyOld.saml.validatePostResponseAsync({ SAMLResponse: form.fields['SAMLResponse'] ?? '' }), 'the new key signs now: an SP that never got step 1 refuses');
    // Step 3: destroy A; { active: B }.
    await assert.rejects(keys.destroy(next.kid, SYSTEM_ACTOR), (err: unknown) => err instanceof Error && 'code' in err && err.code === 'SAML_KEY_STATE');
    await keys.destroy(first.kid, SYSTEM_ACTOR);
    assert.deepEqual((await idpCertificates(gw)).map(body), [body(next.certificatePem)]);
    assert.deepEqual((await keys.keys()).map((k) => [k.kid, k.state]), [
      [first.kid, 'destroyed'],
      [next.kid, 'active'],
    ]);
    const types = (await auditEntries(gw.runtime.store)).map((e) => e.type);
    for (const t of ['saml.key.generated', 'saml.key.activated', 'saml.key.destroyed']) assert.ok(types.includes(t), `${t} is audited`);
  });

  it('OIOSAML 3 signing certificate from a CA: the PKCS#10 request is signed in the HSM, the issued certificate imports for its key only (X509_KEY_MISMATCH otherwise)', async () => {
    const pending = await keys.generate(SYSTEM_ACTOR);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'saml-ca-'));
    try {
      const csr = path.join(dir, 'req.pem');
      fs.writeFileSync(csr, await keys.certificationRequest(pending.kid));
      await run('openssl', ['req', '-in', csr, '-verify', '-noout']);
      const [caKey, caCert, ext, issued] = ['ca.key', 'ca.pem', 'ext.cnf', 'issued.pem'].map((f) => path.join(dir, f)) as [string, string, string, string];
      await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', caKey, '-out', caCert, '-subj', '/CN=Test OCES3 CA', '-days', '30']);
      fs.writeFileSync(ext, 'keyUsage=critical,digitalSignature\nbasicConstraints=critical,CA:FALSE\n');
      await run('openssl', ['x509', '-req', '-in', csr, '-CA', caCert, '-CAkey', caKey, '-CAcreateserial', '-days', '30', '-sha256', '-extfile', ext, '-out', issued]);
      const active = (await keys.keys()).find((k) => k.state === 'active');
      assert.ok(active);
      await assert.rejects(keys.importCertificate(pending.kid, active.certificatePem, SYSTEM_ACTOR), (err: unknown) => err instanceof Error && 'code' in err && err.code === 'X509_KEY_MISMATCH');
      await keys.importCertificate(pending.kid, fs.readFileSync(issued, 'utf8'), SYSTEM_ACTOR);
      const stored = (await keys.keys()).find((k) => k.kid === pending.kid);
      assert.equal(body(stored?.certificatePem ?? ''), body(fs.readFileSync(issued, 'utf8')));
      assert.ok((await idpCertificates(gw)).map(body).includes(body(fs.readFileSync(issued, 'utf8'))), 'the next certificate is the CA-issued one');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('issue 15: npm run saml:metadata exports the document the gateway publishes at /saml/metadata, for upload to MitID Erhverv', async () => {
    const out = path.join(gw.varDir, 'idp-metadata.xml');
    await run(process.execPath, ['--import', 'tsx', 'scripts/saml.ts', 'metadata', '--out', out], {
      cwd: repoRoot,
      env: { ...process.env, ...SAML_ENV, GATEWAY_VAR_DIR: gw.varDir, GATEWAY_ORIGIN: gw.origin, GATEWAY_PORT: new URL(gw.origin).port, GATEWAY_HSM_PIN_FILE: path.join(repoRoot, 'var', 'hsm-user.pin'), GATEWAY_LOG_LEVEL: 'silent' },
    });
    const published = await (await fetch(`${gw.origin}/saml/metadata`)).text();
    assert.equal(fs.readFileSync(out, 'utf8'), published);
    assert.match(published, /WantAuthnRequestsSigned="true"/);
  });
});
