/**
 * The SAML signing key fails over between the tokens of an HSM group, as the token keys do
 * (hsm/HsmGroup.ts rsaSigner, used by server/keys/SamlKeyRing.ts): the OIOSAML 3 signing key is
 * on three real SoftHSM 2 tokens of this test's own, the primary and the secondary holding the
 * same RSA key (imported into both: the `replicated` profile, as HA partners get it by cloning or
 * wrap backup), and between them an "impostor" token holding ANOTHER RSA key under the same
 * CKA_ID. The primary's token directory is moved away (as test/integration/hsm-failover.test.ts
 * does); the next signature of the SAML key ring's active key must come from the secondary.
 *
 * SoftHSM reads SOFTHSM2_CONF once, at C_Initialize: it is set in before(), before anything in
 * this process loads the module (node --test runs each file in a process of its own).
 */
import assert from 'node:assert/strict';
import { generateKeyObjects } from '../../scripts/lib/keyPairs.js';
import { spawnSync } from 'node:child_process';
import { X509Certificate, createPublicKey, randomBytes, sign as hostSign, verify, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HsmConnection, HsmGroup, findPrivateKey, isHsmError, jwkThumbprint } from '../../hsm/index.js';
import { createSelfSignedCertificate } from '../../hsm/x509/index.js';
import { systemClock } from '../../server/clock.js';
import { loadConfig } from '../../server/config.js';
import { SYSTEM_ACTOR } from '../../server/domain/types.js';
import { SamlKeyRing } from '../../server/keys/SamlKeyRing.js';
import { createLogger } from '../../server/logger.js';
import type { SamlKeyRecord } from '../../server/domain/saml.js';
import type { Store } from '../../server/ports/store.js';
import { SqliteStore } from '../../server/store/sqlite/index.js';
import { importRsaKeyPair, ownSoftHsm, repoRoot, tokenDirOf } from './helpers.js';

const MODULE = process.env['GATEWAY_HSM_MODULE'] ?? '/usr/lib/softhsm/libsofthsm2.so';
const TOKENS = ['primary', 'impostor', 'secondary'] as const;


/** The record of a key imported into the tokens: its certificate signed on the host with that key (what metadata publishes). */
async function recordFor(privateKey: KeyObject, ckaId: string): Promise<SamlKeyRecord> {
  const publicKey = createPublicKey(privateKey);
  const kid = jwkThumbprint(publicKey.export({ format: 'jwk' }) as { kty: 'RSA'; n: string; e: string });
  const spki = new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }));
  const now = new Date();
  const cert = await createSelfSignedCertificate(
    { spki, sign: async (data) => new Uint8Array(hostSign('sha256', data, privateKey)) },
    { subject: { country: 'DK', organization: 'Test', commonName: 'SAML failover' }, notBefore: new Date(now.getTime() - 60_000), notAfter: new Date(now.getTime() + 86_400_000) },
  );
  return { kid, ckaId, state: 'pending', certificatePem: cert.pem, createdAt: now.toISOString(), activatedAt: null, retiredAt: null, destroyedAt: null };
}

