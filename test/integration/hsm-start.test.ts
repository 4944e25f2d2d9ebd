/**
 * Starting the gateway against its HSM (real SoftHSM token, real SQLite file): the public key
 * recorded at generation stands in for a missing public key object once a test signature of the
 * private key verifies against it, a record that does not match refuses the start, and a
 * missing module, token or PIN stops the start with an error naming the setting.
 */
import assert from 'node:assert/strict';
import { generateKeyObjects } from '../../scripts/lib/keyPairs.js';

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { compactVerify, importJWK } from 'jose';
import { HsmConnection, destroyKeyPair, destroyVerified, findByIdentity, isHsmError, readPin } from '../../hsm/index.js';
import { loadConfig, type Config } from '../../server/config.js';
import { createLogger } from '../../server/logger.js';
import { createRuntime } from '../../server/runtime.js';
import { openSqlFile } from '../support/sqliteInspection.js';
import { repoRoot } from '../support/testGateway.js';

const realVar = path.join(repoRoot, 'var');
process.env['SOFTHSM2_CONF'] ??= path.join(realVar, 'softhsm2.conf');
const varDir = mkdtempSync(path.join(tmpdir(), 'gw-hsm-start-'));
const made: string[] = [];

function configWith(env: Record<string, string> = {}): Readonly<Config> {
  return loadConfig({ GATEWAY_VAR_DIR: varDir, GATEWAY_LOG_LEVEL: 'silent', GATEWAY_HSM_PIN_FILE: path.join(realVar, 'hsm-user.pin'), ...env }, repoRoot);
}

after(async () => {
  const connection = await HsmConnection.open({ modulePath: '/usr/lib/softhsm/libsofthsm2.so', tokenLabel: 'gateway', pin: readPin({}, realVar) });
  for (const ckaId of made) await destroyKeyPair(connection, ckaId);
  await connection.close();
  rmSync(varDir, { recursive: true, force: true });
});

test('NSIS 6 (Low) 4: the gateway starts when the token has lost the active key\'s public key object, after a test signature verifies against the public key recorded at generation; a record that does not match refuses the start', async () => {
  const config = configWith();
  const first = await createRuntime(config, { log: createLogger('silent') });
  const active = (await first.store.read((tx) => tx.signingKeys.active())) ?? assert.fail('no initial key');
  made.push(active.ckaId);
  const hsm = first.hsm ?? assert.fail('no HSM');
  await hsm.current().withSession('test: losing the public key object', (session) => {
    const [publicObject] = findByIdentity(session, { class: 'public', ckaId: active.ckaId });
    assert.ok(publicObject);
    destroyVerified(session, publicObject, { class: 'public', ckaId: active.ckaId });
  });
  await first.close();

  const second = await createRuntime(config, { log: createLogger('silent') });
  try {
    const { jws } = await (second.keys ?? assert.fail('no key manager')).signJws({ sub: 'after-restart', iat: 1 });
    const result = await compactVerify(jws, await importJWK({ ...active.publicJwk }, 'ES256'));
    assert.equal(result.protectedHeader.kid, active.kid);
    const view = (await (second.keys ?? assert.fail('no key manager')).list()).find((k) => k.kid === active.kid);
    assert.equal(view?.attributeCheck?.tokens[0]?.publicKeyPresent, false, 'shown as missing on the security page');
    assert.equal(view?.attributeCheck?.ok, true, 'the private key still honours the policy');
    // Another public key in the record: the test signature cannot verify.
    const other = generateKeyObjects('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
    // Someone with write access to the file drops the guard first (the trigger only stops mistakes).
    const db = openSqlFile(config.dbFile);
    db.exec('DROP TRIGGER signing_keys_identity_fixed');
    db.prepare('UPDATE signing_keys SET public_jwk = ? WHERE kid = ?').run(JSON.stringify({ kty: 'EC', crv: 'P-256', x: other.x, y: other.y }), active.kid);
    db.close();
  } finally {
    await second.close();
  }
  await assert.rejects(createRuntime(config, { log: createLogger('silent') }), (err: unknown) => {
    assert.ok(isHsmError(err, 'HSM_KEY_POLICY_VIOLATION'), String(err));
    assert.match(err.message, /does not match the public key recorded at generation/);
    return true;
  });
});

test('a missing PKCS#11 module, token or PIN stops the start with an error naming the setting', async () => {
  await assert.rejects(createRuntime(configWith({ GATEWAY_HSM_MODULE: '/opt/nowhere/libpkcs11.so' }), { log: createLogger('silent') }), (err: unknown) => {
    assert.ok(isHsmError(err, 'HSM_UNAVAILABLE'), String(err));
    assert.match(err.message, /^GATEWAY_HSM_MODULE: /);
    return true;
  });
  await assert.rejects(createRuntime(configWith({ GATEWAY_HSM_TOKEN_LABEL: 'no-such-token' }), { log: createLogger('silent') }), (err: unknown) => {
    assert.ok(isHsmError(err, 'HSM_TOKEN_NOT_FOUND'), String(err));
    assert.match(err.message, /^GATEWAY_HSM_TOKEN_LABEL: /);
    return true;
  });
  await assert.rejects(createRuntime(configWith({ GATEWAY_HSM_PIN_FILE: path.join(varDir, 'missing.pin') }), { log: createLogger('silent') }), (err: unknown) => {
    assert.ok(err instanceof Error);
    assert.match(err.message, /missing\.pin cannot be read \(ENOENT\); check GATEWAY_HSM_PIN_FILE/);
    return true;
  });
});
