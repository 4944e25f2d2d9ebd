/**
 * The key policy on both PKCS#11 implementations: every usage attribute stated and read back,
 * the strict and replicated profiles, refusals that fail one request and keep the session pool,
 * and a private key whose public key object is missing.
 */
import assert from 'node:assert/strict';
import { generateKeyObjects } from '../../scripts/lib/keyPairs.js';
import { createPublicKey, randomBytes, verify } from 'node:crypto';
import { after, before, test } from 'node:test';
import * as graphene from 'graphene-pk11';
import {
  type EcP256PublicJwk,
  HsmConnection,
  RULE_GENERATED_HERE,
  RULE_SIGN_ONLY,
  USAGE,
  adoptKeyPair,
  checkSigningKeyPolicy,
  createEs256Signer,
  destroyKeyPair,
  destroyVerified,
  findByIdentity,
  generateSigningKeyPair,
  isHsmError,
  readSigningKeyAttributes,
  usageTemplate,
} from '../../hsm/index.js';
import { importEcKeyPair, uniqueLabel } from './helpers.js';
import { forEachTestToken } from './tokens.js';

function verifies(jwk: EcP256PublicJwk, data: Uint8Array, signature: Uint8Array): boolean {
  return verify('sha256', data, { key: createPublicKey({ key: { ...jwk }, format: 'jwk' }), dsaEncoding: 'ieee-p1363' }, signature);
}

test('the templates state every usage attribute of both objects, from the table the policy check reads', () => {
  assert.deepEqual(usageTemplate('private'), { sign: true, decrypt: false, unwrap: false, derive: false, signRecover: false });
  assert.deepEqual(usageTemplate('public'), { verify: true, encrypt: false, wrap: false, derive: false, verifyRecover: false });
  assert.equal(USAGE.length, 10);
});

