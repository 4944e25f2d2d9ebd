/**
 * Shared set-up for the hsm/ tests: the real SoftHSM token initialised by
 * scripts/bootstrap.sh. SOFTHSM2_CONF comes from the environment (set by
 * scripts/run-tests.sh); when a file is run on its own without it, the
 * bootstrap's var/softhsm2.conf is used.
 */
import assert from 'node:assert/strict';
import { type KeyObject, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as graphene from 'graphene-pk11';
import { type EcP256PublicJwk, type HsmConfig, P256_EC_PARAMS, applySoftHsm2ConfDefault, loadHsmConfig, usageTemplate } from '../../hsm/index.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const varDir = path.join(repoRoot, 'var');

export function testHsmConfig(overrides: Partial<HsmConfig> = {}): HsmConfig {
  if (!applySoftHsm2ConfDefault(process.env, varDir)) {
    throw new Error('SOFTHSM2_CONF is not set and var/softhsm2.conf is missing: run bash scripts/bootstrap.sh');
  }
  return { ...loadHsmConfig(process.env, varDir), ...overrides };
}

/** A key label unique to this test run, so parallel or aborted runs do not collide. */
export function uniqueLabel(purpose: string): string {
  return `test-${purpose}-${randomBytes(4).toString('hex')}`;
}

export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Imports one EC P-256 key pair made on the host into a token (C_CreateObject): the way to put
 * the same key on two tokens in a test, as HA partners get it by cloning or wrap backup. Such a
 * key is not CKA_LOCAL (nor always sensitive, nor never extractable): the `replicated` profile.
 * Returns the public JWK. Usage attributes as the gateway's templates state them.
 */
export function importEcKeyPair(
  session: graphene.Session,
  key: { privateKey: KeyObject; ckaId: string; label: string; sensitive?: boolean; extractable?: boolean },
): EcP256PublicJwk {
  const jwk = key.privateKey.export({ format: 'jwk' });
  if (!jwk.d || !jwk.x || !jwk.y || jwk.crv !== 'P-256') throw new Error('expected a P-256 private key');
  const id = Buffer.from(key.ckaId, 'hex');
  const point = Buffer.concat([Buffer.from([0x04]), Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')]);
  session.create({
    class: graphene.ObjectClass.PRIVATE_KEY,
    keyType: graphene.KeyType.EC,
    token: true,
    private: true,
    id,
    label: key.label,
    sensitive: key.sensitive ?? true,
    extractable: key.extractable ?? false,
    ...usageTemplate('private'),
    paramsEC: P256_EC_PARAMS,
    value: Buffer.from(jwk.d, 'base64url'),
  });
  session.create({
    class: graphene.ObjectClass.PUBLIC_KEY,
    keyType: graphene.KeyType.EC,
    token: true,
    private: false,
    id,
    label: key.label,
    ...usageTemplate('public'),
    paramsEC: P256_EC_PARAMS,
    // DER OCTET STRING around the uncompressed point, as PKCS#11 2.40 wants CKA_EC_POINT.
    pointEC: Buffer.concat([Buffer.from([0x04, point.length]), point]),
  });
  return { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y };
}

/**
 * Imports one RSA key pair made on the host into a token (C_CreateObject), as {@link importEcKeyPair}
 * does for EC: the same SAML signing key on two tokens, as HA partners get it (the `replicated`
 * profile). Returns the public JWK (n, e).
 */
export function importRsaKeyPair(session: graphene.Session, key: { privateKey: KeyObject; ckaId: string; label: string }): { kty: 'RSA'; n: string; e: string } {
  const jwk = key.privateKey.export({ format: 'jwk' });
  if (jwk.kty !== 'RSA' || !jwk.n || !jwk.e || !jwk.d || !jwk.p || !jwk.q || !jwk.dp || !jwk.dq || !jwk.qi) throw new Error('expected an RSA private key');
  const b = (v: string): Buffer => Buffer.from(v, 'base64url');
  const id = Buffer.from(key.ckaId, 'hex');
  session.create({
    class: graphene.ObjectClass.PRIVATE_KEY,
    keyType: graphene.KeyType.RSA,
    token: true,
    private: true,
    id,
    label: key.label,
    sensitive: true,
    extractable: false,
    ...usageTemplate('private'),
    modulus: b(jwk.n),
    publicExponent: b(jwk.e),
    privateExponent: b(jwk.d),
    prime1: b(jwk.p),
    prime2: b(jwk.q),
    exp1: b(jwk.dp),
    exp2: b(jwk.dq),
    coefficient: b(jwk.qi),
  });
  session.create({
    class: graphene.ObjectClass.PUBLIC_KEY,
    keyType: graphene.KeyType.RSA,
    token: true,
    private: false,
    id,
    label: key.label,
    ...usageTemplate('public'),
    modulus: b(jwk.n),
    publicExponent: b(jwk.e),
  });
  return { kty: 'RSA', n: jwk.n, e: jwk.e };
}

/** The SoftHSM token directory whose token.object carries this (padded) label (a test moves it away to take the token from the group). */
export function tokenDirOf(tokensDir: string, label: string): string {
  const padded = Buffer.from(label.padEnd(32, ' '), 'utf8');
  const dirs = fs.readdirSync(tokensDir).filter((d) => {
    const object = path.join(tokensDir, d, 'token.object');
    return fs.existsSync(object) && fs.readFileSync(object).includes(padded);
  });
  assert.equal(dirs.length, 1, `one token directory labelled ${label}`);
  return path.join(tokensDir, dirs[0] ?? '');
}

/**
 * A SoftHSM token directory of the test's own in a fresh temporary folder, made the one this
 * process uses (SOFTHSM2_CONF). SoftHSM reads it once, at C_Initialize: call it before anything in
 * the process loads the module (node --test runs each file in a process of its own).
 */
export function ownSoftHsm(prefix: string): { dir: string; tokensDir: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const tokensDir = path.join(dir, 'tokens');
  fs.mkdirSync(tokensDir, { mode: 0o700 });
  const conf = path.join(dir, 'softhsm2.conf');
  fs.writeFileSync(conf, `directories.tokendir = ${tokensDir}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`);
  process.env['SOFTHSM2_CONF'] = conf;
  return { dir, tokensDir };
}
