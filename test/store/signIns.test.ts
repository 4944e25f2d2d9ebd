/**
 * Store conformance for the one write of a sign-in (issue 17; the port's SignInRepo, run with
 * `write(fn, { oneStatement: true })`), whatever the engine: the counter compare-and-set, the
 * session, the previous session's end and the audit entries, all or nothing, chained like any
 * append; a suspension or another use committed first leaves nothing written.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { verifyChain } from '../../server/audit/hashChain.js';
import type { AuditInput } from '../../server/domain/audit.js';
import type { NewSession } from '../../server/domain/sessions.js';
import type { Credential, Identity } from '../../server/domain/types.js';
import type { SignInCommit, Store } from '../../server/ports/store.js';
import { auditEntries } from '../support/storeReads.js';
import { ADAPTERS, T0, holderWithKey, later } from './adapters.js';

function session(holder: Identity, k: Credential, at = later(10)): NewSession {
  return { idHash: randomUUID(), identityId: holder.id, credentialId: k.id, aal: 'substantial', amr: ['hwk', 'pin'], sid: randomUUID(), createdAt: at, lastSeenAt: at, absoluteExpiresAt: later(3600, at) };
}

function entry(type: string, holder: Identity, subjectId: string | null, data: AuditInput['data'], at = later(10)): AuditInput {
  return { at, type, actorId: holder.id, actorRole: 'holder', subjectId, data };
}

async function activeKey(store: Store) {
  const { holder, key } = await holderWithKey(store);
  await store.write((tx) => tx.credentials.setState(key.id, 'issued', 'active', 'activated', T0));
  return { holder, key: { ...key, state: 'active' as const } };
}

function signIn(holder: Identity, k: Credential, newCount: number, over: Partial<SignInCommit> = {}): SignInCommit {
  const s = session(holder, k);
  return {
    keyId: k.id,
    expectedCount: k.signCount,
    newCount,
    backupState: false,
    at: later(10),
    session: s,
    // JSON the canonical form escapes, and text outside ASCII: hashed exactly as entryHash() does.
    entries: [entry('signin.succeeded', holder, k.id, { via: 'signin', session: s.idHash.slice(0, 16), note: 'Ærø "quoted" \\ \n tab\t ✓' }), entry('token.issued', holder, k.id, { jti: randomUUID(), aud: 'urn:x' })],
    ...over,
  };
}

for (const adapter of ADAPTERS) {
  describe(`store conformance (${adapter.name}): the one write of a sign-in (issue 17)`, () => {
    let store: Store;
    let dispose: () => Promise<void>;
    before(async () => {
      ({ store, dispose } = await adapter.fresh());
    });
    after(async () => {
      await dispose();
    });

    it('NSIS 3.3, 6 (Low) 5, 7: the counter moves, the session opens, the live previous session ends, and the entries chain in order with session.ended after the first', async () => {
      const { holder, key } = await activeKey(store);
      const old = session(holder, key, T0);
      await store.write((tx) => tx.sessions.insert(old));
      const head = await store.read((tx) => tx.audit.head());
      const ended = entry('session.ended', holder, holder.id, { reason: 'replaced-by-new-sign-in' });
      const c = signIn(holder, key, 7, { previous: { idHash: old.idHash, identityId: holder.id, reason: 'replaced-by-new-sign-in', entry: ended } });
      const done = await store.write((tx) => tx.signIns.commit(c), { oneStatement: true });
      assert.equal(done?.previousEnded, true);
      assert.deepEqual(done?.entries.map((e) => [e.seq, e.type]), [
        [head.seq + 1, 'signin.succeeded'],
        [head.seq + 2, 'session.ended'],
        [head.seq + 3, 'token.issued'],
      ]);
      const stored = await auditEntries(store, head.seq + 1);
      assert.deepEqual(stored, done?.entries, 'the entries read back byte for byte as returned');
      assert.equal(verifyChain(await auditEntries(store)).ok, true, 'the whole chain verifies');
      assert.deepEqual(await store.read((tx) => tx.audit.head()), { seq: head.seq + 3, hash: stored[2]?.hash });
      const k = await store.read((tx) => tx.credentials.get(key.id));
      assert.equal(k?.signCount, 7);
      assert.equal(k?.lastUsedAt, later(10));
      assert.deepEqual(await store.read((tx) => tx.sessions.get(c.session.idHash)), { ...c.session, endedAt: null, endReason: null });
      const prev = await store.read((tx) => tx.sessions.get(old.idHash));
      assert.deepEqual([prev?.endedAt, prev?.endReason], [later(10), 'replaced-by-new-sign-in']);
    });

    it('NSIS 6 (Low) 5: a previous session that had ended is left as it was and gets no session.ended entry', async () => {
      const { holder, key } = await activeKey(store);
      const old = session(holder, key, T0);
      await store.write(async (tx) => {
        await tx.sessions.insert(old);
        await tx.sessions.end(old.idHash, 'logout', later(1));
      });
      const ended = entry('session.ended', holder, holder.id, { reason: 'replaced-by-new-sign-in' });
      const done = await store.write((tx) => tx.signIns.commit(signIn(holder, key, 1, { previous: { idHash: old.idHash, identityId: holder.id, reason: 'replaced-by-new-sign-in', entry: ended } })), { oneStatement: true });
      assert.equal(done?.previousEnded, false);
      assert.deepEqual(done?.entries.map((e) => e.type), ['signin.succeeded', 'token.issued']);
      assert.equal((await store.read((tx) => tx.sessions.get(old.idHash)))?.endReason, 'logout');
      assert.equal(verifyChain(await auditEntries(store)).ok, true);
    });

    it('NSIS 3.2.3 (Low) 1, 3-4: after another use or a suspension committed first, the compare-and-set fails and NOTHING is written (no session, no entry, the previous session still live)', async () => {
      const { holder, key } = await activeKey(store);
      const old = session(holder, key, T0);
      await store.write((tx) => tx.sessions.insert(old));
      const ended = entry('session.ended', holder, holder.id, { reason: 'replaced-by-new-sign-in' });
      const previous = { idHash: old.idHash, identityId: holder.id, reason: 'replaced-by-new-sign-in', entry: ended };
      const first = signIn(holder, key, 5);
      assert.notEqual(await store.write((tx) => tx.signIns.commit(first), { oneStatement: true }), undefined);
      const head = await store.read((tx) => tx.audit.head());
      // The same counter value again (a concurrent use that lost).
      const again = signIn(holder, key, 5, { previous });
      assert.equal(await store.write((tx) => tx.signIns.commit(again), { oneStatement: true }), undefined);
      // A suspension committed since the key (now at 5) was read.
      await store.write((tx) => tx.credentials.setState(key.id, 'active', 'suspended', 'suspected-compromise', later(20)));
      const suspended = signIn(holder, { ...key, signCount: 5 }, 6, { previous });
      assert.equal(await store.write((tx) => tx.signIns.commit(suspended), { oneStatement: true }), undefined);
      assert.deepEqual(await store.read((tx) => tx.audit.head()), head, 'no entry');
      assert.equal(await store.read((tx) => tx.sessions.get(again.session.idHash)), undefined);
      assert.equal(await store.read((tx) => tx.sessions.get(suspended.session.idHash)), undefined);
      assert.equal((await store.read((tx) => tx.sessions.get(old.idHash)))?.endedAt, null);
      assert.equal((await store.read((tx) => tx.credentials.get(key.id)))?.signCount, 5);
    });

    it('NSIS 3.2.3 (Low) 3-4, 6 (Low) 7: of parallel sign-ins with one key and one counter value exactly one commits; parallel sign-ins of other keys all commit and the chain stays one', async () => {
      const keys = await Promise.all(Array.from({ length: 6 }, () => activeKey(store)));
      const [contested] = keys;
      if (!contested) throw new Error('no key');
      const same = await Promise.all(Array.from({ length: 6 }, () => store.write((tx) => tx.signIns.commit(signIn(contested.holder, contested.key, 1)), { oneStatement: true })));
      assert.equal(same.filter((x) => x !== undefined).length, 1);
      const others = await Promise.all(keys.slice(1).map(({ holder, key }) => store.write((tx) => tx.signIns.commit(signIn(holder, key, 1)), { oneStatement: true })));
      assert.equal(others.filter((x) => x !== undefined).length, 5);
      const all = await auditEntries(store);
      assert.equal(verifyChain(all).ok, true);
      assert.equal(new Set(all.map((e) => e.prevHash)).size, all.length, 'no two entries link to the same head');
    });
  });
}