describe('NSIS 6 (Low) 4, NSIS 4.1.6 (Low) 1 (availability), OIOSAML 3 signing: the SAML signing key fails over between the tokens of an HSM group', () => {
  let dir: string;
  let tokensDir: string;
  const pin = randomBytes(8).toString('hex');
  const suffix = randomBytes(3).toString('hex');
  const labelOf = (name: string): string => `saml-${name}-${suffix}`;
  const ckaId = randomBytes(16).toString('hex');
  let samlKey: KeyObject;
  let otherKey: KeyObject;
  let group: HsmGroup;
  let store: Store;
  let primaryDir: string | undefined;
  const failovers: { from: string | undefined; to: string }[] = [];

  before(async () => {
    ({ dir, tokensDir } = ownSoftHsm('gw-saml-failover-'));
    for (const name of TOKENS) {
      const r = spawnSync('softhsm2-util', ['--init-token', '--free', '--label', labelOf(name), '--pin', pin, '--so-pin', randomBytes(8).toString('hex')], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
    }
    samlKey = generateKeyObjects('rsa', { modulusLength: 3072 }).privateKey;
    otherKey = generateKeyObjects('rsa', { modulusLength: 3072 }).privateKey;
    for (const name of TOKENS) {
      const connection = await HsmConnection.open({ name, modulePath: MODULE, tokenLabel: labelOf(name), pin });
      try {
        await connection.withSession('test: importing the SAML key', (session) => {
          importRsaKeyPair(session, { privateKey: name === 'impostor' ? otherKey : samlKey, ckaId, label: `saml-${name}` });
        });
      } finally {
        await connection.close();
      }
    }
    group = await HsmGroup.open(
      TOKENS.map((name) => ({ name, modulePath: MODULE, tokenLabel: labelOf(name), pin })),
      { connection: { reconnect: { initialDelayMs: 100, maxDelayMs: 400 } }, onFailover: (e) => failovers.push(e) },
    );
    store = await SqliteStore.open(path.join(dir, 'gateway.db'));
  });

  /** The tokens that hold a private key under this CKA_ID. */
  const holders = async (id: string): Promise<string[]> => {
    const names: string[] = [];
    for (const member of group.members) {
      if (await member.withSession('test: looking for a key', (session) => findPrivateKey(session, id, { algorithm: 'PS256' }) !== undefined)) names.push(member.name);
    }
    return names;
  };
  const config = () =>
    loadConfig({ GATEWAY_VAR_DIR: path.join(dir, 'var'), GATEWAY_LOG_LEVEL: 'silent', GATEWAY_SAML_ENABLED: 'true', GATEWAY_HSM_KEY_POLICY: 'replicated' }, repoRoot);

  after(async () => {
    const parked = path.join(dir, 'parked-primary');
    if (primaryDir && fs.existsSync(parked)) fs.renameSync(parked, primaryDir);
    await group?.close();
    await store?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('NSIS 6 (Substantial) 11 (key life cycle): destroying a retired SAML key removes its copy from every token of the group, not only from the signing one', async () => {
    // A key of its own, on the primary and the secondary, in a database of its own; every token is present.
    const destroyId = randomBytes(16).toString('hex');
    const retiring = generateKeyObjects('rsa', { modulusLength: 3072 }).privateKey;
    for (const member of group.members.filter((m) => m.name !== 'impostor')) {
      await member.withSession('test: importing the key to destroy', (session) => {
        importRsaKeyPair(session, { privateKey: retiring, ckaId: destroyId, label: 'saml-destroy' });
      });
    }
    const own = await SqliteStore.open(path.join(dir, 'destroy.db'));
    try {
      const ring = new SamlKeyRing({ store: own, hsm: group, clock: systemClock, config: config(), log: createLogger('silent') });
      const record = await recordFor(retiring, destroyId);
      await own.write((tx) => tx.saml.insertKey(record));
      await ring.activate(record.kid, SYSTEM_ACTOR);
      const data = new TextEncoder().encode('<ds:SignedInfo>before the rollover</ds:SignedInfo>');
      assert.equal(verify('sha256', data, createPublicKey(retiring), await (await ring.activeKey()).sign(data)), true);
      // Rollover: a new key (generated on the signing token) becomes active, the imported one is retired, then destroyed.
      assert.deepEqual(await holders(destroyId), ['primary', 'secondary']);
      const next = await ring.generate(SYSTEM_ACTOR);
      await ring.activate(next.kid, SYSTEM_ACTOR);
      await ring.destroy(record.kid, SYSTEM_ACTOR);
      assert.equal((await ring.keys()).find((k) => k.kid === record.kid)?.state, 'destroyed');
      assert.deepEqual(await holders(destroyId), [], 'no copy of the destroyed key is left on any token');
      await assert.rejects(group.rsaSigner(destroyId, { profile: 'replicated' }), (err: unknown) => isHsmError(err, 'HSM_KEY_NOT_FOUND'));
      await group.destroyEverywhere(next.ckaId);
    } finally {
      await own.close();
    }
  });

  it('NSIS 6 (Low) 4, NSIS 4.1.6 (Low) 1 and 3, OIOSAML 3 signing: with the primary token gone the next RS256 signature of the active SAML key comes from the secondary and verifies with the published certificate; the token holding another key under the same CKA_ID is skipped', async () => {
    const ring = new SamlKeyRing({ store, hsm: group, clock: systemClock, config: config(), log: createLogger('silent') });

    // The replicated key's record: its certificate (signed on the host with the key that was
    // imported) is what the metadata publishes and the SP trusts. The ring activates it.
    const record = await recordFor(samlKey, ckaId);
    const { kid } = record;
    await store.write((tx) => tx.saml.insertKey(record));
    await ring.activate(kid, SYSTEM_ACTOR);
    assert.deepEqual(await ring.published(), { active: record.certificatePem });
    const published = new X509Certificate((await ring.published()).active).publicKey;
    const impostorPublic = createPublicKey(otherKey);

    // Before: the primary signs.
    const before1 = new TextEncoder().encode('<ds:SignedInfo>assertion 1</ds:SignedInfo>');
    const s1 = await (await ring.activeKey()).sign(before1);
    assert.equal(verify('sha256', before1, published, s1), true);
    assert.deepEqual(failovers, [{ from: undefined, to: 'primary' }]);

    // The primary disappears.
    primaryDir = tokenDirOf(tokensDir, labelOf('primary'));
    fs.renameSync(primaryDir, path.join(dir, 'parked-primary'));
    const after1 = new TextEncoder().encode('<ds:SignedInfo>assertion 2</ds:SignedInfo>');
    const active = await ring.activeKey();
    assert.equal(active.kid, kid);
    const s2 = await active.sign(after1);
    assert.equal(verify('sha256', after1, published, s2), true, 'the signature after the failover verifies with the published certificate');
    assert.equal(verify('sha256', after1, impostorPublic, s2), false, 'not signed by the impostor key');
    assert.deepEqual(failovers, [{ from: undefined, to: 'primary' }, { from: 'primary', to: 'secondary' }], 'the impostor token was skipped');
    assert.equal(group.tokens().find((t) => t.name === 'primary')?.status, 'unavailable');

    // And the signing goes on there.
    const s3 = await active.sign(before1);
    assert.equal(verify('sha256', before1, published, s3), true);

    // A ring with nothing cached yet (a restarted process) while the primary is gone: the first
    // available token is the impostor, refused because its key is not the recorded one (kid).
    const fresh = new SamlKeyRing({ store, hsm: group, clock: systemClock, config: config(), log: createLogger('silent') });
    const s4 = await (await fresh.activeKey()).sign(after1);
    assert.equal(verify('sha256', after1, published, s4), true, 'the fresh ring signs with the recorded key');
    assert.equal(verify('sha256', after1, impostorPublic, s4), false, 'not with the key the impostor holds under the same CKA_ID');
  });

  it('NSIS 6 (Substantial) 11 (key life cycle): destroying a retired SAML key while a token of the group is unavailable destroys nothing: refused with HSM_UNAVAILABLE naming the token, the copy on the available token stays, the key stays retired', async () => {
    // The primary is parked by the failover test above.
    assert.equal(group.tokens().find((t) => t.name === 'primary')?.status, 'unavailable');
    const keepId = randomBytes(16).toString('hex');
    const key = generateKeyObjects('rsa', { modulusLength: 3072 }).privateKey;
    const secondary = group.members.find((m) => m.name === 'secondary');
    assert.ok(secondary);
    await secondary.withSession('test: importing the key to destroy', (session) => {
      importRsaKeyPair(session, { privateKey: key, ckaId: keepId, label: 'saml-keep' });
    });
    const onSecondary = () => secondary.withSession('test: looking for a key', (session) => findPrivateKey(session, keepId, { algorithm: 'PS256' }) !== undefined);
    const own = await SqliteStore.open(path.join(dir, 'destroy-while-away.db'));
    try {
      const ring = new SamlKeyRing({ store: own, hsm: group, clock: systemClock, config: config(), log: createLogger('silent') });
      const record = await recordFor(key, keepId);
      await own.write((tx) => tx.saml.insertKey(record));
      await ring.activate(record.kid, SYSTEM_ACTOR);
      const next = await ring.generate(SYSTEM_ACTOR);
      await ring.activate(next.kid, SYSTEM_ACTOR);
      assert.equal((await ring.keys()).find((k) => k.kid === record.kid)?.state, 'retired');
      await assert.rejects(ring.destroy(record.kid, SYSTEM_ACTOR), (err: unknown) => {
        assert.ok(isHsmError(err, 'HSM_UNAVAILABLE'), `got ${String(err)}`);
        assert.match(err.message, /primary/);
        assert.match(err.message, /nothing was destroyed/);
        return true;
      });
      assert.equal(await onSecondary(), true, 'the copy on the available token is still there');
      assert.equal((await ring.keys()).find((k) => k.kid === record.kid)?.state, 'retired');
    } finally {
      await own.close();
    }
  });

  it('NSIS 4.1.6 (Low) 3, NSIS 6 (Substantial) 11 (key protection): a group RSA signer whose only available copy of the CKA_ID is another key than the expected one is refused (HSM_KEY_POLICY_VIOLATION), and nothing is signed with it', async () => {
    // The primary is parked by the test above; of the rest only the impostor and the secondary hold the CKA_ID.
    const publicKey = createPublicKey(samlKey).export({ format: 'jwk' }) as { kty: 'RSA'; n: string; e: string };
    const otherKid = jwkThumbprint(createPublicKey(otherKey).export({ format: 'jwk' }) as { kty: 'RSA'; n: string; e: string });
    const signer = await group.rsaSigner(ckaId, { profile: 'replicated', expectedKid: jwkThumbprint(publicKey) });
    assert.equal(signer.kid, jwkThumbprint(publicKey));
    const impostorOnly = await HsmGroup.open([{ name: 'impostor', modulePath: MODULE, tokenLabel: labelOf('impostor'), pin }]);
    try {
      await assert.rejects(impostorOnly.rsaSigner(ckaId, { profile: 'replicated', expectedKid: jwkThumbprint(publicKey) }), (err: unknown) => {
        assert.ok(isHsmError(err, 'HSM_KEY_POLICY_VIOLATION'), `got ${String(err)}`);
        assert.match(err.message, new RegExp(otherKid));
        return true;
      });
    } finally {
      await impostorOnly.close();
    }
  });
});
