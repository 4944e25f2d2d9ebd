/**
 * Pure parts of hsm/: error mapping, PIN reading, EC point / JWK conversion.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { calculateJwkThumbprint } from 'jose';
import pkcs11 from 'pkcs11js';
import { HsmError, ckrName, ecPointToJwk, jwkThumbprint, loadHsmConfig, readPin, rsaPublicJwk, toHsmError } from '../../hsm/index.js';

const dir = mkdtempSync(path.join(tmpdir(), 'hsm-units-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('pkcs11js errors map to stable HsmError codes with the cause chained', () => {
  const cases: Array<[Error, string, string]> = [
    [new Error('CKR_DEVICE_REMOVED:50'), 'HSM_UNAVAILABLE', 'CKR_DEVICE_REMOVED'],
    [new Error('CKR_TOKEN_NOT_PRESENT:224'), 'HSM_UNAVAILABLE', 'CKR_TOKEN_NOT_PRESENT'],
    [new Error('CKR_SESSION_HANDLE_INVALID:179'), 'HSM_UNAVAILABLE', 'CKR_SESSION_HANDLE_INVALID'],
    [new Error('CKR_DEVICE_ERROR:48'), 'HSM_UNAVAILABLE', 'CKR_DEVICE_ERROR'],
    [new pkcs11.Pkcs11Error('CKR_PIN_INCORRECT:160'), 'HSM_LOGIN_FAILED', 'CKR_PIN_INCORRECT'],
    [new Error('CKR_PIN_LOCKED:164'), 'HSM_LOGIN_FAILED', 'CKR_PIN_LOCKED'],
    [new Error('CKR_OBJECT_HANDLE_INVALID:130'), 'HSM_KEY_NOT_FOUND', 'CKR_OBJECT_HANDLE_INVALID'],
    [new Error('CKR_KEY_FUNCTION_NOT_PERMITTED:104'), 'HSM_KEY_POLICY_VIOLATION', 'CKR_KEY_FUNCTION_NOT_PERMITTED'],
    [new Error('CKR_MECHANISM_INVALID:112'), 'HSM_OPERATION_FAILED', 'CKR_MECHANISM_INVALID'],
  ];
  for (const [cause, code, ckr] of cases) {
    const error = toHsmError(cause, 'doing something');
    assert.ok(error instanceof HsmError);
    assert.equal(error.code, code, cause.message);
    assert.equal(error.ckr, ckr);
    assert.equal(error.cause, cause);
    assert.match(error.message, /^doing something: CKR_/);
  }
  assert.equal(toHsmError(new Error('dlopen failed'), 'load', 'HSM_UNAVAILABLE').code, 'HSM_UNAVAILABLE');
  assert.equal(toHsmError('weird', 'x').code, 'HSM_OPERATION_FAILED');
  const existing = new HsmError('HSM_TOKEN_NOT_FOUND', 'gone');
  assert.equal(toHsmError(existing, 'x'), existing, 'an HsmError passes through');
  assert.equal(ckrName(new pkcs11.Pkcs11Error('CKR_PIN_INCORRECT:160')), 'CKR_PIN_INCORRECT');
});

test('readPin prefers GATEWAY_HSM_PIN, then GATEWAY_HSM_PIN_FILE, then var/hsm-user.pin, trimmed', () => {
  writeFileSync(path.join(dir, 'hsm-user.pin'), '  default-pin\n');
  const other = path.join(dir, 'other.pin');
  writeFileSync(other, 'file-pin\r\n');
  assert.equal(readPin({}, dir), 'default-pin');
  assert.equal(readPin({ GATEWAY_HSM_PIN_FILE: other }, dir), 'file-pin');
  assert.equal(readPin({ GATEWAY_HSM_PIN: ' env-pin ', GATEWAY_HSM_PIN_FILE: other }, dir), 'env-pin');
  const config = loadHsmConfig({ GATEWAY_HSM_TOKEN_LABEL: 'x', GATEWAY_HSM_MODULE: '/m.so' }, dir);
  assert.deepEqual(config, { modulePath: '/m.so', tokenLabel: 'x', pin: 'default-pin' });
});

test('readPin errors name the file, never a PIN', () => {
  const empty = path.join(dir, 'empty.pin');
  writeFileSync(empty, '\n');
  assert.throws(() => readPin({ GATEWAY_HSM_PIN_FILE: empty }, dir), /is empty/);
  assert.throws(() => readPin({ GATEWAY_HSM_PIN_FILE: path.join(dir, 'missing.pin') }, dir), /missing\.pin.*ENOENT/);
});

test('CKA_EC_POINT is accepted DER-wrapped and raw and gives the same JWK and RFC 7638 kid', async () => {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const expected = publicKey.export({ format: 'jwk' });
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-65);
  assert.equal(raw[0], 0x04);
  const wrapped = Buffer.concat([Buffer.from([0x04, 0x41]), raw]);
  const fromWrapped = ecPointToJwk(wrapped);
  const fromRaw = ecPointToJwk(raw);
  assert.deepEqual(fromWrapped, fromRaw);
  assert.deepEqual(fromWrapped, { kty: 'EC', crv: 'P-256', x: expected.x, y: expected.y });
  assert.equal(jwkThumbprint(fromWrapped), await calculateJwkThumbprint({ ...fromWrapped }, 'sha256'));
});

test('a compressed, truncated or off-curve EC point is refused', () => {
  assert.throws(() => ecPointToJwk(Buffer.concat([Buffer.from([0x02]), Buffer.alloc(32, 1)])));
  assert.throws(() => ecPointToJwk(Buffer.alloc(40, 4)));
  const offCurve = Buffer.concat([Buffer.from([0x04]), Buffer.alloc(32, 1), Buffer.alloc(32, 2)]);
  assert.throws(() => ecPointToJwk(offCurve));
});

test('an RSA public key from CKA_MODULUS / CKA_PUBLIC_EXPONENT gives the node:crypto JWK and the RFC 7638 kid', async () => {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 65537 });
  const expected = publicKey.export({ format: 'jwk' });
  const modulus = Buffer.from(String(expected.n), 'base64url');
  // PKCS#11 big integers may carry leading zero bytes; they are not part of the JWK.
  const jwk = rsaPublicJwk(Buffer.concat([Buffer.alloc(1), modulus]), Buffer.from([0x00, 0x01, 0x00, 0x01]));
  assert.deepEqual(jwk, { kty: 'RSA', n: expected.n, e: 'AQAB' });
  assert.equal(jwkThumbprint(jwk), await calculateJwkThumbprint({ ...jwk }, 'sha256'));
  assert.throws(() => rsaPublicJwk(Buffer.alloc(0), Buffer.from([1, 0, 1])));
});
