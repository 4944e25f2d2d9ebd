import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPublicKey, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type WebAuthnCredential,
} from '@simplewebauthn/server';
import { isoCBOR } from '@simplewebauthn/server/helpers';
import { SoftAuthenticator, type SoftAttestation } from '../support/softAuthenticator.js';

const RP_ID = 'gateway.test';
const ORIGIN = 'https://gateway.test';

async function registrationOptions() {
  return generateRegistrationOptions({
    rpName: 'Gateway',
    rpID: RP_ID,
    userName: 'alice@example.test',
    attestationType: 'direct',
    authenticatorSelection: { residentKey: 'preferred', userVerification: 'required' },
  });
}

async function register(
  auth: SoftAuthenticator,
): Promise<{ credential: WebAuthnCredential; userHandle: string }> {
  const options = await registrationOptions();
  const response = await auth.createCredential({ ...options, origin: ORIGIN });
  const result = await verifyRegistrationResponse({
    response,
    expectedChallenge: options.challenge,
    expectedOrigin: ORIGIN,
    expectedRPID: RP_ID,
    requireUserVerification: true,
  });
  assert.equal(result.verified, true);
  assert.ok(result.registrationInfo);
  return { credential: result.registrationInfo.credential, userHandle: options.user.id };
}

async function authenticate(
  response: AuthenticationResponseJSON,
  challenge: string,
  credential: WebAuthnCredential,
  origin = ORIGIN,
) {
  return verifyAuthenticationResponse({
    response,
    expectedChallenge: challenge,
    expectedOrigin: origin,
    expectedRPID: RP_ID,
    credential,
    requireUserVerification: true,
  });
}

/** Node KeyObject from a COSE EC2 P-256 public key (independent of @simplewebauthn). */
function publicKeyFromCose(cose: Uint8Array): KeyObject {
  const map = isoCBOR.decodeFirst<Map<number, unknown>>(new Uint8Array(cose));
  const x = map.get(-2);
  const y = map.get(-3);
  assert.equal(map.get(1), 2);
  assert.equal(map.get(3), -7);
  assert.equal(map.get(-1), 1);
  assert.ok(x instanceof Uint8Array && y instanceof Uint8Array);
  return createPublicKey({
    key: {
      kty: 'EC',
      crv: 'P-256',
      x: Buffer.from(x).toString('base64url'),
      y: Buffer.from(y).toString('base64url'),
    },
    format: 'jwk',
  });
}

/** Rejected = throws, or resolves with verified === false. */
async function assertRejected(p: Promise<{ verified: boolean }>, pattern?: RegExp): Promise<void> {
  let result: { verified: boolean };
  try {
    result = await p;
  } catch (err) {
    if (pattern) assert.match((err as Error).message, pattern);
    return;
  }
  assert.equal(result.verified, false, 'expected the response to be rejected');
  assert.equal(pattern, undefined, `expected an error matching ${String(pattern)}`);
}