forEachTestToken((t) => {
  let connection: HsmConnection;
  const created: string[] = [];

  before(async () => {
    connection = await HsmConnection.open(t.config, { reconnect: { initialDelayMs: 20, maxDelayMs: 200 } });
  });

  after(async () => {
    for (const ckaId of created) await destroyKeyPair(connection, ckaId);
    await connection.close();
  });

  test('NSIS 6 (Low) 4: every usage attribute is read back from the token: the private key only signs, on the token as generated', async () => {
    const key = await generateSigningKeyPair(connection, { label: uniqueLabel('usage') });
    created.push(key.ckaId);
    const { readings, publicKeyPresent } = await readSigningKeyAttributes(connection, key.ckaId);
    assert.equal(publicKeyPresent, true);
    const privateUsage = readings.filter((r) => r.object === 'private' && r.rule === RULE_SIGN_ONLY);
    assert.deepEqual(
      privateUsage.map((r) => [r.attribute, r.actual, r.required, r.complies]),
      [
        ['CKA_SIGN', 'true', true, true],
        ['CKA_DECRYPT', 'false', true, true],
        ['CKA_UNWRAP', 'false', true, true],
        ['CKA_DERIVE', 'false', true, true],
        ['CKA_SIGN_RECOVER', 'false', true, true],
      ],
    );
    // The public key's usage is read back and reported, not required (tpm2-pkcs11 ties it to the private key's).
    const publicUsage = readings.filter((r) => r.object === 'public');
    assert.deepEqual(publicUsage.map((r) => r.attribute), ['CKA_VERIFY', 'CKA_ENCRYPT', 'CKA_WRAP', 'CKA_DERIVE', 'CKA_VERIFY_RECOVER']);
    assert.ok(publicUsage.every((r) => !r.required && /^(true|false)$/.test(r.actual)), JSON.stringify(publicUsage));
    if (key.publicUsage === 'stated') assert.ok(publicUsage.every((r) => r.complies), 'a token that took the stated public usage honours it');
    assert.ok(readings.every((r) => !r.required || r.complies), JSON.stringify(readings.filter((r) => !r.complies)));
  });

  test('a refused key generation (CKR_GENERAL_ERROR on SoftHSM, a vendor code on tpm2-pkcs11) fails that request and keeps the session pool', async () => {
    const generation = connection.generation;
    const id = randomBytes(16);
    await assert.rejects(
      connection.withSession('test: a key on a curve no token has', async (session) => {
        const label = uniqueLabel('bad-curve');
        // OID 1.2.3.4 is no curve: PKCS#11 2.40 lets C_GenerateKeyPair answer CKR_GENERAL_ERROR,
        // CKR_ATTRIBUTE_VALUE_INVALID, CKR_CURVE_NOT_SUPPORTED, CKR_DOMAIN_PARAMS_INVALID... or a vendor code.
        const paramsEC = Buffer.from('06032a0304', 'hex');
        await new Promise<void>((resolve, reject) => {
          session.generateKeyPair(
            graphene.KeyGenMechanism.EC,
            { token: true, private: false, keyType: graphene.KeyType.EC, paramsEC, id, label },
            { token: true, private: true, keyType: graphene.KeyType.EC, id, label, sensitive: true, extractable: false, ...usageTemplate('private') },
            (err) => (err ? reject(err) : resolve()),
          );
        });
      }),
      (err: unknown) => {
        assert.ok(isHsmError(err), String(err));
        assert.equal(err.kind, 'refused', `${err.code} ${err.ckr ?? ''}`);
        if (t.kind === 'softhsm') assert.equal(err.ckr, 'CKR_GENERAL_ERROR');
        return true;
      },
    );
    assert.equal(connection.status, 'ok');
    assert.equal(connection.generation, generation, 'the pool was not rebuilt');
    // And the token's own refusal of the stated public usage (tpm2-pkcs11: CKR_GENERAL_ERROR) is one too.
    const key = await generateSigningKeyPair(connection, { label: uniqueLabel('after-refusal') });
    created.push(key.ckaId);
    assert.equal(connection.generation, generation, 'still the same pool');
    const signer = await createEs256Signer(connection, key.ckaId);
    const data = randomBytes(40);
    assert.ok(verifies(signer.publicJwk, data, await signer.sign(data)));
  });

  test('NSIS 6 (Low) 4: without its public key object, a key is used with the public key recorded at generation once a test signature verifies against it; another recorded key is refused', async () => {
    const key = await generateSigningKeyPair(connection, { label: uniqueLabel('no-public') });
    created.push(key.ckaId);
    const other = await generateSigningKeyPair(connection, { label: uniqueLabel('other') });
    created.push(other.ckaId);
    await connection.withSession('test: losing the public key object', (session) => {
      const [publicObject] = findByIdentity(session, { class: 'public', ckaId: key.ckaId });
      assert.ok(publicObject);
      destroyVerified(session, publicObject, { class: 'public', ckaId: key.ckaId });
    });
    const signer = await createEs256Signer(connection, key.ckaId, { expectedPublicJwk: key.publicJwk });
    assert.equal(signer.publicKeySource, 'recorded');
    const data = randomBytes(32);
    assert.ok(verifies(key.publicJwk, data, await signer.sign(data)));
    await assert.rejects(createEs256Signer(connection, key.ckaId, { expectedPublicJwk: other.publicJwk }), (err: unknown) => {
      assert.ok(isHsmError(err, 'HSM_KEY_POLICY_VIOLATION'), String(err));
      assert.match(err.message, /test signature does not verify/);
      return true;
    });
    await assert.rejects(createEs256Signer(connection, key.ckaId), (err: unknown) => isHsmError(err, 'HSM_KEY_NOT_FOUND'));
    // A public key object that is there must be the recorded one.
    await assert.rejects(createEs256Signer(connection, other.ckaId, { expectedPublicJwk: key.publicJwk }), (err: unknown) => isHsmError(err, 'HSM_KEY_POLICY_VIOLATION'));
  });

  test('NSIS 4.1.6 (Low) 3: a key copied onto the token (not CKA_LOCAL) is refused by the strict profile and taken by the replicated one; SENSITIVE and non-EXTRACTABLE stay required', async () => {
    const ckaId = randomBytes(16).toString('hex');
    const loose = randomBytes(16).toString('hex');
    const imported = await connection
      .withSession('test: importing a key', (session) => {
        importEcKeyPair(session, { privateKey: generateKeyObjects('ec', { namedCurve: 'P-256' }).privateKey, ckaId, label: uniqueLabel('imported') });
        importEcKeyPair(session, { privateKey: generateKeyObjects('ec', { namedCurve: 'P-256' }).privateKey, ckaId: loose, label: uniqueLabel('loose'), sensitive: false });
        return true;
      })
      .catch((err: unknown) => {
        // tpm2-pkcs11 does not take private keys through C_CreateObject: a refusal, the pool stays.
        assert.ok(isHsmError(err) && err.kind === 'refused', String(err));
        return false;
      });
    created.push(ckaId, loose);
    assert.equal(connection.status, 'ok');
    if (!imported) {
      assert.equal(t.kind, 'tpm2', 'SoftHSM imports keys');
      return;
    }
    const strict = await checkSigningKeyPolicy(connection, ckaId, 'ES256', 'strict');
    assert.deepEqual(
      strict.map((v) => [v.attribute, v.actual, v.rule]),
      [
        ['CKA_ALWAYS_SENSITIVE', 'false', RULE_GENERATED_HERE],
        ['CKA_NEVER_EXTRACTABLE', 'false', RULE_GENERATED_HERE],
        ['CKA_LOCAL', 'false', RULE_GENERATED_HERE],
      ],
    );
    assert.deepEqual(await checkSigningKeyPolicy(connection, ckaId, 'ES256', 'replicated'), []);
    await assert.rejects(adoptKeyPair(connection, ckaId, { profile: 'strict' }), (err: unknown) => isHsmError(err, 'HSM_KEY_POLICY_VIOLATION'));
    const adopted = await adoptKeyPair(connection, ckaId, { profile: 'replicated' });
    assert.equal(adopted.publicUsage, 'adopted');
    const publicJwk = adopted.publicJwk;
    assert.ok(publicJwk.kty === 'EC');
    const signer = await createEs256Signer(connection, ckaId, { profile: 'replicated', expectedPublicJwk: publicJwk });
    await assert.rejects(createEs256Signer(connection, ckaId), (err: unknown) => isHsmError(err, 'HSM_KEY_POLICY_VIOLATION'), 'strict by default');
    const data = randomBytes(20);
    assert.ok(verifies(publicJwk, data, await signer.sign(data)));

    const looseViolations = (await checkSigningKeyPolicy(connection, loose, 'ES256', 'replicated')).map((v) => v.attribute);
    assert.deepEqual(looseViolations, ['CKA_SENSITIVE'], 'a key that is not sensitive is refused by every profile');
  });
});
