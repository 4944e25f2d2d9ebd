/**
 * Store conformance for the statements issue 17 saved, whatever the engine: a read of ONE
 * statement (no BEGIN/COMMIT around it) and what it may do; the key with its holder, roles and
 * organisation in that one statement; and the audit chain of writes committed together (the
 * SQLite writer keeps the chain's head within its lock and gives the group's first transaction
 * no savepoint), through failures in the middle of a group.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { verifyChain } from '../../server/audit/hashChain.js';
import type { Store } from '../../server/ports/store.js';
import { auditEntries } from '../support/storeReads.js';
import { ADAPTERS, T0, holderWithKey, key, later, organisation, person } from './adapters.js';

for (const adapter of ADAPTERS) {
  describe(`store conformance (${adapter.name}): reads of one statement, audit chain of grouped writes (issue 17)`, () => {
    let store: Store;
    let dispose: () => Promise<void>;
    before(async () => {
      ({ store, dispose } = await adapter.fresh());
    });
    after(async () => {
      await dispose();
    });

    it('Issue 17: the key with its holder, the holder\'s roles and organisation is read in one statement (a read with oneStatement)', async () => {
      const { org, holder, key } = await holderWithKey(store);
      await store.write(async (tx) => {
        await tx.identities.grantRole(holder.id, 'helpdesk', null, T0);
        await tx.identities.grantRole(holder.id, 'employee', null, T0);
      });
      const got = await store.read((tx) => tx.credentials.withHolder(key.credentialId), { oneStatement: true });
      assert.equal(got?.credential.id, key.id);
      assert.equal(got?.identity?.id, holder.id);
      assert.deepEqual(got?.identity?.roles, ['employee', 'helpdesk']);
      assert.deepEqual(got?.organisation, org);
      assert.deepEqual(got?.identity, await store.read((tx) => tx.identities.get(holder.id)));
      assert.deepEqual(got?.credential, await store.read((tx) => tx.credentials.get(key.id)));
      assert.equal(await store.read((tx) => tx.credentials.withHolder('no-such-credential'), { oneStatement: true }), undefined);
      const byEmail = await store.read((tx) => tx.identities.findActiveByEmail(holder.email), { oneStatement: true });
      assert.deepEqual(byEmail?.roles, ['employee', 'helpdesk']);
    });

    it('Issue 17: the bound person of an address and their keys, oldest first, are read in one statement (what a sign-in\'s options read)', async () => {
      const { holder, key: first } = await holderWithKey(store);
      const second = await store.write((tx) => key(tx, holder.id, { createdAt: later(60) }));
      const got = await store.read((tx) => tx.credentials.keysOfActiveEmail(holder.email.toUpperCase()), { oneStatement: true });
      assert.equal(got?.identityId, holder.id);
      assert.deepEqual(got?.keys, await store.read((tx) => tx.credentials.listOfIdentity(holder.id)));
      assert.deepEqual(got?.keys.map((k) => k.id), [first.id, second.id]);
      const keyless = await store.write(async (tx) => person(tx, await organisation(tx)));
      assert.deepEqual(await store.read((tx) => tx.credentials.keysOfActiveEmail(keyless.email), { oneStatement: true }), { identityId: keyless.id, keys: [] });
      assert.equal(await store.read((tx) => tx.credentials.keysOfActiveEmail('nobody@example.test'), { oneStatement: true }), undefined);
      await store.write((tx) => tx.identities.endBinding(keyless.id, later(120)));
      assert.equal(await store.read((tx) => tx.credentials.keysOfActiveEmail(keyless.email), { oneStatement: true }), undefined);
    });

    it('Issue 17: a read with oneStatement refuses a second statement (it would see another snapshot), and the store goes on', async () => {
      const { holder, key } = await holderWithKey(store);
      await assert.rejects(
        store.read(async (tx) => [await tx.credentials.byCredentialId(key.credentialId), await tx.identities.get(holder.id)], { oneStatement: true }),
        TypeError,
      );
      assert.equal((await store.read((tx) => tx.signingKeys.active(), { oneStatement: true })), undefined);
      assert.equal((await store.read((tx) => tx.credentials.byCredentialId(key.credentialId), { oneStatement: true }))?.id, key.id);
    });

    it('NSIS 6 (Low) 7: writes started together, each appending two audit entries, some failing after their first, leave one unbroken chain of exactly the committed entries', async () => {
      const before = (await store.read((tx) => tx.audit.head())).seq;
      const rounds = 3;
      for (let round = 0; round < rounds; round++) {
        const outcomes = await Promise.allSettled(
          Array.from({ length: 12 }, (_, i) =>
            store.write(async (tx) => {
              const data = { round, i };
              await tx.audit.append({ at: T0, type: 'test.grouped.first', actorId: null, actorRole: 'system', subjectId: null, data });
              // The first of a group fails too (round 0, i 0), not only later ones.
              if (i % 4 === 0) throw new Error(`refused on purpose ${round}/${i}`);
              await tx.audit.append({ at: T0, type: 'test.grouped.second', actorId: null, actorRole: 'system', subjectId: null, data });
              return i;
            }),
          ),
        );
        assert.equal(outcomes.filter((o) => o.status === 'rejected').length, 3);
      }
      const entries = await auditEntries(store);
      const verdict = verifyChain(entries);
      assert.equal(verdict.ok, true, verdict.ok ? '' : verdict.problem);
      const mine = entries.filter((e) => e.seq > before);
      // 9 committed writes per round, two entries each; nothing of the failed ones.
      assert.equal(mine.filter((e) => e.type === 'test.grouped.first').length, 9 * rounds);
      assert.equal(mine.filter((e) => e.type === 'test.grouped.second').length, 9 * rounds);
      assert.equal(mine.length, 18 * rounds);
      assert.equal((await store.read((tx) => tx.audit.head())).seq, before + 18 * rounds);
      for (const e of mine) assert.notEqual((e.data as { i: number }).i % 4, 0);
    });
  });
}
