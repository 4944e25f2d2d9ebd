/**
 * Discarding a pending SAML signing key that never signed (NSIS 6 (Substantial) 11: key management
 * over the full life cycle, with the same two-person control as destruction), over HTTP against a
 * real gateway whose HSM group is two real SoftHSM 2 tokens of this test's own (primary and
 * secondary, GATEWAY_HSM_TOKENS_FILE, the `replicated` profile). The key to discard is imported
 * into BOTH tokens (as HA partners get it by cloning or wrap backup); discarding it must leave no
 * copy on either. The row goes pending -> destroyed with activated_at and retired_at empty, and
 * the audit trail says saml.key.discarded: the key never was active.
 *
 * SoftHSM reads SOFTHSM2_CONF once, at C_Initialize: it is set in before(), before the gateway in
 * this process loads the module (node --test runs each file in a process of its own).
 */
import assert from 'node:assert/strict';
import { generateKeyObjects } from '../../scripts/lib/keyPairs.js';
import { spawnSync } from 'node:child_process';
import { createPublicKey, randomBytes, sign as hostSign, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HsmConnection, findPrivateKey, jwkThumbprint } from '../../hsm/index.js';
import { createSelfSignedCertificate } from '../../hsm/x509/index.js';
import type { SamlKeyRecord } from '../../server/domain/saml.js';
import { SYSTEM_ACTOR } from '../../server/domain/types.js';
import { importEcKeyPair, importRsaKeyPair, ownSoftHsm, tokenDirOf, waitFor } from '../hsm/helpers.js';
import { field } from '../support/apiClient.js';
import { activeAdmin } from '../support/journeys.js';
import { bindAndEnrol, touch, type Person } from '../support/staff.js';
import { auditEntries } from '../support/storeReads.js';
import { startTestGateway, type TestGateway } from '../support/testGateway.js';
import { idpCertificates } from '../saml-gateway/harness.js';

const MODULE = process.env['GATEWAY_HSM_MODULE'] ?? '/usr/lib/softhsm/libsofthsm2.so';
const TOKENS = ['primary', 'secondary'] as const;
const body = (pem: string): string => pem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s+/g, '');