describe('SoftAuthenticator registration', () => {
  for (const attestation of ['none', 'packed-self'] as SoftAttestation[]) {
    test(`attestation '${attestation}' verifies with requireUserVerification`, async () => {
      const auth = new SoftAuthenticator({
        attestation,
        aaguid: '2fc0579f-8113-47ea-b116-bb5a8db9202a',
      });
      const options = await registrationOptions();
      const response = await auth.createCredential({ ...options, origin: ORIGIN });

      assert.equal(response.type, 'public-key');
      assert.equal(response.id, response.rawId);
      assert.equal(response.authenticatorAttachment, 'cross-platform');
      assert.deepEqual(response.clientExtensionResults, {});
      assert.deepEqual(response.response.transports, ['usb']);
      const idLen = Buffer.from(response.id, 'base64url').length;
      assert.ok(idLen >= 16 && idLen <= 32);

      const attObj = isoCBOR.decodeFirst<Map<string, unknown>>(
        Buffer.from(response.response.attestationObject, 'base64url'),
      );
      assert.equal(attObj.get('fmt'), attestation === 'none' ? 'none' : 'packed');

      const result = await verifyRegistrationResponse({
        response,
        expectedChallenge: options.challenge,
        expectedOrigin: ORIGIN,
        expectedRPID: RP_ID,
        requireUserVerification: true,
      });
      assert.equal(result.verified, true);
      const info = result.registrationInfo;
      assert.ok(info);
      assert.equal(info.fmt, attestation === 'none' ? 'none' : 'packed');
      assert.equal(info.aaguid, '2fc0579f-8113-47ea-b116-bb5a8db9202a');
      assert.equal(info.credential.id, response.id);
      assert.equal(info.credential.counter, 0);
      assert.equal(info.userVerified, true);
      assert.equal(info.credentialDeviceType, 'singleDevice');
      assert.equal(info.credentialBackedUp, false);
      assert.deepEqual(auth.credentialIds(), [response.id]);
      // Canonical CTAP2 COSE_Key: {1:2, 3:-7, -1:1, -2:x(32), -3:y(32)}
      const cose = Buffer.from(info.credential.publicKey);
      assert.equal(cose.length, 77);
      assert.equal(cose.subarray(0, 10).toString('hex'), 'a5010203262001215820');
      assert.equal(cose.subarray(42, 45).toString('hex'), '225820');
      assert.ok(cose.equals(Buffer.from(auth.publicKeyCose(response.id))));
    });
  }

  test('backup flags are reflected', async () => {
    const auth = new SoftAuthenticator({ backupEligible: true, backupState: true });
    const options = await registrationOptions();
    const response = await auth.createCredential({ ...options, origin: ORIGIN });
    const result = await verifyRegistrationResponse({
      response,
      expectedChallenge: options.challenge,
      expectedOrigin: ORIGIN,
      expectedRPID: RP_ID,
    });
    assert.equal(result.registrationInfo?.credentialDeviceType, 'multiDevice');
    assert.equal(result.registrationInfo?.credentialBackedUp, true);
  });

  test('excludeCredentials is honoured', async () => {
    const auth = new SoftAuthenticator();
    const { credential } = await register(auth);
    const options = await generateRegistrationOptions({
      rpName: 'Gateway',
      rpID: RP_ID,
      userName: 'alice@example.test',
      excludeCredentials: [{ id: credential.id }],
    });
    await assert.rejects(auth.createCredential({ ...options, origin: ORIGIN }), {
      name: 'InvalidStateError',
    });
  });

  test('wrong origin, wrong challenge, wrong RP ID, missing UV are rejected', async () => {
    const auth = new SoftAuthenticator();
    const cases = [
      { overrides: { origin: 'https://evil.test' }, pattern: /origin/i },
      { overrides: { challenge: Buffer.from('other').toString('base64url') }, pattern: /challenge/i },
      { overrides: { rpId: 'evil.test' }, pattern: /RP ID/i },
      { overrides: { userVerified: false }, pattern: /verif/i },
      { overrides: { type: 'webauthn.get' }, pattern: /type/i },
    ];
    for (const { overrides, pattern } of cases) {
      const options = await registrationOptions();
      const response = await auth.createCredential({ ...options, origin: ORIGIN }, overrides);
      await assertRejected(
        verifyRegistrationResponse({
          response,
          expectedChallenge: options.challenge,
          expectedOrigin: ORIGIN,
          expectedRPID: RP_ID,
          requireUserVerification: true,
        }),
        pattern,
      );
    }
  });
});

