/**
 * Signing keys on real tokens of both PKCS#11 implementations (SoftHSM 2 and tpm2-pkcs11 over
 * swtpm): generation, key policy, ES256 and PS256 through the session pool.
 */
import assert from 'node:assert/strict';
import { constants, createPublicKey, randomBytes, verify } from 'node:crypto';
import { after, before, test } from 'node:test';
import * as graphene from 'graphene-pk11';
import { calculateJwkThumbprint, compactVerify, importJWK } from 'jose';
import pkcs11 from 'pkcs11js';
import {
  type Es256Signer,
  HsmConnection,
  RULE_NO_CLEAR_TEXT,
  RULE_PS256_KEY,
  P256_EC_PARAMS,
  checkSigningKeyPolicy,
  createEs256Signer,
  createPs256Signer,
  destroyKeyPair,
  findKeyPair,
  generateRsaSigningKeyPair,
  generateSigningKeyPair,
  isHsmError,
  usageTemplate,
} from '../../hsm/index.js';
import { uniqueLabel, waitFor } from './helpers.js';
import { forEachTestToken } from './tokens.js';

/** PKCS#11 2.40 C_GetAttributeValue on a sensitive attribute: CKR_ATTRIBUTE_SENSITIVE, or CKR_ATTRIBUTE_TYPE_INVALID when the object does not expose it at all. */
const UNREADABLE_SECRET = /CKR_ATTRIBUTE_SENSITIVE|CKR_ATTRIBUTE_TYPE_INVALID/;

