/**
 * Pure parts of hsm/: error mapping, PIN reading, EC point / JWK conversion.
 */
import assert from 'node:assert/strict';
import { generateKeyObjects } from '../../scripts/lib/keyPairs.js';

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { calculateJwkThumbprint } from 'jose';
import pkcs11 from 'pkcs11js';
import {
  CKR_MEANINGS,
  HsmError,
  ckrName,
  ecPointToJwk,
  isSoftHsmModule,
  jwkThumbprint,
  loadHsmConfig,
  parseHsmTokensFile,
  readPin,
  rsaPublicJwk,
  toHsmError,
} from '../../hsm/index.js';
import { ConfigError, loadConfig } from '../../server/config.js';

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
    [new Error('CKR_GENERAL_ERROR:5'), 'HSM_OPERATION_FAILED', 'CKR_GENERAL_ERROR'],
    [new Error('CKR_VENDOR_DEFINED:2147483648'), 'HSM_OPERATION_FAILED', 'CKR_VENDOR_DEFINED'],
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
  const { publicKey } = generateKeyObjects('ec', { namedCurve: 'P-256' });
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
  const { publicKey } = generateKeyObjects('rsa', { modulusLength: 2048, publicExponent: 65537 });
  const expected = publicKey.export({ format: 'jwk' });
  const modulus = Buffer.from(String(expected.n), 'base64url');
  // PKCS#11 big integers may carry leading zero bytes; they are not part of the JWK.
  const jwk = rsaPublicJwk(Buffer.concat([Buffer.alloc(1), modulus]), Buffer.from([0x00, 0x01, 0x00, 0x01]));
  assert.deepEqual(jwk, { kty: 'RSA', n: expected.n, e: 'AQAB' });
  assert.equal(jwkThumbprint(jwk), await calculateJwkThumbprint({ ...jwk }, 'sha256'));
  assert.throws(() => rsaPublicJwk(Buffer.alloc(0), Buffer.from([1, 0, 1])));
});

test('one CKR table sorts failures by kind: a lost device or session tears the pool down, a refusal (CKR_GENERAL_ERROR among them) fails one request', () => {
  const kind = (ckr: string): string => toHsmError(new Error(`${ckr}:1`), 'x').kind;
  for (const ckr of ['CKR_DEVICE_REMOVED', 'CKR_DEVICE_ERROR', 'CKR_TOKEN_NOT_PRESENT', 'CKR_SESSION_HANDLE_INVALID', 'CKR_SESSION_CLOSED', 'CKR_CRYPTOKI_NOT_INITIALIZED', 'CKR_USER_NOT_LOGGED_IN']) {
    assert.equal(kind(ckr), 'device-lost', ckr);
  }
  for (const ckr of ['CKR_GENERAL_ERROR', 'CKR_FUNCTION_FAILED', 'CKR_DEVICE_MEMORY', 'CKR_TEMPLATE_INCONSISTENT', 'CKR_ATTRIBUTE_VALUE_INVALID', 'CKR_MECHANISM_INVALID', 'CKR_OBJECT_HANDLE_INVALID', 'CKR_KEY_FUNCTION_NOT_PERMITTED', 'CKR_VENDOR_DEFINED']) {
    assert.equal(kind(ckr), 'refused', ckr);
  }
  for (const ckr of ['CKR_PIN_INCORRECT', 'CKR_PIN_LOCKED', 'CKR_PIN_EXPIRED']) assert.equal(kind(ckr), 'login', ckr);
  // Every entry of the table is a PKCS#11 2.40 return value name pkcs11js knows (CKR_CURVE_NOT_SUPPORTED, 0x140, it does not export).
  for (const ckr of Object.keys(CKR_MEANINGS).filter((name) => name !== 'CKR_CURVE_NOT_SUPPORTED')) {
    assert.equal(typeof (pkcs11 as unknown as Record<string, unknown>)[ckr], 'number', ckr);
  }
  assert.equal(new HsmError('HSM_TOKEN_NOT_FOUND', 'x').kind, 'device-lost');
  assert.equal(new HsmError('HSM_OBJECT_MISMATCH', 'x').kind, 'refused');
});

