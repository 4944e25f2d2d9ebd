/**
 * Store conformance: what `write`, `read` and `afterCommit` promise (server/ports/store.ts),
 * whatever the engine.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { StoreConflict, StoreUnavailable, type Store } from '../../server/ports/store.js';
import { ADAPTERS, T0, holderWithKey, newKey, organisation, person } from './adapters.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => undefined as void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

for (const adapter of ADAPTERS) {
  describe(`store conformance (${adapter.name}): transactions`, () => {
    let store: Store;
    let dispose: () => Promise<void>;
    before(async () => {
      ({ store, dispose } = await adapter.fresh());
    });
    after(async () => {
      await dispose();
    });

    it('a write commits all of its changes, and returns what its function returned', async () => {
      const { holder, key } = await holderWithKey(store);
      const seen = await store.read(async (tx) => ({ holder: await tx.identities.get(holder.id), key: await tx.credentials.get(key.id) }));
      assert.equal(seen.holder?.id, holder.id);
      assert.equal(seen.key?.id, key.id);
    });

    it('a write that throws leaves nothing behind, and its caller gets its error unchanged', async () => {
      const cvr = '31313131';
      const boom = new Error('refused on purpose');
      await assert.rejects(
        store.write(async (tx) => {
          const org = await organisation(tx, cvr);
          await person(tx, org);
          await tx.audit.append({ at: T0, type: 'test.rolled-back', actorId: null, actorRole: 'system', subjectId: null, data: {} });
          throw boom;
        }),
        (err) => err === boom,
      );
      assert.equal(await store.read((tx) => tx.organisations.byCvr(cvr)), undefined);
      const head = await store.read((tx) => tx.audit.head());
      const entries = await store.read((tx) => tx.audit.page(1, 100_000));
      assert.ok(entries.every((e) => e.type !== 'test.rolled-back'));
      assert.equal(head.seq, entries.length === 0 ? 0 : entries[entries.length - 1]?.seq);
    });

    it('afterCommit runs once the write is durable, and sees it committed', async () => {
      const cvr = '32323232';
      const seenInHook: (string | undefined)[] = [];
      let hookDone: () => void = () => undefined;
      const hookRan = new Promise<void>((r) => (hookDone = r));
      await store.write(async (tx) => {
        await organisation(tx, cvr);
        tx.afterCommit(() => {
          void store.read((r) => r.organisations.byCvr(cvr)).then((o) => {
            seenInHook.push(o?.cvr);
            hookDone();
          });
        });
      });
      await hookRan;
      assert.deepEqual(seenInHook, [cvr]);
    });

    it('afterCommit never runs after a rollback', async () => {
      let ran = false;
      await assert.rejects(
        store.write(async (tx) => {
          tx.afterCommit(() => {
            ran = true;
          });
          await organisation(tx);
          throw new Error('rolled back');
        }),
      );
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(ran, false);
    });

    it('an afterCommit callback that throws does not turn the committed write into a failure', async () => {
      const cvr = '33333333';
      const value = await store.write(async (tx) => {
        await organisation(tx, cvr);
        tx.afterCommit(() => {
          throw new Error('observer failed');
        });
        return 'done';
      });
      assert.equal(value, 'done');
      assert.ok(await store.read((tx) => tx.organisations.byCvr(cvr)));
    });

    it('writes started together each commit or fail on their own', async () => {
      const [a, b, c] = ['41414141', '42424242', '43434343'];
      const outcomes = await Promise.allSettled([
        store.write(async (tx) => organisation(tx, a)),
        store.write(async (tx) => {
          await organisation(tx, b);
          throw new Error('only this one fails');
        }),
        store.write(async (tx) => organisation(tx, c)),
      ]);
      assert.deepEqual(outcomes.map((o) => o.status), ['fulfilled', 'rejected', 'fulfilled']);
      const found = await store.read(async (tx) => [await tx.organisations.byCvr(a), await tx.organisations.byCvr(b), await tx.organisations.byCvr(c)]);
      assert.deepEqual(found.map((o) => o?.cvr ?? null), [a, null, c]);
    });

    it('a write sees its own changes; a read never sees a write that has not committed', async () => {
      const cvr = '44444444';
      const paused = deferred();
      const inserted = deferred();
      const writing = store.write(async (tx) => {
        await organisation(tx, cvr);
        assert.equal((await tx.organisations.byCvr(cvr))?.cvr, cvr, 'the write sees its own insert');
        inserted.resolve();
        await paused.promise;
      });
      await inserted.promise;
      assert.equal(await store.read((tx) => tx.organisations.byCvr(cvr)), undefined, 'uncommitted: invisible to readers');
      paused.resolve();
      await writing;
      assert.equal((await store.read((tx) => tx.organisations.byCvr(cvr)))?.cvr, cvr, 'committed: visible to the next read');
    });

    it('a read is one snapshot: a commit during it is not half seen', async () => {
      const { holder } = await holderWithKey(store);
      const inRead = deferred();
      const resume = deferred();
      const reading = store.read(async (tx) => {
        const first = (await tx.credentials.listOfIdentity(holder.id)).length;
        inRead.resolve();
        await resume.promise;
        const second = (await tx.credentials.listOfIdentity(holder.id)).length;
        return { first, second };
      });
      await inRead.promise;
      await store.write((tx) => tx.credentials.insert(newKey(holder.id)));
      resume.resolve();
      const { first, second } = await reading;
      assert.equal(first, 1);
      assert.equal(second, 1, 'the second look is of the same snapshot');
      assert.equal((await store.read((tx) => tx.credentials.listOfIdentity(holder.id))).length, 2);
    });

    it('an insert that races a uniqueness is refused with StoreConflict, and leaves nothing', async () => {
      const { holder, key } = await holderWithKey(store);
      await assert.rejects(store.write((tx) => tx.credentials.insert(newKey(holder.id, { credentialId: key.credentialId }))), StoreConflict);
      await assert.rejects(
        store.write(async (tx) => {
          const org = await organisation(tx);
          await person(tx, org, { email: holder.email.toUpperCase() });
        }),
        StoreConflict,
      );
    });

    it('health answers, the schema version is known', async () => {
      await store.health();
      assert.ok((await store.schemaVersion()) > 0);
      const d = await store.tools.describe();
      assert.equal(d.engine, adapter.name);
    });

    it('a closed store answers StoreUnavailable, never a driver error', async () => {
      const other = await adapter.fresh();
      await other.store.close();
      await assert.rejects(other.store.read((tx) => tx.organisations.get(randomUUID())), StoreUnavailable);
      await assert.rejects(other.store.write((tx) => tx.organisations.get(randomUUID())), StoreUnavailable);
      await assert.rejects(other.store.health(), StoreUnavailable);
      await other.dispose();
    });
  });
}
