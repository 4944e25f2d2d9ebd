/**
 * The PostgreSQL adapter's write of one statement (issue 17; the port's `write(fn, { oneStatement:
 * true })`, used by a sign-in's write): no BEGIN or COMMIT around it, one round trip.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { verifyChain } from '../../server/audit/hashChain.js';
import { PostgresStore } from '../../server/store/postgres/PostgresStore.js';
import { freshDatabase, type TestDatabase } from '../support/postgres.js';
import { recordStatements } from './fixtures.js';
import { holderWithKey, later, T0 } from '../store/adapters.js';

describe('PostgreSQL adapter: a write of one statement', () => {
  let db: TestDatabase;
  let store: PostgresStore;
  before(async () => {
    db = await freshDatabase();
    store = await PostgresStore.open({ url: db.url, poolSize: 4 });
  });
  after(async () => {
    await store.close();
    await db.drop();
  });

  it('issue 17, NSIS 3.3: a one-statement write (a sign-in\'s) is one round trip without BEGIN and COMMIT, durable when answered, its after-commit callbacks run; a second statement is refused, not run', async () => {
    const { holder, key } = await holderWithKey(store);
    await store.write((tx) => tx.credentials.setState(key.id, 'issued', 'active', 'activated', T0));
    const { sent, restore } = recordStatements();
    const hooks: string[] = [];
    const session = { idHash: randomUUID(), identityId: holder.id, credentialId: key.id, aal: 'substantial' as const, amr: ['hwk'], sid: randomUUID(), createdAt: later(5), lastSeenAt: later(5), absoluteExpiresAt: later(3600) };
    try {
      const done = await store.write(
        async (tx) => {
          tx.afterCommit(() => hooks.push('after'));
          return tx.signIns.commit({ keyId: key.id, expectedCount: 0, newCount: 1, backupState: false, at: later(5), session, entries: [{ at: later(5), type: 'signin.succeeded', actorId: holder.id, actorRole: 'holder', subjectId: key.id, data: { via: 'signin' } }] });
        },
        { oneStatement: true },
      );
      assert.equal(done?.entries.length, 1);
      assert.equal(sent.length, 1, sent.join(' | '));
      assert.doesNotMatch(sent[0] ?? '', /^(BEGIN|COMMIT)/);
      assert.deepEqual(hooks, ['after']);
      sent.length = 0;
      await assert.rejects(
        store.write(async (tx) => [await tx.credentials.rename(key.id, 'one', later(6)), await tx.credentials.rename(key.id, 'two', later(7))], { oneStatement: true }),
        (err: unknown) => err instanceof TypeError && /second statement/.test(err.message),
      );
      assert.equal(sent.length, 1, 'the second statement was never sent');
    } finally {
      restore();
    }
    assert.equal((await store.read((tx) => tx.credentials.get(key.id)))?.label, 'one', 'the first statement was its own transaction');
    assert.equal(verifyChain((await store.read((tx) => tx.audit.page(1, 10_000)))).ok, true);
  });
});