test('a tokens file lists the failover tokens in order; relative PIN files are beside it; bad entries are named', () => {
  const file = path.join(dir, 'tokens.json');
  writeFileSync(
    file,
    JSON.stringify([
      { name: 'primary', module: '/opt/vendor/lib/libpkcs11.so', tokenLabel: 'gw-a', pinFile: 'a.pin' },
      { name: 'secondary', module: '/opt/vendor/lib/libpkcs11.so', tokenLabel: 'gw-b', pinFile: '/etc/gw/b.pin' },
    ]),
  );
  const tokens = parseHsmTokensFile(file);
  assert.deepEqual(
    tokens.map((t) => [t.name, t.modulePath, t.tokenLabel, t.pinFile]),
    [
      ['primary', '/opt/vendor/lib/libpkcs11.so', 'gw-a', path.join(dir, 'a.pin')],
      ['secondary', '/opt/vendor/lib/libpkcs11.so', 'gw-b', '/etc/gw/b.pin'],
    ],
  );
  assert.match(tokens[1]?.source.pin ?? '', /GATEWAY_HSM_TOKENS_FILE entry "secondary"/);
  writeFileSync(file, JSON.stringify([{ name: 'a', module: '/m.so', tokenLabel: 'x', pinFile: 'p' }, { name: 'a', module: '/m.so', tokenLabel: 'y', pinFile: 'p' }]));
  assert.throws(() => parseHsmTokensFile(file), /"a" is used twice/);
  writeFileSync(file, JSON.stringify([{ name: 'Primary!', module: '/m.so', tokenLabel: 'x', pinFile: 'p' }]));
  assert.throws(() => parseHsmTokensFile(file), /entry 0\.name/);
  writeFileSync(file, JSON.stringify([{ name: 'a', module: '/m.so', tokenLabel: 'x', pinFile: 'p', pin: '1234' }]));
  assert.throws(() => parseHsmTokensFile(file), /entry 0/, 'no PIN in the file itself');
});

test('configuration: one token from GATEWAY_HSM_MODULE/_TOKEN_LABEL/_PIN_FILE, or a tokens file, never both; the key policy profile is strict unless replicated is chosen', () => {
  const single = loadConfig({ GATEWAY_HSM_MODULE: '/opt/luna/libCryptoki2_64.so', GATEWAY_HSM_TOKEN_LABEL: 'gw', GATEWAY_VAR_DIR: dir }, dir);
  assert.deepEqual(
    single.hsm.tokens.map((t) => [t.name, t.modulePath, t.tokenLabel, t.pinFile, t.source.pin]),
    [['primary', '/opt/luna/libCryptoki2_64.so', 'gw', path.join(dir, 'hsm-user.pin'), 'GATEWAY_HSM_PIN_FILE']],
  );
  assert.equal(single.hsm.keyPolicy, 'strict');
  const file = path.join(dir, 'two.json');
  writeFileSync(file, JSON.stringify([{ name: 'primary', module: '/m.so', tokenLabel: 'a', pinFile: 'a.pin' }, { name: 'secondary', module: '/m.so', tokenLabel: 'b', pinFile: 'b.pin' }]));
  const two = loadConfig({ GATEWAY_HSM_TOKENS_FILE: file, GATEWAY_HSM_KEY_POLICY: 'replicated', GATEWAY_VAR_DIR: dir }, dir);
  assert.deepEqual(two.hsm.tokens.map((t) => t.name), ['primary', 'secondary']);
  assert.equal(two.hsm.keyPolicy, 'replicated');
  assert.throws(
    () => loadConfig({ GATEWAY_HSM_TOKENS_FILE: file, GATEWAY_HSM_MODULE: '/m.so', GATEWAY_VAR_DIR: dir }, dir),
    (err: unknown) => err instanceof ConfigError && err.key === 'GATEWAY_HSM_TOKENS_FILE' && /GATEWAY_HSM_MODULE/.test(err.message),
  );
  assert.throws(() => loadConfig({ GATEWAY_HSM_KEY_POLICY: 'lenient', GATEWAY_VAR_DIR: dir }, dir), (err: unknown) => err instanceof ConfigError && err.key === 'GATEWAY_HSM_KEY_POLICY');
  assert.throws(() => loadConfig({ GATEWAY_HSM_INITIAL_KEY_ID: 'xyz', GATEWAY_VAR_DIR: dir }, dir), (err: unknown) => err instanceof ConfigError && err.key === 'GATEWAY_HSM_INITIAL_KEY_ID');
  assert.equal(isSoftHsmModule('/usr/lib/softhsm/libsofthsm2.so'), true);
  assert.equal(isSoftHsmModule('/usr/lib/x86_64-linux-gnu/libtpm2_pkcs11.so.1'), false);
});
