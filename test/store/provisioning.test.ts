/**
 * Store conformance: provisioning clients, their tokens and the SCIM Users they manage (issue 18).
 * Token revocation is single use; a SCIM User's writes are compare-and-set on its version
 * (RFC 7644 §3.14); userName is unique per organisation without case, externalId with case.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { ProvisioningClient, ScimUserRecord } from '../../server/domain/provisioning.js';
import type { Organisation } from '../../server/domain/types.js';
import { StoreConflict, type Store, type WriteTx } from '../../server/ports/store.js';
import { ADAPTERS, T0, later, organisation, person } from './adapters.js';

async function provisioningClient(tx: WriteTx, org: Organisation, createdAt = T0): Promise<ProvisioningClient> {
  const c: ProvisioningClient = { id: randomUUID(), organisationId: org.id, label: 'Entra ID', ial: 'substantial', proofingMethod: 'HR onboarding: passport checked', createdBy: null, createdAt };
  await tx.provisioning.insertClient(c);
  return c;
}

async function scimUser(tx: WriteTx, org: Organisation, client: ProvisioningClient, over: Partial<ScimUserRecord> = {}): Promise<ScimUserRecord> {
  const p = await person(tx, org);
  const u: ScimUserRecord = {
    id: randomUUID(),
    organisationId: org.id,
    clientId: client.id,
    identityId: p.id,
    userNameKey: `${p.id.slice(0, 8)}@example.test`,
    externalId: null,
    version: 1,
    createdAt: T0,
    lastModified: T0,
    resource: '{"userName":"x"}',
    ...over,
  };
  await tx.scimUsers.insert(u);
  return u;
}

for (const adapter of ADAPTERS) {
  describe(`store conformance (${adapter.name}): provisioning clients and SCIM Users`, () => {
    let store: Store;
    let dispose: () => Promise<void>;
    before(async () => {
      ({ store, dispose } = await adapter.fresh());
    });
    after(async () => {
      await dispose();
    });

    it('issue 18: clients by organisation, oldest first; tokens kept as hashes, revoked exactly once', async () => {
      const { org, a, b } = await store.write(async (tx) => {
        const org = await organisation(tx);
        return { org, a: await provisioningClient(tx, org, later(1)), b: await provisioningClient(tx, org, later(2)) };
      });
      assert.deepEqual(await store.read((tx) => tx.provisioning.clients(org.id)), [a, b]);
      assert.deepEqual(await store.read((tx) => tx.provisioning.client(a.id)), a);
      await assert.rejects(store.write((tx) => tx.provisioning.insertClient(a)), StoreConflict);
      const t = { tokenId: randomUUID().slice(0, 16), clientId: a.id, secretHash: 'ab'.repeat(32), createdBy: null, createdAt: later(3), notAfter: later(86400), revokedAt: null };
      await store.write((tx) => tx.provisioning.insertToken(t));
      assert.deepEqual(await store.read((tx) => tx.provisioning.token(t.tokenId)), t);
      const results = await Promise.all([1, 2, 3].map(() => store.write((tx) => tx.provisioning.revokeToken(t.tokenId, later(10)))));
      assert.deepEqual(results.filter(Boolean).length, 1, 'one revocation counts');
      assert.equal((await store.read((tx) => tx.provisioning.tokensOf(a.id)))[0]?.revokedAt, later(10));
    });

    it('RFC 7644 §3.14: a SCIM User changes only at the version read (compare-and-set), one version up', async () => {
      const { org, u } = await store.write(async (tx) => {
        const org = await organisation(tx);
        const c = await provisioningClient(tx, org);
        return { org, u: await scimUser(tx, org, c) };
      });
      const next = { userNameKey: u.userNameKey, externalId: 'ext-1', resource: '{"userName":"y"}', lastModified: later(5) };
      const wins = await Promise.all([1, 2, 3].map(() => store.write((tx) => tx.scimUsers.replace(u.id, 1, next))));
      assert.equal(wins.filter(Boolean).length, 1);
      const stored = await store.read((tx) => tx.scimUsers.get(org.id, u.id));
      assert.equal(stored?.version, 2);
      assert.equal(stored?.externalId, 'ext-1');
      assert.equal(stored?.lastModified, later(5));
      assert.equal(await store.read((tx) => tx.scimUsers.get(randomUUID(), u.id)), undefined, 'scoped to its organisation');
      assert.equal((await store.read((tx) => tx.scimUsers.byIdentity(u.identityId)))?.id, u.id);
      assert.equal(await store.write((tx) => tx.scimUsers.remove(u.id, 1)), false, 'a stale version removes nothing');
      assert.equal(await store.write((tx) => tx.scimUsers.remove(u.id, 2)), true);
      assert.equal(await store.write((tx) => tx.scimUsers.remove(u.id, null)), false, 'removed once');
    });

    it('RFC 7643 §4.1.1: userName unique per organisation (as lower-cased key), externalId unique with case; a clash leaves the transaction usable', async () => {
      const { org, org2, c, c2, u } = await store.write(async (tx) => {
        const org = await organisation(tx);
        const org2 = await organisation(tx);
        const c = await provisioningClient(tx, org);
        const c2 = await provisioningClient(tx, org2);
        return { org, org2, c, c2, u: await scimUser(tx, org, c, { userNameKey: 'alice@x.test', externalId: 'A1' }) };
      });
      await assert.rejects(store.write((tx) => scimUser(tx, org, c, { userNameKey: 'alice@x.test' })), StoreConflict);
      await assert.rejects(store.write((tx) => scimUser(tx, org, c, { externalId: 'A1' })), StoreConflict);
      await store.write((tx) => scimUser(tx, org, c, { externalId: 'a1' }));
      await store.write((tx) => scimUser(tx, org2, c2, { userNameKey: 'alice@x.test', externalId: 'A1' }));
      const after = await store.write(async (tx) => {
        const v = await scimUser(tx, org, c, { userNameKey: 'bob@x.test' });
        await assert.rejects(tx.scimUsers.replace(v.id, 1, { userNameKey: 'alice@x.test', externalId: null, resource: '{}', lastModified: later(1) }), StoreConflict);
        return tx.scimUsers.replace(v.id, 1, { userNameKey: 'bobby@x.test', externalId: null, resource: '{}', lastModified: later(1) });
      });
      assert.equal(after, true, 'the transaction went on after the conflict');
      assert.deepEqual((await store.read((tx) => tx.scimUsers.find(org.id, { userNameKey: 'alice@x.test' }))).map((r) => r.id), [u.id]);
      assert.deepEqual((await store.read((tx) => tx.scimUsers.find(org.id, { externalId: 'A1' }))).map((r) => r.id), [u.id]);
      assert.equal((await store.read((tx) => tx.scimUsers.find(org.id, {}))).length, 3);
      assert.deepEqual(await store.read((tx) => tx.scimUsers.countByClient(org.id)), { [c.id]: 3 });
    });
  });
}
