/**
 * Signing keys on the real SoftHSM token: generation, key policy, ES256.
 */
import assert from 'node:assert/strict';
import { createPublicKey, randomBytes, verify } from 'node:crypto';
import { after, before, test } from 'node:test';
import * as graphene from 'graphene-pk11';
import { calculateJwkThumbprint, compactVerify, importJWK } from 'jose';
import pkcs11 from 'pkcs11js';
import {
  type Es256Signer,
  HsmConnection,
  RULE_NO_CLEAR_TEXT,
  P256_EC_PARAMS,
  checkSigningKeyPolicy,
  createEs256Signer,
  destroyKeyPair,
  findKeyPair,
  generateSigningKeyPair,
  isHsmError,
} from '../../hsm/index.js';
import { testHsmConfig, uniqueLabel, waitFor } from './helpers.js';

let connection: HsmConnection;
const createdKeys: string[] = [];
let goodKeyId: string;

function verifyEs256(signer: Es256Signer, data: Uint8Array, signature: Uint8Array): boolean {
  const publicKey = createPublicKey({ key: { ...signer.publicJwk }, format: 'jwk' });
  return verify('sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature);
}

before(async () => {
  connection = await HsmConnection.open(testHsmConfig(), { reconnect: { initialDelayMs: 20, maxDelayMs: 200 } });
  const ref = await generateSigningKeyPair(connection, { label: uniqueLabel('signing') });
  createdKeys.push(ref.ckaId);
  goodKeyId = ref.ckaId;
});

after(async () => {
  if (!connection) return;
  for (const ckaId of createdKeys) {
    await destroyKeyPair(connection, ckaId);
  }
  await connection.close();
});

test('NSIS 4.1.6 (Low) 3: a generated signing key is sensitive and non-extractable', async () => {
  assert.deepEqual(await checkSigningKeyPolicy(connection, goodKeyId), []);
  await connection.withSession('test: reading attributes', (session) => {
    const { privateKey } = findKeyPair(session, goodKeyId);
    const flag = (type: number): boolean => privateKey.getAttribute(type)[0] === 1;
    assert.equal(flag(pkcs11.CKA_SENSITIVE), true);
    assert.equal(flag(pkcs11.CKA_EXTRACTABLE), false);
    assert.equal(flag(pkcs11.CKA_ALWAYS_SENSITIVE), true);
    assert.equal(flag(pkcs11.CKA_NEVER_EXTRACTABLE), true);
    assert.equal(flag(pkcs11.CKA_LOCAL), true, 'generated on the token');
    assert.deepEqual(privateKey.getAttribute(pkcs11.CKA_EC_PARAMS), P256_EC_PARAMS);
  });
});

test('NSIS 4.1.6 (Low) 3: the private key value cannot be read from the token', async () => {
  await connection.withSession('test: reading CKA_VALUE', (session) => {
    const { privateKey } = findKeyPair(session, goodKeyId);
    assert.throws(() => privateKey.getAttribute(pkcs11.CKA_VALUE), /CKR_ATTRIBUTE_SENSITIVE/);
  });
});

test("NSIS 6 (Low) 4: the broker's private key is a private token object", async () => {
  await connection.withSession('test: reading attributes', (session) => {
    const { privateKey } = findKeyPair(session, goodKeyId);
    assert.equal(privateKey.getAttribute(pkcs11.CKA_TOKEN)[0], 1, 'persistent on the token');
    assert.equal(privateKey.getAttribute(pkcs11.CKA_PRIVATE)[0], 1, 'usable only after C_Login');
    assert.equal(privateKey.getAttribute(pkcs11.CKA_SIGN)[0], 1);
  });
});

test('ES256 signature verifies with node:crypto against the exported JWK', async () => {
  const signer = await createEs256Signer(connection, goodKeyId);
  assert.equal(signer.alg, 'ES256');
  assert.equal(signer.publicJwk.kty, 'EC');
  assert.equal(signer.publicJwk.crv, 'P-256');
  const data = new TextEncoder().encode('header.payload');
  const signature = await signer.sign(data);
  assert.equal(signature.length, 64, 'raw r||s');
  assert.ok(verifyEs256(signer, data, signature));
  assert.ok(!verifyEs256(signer, new TextEncoder().encode('header.payloaX'), signature));
});

test('kid is the RFC 7638 JWK thumbprint', async () => {
  const signer = await createEs256Signer(connection, goodKeyId);
  assert.equal(signer.kid, await calculateJwkThumbprint({ ...signer.publicJwk }, 'sha256'));
});

test('a JWS signed by the HSM verifies with jose', async () => {
  const signer = await createEs256Signer(connection, goodKeyId);
  const payload = new TextEncoder().encode(JSON.stringify({ sub: 'test', iat: 1 }));
  const header = { alg: 'ES256', kid: signer.kid };
  const encode = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url');
  const signingInput = `${encode(new TextEncoder().encode(JSON.stringify(header)))}.${encode(payload)}`;
  const signature = await signer.sign(new TextEncoder().encode(signingInput));
  const jws = `${signingInput}.${encode(signature)}`;
  const result = await compactVerify(jws, await importJWK({ ...signer.publicJwk }, 'ES256'));
  assert.deepEqual(Buffer.from(result.payload), Buffer.from(payload));
  assert.equal(result.protectedHeader.kid, signer.kid);
});

test('concurrent signatures are serialised on the session and all verify', async () => {
  const signer = await createEs256Signer(connection, goodKeyId);
  const messages = Array.from({ length: 20 }, () => randomBytes(100));
  const signatures = await Promise.all(messages.map((m) => signer.sign(m)));
  signatures.forEach((signature, i) => {
    const message = messages[i];
    assert.ok(message);
    assert.ok(verifyEs256(signer, message, signature));
  });
});

test('a key made extractable on purpose is refused for signing', async () => {
  const ckaId = randomBytes(16).toString('hex');
  const label = uniqueLabel('extractable');
  createdKeys.push(ckaId);
  await connection.withSession('test: generating an extractable key', (session) => {
    const id = Buffer.from(ckaId, 'hex');
    session.generateKeyPair(
      graphene.KeyGenMechanism.EC,
      { token: true, private: false, keyType: graphene.KeyType.EC, paramsEC: P256_EC_PARAMS, id, label, verify: true },
      { token: true, private: true, keyType: graphene.KeyType.EC, id, label, sign: true, sensitive: false, extractable: true },
    );
  });

  const violations = await checkSigningKeyPolicy(connection, ckaId);
  const attributes = violations.map((v) => v.attribute);
  assert.ok(attributes.includes('CKA_EXTRACTABLE'), JSON.stringify(violations));
  assert.ok(attributes.includes('CKA_SENSITIVE'), JSON.stringify(violations));
  for (const v of violations.filter((x) => x.attribute === 'CKA_EXTRACTABLE' || x.attribute === 'CKA_SENSITIVE')) {
    assert.equal(v.rule, RULE_NO_CLEAR_TEXT);
  }

  await assert.rejects(createEs256Signer(connection, ckaId), (err: unknown) => {
    assert.ok(isHsmError(err, 'HSM_KEY_POLICY_VIOLATION'), `got ${String(err)}`);
    assert.match(err.message, /CKA_EXTRACTABLE/);
    return true;
  });
});

test('an unknown CKA_ID gives HSM_KEY_NOT_FOUND', async () => {
  await assert.rejects(createEs256Signer(connection, randomBytes(16).toString('hex')), (err: unknown) =>
    isHsmError(err, 'HSM_KEY_NOT_FOUND'),
  );
});

test('a signer keeps working after the HSM session is re-established', async () => {
  const signer = await createEs256Signer(connection, goodKeyId);
  await connection.withSession('test: closing the session behind the connection', (session) => {
    session.close();
  });
  await assert.rejects(signer.sign(new Uint8Array([1, 2, 3])), (err: unknown) => isHsmError(err, 'HSM_UNAVAILABLE'));
  await waitFor(() => connection.status === 'ok');
  const data = new Uint8Array([4, 5, 6]);
  const signature = await signer.sign(data);
  assert.ok(verifyEs256(signer, data, signature));
});
