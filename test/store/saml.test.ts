/** Store conformance: the OIOSAML 3 identity provider's records (issue 15), on both adapters. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { SamlKeyRecord, SamlServiceProviderRecord } from '../../server/domain/saml.js';
import type { Store } from '../../server/ports/store.js';
import { StoreConflict } from '../../server/ports/storeErrors.js';
import { ADAPTERS, T0, later } from './adapters.js';

function sp(entityId: string, at: string, over: Partial<SamlServiceProviderRecord> = {}): SamlServiceProviderRecord {
  return { entityId, serviceProvider: '{"entityId":"x"}', settings: '{}', metadataXml: '<md/>', source: 'admin', updatedBy: 'admin-1', createdAt: at, updatedAt: at, ...over };
}

function samlKey(kid: string, state: SamlKeyRecord['state']): SamlKeyRecord {
  return { kid, ckaId: `cka-${kid}`, state, certificatePem: '-----BEGIN CERTIFICATE-----', createdAt: T0, activatedAt: state === 'active' ? T0 : null, retiredAt: null, destroyedAt: null };
}

for (const adapter of ADAPTERS) {
  describe(`store conformance (${adapter.name}): OIOSAML 3 identity provider`, () => {
    let store: Store;
    let dispose: () => Promise<void>;
    before(async () => {
      ({ store, dispose } = await adapter.fresh());
    });
    after(async () => {
      await dispose();
    });

    it('issue 15: a service provider registration is replaced by entity ID, keeping its creation time', async () => {
      const id = `https://sp-${randomUUID()}.example/metadata`;
      await store.write((tx) => tx.saml.upsertServiceProvider(sp(id, T0)));
      await store.write((tx) => tx.saml.upsertServiceProvider(sp(id, later(60), { settings: '{"nameIdFormat":"x"}', source: 'config', updatedBy: null })));
      const got = await store.read((tx) => tx.saml.serviceProvider(id));
      assert.deepEqual(got, sp(id, later(60), { createdAt: T0, settings: '{"nameIdFormat":"x"}', source: 'config', updatedBy: null }));
      assert.ok((await store.read((tx) => tx.saml.serviceProviders())).some((s) => s.entityId === id));
      assert.equal(await store.read((tx) => tx.saml.serviceProvider('https://unknown.example')), undefined);
    });

    it('saml-profiles 4.1.4.5: a message ID is used once across callers; a pending AuthnRequest is consumed once while live', async () => {
      const key = `issuer|${randomUUID()}`;
      const results = await Promise.all([1, 2, 3, 4].map(() => store.write((tx) => tx.saml.useMessageId(key, later(300)))));
      assert.deepEqual(results.filter((r) => r).length, 1);
      const entityId = `https://sp-${randomUUID()}.example/metadata`;
      await store.write((tx) => tx.saml.upsertServiceProvider(sp(entityId, T0)));
      const id = randomUUID();
      await store.write((tx) => tx.saml.insertRequest({ id, entityId, params: '{"a":1}', createdAt: T0, expiresAt: later(600) }));
      await assert.rejects(store.write((tx) => tx.saml.insertRequest({ id, entityId, params: '{}', createdAt: T0, expiresAt: later(600) })), StoreConflict);
      assert.equal((await store.read((tx) => tx.saml.request(id)))?.consumed, false);
      assert.equal(await store.write((tx) => tx.saml.consumeRequest(id, later(700))), undefined, 'expired');
      assert.deepEqual(await store.write((tx) => tx.saml.consumeRequest(id, later(10))), { entityId, params: '{"a":1}', createdAt: T0 });
      assert.equal(await store.write((tx) => tx.saml.consumeRequest(id, later(11))), undefined, 'used');
      assert.equal((await store.read((tx) => tx.saml.request(id)))?.consumed, true);
      await store.write((tx) => tx.saml.pruneExpired(later(100_000)));
      assert.equal(await store.read((tx) => tx.saml.request(id)), undefined);
      assert.equal(await store.write((tx) => tx.saml.useMessageId(key, later(100_300))), true, 'forgotten after it expired');
    });

    it('saml-profiles 4.4: a session participant is kept per SP, found by its SessionIndex', async () => {
      const session = randomUUID();
      const p = { sessionHash: session, entityId: 'https://a.example', nameId: 'n1', nameIdFormat: 'persistent', sessionIndex: `_${randomUUID()}`, createdAt: T0 };
      await store.write(async (tx) => {
        await tx.saml.recordParticipant(p);
        await tx.saml.recordParticipant({ ...p, entityId: 'https://b.example', sessionIndex: `_${randomUUID()}` });
      });
      const again = { ...p, sessionIndex: `_${randomUUID()}`, createdAt: later(5) };
      await store.write((tx) => tx.saml.recordParticipant(again));
      const all = await store.read((tx) => tx.saml.participantsOfSession(session));
      assert.deepEqual(all.map((x) => x.entityId), ['https://a.example', 'https://b.example']);
      assert.deepEqual(await store.read((tx) => tx.saml.participantByIndex('https://a.example', again.sessionIndex)), again);
      assert.equal(await store.read((tx) => tx.saml.participantByIndex('https://a.example', p.sessionIndex)), undefined);
      assert.equal(await store.read((tx) => tx.saml.participantByIndex('https://b.example', again.sessionIndex)), undefined, 'an index is the SP’s own');
    });

    it('NSIS 4.1.6 (Low) 3: SAML signing keys move pending -> active -> retired -> destroyed, guarded, one active at a time', async () => {
      const [a, b] = [randomUUID(), randomUUID()];
      await store.write(async (tx) => {
        await tx.saml.insertKey(samlKey(a, 'pending'));
        await tx.saml.insertKey(samlKey(b, 'pending'));
      });
      await assert.rejects(store.write((tx) => tx.saml.insertKey(samlKey(a, 'pending'))), StoreConflict);
      assert.equal(await store.write((tx) => tx.saml.setCertificate(a, '-----BEGIN CERTIFICATE-----CA')), true, 'a pending key takes the CA certificate');
      assert.equal(await store.write((tx) => tx.saml.activateKey(a, later(1))), true);
      assert.equal(await store.write((tx) => tx.saml.activateKey(a, later(2))), false, 'not pending any more');
      assert.equal(await store.write((tx) => tx.saml.setCertificate(a, '-----BEGIN CERTIFICATE-----X')), false, 'an active key keeps its certificate');
      await assert.rejects(store.write((tx) => tx.saml.activateKey(b, later(3))), StoreConflict, 'a second active key');
      assert.equal(await store.write((tx) => tx.saml.destroyKey(a, later(4))), false, 'an active key is retired first');
      assert.equal(await store.write((tx) => tx.saml.retireKey(a, later(5))), true);
      assert.equal(await store.write((tx) => tx.saml.activateKey(b, later(6))), true);
      assert.equal(await store.write((tx) => tx.saml.destroyKey(a, later(7))), true);
      const keys = await store.read((tx) => tx.saml.keys());
      assert.deepEqual(keys.filter((k) => k.kid === a || k.kid === b).map((k) => [k.kid, k.state]).sort(), [[a, 'destroyed'], [b, 'active']].sort());
      assert.equal(keys.find((k) => k.kid === a)?.destroyedAt, later(7));
      assert.equal(keys.find((k) => k.kid === a)?.certificatePem, '-----BEGIN CERTIFICATE-----CA');
    });

    it('NSIS 6 (Substantial) 11: a pending SAML key is discarded (pending -> destroyed, never active), guarded: not an active, retired or destroyed key, and not twice', async () => {
      const [p, q] = [randomUUID(), randomUUID()];
      await store.write(async (tx) => {
        await tx.saml.insertKey(samlKey(p, 'pending'));
        await tx.saml.insertKey(samlKey(q, 'pending'));
      });
      assert.equal(await store.write((tx) => tx.saml.discardKey(p, later(10))), true);
      assert.equal(await store.write((tx) => tx.saml.discardKey(p, later(11))), false, 'not twice');
      assert.equal(await store.write((tx) => tx.saml.activateKey(p, later(12))), false, 'a discarded key never becomes active');
      const active = (await store.read((tx) => tx.saml.keys())).find((k) => k.state === 'active');
      assert.ok(active);
      assert.equal(await store.write((tx) => tx.saml.discardKey(active.kid, later(13))), false, 'an active key is not discarded');
      assert.equal(await store.write((tx) => tx.saml.retireKey(active.kid, later(14))), true);
      assert.equal(await store.write((tx) => tx.saml.discardKey(active.kid, later(15))), false, 'nor a retired one');
      assert.equal(await store.write((tx) => tx.saml.activateKey(q, later(16))), true);
      const row = (await store.read((tx) => tx.saml.keys())).find((k) => k.kid === p);
      assert.deepEqual([row?.state, row?.activatedAt, row?.retiredAt, row?.destroyedAt], ['destroyed', null, null, later(10)]);
    });
  });
}
