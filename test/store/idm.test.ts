/**
 * Store conformance: the outbound sync to MitID Erhverv (issue 18): one subject name id per
 * person, and the IdM job queue: a job is claimed by one claimer at a time across independent
 * connections, one person's jobs in their order, a lease that ran out makes a job due again, and
 * only the claim that ran a job may record its result (exactly one recorded outcome per change).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Identity } from '../../server/domain/types.js';
import { StoreConflict, type Store } from '../../server/ports/store.js';
import { ADAPTERS, T0, later, openSpec, organisation, person, type StoreSpec } from './adapters.js';

const job = (identityId: string, kind: string, at = T0) => ({ id: randomUUID(), identityId, kind, payload: JSON.stringify({ kind }), createdAt: at });

for (const adapter of ADAPTERS) {
  describe(`store conformance (${adapter.name}): subject name ids and IdM jobs`, () => {
    let store: Store;
    let spec: StoreSpec;
    let dispose: () => Promise<void>;
    before(async () => {
      ({ store, spec, dispose } = await adapter.fresh());
    });
    after(async () => {
      await dispose();
    });

    const people = (n: number) =>
      store.write(async (tx) => {
        const org = await organisation(tx);
        const out: Identity[] = [];
        for (let i = 0; i < n; i++) out.push(await person(tx, org));
        return out;
      });

    it('issue 18: one subject name id per person, unique across people; the employee uuid is recorded', async () => {
      const [a, b] = await people(2);
      assert.ok(a && b);
      await store.write((tx) => tx.idm.insertPerson({ identityId: a.id, subjectNameId: 'ab12@kommune.dk', employeeUuid: null, createdAt: T0 }));
      await assert.rejects(store.write((tx) => tx.idm.insertPerson({ identityId: b.id, subjectNameId: 'ab12@kommune.dk', employeeUuid: null, createdAt: T0 })), StoreConflict);
      await store.write((tx) => tx.idm.setEmployeeUuid(a.id, 'e-uuid'));
      assert.deepEqual(await store.read((tx) => tx.idm.bySubjectNameId('ab12@kommune.dk')), { identityId: a.id, subjectNameId: 'ab12@kommune.dk', employeeUuid: 'e-uuid', createdAt: T0 });
      assert.deepEqual(await store.read((tx) => tx.idm.people()), [{ identityId: a.id, subjectNameId: 'ab12@kommune.dk', employeeUuid: 'e-uuid', createdAt: T0 }], 'reconciliation reads every person');
    });

    it('issue 18 / NSIS 5.2: unlinked lists the bound people without a subject name id (oldest first), neither a linked person nor an ended binding', async () => {
      const [a, b, c] = await people(3);
      assert.ok(a && b && c);
      const mine = async () => (await store.read((tx) => tx.idm.unlinked(10_000))).filter((id) => id === a.id || id === b.id || id === c.id);
      assert.deepEqual(new Set(await mine()), new Set([a.id, b.id, c.id]));
      await store.write(async (tx) => {
        await tx.idm.insertPerson({ identityId: a.id, subjectNameId: `unlinked-${a.id}`, employeeUuid: null, createdAt: T0 });
        assert.equal(await tx.identities.endBinding(c.id, later(1)), true);
      });
      assert.deepEqual(await mine(), [b.id]);
      assert.equal((await store.read((tx) => tx.idm.unlinked(1))).length, 1, 'the limit holds');
    });

    it('issue 18: one person’s jobs run in order (bind before suspend); a claimed job is nobody else’s until its lease runs out; only that claim records the result', async () => {
      const [a, b] = await people(2);
      assert.ok(a && b);
      const [bind, suspend, other] = [job(a.id, 'bind'), job(a.id, 'suspend-person'), job(b.id, 'bind')];
      await store.write(async (tx) => {
        await tx.idm.enqueue(bind);
        await tx.idm.enqueue(suspend);
        await tx.idm.enqueue(other);
      });
      const first = await store.write((tx) => tx.idm.claimDue(later(1), later(60), 'one', 10));
      const mine = first.filter((j) => j.identityId === a.id || j.identityId === b.id);
      assert.deepEqual(mine.map((j) => j.id), [bind.id, other.id], 'the suspension waits for the bind');
      assert.ok(mine.every((j) => j.attempts === 1 && j.claimedBy === 'one'));
      assert.deepEqual((await store.write((tx) => tx.idm.claimDue(later(2), later(60), 'two', 10))).filter((j) => j.identityId === a.id), [], 'leased');
      const claimedBind = mine[0];
      assert.ok(claimedBind);
      assert.equal(await store.write((tx) => tx.idm.finish(claimedBind.seq, 'two', 1, { state: 'done', note: 'created' }, later(3))), false, 'not the claimer');
      assert.equal(await store.write((tx) => tx.idm.finish(claimedBind.seq, 'one', 1, { state: 'done', note: 'created' }, later(3))), true);
      assert.equal(await store.write((tx) => tx.idm.finish(claimedBind.seq, 'one', 1, { state: 'done', note: 'created' }, later(3))), false, 'recorded once');
      const next = (await store.write((tx) => tx.idm.claimDue(later(4), later(10), 'two', 10))).filter((j) => j.identityId === a.id);
      assert.deepEqual(next.map((j) => j.id), [suspend.id]);
      // The claimer "two" stalls past its lease: "three" takes the job over; "two" records nothing.
      const taken = (await store.write((tx) => tx.idm.claimDue(later(11), later(60), 'three', 10))).filter((j) => j.identityId === a.id);
      assert.deepEqual(taken.map((j) => [j.id, j.attempts]), [[suspend.id, 2]]);
      const seq = taken[0]?.seq ?? -1;
      assert.equal(await store.write((tx) => tx.idm.finish(seq, 'two', 1, { state: 'done', note: 'suspended' }, later(12))), false, 'a lease taken over is fenced off');
      assert.equal(await store.write((tx) => tx.idm.finish(seq, 'three', 2, { state: 'pending', error: 'IDM_TIMEOUT', nextAttemptAt: later(100) }, later(12))), true);
      assert.deepEqual((await store.write((tx) => tx.idm.claimDue(later(50), later(60), 'four', 10))).filter((j) => j.identityId === a.id), [], 'not due before its next attempt');
      const retried = (await store.write((tx) => tx.idm.claimDue(later(100), later(160), 'four', 10))).filter((j) => j.identityId === a.id);
      assert.equal(retried[0]?.attempts, 3);
      assert.equal(await store.write((tx) => tx.idm.finish(retried[0]?.seq ?? -1, 'four', 3, { state: 'failed', error: 'CONFLICT_UNRESOLVED' }, later(101))), true);
      const history = await store.read((tx) => tx.idm.jobsOf(a.id));
      assert.deepEqual(history.map((j) => [j.kind, j.state, j.note ?? j.lastError]), [['bind', 'done', 'created'], ['suspend-person', 'failed', 'CONFLICT_UNRESOLVED']]);
      const counts = await store.read((tx) => tx.idm.counts());
      assert.ok(counts.done >= 1 && counts.failed >= 1);
    });

    it('issue 18: claimers on independent connections racing for 40 jobs each get distinct jobs: every job claimed exactly once', async () => {
      const many = await people(40);
      const jobs = many.map((p) => job(p.id, 'bind', later(200)));
      await store.write(async (tx) => {
        for (const j of jobs) await tx.idm.enqueue(j);
      });
      const others = await Promise.all([openSpec(spec), openSpec(spec), openSpec(spec)]);
      try {
        const stores = [store, ...others];
        const rounds = await Promise.all(
          stores.flatMap((s, i) => [0, 1, 2, 3, 4].map((r) => s.write((tx) => tx.idm.claimDue(later(300), later(900), `claimer-${i}-${r}`, 3)))),
        );
        const ids = rounds.flat().map((j) => j.id).filter((id) => jobs.some((j) => j.id === id));
        assert.equal(new Set(ids).size, ids.length, 'no job claimed twice');
        const rest = await store.write((tx) => tx.idm.claimDue(later(300), later(900), 'sweeper', 100));
        const all = [...ids, ...rest.map((j) => j.id).filter((id) => jobs.some((j) => j.id === id))];
        assert.deepEqual(all.sort(), jobs.map((j) => j.id).sort(), 'every job claimed exactly once');
      } finally {
        await Promise.all(others.map((s) => s.close()));
      }
    });
  });
}
