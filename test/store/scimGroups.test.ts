/**
 * Store conformance: the SCIM Groups a provisioning client manages (issue 18, directory groups
 * mapped to gateway roles). A Group's writes are compare-and-set on its version (RFC 7644 §3.14);
 * displayName is unique per organisation without case (RFC 7643 §4.2), externalId with case.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { ProvisioningClient, ScimGroupRecord } from '../../server/domain/provisioning.js';
import type { Organisation } from '../../server/domain/types.js';
import { StoreConflict, type Store, type WriteTx } from '../../server/ports/store.js';
import { ADAPTERS, T0, later, organisation } from './adapters.js';

async function provisioningClient(tx: WriteTx, org: Organisation): Promise<ProvisioningClient> {
  const c: ProvisioningClient = { id: randomUUID(), organisationId: org.id, label: 'Entra ID', ial: 'substantial', proofingMethod: 'HR onboarding: passport checked', createdBy: null, createdAt: T0 };
  await tx.provisioning.insertClient(c);
  return c;
}

async function scimGroup(tx: WriteTx, org: Organisation, client: ProvisioningClient, over: Partial<ScimGroupRecord> = {}): Promise<ScimGroupRecord> {
  const g: ScimGroupRecord = {
    id: randomUUID(),
    organisationId: org.id,
    clientId: client.id,
    displayNameKey: `group-${randomUUID().slice(0, 8)}`,
    externalId: null,
    version: 1,
    createdAt: T0,
    lastModified: T0,
    resource: '{"displayName":"x","members":[]}',
    ...over,
  };
  await tx.scimGroups.insert(g);
  return g;
}

for (const adapter of ADAPTERS) {
  describe(`store conformance (${adapter.name}): SCIM Groups`, () => {
    let store: Store;
    let dispose: () => Promise<void>;
    before(async () => {
      ({ store, dispose } = await adapter.fresh());
    });
    after(async () => {
      await dispose();
    });

    it('RFC 7644 §3.14: a SCIM Group changes only at the version read (compare-and-set), one version up; removed exactly once', async () => {
      const { org, g } = await store.write(async (tx) => {
        const org = await organisation(tx);
        const c = await provisioningClient(tx, org);
        return { org, g: await scimGroup(tx, org, c) };
      });
      assert.deepEqual(await store.read((tx) => tx.scimGroups.get(org.id, g.id)), g);
      const next = { displayNameKey: g.displayNameKey, externalId: 'ext-1', resource: '{"displayName":"x","members":[{"value":"u1"}]}', lastModified: later(5) };
      const wins = await Promise.all([1, 2, 3].map(() => store.write((tx) => tx.scimGroups.replace(g.id, 1, next))));
      assert.equal(wins.filter(Boolean).length, 1, 'one replace at version 1 counts');
      const stored = await store.read((tx) => tx.scimGroups.get(org.id, g.id));
      assert.equal(stored?.version, 2);
      assert.equal(stored?.externalId, 'ext-1');
      assert.equal(stored?.resource, next.resource);
      assert.equal(stored?.lastModified, later(5));
      assert.equal(await store.read((tx) => tx.scimGroups.get(randomUUID(), g.id)), undefined, 'scoped to its organisation');
      assert.equal(await store.write((tx) => tx.scimGroups.remove(g.id, 1)), false, 'a stale version removes nothing');
      const removals = await Promise.all([1, 2, 3].map(() => store.write((tx) => tx.scimGroups.remove(g.id, 2))));
      assert.equal(removals.filter(Boolean).length, 1, 'removed once');
      assert.equal(await store.write((tx) => tx.scimGroups.remove(g.id, null)), false, 'gone');
    });

    it('RFC 7643 §4.2: displayName unique per organisation (as lower-cased key), externalId unique with case; a clash leaves the transaction usable', async () => {
      const { org, org2, c, c2, g } = await store.write(async (tx) => {
        const org = await organisation(tx);
        const org2 = await organisation(tx);
        const c = await provisioningClient(tx, org);
        const c2 = await provisioningClient(tx, org2);
        return { org, org2, c, c2, g: await scimGroup(tx, org, c, { displayNameKey: 'gateway admins', externalId: 'G1' }) };
      });
      await assert.rejects(store.write((tx) => scimGroup(tx, org, c, { displayNameKey: 'gateway admins' })), StoreConflict);
      await assert.rejects(store.write((tx) => scimGroup(tx, org, c, { externalId: 'G1' })), StoreConflict);
      await store.write((tx) => scimGroup(tx, org, c, { externalId: 'g1' }));
      await store.write((tx) => scimGroup(tx, org2, c2, { displayNameKey: 'gateway admins', externalId: 'G1' }));
      const went = await store.write(async (tx) => {
        const h = await scimGroup(tx, org, c, { displayNameKey: 'helpdesk' });
        await assert.rejects(tx.scimGroups.replace(h.id, 1, { displayNameKey: 'gateway admins', externalId: null, resource: '{}', lastModified: later(1) }), StoreConflict);
        return tx.scimGroups.replace(h.id, 1, { displayNameKey: 'helpdesk team', externalId: null, resource: '{}', lastModified: later(1) });
      });
      assert.equal(went, true, 'the transaction went on after the conflict');
      assert.deepEqual((await store.read((tx) => tx.scimGroups.find(org.id, { displayNameKey: 'gateway admins' }))).map((r) => r.id), [g.id]);
      assert.deepEqual((await store.read((tx) => tx.scimGroups.find(org.id, { externalId: 'G1' }))).map((r) => r.id), [g.id]);
      assert.deepEqual((await store.read((tx) => tx.scimGroups.find(org.id, { id: g.id }))).map((r) => r.id), [g.id]);
      assert.equal((await store.read((tx) => tx.scimGroups.find(org.id, {}))).length, 3);
    });

    it('issue 18 / NSIS 4.1.5 (Substantial) 7: lockOrganisation serialises the organisation\'s group writes: a write that takes it after another sees that one\'s group (no write skew)', async () => {
      const { org, c } = await store.write(async (tx) => {
        const org = await organisation(tx);
        return { org, c: await provisioningClient(tx, org) };
      });
      let bEntered: () => void = () => undefined;
      const entered = new Promise<void>((resolve) => {
        bEntered = resolve;
      });
      let aLocked: () => void = () => undefined;
      const locked = new Promise<void>((resolve) => {
        aLocked = resolve;
      });
      const a = store.write(async (tx) => {
        await tx.scimGroups.lockOrganisation(org.id);
        aLocked();
        // PostgreSQL runs writes side by side: hold the lock until B has begun. SQLite runs one
        // write at a time, so B cannot begin before A ends.
        if (adapter.name === 'postgres') await entered;
        return scimGroup(tx, org, c, { displayNameKey: 'first' });
      });
      await locked;
      const b = store.write(async (tx) => {
        bEntered();
        await tx.scimGroups.lockOrganisation(org.id);
        return (await tx.scimGroups.find(org.id, {})).map((g) => g.displayNameKey);
      });
      await a;
      assert.deepEqual(await b, ['first'], 'B read the groups only once A had committed');
    });

    it('issue 18: the group-role table last applied is recorded once (compare-and-set from none, then from the recorded one); the organisations with groups are listed', async () => {
      // One row per database: this file's database is fresh, nothing recorded yet.
      assert.equal(await store.read((tx) => tx.scimGroups.appliedRoleTable()), undefined);
      const first = await Promise.all([1, 2, 3].map((n) => store.write((tx) => tx.scimGroups.setAppliedRoleTable(undefined, `[{"n":${n}}]`, later(n)))));
      assert.equal(first.filter(Boolean).length, 1, 'one caller records the first table');
      const recorded = await store.read((tx) => tx.scimGroups.appliedRoleTable());
      assert.ok(recorded !== undefined && /^\[\{"n":[123]\}\]$/.test(recorded), String(recorded));
      assert.equal(await store.write((tx) => tx.scimGroups.setAppliedRoleTable('[{"n":0}]', '[]', later(9))), false, 'not from a table that is not the recorded one');
      const next = await Promise.all([1, 2].map(() => store.write((tx) => tx.scimGroups.setAppliedRoleTable(recorded, '[]', later(10)))));
      assert.equal(next.filter(Boolean).length, 1, 'one caller moves it on');
      assert.equal(await store.read((tx) => tx.scimGroups.appliedRoleTable()), '[]');
      const org = await store.write(async (tx) => {
        const o = await organisation(tx);
        await scimGroup(tx, o, await provisioningClient(tx, o));
        await scimGroup(tx, o, await provisioningClient(tx, o));
        return o;
      });
      const listed = await store.read((tx) => tx.scimGroups.organisations());
      assert.equal(listed.filter((id) => id === org.id).length, 1, 'each organisation once');
    });
  });
}
