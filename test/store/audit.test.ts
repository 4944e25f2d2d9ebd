/** Store conformance: the audit chain, checkpoints and prunes, signing keys and their records, approvals. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { JsonValue } from '../../server/audit/canonicalJson.js';
import { GENESIS_HASH, verifyChain } from '../../server/audit/hashChain.js';
import type { AuditQuery } from '../../server/domain/audit.js';
import type { Store } from '../../server/ports/store.js';
import { ADAPTERS, T0, holderWithKey, later } from './adapters.js';

for (const adapter of ADAPTERS) {
  describe(`store conformance (${adapter.name}): audit trail, signing keys, approvals`, () => {
    let store: Store;
    let dispose: () => Promise<void>;
    before(async () => {
      ({ store, dispose } = await adapter.fresh());
    });
    after(async () => {
      await dispose();
    });

    it('NSIS 6 (Low) 7: appends chain in order from the genesis hash; head, page, hash and count agree', async () => {
      assert.deepEqual(await store.read((tx) => tx.audit.head()), { seq: 0, hash: GENESIS_HASH });
      const appended = await store.write(async (tx) => {
        const out = [];
        for (let i = 0; i < 5; i++) out.push(await tx.audit.append({ at: later(i), type: 'test.event', actorId: null, actorRole: 'system', subjectId: `s${i}`, data: { i, nested: { å: 'ø' } } }));
        return out;
      });
      assert.deepEqual(appended.map((e) => e.seq), [1, 2, 3, 4, 5]);
      assert.equal(appended[0]?.prevHash, GENESIS_HASH);
      const page = await store.read((tx) => tx.audit.page(1, 100));
      assert.deepEqual(page, appended, 'stored exactly as appended');
      assert.equal(verifyChain(page).ok, true);
      assert.deepEqual((await store.read((tx) => tx.audit.page(2, 2))).map((e) => e.seq), [2, 3]);
      assert.deepEqual((await store.read((tx) => tx.audit.page(2, 10, 3))).map((e) => e.seq), [2, 3]);
      assert.deepEqual(await store.read((tx) => tx.audit.head()), { seq: 5, hash: appended[4]?.hash });
      assert.equal(await store.read((tx) => tx.audit.hashAt(3)), appended[2]?.hash);
      assert.equal(await store.read((tx) => tx.audit.hashAt(99)), undefined);
      assert.equal(await store.read((tx) => tx.audit.countThrough(4)), 4);
    });

    it('NSIS 6 (Low) 7: the first entry of each write links to the committed head and verifies, whatever its data holds (nested seq keys, escaped quotes, non-ASCII, no subject)', async () => {
      const head = await store.read((tx) => tx.audit.head());
      const awkward: { [key: string]: JsonValue }[] = [
        { seq: 0, subjectId: 'x', nested: { seq: 7 } },
        { text: ',"seq":0,"subjectId":"y"', quote: '"\\\n', emoji: '🔑 æøå' },
        {},
      ];
      const appended = [];
      for (const [i, data] of awkward.entries()) {
        appended.push(await store.write((tx) => tx.audit.append({ at: later(30 + i), type: 'test.awkward', actorId: i === 1 ? randomUUID() : null, actorRole: 'system', subjectId: i === 2 ? null : `s"${i}`, data })));
      }
      assert.deepEqual(appended.map((e) => e.seq), [head.seq + 1, head.seq + 2, head.seq + 3]);
      assert.equal(appended[0]?.prevHash, head.hash);
      const page = await store.read((tx) => tx.audit.page(head.seq + 1, 10));
      assert.deepEqual(page, appended, 'stored exactly as appended');
      assert.equal(verifyChain(page, head.hash, head.seq + 1).ok, true);
    });

    it('NSIS 6 (Low) 7, issue 17: entries added (held back to the commit on PostgreSQL) and appended in one write keep the order they were made in and one chain; a read in the write sees them; chained() gives them as stored', async () => {
      const head = await store.read((tx) => tx.audit.head());
      const input = (type: string, i: number) => ({ at: later(40 + i), type, actorId: null, actorRole: 'system' as const, subjectId: `s${i}`, data: { i, text: ',"seq":0,"subjectId":"x"' } });
      const { pending, mid, seen } = await store.write(async (tx) => {
        const a = await tx.audit.add(input('held.a', 0));
        const b = await tx.audit.add(input('held.b', 1));
        const mid = await tx.audit.append(input('held.mid', 2));
        const c = await tx.audit.add(input('held.c', 3));
        const seen = await tx.audit.page(head.seq + 1, 10);
        const d = await tx.audit.add(input('held.d', 4));
        return { pending: [a, b, c, d], mid, seen };
      });
      const [a, b, c, d] = await Promise.all(pending.map((p) => p.chained()));
      const stored = await store.read((tx) => tx.audit.page(head.seq + 1, 10));
      assert.deepEqual(stored.map((e) => e.type), ['held.a', 'held.b', 'held.mid', 'held.c', 'held.d']);
      assert.deepEqual(stored, [a, b, mid, c, d], 'chained() and append() give the entries as stored');
      assert.deepEqual(seen.map((e) => e.type), ['held.a', 'held.b', 'held.mid', 'held.c'], 'a read in the write sees its own entries');
      assert.equal(stored[0]?.prevHash, head.hash);
      assert.equal(verifyChain(stored, head.hash, head.seq + 1).ok, true);
    });

    it('NSIS 6 (Low) 7, issue 17: a write that fails after adding entries and history rows leaves none of them; the chain goes on from the head as it was', async () => {
      const { key } = await holderWithKey(store);
      const head = await store.read((tx) => tx.audit.head());
      await assert.rejects(
        store.write(async (tx) => {
          const p = await tx.audit.add({ at: later(50), type: 'held.lost', actorId: null, actorRole: 'system', subjectId: key.id, data: {} });
          await tx.credentials.addEventFor(p, { credentialId: key.id, action: 'suspend', fromState: 'issued', toState: 'suspended', actorId: null, actorRole: 'system', reason: 'lost', note: null, clause: 'test', at: later(50) });
          await tx.audit.add({ at: later(51), type: 'held.lost', actorId: null, actorRole: 'system', subjectId: key.id, data: {} });
          throw new Error('the flow failed');
        }),
        /the flow failed/,
      );
      assert.deepEqual(await store.read((tx) => tx.audit.head()), head);
      assert.deepEqual(await store.read((tx) => tx.audit.page(head.seq + 1, 10)), []);
      assert.deepEqual(await store.read((tx) => tx.credentials.events(key.id)), []);
      const next = await store.write(async (tx) => (await tx.audit.add({ at: later(52), type: 'held.kept', actorId: null, actorRole: 'system', subjectId: null, data: {} })));
      const entry = await next.chained();
      assert.equal(entry.seq, head.seq + 1);
      assert.equal(entry.prevHash, head.hash);
    });

    it('issue 17: a state-history row names its audit entry, whether the entry is still held back or chained already (addEventFor)', async () => {
      const { key } = await holderWithKey(store);
      const row = (action: 'suspend' | 'resume', from: 'issued' | 'suspended', to: 'issued' | 'suspended', i: number) => ({ credentialId: key.id, action, fromState: from, toState: to, actorId: null, actorRole: 'system' as const, reason: 'lost' as const, note: null, clause: 'test', at: later(60 + i) });
      const [held, early] = await store.write(async (tx) => {
        const held = await tx.audit.add({ at: later(60), type: 'credential.suspend', actorId: null, actorRole: 'system', subjectId: key.id, data: {} });
        await tx.credentials.addEventFor(held, row('suspend', 'issued', 'suspended', 0));
        const early = await tx.audit.add({ at: later(61), type: 'credential.resume', actorId: null, actorRole: 'system', subjectId: key.id, data: {} });
        await early.chained();
        await tx.credentials.addEventFor(early, row('resume', 'suspended', 'issued', 1));
        return [held, early];
      });
      const events = await store.read((tx) => tx.credentials.events(key.id));
      assert.deepEqual(events.map((e) => [e.action, e.auditSeq]), [
        ['suspend', (await held.chained()).seq],
        ['resume', (await early.chained()).seq],
      ]);
    });

    it("a person's trail: events about them, by them and about their keys, newest first", async () => {
      const { holder, key } = await holderWithKey(store);
      await store.write(async (tx) => {
        await tx.audit.append({ at: T0, type: 'about.person', actorId: null, actorRole: 'system', subjectId: holder.id, data: {} });
        await tx.audit.append({ at: T0, type: 'by.person', actorId: holder.id, actorRole: 'holder', subjectId: null, data: {} });
        await tx.audit.append({ at: T0, type: 'about.key', actorId: null, actorRole: 'system', subjectId: key.id, data: {} });
        await tx.audit.append({ at: T0, type: 'unrelated', actorId: null, actorRole: 'system', subjectId: randomUUID(), data: {} });
      });
      assert.deepEqual((await store.read((tx) => tx.audit.forPerson(holder.id))).map((e) => e.type), ['about.key', 'by.person', 'about.person']);
      assert.equal((await store.read((tx) => tx.audit.forPerson(holder.id, 1))).length, 1);
    });

    it('NSIS 6 (Low) 7: the readable trail filters by person, key, actor, event kind and time, pages by sequence both ways, and finds the sequence range of a time range', async () => {
      const { holder, key } = await holderWithKey(store);
      const staff = randomUUID();
      const base = (await store.read((tx) => tx.audit.head())).seq;
      await store.write(async (tx) => {
        await tx.audit.append({ at: later(100), type: 'f.about-person', actorId: staff, actorRole: 'helpdesk', subjectId: holder.id, data: {} });
        await tx.audit.append({ at: later(101), type: 'f.by-person', actorId: holder.id, actorRole: 'holder', subjectId: null, data: {} });
        await tx.audit.append({ at: later(102), type: 'f.about-key', actorId: staff, actorRole: 'helpdesk', subjectId: key.id, data: {} });
        await tx.audit.append({ at: later(103), type: 'f.other', actorId: null, actorRole: 'system', subjectId: randomUUID(), data: {} });
      });
      const types = (es: { type: string }[]) => es.map((e) => e.type);
      const search = (q: AuditQuery, order: 'asc' | 'desc' = 'desc', limit = 100) => store.read((tx) => tx.audit.search(q, order, limit));
      assert.deepEqual(types(await search({ personId: holder.id, afterSeq: base })), ['f.about-key', 'f.by-person', 'f.about-person']);
      assert.deepEqual(types(await search({ keyId: key.id })), ['f.about-key']);
      assert.deepEqual(types(await search({ actorId: staff })), ['f.about-key', 'f.about-person']);
      assert.deepEqual(types(await search({ types: ['f.other', 'f.by-person'] })), ['f.other', 'f.by-person']);
      assert.deepEqual(types(await search({ from: later(101), to: later(103) })), ['f.about-key', 'f.by-person'], 'from inclusive, to exclusive');
      assert.deepEqual(types(await search({ actorId: staff, types: ['f.about-key'] })), ['f.about-key'], 'filters combine');
      const newest = await search({ afterSeq: base }, 'desc', 2);
      assert.deepEqual(types(newest), ['f.other', 'f.about-key']);
      assert.deepEqual(types(await search({ afterSeq: base, beforeSeq: newest[1]?.seq }, 'desc', 2)), ['f.by-person', 'f.about-person'], 'the next page goes on before the cursor');
      assert.deepEqual(types(await search({ afterSeq: base }, 'asc', 2)), ['f.about-person', 'f.by-person'], 'oldest first for an export');
      assert.deepEqual(await search({ types: ['no.such'] }), []);
      assert.deepEqual(await store.read((tx) => tx.audit.seqRange(later(101), later(103))), { firstSeq: base + 2, lastSeq: base + 3 });
      assert.deepEqual(await store.read((tx) => tx.audit.seqRange(later(101), undefined)), { firstSeq: base + 2, lastSeq: base + 4 });
      assert.equal(await store.read((tx) => tx.audit.seqRange(later(500), undefined)), undefined);
    });

    it('NSIS 4.1.4: checkpoints are kept in order; a prune removes entries only through its anchor and is recorded', async () => {
      const head = await store.read((tx) => tx.audit.head());
      const cp = (n: number, seq: number, at: string) => ({ seq, headHash: `h${seq}`, at, kid: 'k1', jws: '', n, prevHash: n === 1 ? null : `p${n}`, note: `note ${n}` });
      const [id1, id2] = await store.write(async (tx) => [await tx.checkpoints.insert(cp(1, 2, later(10))), await tx.checkpoints.insert(cp(2, head.seq, later(20)))]);
      assert.equal((await store.read((tx) => tx.checkpoints.latest()))?.id, id2);
      assert.deepEqual((await store.read((tx) => tx.checkpoints.list())).map((c) => c.n), [1, 2]);
      assert.equal(await store.read((tx) => tx.checkpoints.count()), 2);
      assert.equal((await store.read((tx) => tx.checkpoints.get(id1 ?? 0)))?.note, 'note 1');
      assert.equal((await store.read((tx) => tx.checkpoints.latestAtOrBefore(later(15))))?.id, id1);
      assert.equal(await store.read((tx) => tx.checkpoints.latestAtOrBefore(later(5))), undefined);
      assert.deepEqual((await store.read((tx) => tx.checkpoints.undelivered('url', 10))).map((c) => c.id), [id1, id2]);
      await store.write(async (tx) => {
        await tx.checkpoints.markDelivered(id1 ?? 0, 'url', later(30));
        await tx.checkpoints.markDelivered(id1 ?? 0, 'url', later(31));
      });
      assert.deepEqual((await store.read((tx) => tx.checkpoints.undelivered('url', 10))).map((c) => c.id), [id2]);
      assert.deepEqual((await store.read((tx) => tx.checkpoints.undelivered('dir', 1))).map((c) => c.id), [id1]);
      const removed = await store.write((tx) => tx.audit.pruneThrough(2, id1 ?? 0, later(40), 'signed-prune'));
      assert.equal(removed, 2);
      assert.equal((await store.read((tx) => tx.audit.page(1, 1)))[0]?.seq, 3);
      const prune = await store.read((tx) => tx.checkpoints.latestPrune());
      assert.deepEqual([prune?.throughSeq, prune?.anchorCheckpointId, prune?.jws], [2, id1, 'signed-prune']);
      assert.equal((await store.read((tx) => tx.checkpoints.prunes())).length, 1);
      const next = await store.write((tx) => tx.audit.append({ at: later(50), type: 'after.prune', actorId: null, actorRole: 'system', subjectId: null, data: {} }));
      assert.equal(next.seq, head.seq + 1, 'the chain goes on after a prune');
    });

    it('NSIS 6 (Substantial) 11: signing keys go pending -> active (one at a time) -> retired -> destroyed, guarded', async () => {
      const k = (kid: string, state: 'pending' | 'active') => ({ kid, ckaId: `cka-${kid}`, label: `l-${kid}`, alg: 'ES256', publicJwk: { kty: 'EC', crv: 'P-256', x: kid, y: kid }, state, createdAt: later(kid === 'a' ? 1 : 2), promoteAt: null, activatedAt: null });
      await store.write(async (tx) => {
        await tx.signingKeys.insert(k('a', 'pending'));
        await tx.signingKeys.insert(k('b', 'pending'));
      });
      assert.equal(await store.write((tx) => tx.signingKeys.promote('a', later(3))), true);
      assert.equal(await store.write((tx) => tx.signingKeys.promote('a', later(3))), false);
      assert.equal((await store.read((tx) => tx.signingKeys.active()))?.kid, 'a');
      assert.deepEqual((await store.read((tx) => tx.signingKeys.inState('pending'))).map((x) => x.kid), ['b']);
      assert.deepEqual((await store.read((tx) => tx.signingKeys.published(later(4)))).map((x) => x.kid), ['a', 'b']);
      assert.equal(await store.write((tx) => tx.signingKeys.markDestroyed('a', later(4))), false, 'only a retired key is destroyed');
      await store.write(async (tx) => {
        assert.equal(await tx.signingKeys.retire('a', later(5), later(100), false), true);
        assert.equal(await tx.signingKeys.promote('b', later(5)), true);
      });
      assert.deepEqual((await store.read((tx) => tx.signingKeys.published(later(50)))).map((x) => x.kid), ['a', 'b']);
      assert.deepEqual((await store.read((tx) => tx.signingKeys.published(later(100)))).map((x) => x.kid), ['b']);
      assert.equal(await store.write((tx) => tx.signingKeys.markDestroyed('a', later(60))), true);
      const a = await store.read((tx) => tx.signingKeys.get('a'));
      assert.deepEqual([a?.state, a?.destroyedAt, a?.publishedUntil, a?.publicJwk['x']], ['destroyed', later(60), later(60), 'a']);
      assert.deepEqual((await store.read((tx) => tx.signingKeys.list())).map((x) => x.kid), ['a', 'b']);
      assert.deepEqual(await store.read((tx) => tx.signingKeys.kidsWithoutRecord()), ['a', 'b']);
      await store.write((tx) => tx.signingKeys.addRecord({ kid: 'a', event: 'generated', at: later(1), signerKid: 'a', jws: 'j', hash: randomUUID(), auditSeq: 1 }));
      assert.deepEqual(await store.read((tx) => tx.signingKeys.kidsWithoutRecord()), ['b']);
      assert.deepEqual((await store.read((tx) => tx.signingKeys.records())).map((r) => [r.kid, r.event]), [['a', 'generated']]);
      await store.write((tx) => tx.signingKeys.retire('b', later(70), later(70), true));
      assert.equal((await store.read((tx) => tx.signingKeys.get('b')))?.compromisedAt, later(70));
    });

    it('NSIS 3.2.2 (High) 3: approvals are listed newest first by kind, decided once, withdrawn only while pending', async () => {
      const { holder } = await holderWithKey(store);
      const a = (id: string, kind: 'bulk' | 'role-grant', at: string) => ({ id, kind, payload: '{"x":1}', summary: `s ${id}`, items: ['one', 'two'], subjects: [holder.id], requestedBy: holder.id, requestedRole: 'helpdesk' as const, requestedAt: at });
      const [x, y, z] = [randomUUID(), randomUUID(), randomUUID()];
      await store.write(async (tx) => {
        await tx.approvals.insert(a(x, 'bulk', later(1)));
        await tx.approvals.insert(a(y, 'role-grant', later(2)));
        await tx.approvals.insert(a(z, 'bulk', later(3)));
      });
      const got = await store.read((tx) => tx.approvals.get(x));
      assert.deepEqual([got?.state, got?.items, got?.subjects, got?.decidedBy], ['pending', ['one', 'two'], [holder.id], null]);
      assert.deepEqual((await store.read((tx) => tx.approvals.list(['bulk']))).map((r) => r.id), [z, x]);
      assert.deepEqual((await store.read((tx) => tx.approvals.list(undefined, 1))).map((r) => r.id), [z]);
      assert.deepEqual((await store.read((tx) => tx.approvals.pending())).map((r) => r.id), [x, y, z]);
      assert.equal(await store.write((tx) => tx.approvals.decide(x, 'executed', holder.id, 'org-admin', later(4), null)), true);
      assert.equal(await store.write((tx) => tx.approvals.decide(x, 'rejected', holder.id, 'org-admin', later(5), null)), false);
      assert.equal(await store.write((tx) => tx.approvals.withdraw(x, later(5), 'late')), false);
      assert.equal(await store.write((tx) => tx.approvals.withdraw(y, later(5), 'requester-lost-role')), true);
      await store.write((tx) => tx.approvals.setResult(x, 'executed', 'done'));
      const decided = await store.read((tx) => tx.approvals.get(x));
      assert.deepEqual([decided?.state, decided?.decidedRole, decided?.decidedAt, decided?.result], ['executed', 'org-admin', later(4), 'done']);
      assert.deepEqual([(await store.read((tx) => tx.approvals.get(y)))?.state, (await store.read((tx) => tx.approvals.get(y)))?.result], ['withdrawn', 'requester-lost-role']);
      assert.deepEqual((await store.read((tx) => tx.approvals.pending())).map((r) => r.id), [z]);
    });
  });
}

for (const adapter of ADAPTERS) {
  describe(`store conformance (${adapter.name}): the chain after a prune through its head`, () => {
    let store: Store;
    let dispose: () => Promise<void>;
    before(async () => {
      ({ store, dispose } = await adapter.fresh());
    });
    after(async () => {
      await dispose();
    });

    it('NSIS 4.1.4, 6 (Low) 7: a prune that removes every entry through the head leaves the chain going on from the anchor (its number and hash), as the verifier expects, not from the genesis hash', async () => {
      const appended = await store.write(async (tx) => [
        await tx.audit.append({ at: later(1), type: 'before.prune', actorId: null, actorRole: 'system', subjectId: null, data: {} }),
        await tx.audit.append({ at: later(2), type: 'before.prune', actorId: null, actorRole: 'system', subjectId: null, data: {} }),
      ]);
      const last = appended[1];
      assert.ok(last);
      const anchorId = await store.write((tx) => tx.checkpoints.insert({ seq: last.seq, headHash: last.hash, at: later(3), kid: 'k1', jws: '', n: 1, prevHash: null, note: 'note 1' }));
      const next = await store.write(async (tx) => {
        assert.equal(await tx.audit.pruneThrough(last.seq, anchorId, later(4), 'signed-prune'), 2);
        return tx.audit.append({ at: later(5), type: 'audit.pruned', actorId: null, actorRole: 'system', subjectId: null, data: {} });
      });
      assert.deepEqual([next.seq, next.prevHash], [last.seq + 1, last.hash]);
      assert.deepEqual(await store.read((tx) => tx.audit.head()), { seq: next.seq, hash: next.hash });
      assert.equal(verifyChain([next], last.hash, last.seq + 1).ok, true);
    });
  });
}