function verifyEs256(signer: Es256Signer, data: Uint8Array, signature: Uint8Array): boolean {
  const publicKey = createPublicKey({ key: { ...signer.publicJwk }, format: 'jwk' });
  return verify('sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature);
}

forEachTestToken((t) => {
  let connection: HsmConnection;
  const createdKeys: string[] = [];
  let goodKeyId: string;

  before(async () => {
    connection = await HsmConnection.open(t.config, { reconnect: { initialDelayMs: 20, maxDelayMs: 200 } });
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
      assert.throws(() => privateKey.getAttribute(pkcs11.CKA_VALUE), UNREADABLE_SECRET);
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

  test('concurrent signatures through the session pool all verify', async () => {
    const signer = await createEs256Signer(connection, goodKeyId);
    const messages = Array.from({ length: 64 }, () => randomBytes(100));
    const signatures = await Promise.all(messages.map((m) => signer.sign(m)));
    signatures.forEach((signature, i) => {
      const message = messages[i];
      assert.ok(message);
      assert.ok(verifyEs256(signer, message, signature));
    });
  });

  test('NSIS 4.1.6 (Low) 3: a key made extractable on purpose is refused for signing (or not made at all)', async () => {
    const ckaId = randomBytes(16).toString('hex');
    const label = uniqueLabel('extractable');
    createdKeys.push(ckaId);
    const generated = await connection
      .withSession('test: generating an extractable key', (session) => {
        const id = Buffer.from(ckaId, 'hex');
        session.generateKeyPair(
          graphene.KeyGenMechanism.EC,
          { token: true, private: false, keyType: graphene.KeyType.EC, paramsEC: P256_EC_PARAMS, id, label },
          { token: true, private: true, keyType: graphene.KeyType.EC, id, label, ...usageTemplate('private'), sensitive: false, extractable: true },
        );
        return true;
      })
      .catch((err: unknown) => {
        // tpm2-pkcs11 will not make such a key: a refusal of that request, the pool stays.
        assert.ok(isHsmError(err) && err.kind === 'refused', `got ${String(err)}`);
        return false;
      });
    assert.equal(connection.status, 'ok');
    if (!generated) {
      await assert.rejects(createEs256Signer(connection, ckaId), (err: unknown) => isHsmError(err, 'HSM_KEY_NOT_FOUND'));
      return;
    }

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
    await connection.withSession('test: closing all sessions behind the connection', (session) => {
      session.slot.closeAll();
    });
    await assert.rejects(signer.sign(new Uint8Array([1, 2, 3])), (err: unknown) => isHsmError(err, 'HSM_UNAVAILABLE'));
    await waitFor(() => connection.status === 'ok');
    const data = new Uint8Array([4, 5, 6]);
    const signature = await signer.sign(data);
    assert.ok(verifyEs256(signer, data, signature));
  });

  test('C_SignInit without C_Sign does not leave the session stuck', async () => {
    // One session only, so that every operation below runs on "the" session.
    const single = await HsmConnection.open(t.config, { sessions: 1 });
    try {
      const signer = await createEs256Signer(single, goodKeyId);
      await assert.rejects(
        single.withSession('test: C_SignInit, then giving up', (session) => {
          const { privateKey } = findKeyPair(session, goodKeyId);
          session.lib.C_SignInit(session.handle, { mechanism: pkcs11.CKM_ECDSA }, privateKey.handle);
          // The operation is now active on the session (PKCS#11: a second C_SignInit is refused).
          assert.throws(
            () => session.lib.C_SignInit(session.handle, { mechanism: pkcs11.CKM_ECDSA }, privateKey.handle),
            /CKR_OPERATION_ACTIVE/,
          );
          throw new Error('caller gave up between C_SignInit and C_Sign');
        }),
        /gave up/,
      );
      // A C_Sign refused by pkcs11js before it reaches the module (bad argument) also leaves the operation active.
      await assert.rejects(
        single.withSession('test: C_Sign with a bad argument', (session) => {
          const { privateKey } = findKeyPair(session, goodKeyId);
          session.lib.C_SignInit(session.handle, { mechanism: pkcs11.CKM_ECDSA }, privateKey.handle);
          const notABuffer: unknown = 'digest';
          session.lib.C_Sign(session.handle, notABuffer as Buffer, Buffer.alloc(64));
        }),
      );
      for (let i = 0; i < 3; i++) {
        const data = randomBytes(32);
        assert.ok(verifyEs256(signer, data, await signer.sign(data)), `signature ${i} after the aborted operations`);
      }
      assert.equal(single.status, 'ok');
    } finally {
      await single.close();
    }
  });

  test('signers on a single-session pool and a 4-session pool produce valid signatures in parallel', async () => {
    const small = await HsmConnection.open(t.config, { sessions: 1 });
    try {
      const signers = [await createEs256Signer(small, goodKeyId), await createEs256Signer(connection, goodKeyId)];
      for (const signer of signers) {
        const messages = Array.from({ length: 16 }, () => randomBytes(50));
        const signatures = await Promise.all(messages.map((m) => signer.sign(m)));
        signatures.forEach((signature, i) => assert.ok(verifyEs256(signer, messages[i] ?? new Uint8Array(), signature)));
      }
    } finally {
      await small.close();
    }
  });

  // ------------------------------------------------------------------ PS256 (where the token offers it)

  test('PS256: an RSA-3072 key generated on the token signs RSASSA-PSS (SHA-256, MGF1-SHA-256, salt 32)', async () => {
    // Both test tokens (SoftHSM 2.6, tpm2-pkcs11 1.9) offer RSA-PSS, so this runs everywhere we test.
    assert.ok(await connection.supportsMechanism(pkcs11.CKM_RSA_PKCS_PSS, { flags: pkcs11.CKF_SIGN }), 'the test token offers CKM_RSA_PKCS_PSS');
    const ref = await generateRsaSigningKeyPair(connection, { label: uniqueLabel('ps256') });
    createdKeys.push(ref.ckaId);
    assert.deepEqual(await checkSigningKeyPolicy(connection, ref.ckaId, 'PS256'), []);
    await connection.withSession('test: reading attributes', (session) => {
      const { privateKey, publicKey } = findKeyPair(session, ref.ckaId);
      assert.equal(privateKey.getAttribute(pkcs11.CKA_EXTRACTABLE)[0], 0);
      assert.equal(privateKey.getAttribute(pkcs11.CKA_SENSITIVE)[0], 1);
      assert.equal(privateKey.getAttribute(pkcs11.CKA_DECRYPT)[0], 0, 'a signing key does not decrypt');
      assert.throws(() => privateKey.getAttribute(pkcs11.CKA_PRIVATE_EXPONENT), UNREADABLE_SECRET);
      assert.equal(publicKey.getAttribute(pkcs11.CKA_MODULUS).length, 384, '3072 bits');
    });
    // There is no ES256 (EC) key under that CKA_ID.
    await assert.rejects(createEs256Signer(connection, ref.ckaId), (err: unknown) => isHsmError(err, 'HSM_KEY_NOT_FOUND'));

    const signer = await createPs256Signer(connection, ref.ckaId);
    assert.equal(signer.alg, 'PS256');
    assert.equal(signer.kid, await calculateJwkThumbprint({ ...signer.publicJwk }, 'sha256'));
    const publicKey = createPublicKey({ key: { ...signer.publicJwk }, format: 'jwk' });
    const messages = Array.from({ length: 8 }, () => randomBytes(100));
    const signatures = await Promise.all(messages.map((m) => signer.sign(m)));
    signatures.forEach((signature, i) => {
      assert.equal(signature.length, 384);
      const ok = verify('sha256', messages[i] ?? new Uint8Array(), { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, signature);
      assert.ok(ok, `PS256 signature ${i} verifies with node:crypto`);
    });

    const encode = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url');
    const header = encode(new TextEncoder().encode(JSON.stringify({ alg: 'PS256', kid: signer.kid })));
    const payload = encode(new TextEncoder().encode(JSON.stringify({ sub: 'test' })));
    const signature = await signer.sign(new TextEncoder().encode(`${header}.${payload}`));
    const result = await compactVerify(`${header}.${payload}.${encode(signature)}`, await importJWK({ ...signer.publicJwk }, 'PS256'));
    assert.equal(result.protectedHeader.alg, 'PS256');
  });

  test('PS256: an RSA key under 3072 bits is refused', async () => {
    assert.ok(
      await connection.supportsMechanism(pkcs11.CKM_RSA_PKCS_KEY_PAIR_GEN, { flags: pkcs11.CKF_GENERATE_KEY_PAIR, keyBits: 2048 }),
      'the test token generates 2048-bit RSA keys',
    );
    await assert.rejects(generateRsaSigningKeyPair(connection, { label: uniqueLabel('rsa-small'), modulusBits: 2048 }), (err: unknown) =>
      isHsmError(err, 'HSM_KEY_POLICY_VIOLATION'),
    );
    const ckaId = randomBytes(16).toString('hex');
    const label = uniqueLabel('rsa-2048');
    createdKeys.push(ckaId);
    await connection.withSession('test: generating a 2048-bit RSA key', (session) => {
      const id = Buffer.from(ckaId, 'hex');
      session.generateKeyPair(
        graphene.KeyGenMechanism.RSA,
        { token: true, private: false, keyType: graphene.KeyType.RSA, modulusBits: 2048, publicExponent: Buffer.from([1, 0, 1]), id, label },
        { token: true, private: true, keyType: graphene.KeyType.RSA, id, label, ...usageTemplate('private'), sensitive: true, extractable: false },
      );
    });
    const violations = await checkSigningKeyPolicy(connection, ckaId, 'PS256');
    assert.deepEqual(
      violations.map((v) => [v.attribute, v.actual, v.rule]),
      [['CKA_MODULUS', '2048 bits', RULE_PS256_KEY]],
    );
    await assert.rejects(createPs256Signer(connection, ckaId), (err: unknown) => isHsmError(err, 'HSM_KEY_POLICY_VIOLATION'));
  });
});
