/** Store conformance: enrolment links, security keys and their history, activation codes. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { NewEnrolment } from '../../server/domain/keys.js';
import type { Store } from '../../server/ports/store.js';
import { ADAPTERS, T0, holderWithKey, key, later, newKey, organisation, person } from './adapters.js';

function enrolment(identityId: string, over: Partial<NewEnrolment> = {}): NewEnrolment {
  const id = randomUUID();
  return { id, identityId, tokenHash: `hash-${id}`, createdBy: null, replacesCredentialId: null, basis: null, createdAt: T0, expiresAt: later(3600), consumedAt: null, supersededAt: null, ...over };
}

for (const adapter of ADAPTERS) {
  describe(`store conformance (${adapter.name}): enrolments, keys and codes`, () => {
    let store: Store;
    let dispose: () => Promise<void>;
    before(async () => {
      ({ store, dispose } = await adapter.fresh());
    });
    after(async () => {
      await dispose();
    });

    it('NSIS 3.2.4: a self-service key is inserted only below the cap of keys that are neither revoked nor expired', async () => {
      const { holder } = await holderWithKey(store, { state: 'active' });
      await store.write((tx) => key(tx, holder.id, { state: 'revoked' }));
      await store.write((tx) => key(tx, holder.id, { state: 'expired' }));
      // One usable key (the active one): a cap of 2 lets exactly one more in.
      const second = newKey(holder.id, { state: 'issued' });
      assert.equal(await store.write((tx) => tx.credentials.insertWithinCap(second, 2)), true);
      assert.equal((await store.read((tx) => tx.credentials.get(second.id)))?.state, 'issued');
      const third = newKey(holder.id, { state: 'issued' });
      assert.equal(await store.write((tx) => tx.credentials.insertWithinCap(third, 2)), false);
      assert.equal(await store.read((tx) => tx.credentials.get(third.id)), undefined, 'nothing inserted at the cap');
      assert.equal((await store.read((tx) => tx.credentials.listOfIdentity(holder.id))).length, 4);
    });

    it('NSIS 3.2.2: an enrolment link is found by id and token hash, used once, not after expiry', async () => {
      const { holder } = await holderWithKey(store);
      const e = enrolment(holder.id, { basis: 'active-key' });
      await store.write((tx) => tx.enrolments.insert(e));
      const found = await store.read((tx) => tx.enrolments.byTokenHash(e.tokenHash));
      assert.equal(found?.id, e.id);
      assert.equal(found?.basis, 'active-key');
      assert.equal(found?.failedAttempts, 0);
      assert.equal(await store.write((tx) => tx.enrolments.consume(e.id, later(3600))), false, 'expired at its expiry');
      assert.equal(await store.write((tx) => tx.enrolments.consume(e.id, later(10))), true);
      assert.equal(await store.write((tx) => tx.enrolments.consume(e.id, later(11))), false);
      assert.equal((await store.read((tx) => tx.enrolments.get(e.id)))?.consumedAt, later(10));
    });

    it('NSIS 3.2.2: failed registrations are counted and lock the link at the limit; a new link withdraws open ones', async () => {
      const { holder } = await holderWithKey(store);
      const e = enrolment(holder.id);
      await store.write((tx) => tx.enrolments.insert(e));
      const counts = [];
      for (let i = 0; i < 3; i++) counts.push(await store.write((tx) => tx.enrolments.recordFailedAttempt(e.id, 3, later(i))));
      assert.deepEqual(counts, [{ attempts: 1, locked: false }, { attempts: 2, locked: false }, { attempts: 3, locked: true }]);
      assert.equal(await store.write((tx) => tx.enrolments.recordFailedAttempt(e.id, 3, later(5))), undefined, 'a locked link counts no more');
      assert.equal(await store.write((tx) => tx.enrolments.consume(e.id, later(6))), false, 'a locked link is not consumed');
      const open1 = enrolment(holder.id);
      const open2 = enrolment(holder.id);
      await store.write(async (tx) => {
        await tx.enrolments.insert(open1);
        await tx.enrolments.insert(open2);
      });
      assert.equal(await store.write((tx) => tx.enrolments.supersedeOpen(holder.id, later(7))), 3, 'the two open links and the locked one');
      assert.equal((await store.read((tx) => tx.enrolments.get(open1.id)))?.supersededAt, later(7));
    });

    it('issue 13, 5: a mailed link gets its token hash at delivery, only while it is open', async () => {
      const { holder } = await holderWithKey(store);
      const e = enrolment(holder.id, { tokenHash: `unminted:${randomUUID()}` });
      await store.write((tx) => tx.enrolments.insert(e));
      assert.equal(await store.write((tx) => tx.enrolments.mintToken(e.id, 'minted-1', later(1))), true);
      assert.equal((await store.read((tx) => tx.enrolments.byTokenHash('minted-1')))?.id, e.id);
      await store.write((tx) => tx.enrolments.consume(e.id, later(2)));
      assert.equal(await store.write((tx) => tx.enrolments.mintToken(e.id, 'minted-2', later(3))), false);
    });

    it('NSIS 3.2.1: a key is stored with its evidence and found by id, credential id, holder and model', async () => {
      const { holder } = await holderWithKey(store);
      const k = newKey(holder.id, { aaguid: 'ABCDEFAB-0000-0000-0000-000000000000'.toLowerCase(), transports: ['usb', 'nfc'], backupEligible: true, aalReasons: ['certified'], model: 'Model X' });
      await store.write((tx) => tx.credentials.insert(k));
      const got = await store.read((tx) => tx.credentials.byCredentialId(k.credentialId));
      assert.ok(got);
      assert.deepEqual([...got.publicKey], [...k.publicKey]);
      assert.deepEqual([...got.attestationObject], [...k.attestationObject]);
      assert.deepEqual(got.transports, ['usb', 'nfc']);
      assert.equal(got.backupEligible, true);
      assert.equal(got.updatedAt, k.createdAt);
      assert.deepEqual(got.aalReasons, ['certified']);
      assert.deepEqual((await store.read((tx) => tx.credentials.listOfIdentity(holder.id))).map((c) => c.label).length, 2);
      assert.deepEqual((await store.read((tx) => tx.credentials.listLiveByAaguid('ABCDEFAB-0000-0000-0000-000000000000'))).map((c) => c.id), [k.id]);
      await store.write((tx) => tx.credentials.setAssurance(k.id, { aal: 'low', model: 'Model Y', certification: 'FIDO_CERTIFIED_L1', reasons: ['downgraded'] }, later(5)));
      const rerated = await store.read((tx) => tx.credentials.get(k.id));
      assert.deepEqual([rerated?.aal, rerated?.model, rerated?.certification, rerated?.aalReasons, rerated?.updatedAt], ['low', 'Model Y', 'FIDO_CERTIFIED_L1', ['downgraded'], later(5)]);
    });

    it('NSIS 3.3.1: a sign-in reads its key, the holder with their roles and their organisation as one read, in a read and in a write; an unknown key is none', async () => {
      const { org, holder, key: k } = await holderWithKey(store);
      await store.write(async (tx) => {
        await tx.identities.grantRole(holder.id, 'helpdesk', null, T0);
        await tx.identities.grantRole(holder.id, 'employee', null, T0);
      });
      const separate = await store.read(async (tx) => ({ credential: await tx.credentials.byCredentialId(k.credentialId), identity: await tx.identities.get(holder.id), organisation: await tx.organisations.get(org.id) }));
      assert.deepEqual(separate.identity?.roles, ['employee', 'helpdesk']);
      assert.deepEqual(await store.read((tx) => tx.credentials.withHolder(k.credentialId)), separate);
      assert.deepEqual(await store.write((tx) => tx.credentials.withHolder(k.credentialId)), separate);
      assert.equal(await store.read((tx) => tx.credentials.withHolder('no-such-credential')), undefined);
    });

    it('NSIS 3.2.3: a state change is guarded on the state read; activation time set once; rename only while usable', async () => {
      const { key: k } = await holderWithKey(store);
      assert.equal(await store.write((tx) => tx.credentials.setState(k.id, 'active', 'suspended', 'lost', later(1))), false, 'not in that state');
      assert.equal(await store.write((tx) => tx.credentials.setState(k.id, 'issued', 'active', 'activated', later(2))), true);
      await store.write((tx) => tx.credentials.setState(k.id, 'active', 'suspended', 'lost', later(3)));
      await store.write((tx) => tx.credentials.setState(k.id, 'suspended', 'active', 'found', later(4)));
      const got = await store.read((tx) => tx.credentials.get(k.id));
      assert.deepEqual([got?.state, got?.stateReason, got?.activatedAt, got?.updatedAt], ['active', 'found', later(4), later(4)]);
      assert.equal(await store.write((tx) => tx.credentials.rename(k.id, 'Renamed', later(5))), true);
      await store.write((tx) => tx.credentials.setState(k.id, 'active', 'revoked', 'lost', later(6)));
      assert.equal(await store.write((tx) => tx.credentials.rename(k.id, 'Again', later(7))), false);
      assert.equal((await store.read((tx) => tx.credentials.get(k.id)))?.label, 'Renamed');
    });

    it('NSIS 3.2.3 (Low) 4: a use is recorded only on an active key with the counter read', async () => {
      const { key: k } = await holderWithKey(store, { state: 'active', signCount: 3 });
      assert.equal(await store.write((tx) => tx.credentials.recordUse(k.id, 2, 4, true, later(1))), false, 'another counter');
      assert.equal(await store.write((tx) => tx.credentials.recordUse(k.id, 3, 4, true, later(1))), true);
      const used = await store.read((tx) => tx.credentials.get(k.id));
      assert.deepEqual([used?.signCount, used?.backupState, used?.lastUsedAt], [4, true, later(1)]);
      await store.write((tx) => tx.credentials.setState(k.id, 'active', 'suspended', 'lost', later(2)));
      assert.equal(await store.write((tx) => tx.credentials.recordUse(k.id, 4, 5, false, later(3))), false, 'not while suspended');
      await store.write((tx) => tx.credentials.setSignCount(k.id, 9, false, later(4)));
      assert.equal((await store.read((tx) => tx.credentials.get(k.id)))?.signCount, 9, 'activation records the counter whatever the state');
    });

    it('NSIS 2 (Expiry): keys due to expire are the live ones whose date has passed', async () => {
      const { holder } = await holderWithKey(store);
      const due = await store.write(async (tx) => [
        await key(tx, holder.id, { expiresAt: later(10), state: 'active' }),
        await key(tx, holder.id, { expiresAt: later(10), state: 'revoked' }),
        await key(tx, holder.id, { expiresAt: later(100), state: 'active' }),
      ]);
      const ids = (await store.read((tx) => tx.credentials.listDueToExpire(later(10)))).map((c) => c.id);
      assert.ok(ids.includes(due[0]?.id ?? ''));
      assert.ok(!ids.includes(due[1]?.id ?? ''));
      assert.ok(!ids.includes(due[2]?.id ?? ''));
    });

    it('the state history is append-only and in order; the staff cap counts staff suspensions and revocations only', async () => {
      const { holder, key: k } = await holderWithKey(store);
      const staff = await store.write(async (tx) => person(tx, await organisation(tx)));
      const event = (action: string, role: string, actorId: string | null, at: string) => ({
        credentialId: k.id, action, fromState: null, toState: 'issued' as const, actorId, actorRole: role, reason: 'lost' as const, note: null, clause: 'c', at, auditSeq: 1,
      });
      await store.write(async (tx) => {
        await tx.credentials.addEvent(event('issue', 'holder', holder.id, later(1)));
        await tx.credentials.addEvent(event('suspend', 'helpdesk', staff.id, later(2)));
        await tx.credentials.addEvent(event('revoke', 'org-admin', staff.id, later(3)));
        await tx.credentials.addEvent(event('request-reactivation', 'helpdesk', staff.id, later(4)));
        await tx.credentials.addEvent(event('suspend', 'holder', staff.id, later(5)));
      });
      assert.deepEqual((await store.read((tx) => tx.credentials.events(k.id))).map((e) => e.action), ['issue', 'suspend', 'revoke', 'request-reactivation', 'suspend']);
      assert.deepEqual(await store.read((tx) => tx.staffActions.timesSince(staff.id, T0)), [later(2), later(3)]);
      assert.deepEqual(await store.read((tx) => tx.staffActions.timesSince(staff.id, later(2))), [later(3)], 'strictly after since');
    });

    it('issue 13, 8 and the fleet report: the key population and the fleet are counts only', async () => {
      const { holder } = await holderWithKey(store, { model: 'Fleet Model', aaguid: 'fleet-aaguid' });
      await store.write((tx) => key(tx, holder.id, { model: 'Fleet Model', aaguid: 'fleet-aaguid', credentialId: 'x'.repeat(43) }));
      const population = await store.read((tx) => tx.credentials.population());
      assert.ok(population.keysPerPerson.some((p) => p.keys === 2 && p.people >= 1));
      assert.ok(population.shapes.some((s) => s.idBytes === 32 && s.transports.join() === 'usb'));
      const fleet = await store.read((tx) => tx.credentials.fleet());
      assert.equal(fleet.find((r) => r.aaguid === 'fleet-aaguid')?.count, 2);
    });

    it('NSIS 3.2.2: codes are minted at delivery, withdrawn by a newer one, used once, and the newest open one is found', async () => {
      const { key: k } = await holderWithKey(store);
      const code = (id: string, createdAt: string) => ({ id, credentialId: k.id, purpose: 'activate' as const, codeHash: '', requestedBy: null, createdAt, expiresAt: later(1800) });
      const [c1, c2] = [randomUUID(), randomUUID()];
      await store.write((tx) => tx.codes.insert(code(c1, later(1))));
      assert.equal(await store.write((tx) => tx.codes.mint(c1, 'h1', later(2))), true);
      assert.equal((await store.read((tx) => tx.codes.latestOpen(k.id)))?.codeHash, 'h1');
      await store.write(async (tx) => {
        assert.equal(await tx.codes.supersedeOpen(k.id, later(3)), 1);
        await tx.codes.insert(code(c2, later(3)));
      });
      assert.equal((await store.read((tx) => tx.codes.latestOpen(k.id)))?.id, c2);
      assert.equal(await store.write((tx) => tx.codes.mint(c1, 'again', later(4))), false, 'a withdrawn code is never minted again');
      assert.equal(await store.write((tx) => tx.codes.consume(c1, later(4))), false);
      await store.write((tx) => tx.codes.mint(c2, 'h2', later(4)));
      assert.equal(await store.write((tx) => tx.codes.consume(c2, later(1800))), false, 'not at its expiry');
      assert.equal(await store.write((tx) => tx.codes.consume(c2, later(5))), true);
      assert.equal(await store.read((tx) => tx.codes.latestOpen(k.id)), undefined);
    });

    it('issue 13, 3: an attempt is counted before comparing, with the hash as it is now, and says why when it is not', async () => {
      const { key: k } = await holderWithKey(store);
      const id = randomUUID();
      await store.write((tx) => tx.codes.insert({ id, credentialId: k.id, purpose: 'reactivate', codeHash: 'h', requestedBy: null, createdAt: T0, expiresAt: later(100) }));
      assert.deepEqual(await store.write((tx) => tx.codes.countAttempt(id, 2, later(1))), { counted: true, attempts: 1, codeHash: 'h' });
      assert.deepEqual(await store.write((tx) => tx.codes.countAttempt(id, 2, later(100))), { counted: false, why: 'expired' });
      assert.deepEqual(await store.write((tx) => tx.codes.countAttempt(id, 2, later(2))), { counted: true, attempts: 2, codeHash: 'h' });
      assert.deepEqual(await store.write((tx) => tx.codes.countAttempt(id, 2, later(3))), { counted: false, why: 'locked' });
      await store.write(async (tx) => {
        await tx.codes.lock(id, later(4));
        await tx.codes.lock(id, later(5));
      });
      assert.equal((await store.read((tx) => tx.codes.latestOpen(k.id)))?.lockedAt, later(4), 'the first lock time stays');
      const used = randomUUID();
      await store.write(async (tx) => {
        await tx.codes.insert({ id: used, credentialId: k.id, purpose: 'activate', codeHash: 'u', requestedBy: null, createdAt: later(6), expiresAt: later(100) });
        await tx.codes.consume(used, later(7));
      });
      assert.deepEqual(await store.write((tx) => tx.codes.countAttempt(used, 5, later(8))), { counted: false, why: 'used' });
    });
  });
}
