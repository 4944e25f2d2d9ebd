/** Store conformance: organisations, identities with their roles, and who set each one up. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Store } from '../../server/ports/store.js';
import { ADAPTERS, T0, later, organisation, person } from './adapters.js';

for (const adapter of ADAPTERS) {
  describe(`store conformance (${adapter.name}): organisations and identities`, () => {
    let store: Store;
    let dispose: () => Promise<void>;
    before(async () => {
      ({ store, dispose } = await adapter.fresh());
    });
    after(async () => {
      await dispose();
    });

    it('organisations: insert, by id, by CVR', async () => {
      const org = await store.write((tx) => organisation(tx, '51515151'));
      assert.deepEqual(await store.read((tx) => tx.organisations.get(org.id)), org);
      assert.deepEqual(await store.read((tx) => tx.organisations.byCvr('51515151')), org);
      assert.equal(await store.read((tx) => tx.organisations.get(randomUUID())), undefined);
    });

    it('NSIS 5.2: identities are bound at insert, found by id and by address whatever its case, with their roles', async () => {
      const { org, p } = await store.write(async (tx) => {
        const org = await organisation(tx);
        return { org, p: await person(tx, org, { email: 'Mixed.Case@Example.test', name: 'Åse Ødegård' }) };
      });
      assert.equal(p.bindingState, 'active');
      assert.equal(p.organisationId, org.id);
      assert.deepEqual(p.roles, ['employee']);
      assert.equal((await store.read((tx) => tx.identities.findActiveByEmail('  mixed.case@example.TEST ')))?.id, p.id);
      await store.write(async (tx) => {
        await tx.identities.grantRole(p.id, 'helpdesk', null, T0);
        await tx.identities.grantRole(p.id, 'helpdesk', 'someone-else', later(5));
      });
      assert.deepEqual((await store.read((tx) => tx.identities.get(p.id)))?.roles, ['employee', 'helpdesk']);
      assert.equal(await store.write((tx) => tx.identities.revokeRole(p.id, 'helpdesk')), true);
      assert.equal(await store.write((tx) => tx.identities.revokeRole(p.id, 'helpdesk')), false, 'a role not held');
    });

    it('issue 16: a person keeps a language for their mails, set at binding or later, null until chosen, only while bound', async () => {
      const { org, p } = await store.write(async (tx) => {
        const org = await organisation(tx);
        return { org, p: await person(tx, org) };
      });
      assert.equal(p.language, null, 'not chosen: the organisation default applies');
      assert.equal(await store.write((tx) => tx.identities.setLanguage(p.id, 'da')), true);
      assert.equal((await store.read((tx) => tx.identities.get(p.id)))?.language, 'da');
      assert.equal((await store.read((tx) => tx.identities.findActiveByEmail(p.email)))?.language, 'da');
      assert.equal(await store.write((tx) => tx.identities.setLanguage(p.id, 'en')), true);
      assert.equal((await store.read((tx) => tx.identities.get(p.id)))?.language, 'en');
      assert.equal(await store.write((tx) => tx.identities.setLanguage(p.id, null)), true);
      assert.equal((await store.read((tx) => tx.identities.get(p.id)))?.language, null);
      const id = randomUUID();
      await store.write((tx) =>
        tx.identities.insert({ id, organisationId: org.id, name: 'Dansk Person', email: `${id.slice(0, 8)}@example.test`, ial: 'substantial', proofingMethod: 'ID document checked in person', proofedBy: null, createdAt: T0, language: 'da' }),
      );
      assert.equal((await store.read((tx) => tx.identities.get(id)))?.language, 'da', 'set at binding');
      assert.equal(await store.write((tx) => tx.identities.endBinding(id, later(1))), true);
      assert.equal(await store.write((tx) => tx.identities.setLanguage(id, 'en')), false, 'an ended binding is not changed');
      assert.equal(await store.write((tx) => tx.identities.setLanguage(randomUUID(), 'en')), false, 'nobody');
    });

    it('identities by role, counted once per person, bound people only', async () => {
      const { a, b, c } = await store.write(async (tx) => {
        const org = await organisation(tx);
        const a = await person(tx, org, { createdAt: later(1) });
        const b = await person(tx, org, { createdAt: later(2) });
        const c = await person(tx, org, { createdAt: later(3) });
        for (const p of [a, b, c]) await tx.identities.grantRole(p.id, 'security-officer', null, T0);
        await tx.identities.grantRole(a.id, 'org-admin', null, T0);
        return { a, b, c };
      });
      const officers = async () => (await store.read((tx) => tx.identities.listActiveWithRole('security-officer'))).map((i) => i.id).filter((id) => [a.id, b.id, c.id].includes(id));
      assert.deepEqual(await officers(), [a.id, b.id, c.id], 'oldest binding first');
      const before = await store.read((tx) => tx.identities.countActiveWithAnyRole(['security-officer', 'org-admin']));
      assert.equal(await store.write((tx) => tx.identities.endBinding(b.id, later(10))), true);
      assert.equal(await store.write((tx) => tx.identities.endBinding(b.id, later(11))), false, 'a binding ends once');
      assert.deepEqual(await officers(), [a.id, c.id]);
      assert.equal(await store.read((tx) => tx.identities.countActiveWithAnyRole(['security-officer', 'org-admin'])), before - 1);
      const ended = await store.read((tx) => tx.identities.get(b.id));
      assert.equal(ended?.bindingState, 'ended');
      assert.equal(ended?.bindingEndedAt, later(10));
    });

    it('an ended binding frees its address; name and address change only while bound', async () => {
      const { org, p } = await store.write(async (tx) => {
        const org = await organisation(tx);
        return { org, p: await person(tx, org, { email: 'reused@example.test' }) };
      });
      assert.equal(await store.write((tx) => tx.identities.setName(p.id, 'New Name')), true);
      assert.equal(await store.write((tx) => tx.identities.setEmail(p.id, 'moved@example.test')), true);
      assert.equal((await store.read((tx) => tx.identities.findActiveByEmail('moved@example.test')))?.name, 'New Name');
      await store.write((tx) => tx.identities.endBinding(p.id, later(1)));
      assert.equal(await store.write((tx) => tx.identities.setName(p.id, 'Again')), false);
      assert.equal(await store.write((tx) => tx.identities.setEmail(p.id, 'again@example.test')), false);
      const again = await store.write((tx) => person(tx, org, { email: 'moved@example.test' }));
      assert.equal((await store.read((tx) => tx.identities.findActiveByEmail('moved@example.test')))?.id, again.id);
    });

    it('search by name, address substring or exact id, bound first and newest first, with a limit', async () => {
      const { org, ids } = await store.write(async (tx) => {
        const org = await organisation(tx);
        const ids: string[] = [];
        for (let i = 0; i < 3; i++) ids.push((await person(tx, org, { name: `Searchable ${i}`, email: `findme${i}@example.test`, createdAt: later(i) })).id);
        await person(tx, org, { name: 'Other 50%_x', email: 'other@example.test' });
        return { org, ids };
      });
      await store.write((tx) => tx.identities.endBinding(ids[2] ?? '', later(20)));
      const found = await store.read((tx) => tx.identities.search(org.id, 'SEARCHABLE'));
      assert.deepEqual(found.map((i) => i.id), [ids[1], ids[0], ids[2]]);
      assert.deepEqual((await store.read((tx) => tx.identities.search(org.id, 'findme'))).length, 3);
      assert.deepEqual((await store.read((tx) => tx.identities.search(org.id, ids[0] ?? ''))).map((i) => i.id), [ids[0]]);
      assert.equal((await store.read((tx) => tx.identities.search(org.id, '50%_'))).length, 1, 'LIKE wildcards are matched literally');
      assert.equal((await store.read((tx) => tx.identities.search(org.id, '', 2))).length, 2);
    });

    it('NSIS 3.2.2 (High) 3: who set up an identity is kept, append-only, and asked', async () => {
      const { a, b } = await store.write(async (tx) => {
        const org = await organisation(tx);
        return { a: await person(tx, org), b: await person(tx, org) };
      });
      await store.write(async (tx) => {
        await tx.setups.record({ identityId: b.id, aspect: 'identity', detail: null, setBy: a.id, approvedBy: null, at: T0 });
        await tx.setups.record({ identityId: b.id, aspect: 'contact', detail: 'one@example.test', setBy: a.id, approvedBy: null, at: later(1) });
        await tx.setups.record({ identityId: b.id, aspect: 'contact', detail: 'two@example.test', setBy: a.id, approvedBy: 'x', at: later(2) });
      });
      assert.equal(await store.read((tx) => tx.setups.setUpBy(b.id, a.id)), true);
      assert.equal(await store.read((tx) => tx.setups.setUpBy(a.id, b.id)), false);
      assert.equal((await store.read((tx) => tx.setups.lastContactChange(b.id)))?.detail, 'two@example.test');
      assert.equal(await store.read((tx) => tx.setups.lastContactChange(a.id)), undefined);
      assert.deepEqual((await store.read((tx) => tx.setups.listFor(b.id))).map((s) => s.aspect), ['identity', 'contact', 'contact']);
    });
  });
}