describe('SoftAuthenticator authentication', () => {
  test('assertion verifies and the counter increments', async () => {
    const auth = new SoftAuthenticator({ attestation: 'packed-self' });
    const { credential, userHandle } = await register(auth);

    let stored = credential;
    for (const expected of [1, 2, 3]) {
      const options = await generateAuthenticationOptions({
        rpID: RP_ID,
        allowCredentials: [{ id: stored.id, transports: ['usb'] }],
        userVerification: 'required',
      });
      const response = await auth.getAssertion(options, ORIGIN);
      assert.equal(response.id, stored.id);
      assert.equal(response.response.userHandle, userHandle);
      assert.equal(response.authenticatorAttachment, 'cross-platform');

      const result = await authenticate(response, options.challenge, stored);
      assert.equal(result.verified, true);
      assert.equal(result.authenticationInfo.newCounter, expected);
      assert.equal(result.authenticationInfo.userVerified, true);
      stored = { ...stored, counter: result.authenticationInfo.newCounter };
    }
    assert.equal(auth.getCounter(stored.id), 3);
  });

  test('discoverable credential is used when allowCredentials is empty', async () => {
    const auth = new SoftAuthenticator();
    const { credential, userHandle } = await register(auth);
    const options = await generateAuthenticationOptions({ rpID: RP_ID });
    const response = await auth.getAssertion(options, ORIGIN);
    assert.equal(response.id, credential.id);
    assert.equal(response.response.userHandle, userHandle);
    const result = await authenticate(response, options.challenge, credential);
    assert.equal(result.verified, true);
  });

  test('a credential not in allowCredentials is not used', async () => {
    const auth = new SoftAuthenticator();
    await register(auth);
    const options = await generateAuthenticationOptions({
      rpID: RP_ID,
      allowCredentials: [{ id: Buffer.alloc(16, 7).toString('base64url') }],
    });
    await assert.rejects(auth.getAssertion(options, ORIGIN), { name: 'NotAllowedError' });
  });

  test('tampered signature, wrong origin, wrong RP ID, wrong challenge, missing UV are rejected', async () => {
    const auth = new SoftAuthenticator();
    const { credential } = await register(auth);
    const cases = [
      { overrides: { origin: 'https://evil.test' }, pattern: /origin/i },
      { overrides: { challenge: Buffer.from('replayed').toString('base64url') }, pattern: /challenge/i },
      { overrides: { userVerified: false }, pattern: /verif/i },
      { overrides: { userPresent: false }, pattern: /present/i },
      { overrides: { rpId: 'evil.test' }, pattern: /RP ID/i },
    ];
    for (const { overrides, pattern } of cases) {
      const options = await generateAuthenticationOptions({
        rpID: RP_ID,
        allowCredentials: [{ id: credential.id }],
      });
      const response = await auth.getAssertion(options, ORIGIN, overrides);
      // counter 0 in the stored credential, so the counter check never interferes here
      await assertRejected(authenticate(response, options.challenge, credential), pattern);
    }

    // A flipped signature bit: well-formed DER, so verification runs and yields verified: false.
    const tamperOptions = await generateAuthenticationOptions({
      rpID: RP_ID,
      allowCredentials: [{ id: credential.id }],
    });
    const tampered = await auth.getAssertion(tamperOptions, ORIGIN, { tamperSignature: true });
    const tamperResult = await authenticate(tampered, tamperOptions.challenge, credential);
    assert.equal(tamperResult.verified, false);

    // Sanity: the same authenticator still produces acceptable assertions.
    const options = await generateAuthenticationOptions({ rpID: RP_ID });
    const ok = await authenticate(await auth.getAssertion(options, ORIGIN), options.challenge, credential);
    assert.equal(ok.verified, true);
  });

  test('authenticator without UV is rejected when UV is required, accepted otherwise', async () => {
    const auth = new SoftAuthenticator({ userVerification: false });
    const options = await registrationOptions();
    const response = await auth.createCredential({ ...options, origin: ORIGIN });
    await assertRejected(
      verifyRegistrationResponse({
        response,
        expectedChallenge: options.challenge,
        expectedOrigin: ORIGIN,
        expectedRPID: RP_ID,
        requireUserVerification: true,
      }),
      /verif/i,
    );
    const reg = await verifyRegistrationResponse({
      response,
      expectedChallenge: options.challenge,
      expectedOrigin: ORIGIN,
      expectedRPID: RP_ID,
      requireUserVerification: false,
    });
    assert.ok(reg.registrationInfo);
    const authOptions = await generateAuthenticationOptions({ rpID: RP_ID });
    const assertion = await auth.getAssertion(authOptions, ORIGIN);
    await assertRejected(
      authenticate(assertion, authOptions.challenge, reg.registrationInfo.credential),
      /verif/i,
    );
  });

  test('a cloned credential signs validly but with a lower counter', async () => {
    const original = new SoftAuthenticator();
    const { credential } = await register(original);

    // Use the original a few times; the server tracks the counter.
    let stored = credential;
    for (let i = 0; i < 5; i++) {
      const options = await generateAuthenticationOptions({
        rpID: RP_ID,
        allowCredentials: [{ id: stored.id }],
      });
      const result = await authenticate(
        await original.getAssertion(options, ORIGIN),
        options.challenge,
        stored,
      );
      assert.equal(result.verified, true);
      stored = { ...stored, counter: result.authenticationInfo.newCounter };
    }
    assert.equal(stored.counter, 5);

    // Clone (same private key) into a second authenticator with a lower counter.
    const exported = original.exportCredential(stored.id);
    const clone = new SoftAuthenticator();
    clone.importCredential(JSON.parse(JSON.stringify(exported)) as typeof exported);
    clone.setCounter(stored.id, 2);
    assert.deepEqual(clone.credentialIds(), [stored.id]);

    const options = await generateAuthenticationOptions({
      rpID: RP_ID,
      allowCredentials: [{ id: stored.id }],
    });
    const cloned = await clone.getAssertion(options, ORIGIN);
    assert.equal(clone.getCounter(stored.id), 3);

    // The signature itself is valid under the public key the server registered...
    const authData = Buffer.from(cloned.response.authenticatorData, 'base64url');
    const clientDataHash = createHash('sha256')
      .update(Buffer.from(cloned.response.clientDataJSON, 'base64url'))
      .digest();
    assert.equal(
      cryptoVerify(
        'sha256',
        Buffer.concat([authData, clientDataHash]),
        publicKeyFromCose(credential.publicKey),
        Buffer.from(cloned.response.signature, 'base64url'),
      ),
      true,
    );
    // ...and @simplewebauthn accepts it when the counter is not in play...
    const accepted = await authenticate(cloned, options.challenge, { ...stored, counter: 0 });
    assert.equal(accepted.verified, true);
    assert.equal(accepted.authenticationInfo.newCounter, 3);

    // ...so it is the server's counter check that catches the clone.
    await assertRejected(authenticate(cloned, options.challenge, stored), /counter/i);
  });

  test('counter override is used and stored', async () => {
    const auth = new SoftAuthenticator();
    const { credential } = await register(auth);
    const options = await generateAuthenticationOptions({ rpID: RP_ID });
    const response = await auth.getAssertion(options, ORIGIN, { counter: 41 });
    const result = await authenticate(response, options.challenge, credential);
    assert.equal(result.authenticationInfo.newCounter, 41);
    assert.equal(auth.getCounter(credential.id), 41);
    const options2 = await generateAuthenticationOptions({ rpID: RP_ID });
    const next = await authenticate(
      await auth.getAssertion(options2, ORIGIN),
      options2.challenge,
      { ...credential, counter: 41 },
    );
    assert.equal(next.authenticationInfo.newCounter, 42);
  });
});
