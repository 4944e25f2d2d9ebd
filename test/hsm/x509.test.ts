/**
 * The SAML signing key on the real SoftHSM token: RSASSA-PKCS1-v1_5 SHA-256
 * through CKM_RSA_PKCS, and the X.509 certificate and PKCS#10 request whose
 * signatures the token makes, checked with OpenSSL.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate, createPublicKey, verify } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { HsmConnection, destroyKeyPair, generateRsaSigningKeyPair } from '../../hsm/index.js';
import { type RsaPkcs1Sha256Signer, SHA256_DIGEST_INFO_PREFIX, createRsaPkcs1Sha256Signer } from '../../hsm/rsaPkcs1Signer.js';
import { createCertificationRequest, createSelfSignedCertificate, importCertificate, isX509Error } from '../../hsm/x509/index.js';
import { testHsmConfig, uniqueLabel } from './helpers.js';

let connection: HsmConnection;
let signer: RsaPkcs1Sha256Signer;
let otherSigner: RsaPkcs1Sha256Signer;
const created: string[] = [];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'x509-test-'));

const subject = { country: 'DK', organization: 'Testorganisation A/S', organizationIdentifier: 'NTRDK-12345674', commonName: 'Lokal IdP signering' };
const NOW = new Date('2026-06-01T10:00:00Z');

function openssl(args: string[]): string {
  return execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

before(async () => {
  connection = await HsmConnection.open(testHsmConfig());
  for (const purpose of ['saml-sign', 'saml-other']) {
    const ref = await generateRsaSigningKeyPair(connection, { label: uniqueLabel(purpose) });
    created.push(ref.ckaId);
  }
  signer = await createRsaPkcs1Sha256Signer(connection, created[0] ?? '');
  otherSigner = await createRsaPkcs1Sha256Signer(connection, created[1] ?? '');
});

after(async () => {
  if (connection) {
    for (const ckaId of created) await destroyKeyPair(connection, ckaId);
    await connection.close();
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

test('NSIS 6 (Low) 4, (High) 13-14: the SAML signing key is RSA 3072 generated on the token and signs RS256 (PKCS#1 v1.5, SHA-256) verifiable with its public key', async () => {
  assert.equal(signer.modulusBytes, 384, 'RSA 3072 by default');
  const data = new TextEncoder().encode('<ds:SignedInfo>...</ds:SignedInfo>');
  const signature = await signer.sign(data);
  assert.equal(signature.length, 384);
  const publicKey = createPublicKey({ key: { ...signer.publicJwk }, format: 'jwk' });
  assert.equal(verify('sha256', data, publicKey, signature), true);
  assert.equal(verify('sha256', new TextEncoder().encode('other'), publicKey, signature), false);
  // Deterministic scheme: same input, same signature (a PSS signature would differ).
  assert.deepEqual(await signer.sign(data), signature);
  assert.equal(SHA256_DIGEST_INFO_PREFIX.length, 19);
});

test('NSIS 6 (Low) 4: RS256 signatures run in parallel over the session pool', async () => {
  const inputs = Array.from({ length: 8 }, (_, i) => new TextEncoder().encode(`message ${i}`));
  const signatures = await Promise.all(inputs.map((d) => signer.sign(d)));
  const publicKey = createPublicKey({ key: { ...signer.publicJwk }, format: 'jwk' });
  signatures.forEach((s, i) => assert.equal(verify('sha256', inputs[i] ?? new Uint8Array(), publicKey, s), true));
});

test('OIOSAML 3 signing certificate: a self-signed X.509 certificate signed by the token key verifies with OpenSSL', async () => {
  const cert = await createSelfSignedCertificate(signer, { subject, notBefore: NOW, notAfter: new Date('2028-06-01T10:00:00Z') });
  const file = path.join(dir, 'self.pem');
  fs.writeFileSync(file, cert.pem);
  // -check_ss_sig: OpenSSL checks the signature of the self-signed certificate itself (made on the token).
  const out = openssl(['verify', '-partial_chain', '-check_ss_sig', '-attime', String(NOW.getTime() / 1000 + 60), '-CAfile', file, file]);
  assert.match(out, /: OK/);
  // The same certificate with one bit of the token's signature flipped fails the same check.
  const tampered = Buffer.from(cert.der);
  tampered[tampered.length - 1] = (tampered[tampered.length - 1] ?? 0) ^ 1;
  const bad = path.join(dir, 'tampered.pem');
  fs.writeFileSync(bad, new X509Certificate(tampered).toString());
  assert.throws(() => openssl(['verify', '-partial_chain', '-check_ss_sig', '-CAfile', bad, bad]), /signature failure/);
  const text = openssl(['x509', '-in', file, '-noout', '-text']);
  assert.match(text, /Signature Algorithm: sha256WithRSAEncryption/);
  assert.match(text, /Public-Key: \(3072 bit\)/);
  assert.match(text, /Subject: C = DK, O = Testorganisation A\/S, organizationIdentifier = NTRDK-12345674, CN = Lokal IdP signering/);
  assert.match(text, /X509v3 Basic Constraints: critical\s+CA:FALSE/);
  assert.match(text, /X509v3 Key Usage: critical\s+Digital Signature/);
  const x509 = new X509Certificate(cert.der);
  assert.equal(x509.verify(createPublicKey({ key: { ...signer.publicJwk }, format: 'jwk' })), true);
  const imported = importCertificate(cert.pem, signer.spki, NOW);
  assert.equal(imported.selfSigned, true);
  assert.equal(imported.notAfter.toISOString(), '2028-06-01T10:00:00.000Z');
});

test('RFC 5280 4.1.2.2, X.690 8.3.2: serial numbers are minimal positive DER integers, whatever octets they are drawn from', async () => {
  for (const [octets, hex] of [
    [[0x00, 0x01, 0x02], '0102'],
    [[0x00, 0x00, 0x9f], '9F'],
    [[0x80, 0x01], '8001'],
    [[0x7f], '7F'],
  ] as const) {
    const cert = await createSelfSignedCertificate(signer, { subject, notBefore: NOW, notAfter: new Date('2027-06-01T10:00:00Z'), serialNumber: Uint8Array.from(octets) });
    // Node's parser (OpenSSL) refuses a non-minimal INTEGER: parsing is the check.
    assert.equal(new X509Certificate(cert.der).serialNumber, hex);
  }
});

test('OIOSAML 3 signing certificate: the PKCS#10 request for the CA (OCES3) is signed by the token key and verifies with OpenSSL', async () => {
  const csr = await createCertificationRequest(signer, subject);
  const file = path.join(dir, 'req.pem');
  fs.writeFileSync(file, csr.pem);
  const out = openssl(['req', '-in', file, '-verify', '-noout', '-text']);
  assert.match(out, /Subject: C = DK, O = Testorganisation A\/S, organizationIdentifier = NTRDK-12345674, CN = Lokal IdP signering/);
  assert.match(out, /Public-Key: \(3072 bit\)/);
  // A CA issues a certificate for the request (here: an OpenSSL test CA); the issued certificate imports.
  const caKey = path.join(dir, 'ca.key');
  const caCert = path.join(dir, 'ca.pem');
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', caKey, '-out', caCert, '-subj', '/CN=Test CA', '-days', '3650']);
  const ext = path.join(dir, 'ext.cnf');
  fs.writeFileSync(ext, 'keyUsage=critical,digitalSignature\nbasicConstraints=critical,CA:FALSE\n');
  const issued = path.join(dir, 'issued.pem');
  openssl(['x509', '-req', '-in', file, '-CA', caCert, '-CAkey', caKey, '-CAcreateserial', '-days', '365', '-sha256', '-extfile', ext, '-out', issued]);
  const imported = importCertificate(fs.readFileSync(issued, 'utf8'), signer.spki, new Date());
  assert.equal(imported.selfSigned, false);
  assert.match(imported.issuer, /CN=Test CA/);
  assert.match(imported.sha256, /^[0-9a-f]{64}$/);
});

test('OIOSAML 3 signing certificate: a certificate issued for another key is refused at import (X509_KEY_MISMATCH)', async () => {
  const other = await createSelfSignedCertificate(otherSigner, { subject, notBefore: NOW, notAfter: new Date('2027-06-01T10:00:00Z') });
  assert.throws(() => importCertificate(other.pem, signer.spki, NOW), (err) => isX509Error(err, 'X509_KEY_MISMATCH'));
});

test('OIOSAML 3 signing certificate: an expired, a CA or a malformed certificate is refused at import', async () => {
  const cert = await createSelfSignedCertificate(signer, { subject, notBefore: NOW, notAfter: new Date('2026-07-01T10:00:00Z') });
  assert.throws(() => importCertificate(cert.der, signer.spki, new Date('2026-08-01T00:00:00Z')), (err) => isX509Error(err, 'X509_NOT_VALID_NOW'));
  assert.throws(() => importCertificate('not a certificate', signer.spki, NOW), (err) => isX509Error(err, 'X509_MALFORMED'));
  assert.throws(() => importCertificate(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]), signer.spki, NOW), (err) => isX509Error(err, 'X509_MALFORMED'));
  const caKey = path.join(dir, 'ca2.key');
  const caCert = path.join(dir, 'ca2.pem');
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', caKey, '-out', caCert, '-subj', '/CN=Another CA', '-days', '30']);
  const caSpki = new X509Certificate(fs.readFileSync(caCert)).publicKey.export({ type: 'spki', format: 'der' });
  assert.throws(() => importCertificate(fs.readFileSync(caCert, 'utf8'), new Uint8Array(caSpki), new Date()), (err) => isX509Error(err, 'X509_WRONG_USAGE'));
});

test('OIOSAML 3 signing certificate: a bad subject or validity is a programming error (X509_BAD_REQUEST)', async () => {
  await assert.rejects(createSelfSignedCertificate(signer, { subject, notBefore: NOW, notAfter: NOW }), (err) => isX509Error(err, 'X509_BAD_REQUEST'));
  await assert.rejects(createCertificationRequest(signer, { commonName: '' }), (err) => isX509Error(err, 'X509_BAD_REQUEST'));
  await assert.rejects(createCertificationRequest(signer, { commonName: 'x', country: 'Denmark' }), (err) => isX509Error(err, 'X509_BAD_REQUEST'));
});