describe('NSIS 6 (Substantial) 11 (key life cycle): a pending SAML key that is not wanted is discarded, never active, from every token of the HSM group', () => {
  let dir: string;
  let tokensDir: string;
  /** The secondary's token directory while the last test has it moved away. */
  let parked: { from: string; to: string } | undefined;
  let gw: TestGateway;
  let first: Person;
  let second: Person;
  const entries: { name: string; module: string; tokenLabel: string; pinFile: string }[] = [];
  const pins = new Map<string, string>();

  /** Imports one RSA key pair made on the host into every token and records it as a pending SAML key. */
  async function pendingEverywhere(): Promise<SamlKeyRecord> {
    const privateKey: KeyObject = generateKeyObjects('rsa', { modulusLength: 3072 }).privateKey;
    const ckaId = randomBytes(16).toString('hex');
    for (const e of entries) {
      const connection = await HsmConnection.open({ name: e.name, modulePath: MODULE, tokenLabel: e.tokenLabel, pin: pins.get(e.name) ?? '' });
      try {
        await connection.withSession('test: importing the SAML key', (session) => {
          importRsaKeyPair(session, { privateKey, ckaId, label: `saml-${e.name}` });
        });
      } finally {
        await connection.close();
      }
    }
    const publicKey = createPublicKey(privateKey);
    const kid = jwkThumbprint(publicKey.export({ format: 'jwk' }) as { kty: 'RSA'; n: string; e: string });
    const now = new Date();
    const cert = await createSelfSignedCertificate(
      { spki: new Uint8Array(publicKey.export({ type: 'spki', format: 'der' })), sign: async (data) => new Uint8Array(hostSign('sha256', data, privateKey)) },
      { subject: { country: 'DK', organization: 'Test', commonName: 'SAML discard' }, notBefore: new Date(now.getTime() - 60_000), notAfter: new Date(now.getTime() + 86_400_000) },
    );
    const record: SamlKeyRecord = { kid, ckaId, state: 'pending', certificatePem: cert.pem, createdAt: now.toISOString(), activatedAt: null, retiredAt: null, destroyedAt: null };
    await gw.runtime.store.write((tx) => tx.saml.insertKey(record));
    return record;
  }

  /** The tokens of the gateway's HSM group that hold a private key under this CKA_ID. */
  async function holders(ckaId: string): Promise<string[]> {
    const hsm = gw.runtime.hsm;
    assert.ok(hsm);
    const names: string[] = [];
    for (const member of hsm.members.filter((m) => m.status === 'ok')) {
      if (await member.withSession('test: looking for a key', (session) => findPrivateKey(session, ckaId, { algorithm: 'PS256' }) !== undefined)) names.push(member.name);
    }
    return names;
  }

  const keyRow = async (kid: string): Promise<SamlKeyRecord | undefined> => (await gw.runtime.store.read((tx) => tx.saml.keys())).find((k) => k.kid === kid);
  const audited = async (type: string) => (await auditEntries(gw.runtime.store)).filter((e) => e.type === type);

  before(async () => {
    ({ dir, tokensDir } = ownSoftHsm('gw-saml-discard-'));
    const suffix = randomBytes(3).toString('hex');
    for (const name of TOKENS) {
      const pin = randomBytes(16).toString('hex');
      const pinFile = path.join(dir, `${name}.pin`);
      fs.writeFileSync(pinFile, pin, { mode: 0o600 });
      pins.set(name, pin);
      const tokenLabel = `gw-discard-${name}-${suffix}`;
      const init = spawnSync('softhsm2-util', ['--init-token', '--free', '--label', tokenLabel, '--pin', pin, '--so-pin', randomBytes(16).toString('hex')], { encoding: 'utf8' });
      assert.equal(init.status, 0, init.stderr);
      entries.push({ name, module: MODULE, tokenLabel, pinFile });
    }
    const tokensFile = path.join(dir, 'tokens.json');
    fs.writeFileSync(tokensFile, JSON.stringify(entries));
    // The token-signing key on both tokens too (the replicated profile adopts it at installation).
    const tokenKeyId = randomBytes(16).toString('hex');
    const { privateKey } = generateKeyObjects('ec', { namedCurve: 'P-256' });
    for (const e of entries) {
      const connection = await HsmConnection.open({ name: e.name, modulePath: MODULE, tokenLabel: e.tokenLabel, pin: pins.get(e.name) ?? '' });
      try {
        await connection.withSession('test: importing the token key', (session) => {
          importEcKeyPair(session, { privateKey, ckaId: tokenKeyId, label: 'gateway-replicated' });
        });
      } finally {
        await connection.close();
      }
    }
    gw = await startTestGateway({
      env: {
        GATEWAY_SAML_ENABLED: 'true',
        // The tokens come from the file; the single-token PIN file startTestGateway sets is cleared.
        GATEWAY_HSM_PIN_FILE: '',
        GATEWAY_HSM_TOKENS_FILE: tokensFile,
        GATEWAY_HSM_KEY_POLICY: 'replicated',
        GATEWAY_HSM_INITIAL_KEY_ID: tokenKeyId,
      },
    });
    const admin = await activeAdmin(gw);
    first = await bindAndEnrol(gw, admin.client, { name: 'Sikker Første', email: 'discard.so1@demo.example', roles: ['security-officer'] });
    second = await bindAndEnrol(gw, admin.client, { name: 'Sikker Anden', email: 'discard.so2@demo.example', roles: ['security-officer'] });
  });

  after(async () => {
    if (parked && fs.existsSync(parked.to)) fs.renameSync(parked.to, parked.from);
    await gw?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('NSIS 6 (Substantial) 11: discarding a pending SAML key waits for a second security officer; then it is destroyed without ever being active, its key pair is gone from every token of the HSM group and from the metadata, audited saml.key.discarded', async () => {
    const key = await pendingEverywhere();
    assert.deepEqual(await holders(key.ckaId), ['primary', 'secondary']);
    assert.ok((await idpCertificates(gw)).map(body).includes(body(key.certificatePem)), 'the pending key is published as the next one');

    await touch(gw, first);
    const asked = await first.client.post(`/api/security/saml/keys/${key.kid}/discard`, {});
    assert.equal(asked.status, 202, JSON.stringify(asked.body));
    const approvalId = field<string>(asked.body, 'approval', 'id');
    assert.equal(field<string>(asked.body, 'approval', 'kind'), 'saml-key-discard');
    const self = await first.client.post(`/api/approvals/${approvalId}/approve`, {});
    assert.deepEqual([self.status, self.code], [403, 'SEGREGATION_OF_DUTIES'], 'the requester is not the second person');
    assert.equal((await keyRow(key.kid))?.state, 'pending', 'nothing happens before the approval');
    assert.deepEqual(await holders(key.ckaId), ['primary', 'secondary']);

    await touch(gw, second);
    const approved = await second.client.post(`/api/approvals/${approvalId}/approve`, {});
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    const row = await keyRow(key.kid);
    assert.equal(row?.state, 'destroyed');
    assert.deepEqual([row?.activatedAt, row?.retiredAt], [null, null], 'the record shows the key never was active');
    assert.ok(row?.destroyedAt);
    assert.deepEqual(await holders(key.ckaId), [], 'no copy of the discarded key is left on any token');
    assert.ok(!(await idpCertificates(gw)).map(body).includes(body(key.certificatePem)), 'its certificate left the metadata');

    const [discarded, ...more] = (await audited('saml.key.discarded')).filter((e) => e.subjectId === key.kid);
    assert.equal(more.length, 0);
    assert.equal(discarded?.actorId, first.identityId, 'the requester is recorded as the one who asked');
    assert.equal(discarded?.data['neverActive'], true);
    assert.deepEqual((await auditEntries(gw.runtime.store)).filter((e) => e.subjectId === key.kid && /^saml\.key\.(activated|destroyed)$/.test(e.type)), [], 'never activated, not destroyed as a retired key');
  });

  it('NSIS 6 (Substantial) 11: the active SAML key is not discarded (409 SAML_KEY_STATE saying to make another key active first, then destroy the retired one), an unknown key is 404; each refusal audited as saml.key.change-refused and nothing leaves the HSM', async () => {
    const active = (await gw.runtime.store.read((tx) => tx.saml.keys())).find((k) => k.state === 'active');
    assert.ok(active);
    const before = (await audited('saml.key.change-refused')).length;
    await touch(gw, first);
    const refused = await first.client.post(`/api/security/saml/keys/${active.kid}/discard`, {});
    assert.deepEqual([refused.status, refused.code], [409, 'SAML_KEY_STATE']);
    assert.match(JSON.stringify(refused.body), /make another key active first, then destroy this one once it is retired/);
    const unknown = await first.client.post(`/api/security/saml/keys/${'A'.repeat(43)}/discard`, {});
    assert.equal(unknown.status, 404, JSON.stringify(unknown.body));
    const refusals = (await audited('saml.key.change-refused')).slice(before);
    assert.deepEqual(refusals.map((e) => e.data['status']), [409, 404]);
    assert.equal((await keyRow(active.kid))?.state, 'active');
    assert.ok((await holders(active.ckaId)).includes('primary'), 'the active key is still in the HSM');
    assert.equal((await gw.runtime.store.read((tx) => tx.approvals.pending())).filter((a) => a.kind === 'saml-key-discard').length, 0, 'nothing was asked for');
  });

  it('NSIS 6 (Substantial) 11: a discard asked for a pending key that is made active before the approval is refused when approved (409 SAML_KEY_STATE, audited saml.key.change-refused, the approval failed); the key stays active and in the HSM', async () => {
    const key = await pendingEverywhere();
    await touch(gw, first);
    const discard = await first.client.post(`/api/security/saml/keys/${key.kid}/discard`, {});
    assert.equal(discard.status, 202, JSON.stringify(discard.body));
    const activation = await first.client.post(`/api/security/saml/keys/${key.kid}/activate`, {});
    assert.equal(activation.status, 202, JSON.stringify(activation.body));
    await touch(gw, second);
    const activated = await second.client.post(`/api/approvals/${field<string>(activation.body, 'approval', 'id')}/approve`, {});
    assert.equal(activated.status, 200, JSON.stringify(activated.body));

    const late = await second.client.post(`/api/approvals/${field<string>(discard.body, 'approval', 'id')}/approve`, {});
    assert.deepEqual([late.status, late.code], [409, 'SAML_KEY_STATE'], JSON.stringify(late.body));
    assert.equal((await keyRow(key.kid))?.state, 'active');
    assert.deepEqual(await holders(key.ckaId), ['primary', 'secondary'], 'nothing was destroyed');
    const refusal = (await audited('saml.key.change-refused')).find((e) => e.subjectId === key.kid);
    assert.deepEqual([refusal?.data['step'], refusal?.data['code'], refusal?.actorId], ['discard', 'SAML_KEY_STATE', second.identityId]);
    assert.ok((await audited('approval.failed')).some((e) => e.subjectId === field<string>(discard.body, 'approval', 'id')));
  });

  it('NSIS 6 (Substantial) 11: a discard racing with the activation of the same pending key is atomic: exactly one of them happens, and the key pair is gone from every token exactly when the key was discarded', async () => {
    const ring = gw.runtime.saml?.keys;
    assert.ok(ring);
    for (const discardFirst of [true, false]) {
      const key = await pendingEverywhere();
      const steps: Promise<void>[] = discardFirst ? [ring.discard(key.kid, SYSTEM_ACTOR), ring.activate(key.kid, SYSTEM_ACTOR)] : [ring.activate(key.kid, SYSTEM_ACTOR), ring.discard(key.kid, SYSTEM_ACTOR)];
      const [a, b] = await Promise.allSettled(steps);
      const [discarded, activated] = discardFirst ? [a, b] : [b, a];
      assert.equal([discarded, activated].filter((r) => r?.status === 'fulfilled').length, 1, 'exactly one of the two happens');
      const loser = [discarded, activated].find((r) => r?.status === 'rejected');
      assert.ok(loser?.status === 'rejected' && (loser.reason as { code?: string }).code === 'SAML_KEY_STATE', `the other is refused SAML_KEY_STATE: ${String(loser?.status === 'rejected' ? loser.reason : '')}`);
      const row = await keyRow(key.kid);
      if (discarded?.status === 'fulfilled') {
        assert.deepEqual([row?.state, row?.activatedAt], ['destroyed', null]);
        assert.deepEqual(await holders(key.ckaId), []);
      } else {
        assert.equal(row?.state, 'active');
        assert.deepEqual(await holders(key.ckaId), ['primary', 'secondary']);
      }
    }
  });

  it('NSIS 6 (Substantial) 11, NSIS 6 (Low) 4: with a token of the HSM group unavailable a discard is refused before anything is destroyed (503 SERVICE_UNAVAILABLE, audited saml.key.change-refused); the key stays pending with its copy on the available token', async () => {
    const key = await pendingEverywhere();
    await touch(gw, first);
    const asked = await first.client.post(`/api/security/saml/keys/${key.kid}/discard`, {});
    assert.equal(asked.status, 202, JSON.stringify(asked.body));
    const approvalId = field<string>(asked.body, 'approval', 'id');
    const secondary = entries.find((e) => e.name === 'secondary');
    assert.ok(secondary);
    parked = { from: tokenDirOf(tokensDir, secondary.tokenLabel), to: path.join(dir, 'parked-secondary') };
    fs.renameSync(parked.from, parked.to);
    const hsm = gw.runtime.hsm;
    assert.ok(hsm);
    await waitFor(() => hsm.tokens().some((t) => t.name === 'secondary' && t.status !== 'ok'), 15_000);

    await touch(gw, second);
    const refused = await second.client.post(`/api/approvals/${approvalId}/approve`, {});
    assert.deepEqual([refused.status, refused.code], [503, 'SERVICE_UNAVAILABLE'], JSON.stringify(refused.body));
    assert.match(JSON.stringify(refused.body), /nothing was destroyed; ask again once they are back/);
    assert.equal((await keyRow(key.kid))?.state, 'pending');
    assert.deepEqual(await holders(key.ckaId), ['primary'], 'the available token keeps its copy');
    const refusal = (await audited('saml.key.change-refused')).find((e) => e.subjectId === key.kid);
    assert.deepEqual([refusal?.data['step'], refusal?.data['code']], ['discard', 'SERVICE_UNAVAILABLE']);
  });
});
