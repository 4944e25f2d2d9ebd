/**
 * Objects by identity, never by an unchecked handle, on both PKCS#11 implementations.
 *
 * tpm2-pkcs11 1.9 (Debian 12) reproduces upstream #931: after a C_DestroyObject, the next
 * C_GenerateKeyPair in the same process returns handles that already belong to a live key, and
 * C_FindObjects by the new key's CKA_ID answers with them too. Destroying by those handles
 * deleted the active key's public key object. These tests make the sequence happen (it is
 * harmless on SoftHSM) and prove the rule that makes it harmless everywhere.
 */
import assert from 'node:assert/strict';
import { createPublicKey, randomBytes, verify } from 'node:crypto';
import { after, before, test } from 'node:test';
import pkcs11 from 'pkcs11js';
import {
  type EcP256PublicJwk,
  HsmConnection,
  createEs256Signer,
  destroyKeyPair,
  destroyVerified,
  findByIdentity,
  findKeyPair,
  generateSigningKeyPair,
  isHsmError,
} from '../../hsm/index.js';
import { uniqueLabel } from './helpers.js';
import { forEachTestToken } from './tokens.js';

function verifies(jwk: EcP256PublicJwk, data: Uint8Array, signature: Uint8Array): boolean {
  return verify('sha256', data, { key: createPublicKey({ key: { ...jwk }, format: 'jwk' }), dsaEncoding: 'ieee-p1363' }, signature);
}

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

  test('NSIS 6 (Low) 4: generate K1 and K2, destroy K1, generate K3 in one process (tpm2-pkcs11 #931): the live key K2 keeps both objects and signs, K3 is found by identity and signs', async (ctx) => {
    const k1 = await generateSigningKeyPair(connection, { label: uniqueLabel('k1') });
    const k2 = await generateSigningKeyPair(connection, { label: uniqueLabel('k2') });
    created.push(k2.ckaId);
    const live = await createEs256Signer(connection, k2.ckaId, { expectedPublicJwk: k2.publicJwk });
    assert.equal(await destroyKeyPair(connection, k1.ckaId), 2, 'K1: private and public key object');

    const k3 = await generateSigningKeyPair(connection, { label: uniqueLabel('k3') });
    created.push(k3.ckaId);
    ctx.diagnostic(
      k3.recoveredFromHandleMismatch
        ? `the token returned handles of another object; reset and found by identity: ${k3.recoveredFromHandleMismatch}`
        : 'the token returned the new key under handles of its own',
    );

    await connection.withSession('test: K1 gone, K2 and K3 whole', (session) => {
      assert.deepEqual(findByIdentity(session, { class: 'private', ckaId: k1.ckaId }), []);
      assert.deepEqual(findByIdentity(session, { class: 'public', ckaId: k1.ckaId }), []);
      for (const key of [k2, k3]) {
        const pair = findKeyPair(session, key.ckaId, { algorithm: 'ES256', label: key.label });
        assert.ok(pair.privateKey && pair.publicKey, `${key.label}: both objects`);
      }
    });
    const data = randomBytes(64);
    assert.ok(verifies(k2.publicJwk, data, await live.sign(data)), 'the live key signs with the signer made before');
    const fresh = await createEs256Signer(connection, k2.ckaId, { expectedPublicJwk: k2.publicJwk });
    assert.equal(fresh.publicKeySource, 'token', "K2's public key object is still on the token");
    assert.ok(verifies(k2.publicJwk, data, await fresh.sign(data)));
    const third = await createEs256Signer(connection, k3.ckaId, { expectedPublicJwk: k3.publicJwk });
    assert.ok(verifies(k3.publicJwk, data, await third.sign(data)));
    assert.notEqual(fresh.kid, third.kid);
  });

  test('NSIS 6 (Low) 4: a destroy is refused when the attributes read through the handle do not match the key to destroy; nothing is destroyed', async () => {
    const keep = await generateSigningKeyPair(connection, { label: uniqueLabel('keep') });
    created.push(keep.ckaId);
    const otherId = randomBytes(16).toString('hex');
    await connection.withSession('test: destroying by a handle of another key', (session) => {
      const [publicObject] = findByIdentity(session, { class: 'public', ckaId: keep.ckaId });
      assert.ok(publicObject);
      // As if the module had answered a lookup of `otherId` with this handle (tpm2-pkcs11 #931).
      assert.throws(
        () => destroyVerified(session, publicObject, { class: 'public', ckaId: otherId }),
        (err: unknown) => isHsmError(err, 'HSM_OBJECT_MISMATCH') && err.message.includes(keep.ckaId) && err.message.includes(otherId),
      );
      // The class is part of the identity too.
      assert.throws(() => destroyVerified(session, publicObject, { class: 'private', ckaId: keep.ckaId }), (err: unknown) => isHsmError(err, 'HSM_OBJECT_MISMATCH'));
      assert.equal(findByIdentity(session, { class: 'public', ckaId: keep.ckaId }).length, 1, 'still there');
    });
    const signer = await createEs256Signer(connection, keep.ckaId, { expectedPublicJwk: keep.publicJwk });
    assert.equal(signer.publicKeySource, 'token');
  });

  test('destroyKeyPair destroys exactly the objects that read back with the CKA_ID', async () => {
    const a = await generateSigningKeyPair(connection, { label: uniqueLabel('a') });
    const b = await generateSigningKeyPair(connection, { label: uniqueLabel('b') });
    created.push(b.ckaId);
    assert.equal(await destroyKeyPair(connection, a.ckaId), 2);
    assert.equal(await destroyKeyPair(connection, a.ckaId), 0, 'nothing left to destroy');
    await connection.withSession('test: b untouched', (session) => {
      assert.ok(findKeyPair(session, b.ckaId, { algorithm: 'ES256' }));
    });
  });
  test('a key left in use by a session closed in the middle of a signature is still destroyed completely (tpm2-pkcs11 refuses with CKR_FUNCTION_FAILED until a reset)', async (ctx) => {
    const key = await generateSigningKeyPair(connection, { label: uniqueLabel('in-use') });
    await assert.rejects(
      connection.withSession('test: C_SignInit, then giving up', (session) => {
        const [privateKey] = findByIdentity(session, { class: 'private', ckaId: key.ckaId });
        assert.ok(privateKey);
        session.lib.C_SignInit(session.handle, { mechanism: pkcs11.CKM_ECDSA }, privateKey.handle);
        throw new Error('gave up between C_SignInit and C_Sign');
      }),
      /gave up/,
    );
    // The failed operation's session was closed and replaced by the pool.
    const generation = connection.generation;
    assert.equal(await destroyKeyPair(connection, key.ckaId), 2, 'private and public key object');
    ctx.diagnostic(connection.generation === generation ? 'destroyed at the first attempt' : 'the token refused at first; destroyed after a reset');
    await connection.withSession('test: nothing left', (session) => {
      assert.deepEqual(findByIdentity(session, { class: 'private', ckaId: key.ckaId }), []);
      assert.deepEqual(findByIdentity(session, { class: 'public', ckaId: key.ckaId }), []);
    });
  });

  // An empty tpm2 token: K1 gets the first object handles, the case tpm2-pkcs11 #931 gets wrong.
}, { tpm2: 'fresh' });
