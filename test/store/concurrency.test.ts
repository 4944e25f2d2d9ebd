/**
 * Store conformance, under concurrency: 100 callers in four worker threads (each its own
 * connections, as separate processes or instances) race for one thing. Single use means exactly
 * one wins; compare-and-set means exactly one changes; a count checked and taken in one
 * transaction is never exceeded; a claimed message is delivered by one claimer.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { verifyChain } from '../../server/audit/hashChain.js';
import type { Store } from '../../server/ports/store.js';
import { ADAPTERS, T0, holderWithKey, later, type StoreSpec } from './adapters.js';
import { errorsOf, race, winners } from './race.js';

for (const adapter of ADAPTERS) {
  describe(`store conformance (${adapter.name}): single use and compare-and-set under concurrency`, () => {
    let store: Store;
    let spec: StoreSpec;
    let dispose: () => Promise<void>;
    before(async () => {
      ({ store, spec, dispose } = await adapter.fresh());
    });
    after(async () => {
      await dispose();
    });

    it('NSIS 3.3.1 (Low) 3: 100 parallel consumers of one challenge, from four worker threads: exactly one gets it', async () => {
      const challenge = randomUUID();
      await store.ephemeral.challenges.put({ challenge, flowHash: 'f', ceremony: 'signin', identityId: null, enrolmentId: null, createdAt: T0, expiresAt: later(120) });
      const results = await race(spec, { op: 'consume-challenge', challenge, at: later(1) });
      assert.deepEqual(errorsOf(results), []);
      assert.equal(winners(results), 1);
      assert.equal(await store.ephemeral.challenges.consume(challenge, later(2)), undefined, 'used up for good');
    });

    it('NSIS 3.2.2: 100 parallel consumers of one activation code: exactly one consumes it', async () => {
      const { key } = await holderWithKey(store);
      const codeId = randomUUID();
      await store.write((tx) => tx.codes.insert({ id: codeId, credentialId: key.id, purpose: 'activate', codeHash: 'h', requestedBy: null, createdAt: T0, expiresAt: later(1800) }));
      const results = await race(spec, { op: 'consume-code', codeId, at: later(10) });
      assert.deepEqual(errorsOf(results), []);
      assert.equal(winners(results), 1);
    });

    it('issue 13, 3: 100 parallel attempts at one code with 5 allowed: exactly 5 are counted', async () => {
      const { key } = await holderWithKey(store);
      const codeId = randomUUID();
      await store.write((tx) => tx.codes.insert({ id: codeId, credentialId: key.id, purpose: 'activate', codeHash: 'h', requestedBy: null, createdAt: T0, expiresAt: later(1800) }));
      const results = await race(spec, { op: 'count-code-attempt', codeId, max: 5, at: later(10) });
      assert.deepEqual(errorsOf(results), []);
      assert.equal(winners(results), 5);
      assert.deepEqual(results.filter((r) => r.won).map((r) => r.value).sort(), [1, 2, 3, 4, 5]);
      assert.ok(results.filter((r) => !r.won).every((r) => r.value === 'locked'));
    });

    it('NSIS 3.2.2: 100 parallel registrations through one enrolment link: exactly one consumes it', async () => {
      const { holder } = await holderWithKey(store);
      const id = randomUUID();
      await store.write((tx) =>
        tx.enrolments.insert({ id, identityId: holder.id, tokenHash: `t-${id}`, createdBy: null, replacesCredentialId: null, basis: null, createdAt: T0, expiresAt: later(3600), consumedAt: null, supersededAt: null }),
      );
      const results = await race(spec, { op: 'consume-enrolment', enrolmentId: id, at: later(5) });
      assert.deepEqual(errorsOf(results), []);
      assert.equal(winners(results), 1);
    });

    it('RFC 6749 §4.1.2: 100 parallel redemptions of one authorization code: exactly one is the first', async () => {
      const { holder } = await holderWithKey(store);
      const codeHash = randomUUID();
      await store.write(async (tx) => {
        await tx.oidc.upsertClient({ clientId: `c-${codeHash}`, name: 'RP', redirectUris: ['https://rp.example/cb'], postLogoutRedirectUris: [], authMethod: 'client_secret_basic', secretHash: 'x', jwks: null, scopes: ['openid'], minLoa: 'low', backchannelLogoutUri: null, createdBy: holder.id, createdAt: T0 });
        await tx.oidc.insertCode(codeHash, { clientId: `c-${codeHash}`, redirectUri: 'https://rp.example/cb', sessionHash: 's', nonce: 'n', codeChallenge: 'c', scope: 'openid', createdAt: T0, expiresAt: later(60) });
      });
      const results = await race(spec, { op: 'consume-oidc-code', codeHash, at: later(1) });
      assert.deepEqual(errorsOf(results), []);
      assert.equal(winners(results), 1);
    });

    it('OIDC: 100 parallel continuations of one pending authorization request: exactly one gets it', async () => {
      const requestId = randomUUID();
      await store.write(async (tx) => {
        await tx.oidc.upsertClient({ clientId: `c-${requestId}`, name: 'RP', redirectUris: ['https://rp.example/cb'], postLogoutRedirectUris: [], authMethod: 'client_secret_basic', secretHash: 'x', jwks: null, scopes: ['openid'], minLoa: 'low', backchannelLogoutUri: null, createdBy: null, createdAt: T0 });
        await tx.oidc.insertRequest(requestId, `c-${requestId}`, '{}', T0, later(600));
      });
      const results = await race(spec, { op: 'consume-oidc-request', requestId, at: later(1) });
      assert.equal(winners(results), 1);
    });

    it('RFC 7523 §3: 100 parallel uses of one client assertion id: exactly one is accepted', async () => {
      const results = await race(spec, { op: 'use-assertion-jti', jti: randomUUID(), at: later(300) });
      assert.deepEqual(errorsOf(results), []);
      assert.equal(winners(results), 1);
    });

    it('NSIS 3.2.2 (High) 3: 100 parallel decisions on one pending request: exactly one counts', async () => {
      const { holder } = await holderWithKey(store);
      const id = randomUUID();
      await store.write((tx) => tx.approvals.insert({ id, kind: 'bulk', payload: '{}', summary: 's', items: [], subjects: [], requestedBy: holder.id, requestedRole: 'helpdesk', requestedAt: T0 }));
      const results = await race(spec, { op: 'decide-approval', approvalId: id, by: holder.id, at: later(1) });
      assert.equal(winners(results), 1);
    });

    it('NSIS 3.2.3: 100 parallel sign-ins with one counter value: the compare-and-set lets exactly one through', async () => {
      const { key } = await holderWithKey(store, { state: 'active', signCount: 5 });
      const results = await race(spec, { op: 'record-use', credentialId: key.id, expected: 5, next: 6, at: later(1) });
      assert.deepEqual(errorsOf(results), []);
      assert.equal(winners(results), 1);
      assert.equal((await store.read((tx) => tx.credentials.get(key.id)))?.signCount, 6);
    });

    it('NSIS 3.2.3 (Low) 1: 100 parallel suspensions of one key: exactly one changes its state', async () => {
      const { key } = await holderWithKey(store, { state: 'active' });
      const results = await race(spec, { op: 'set-state', credentialId: key.id, at: later(1) });
      assert.equal(winners(results), 1);
    });

    it('NSIS 3.2.3 (Low) 2: 100 parallel staff actions against an hourly cap of 7: exactly 7 are taken', async () => {
      const { holder, key } = await holderWithKey(store, { state: 'active' });
      const results = await race(spec, { op: 'staff-action', actorId: holder.id, credentialId: key.id, cap: 7, since: T0, at: later(60) });
      assert.deepEqual(errorsOf(results), []);
      assert.equal(winners(results), 7);
      assert.equal((await store.read((tx) => tx.staffActions.timesSince(holder.id, T0))).length, 7);
    });

    it('NSIS 3.2.4: 100 parallel self-service additions against a cap of 5 usable keys: exactly 4 more are inserted', async () => {
      const { holder } = await holderWithKey(store, { state: 'active' });
      const results = await race(spec, { op: 'add-key-within-cap', identityId: holder.id, cap: 5 });
      assert.deepEqual(errorsOf(results), []);
      assert.equal(winners(results), 4);
      assert.equal((await store.read((tx) => tx.credentials.listOfIdentity(holder.id))).length, 5);
    });

    it('the outbox: four worker threads claiming 60 due mails claim each exactly once', async () => {
      const ids: string[] = [];
      await store.write(async (tx) => {
        for (let i = 0; i < 60; i++) {
          const id = randomUUID();
          ids.push(id);
          await tx.outbox.enqueue({ id, channel: 'email', recipient: 'a@example.test', subject: 's', body: 'b', kind: 'k', createdAt: later(i), nextAttemptAt: later(i), receiptClaims: null, secretRef: null });
        }
      });
      const results = await race(spec, { op: 'claim-outbox', at: later(100), leaseUntil: later(160) }, 4, 3);
      assert.deepEqual(errorsOf(results), []);
      const claimed = results.flatMap((r) => (Array.isArray(r.value) ? r.value : []));
      assert.equal(claimed.length, 60, 'every due mail is claimed');
      assert.equal(new Set(claimed).size, 60, 'no mail is claimed twice');
      assert.deepEqual([...claimed].sort(), [...ids].sort());
    });

    it('NSIS 6 (Low) 7: 100 parallel appends from four worker threads keep ONE hash chain, in order, without gaps', async () => {
      const before = await store.read((tx) => tx.audit.head());
      const results = await race(spec, { op: 'append-audit', tag: 'race', at: later(1) });
      assert.deepEqual(errorsOf(results), []);
      const seqs = results.map((r) => Number(r.value)).sort((a, b) => a - b);
      assert.deepEqual(seqs, Array.from({ length: 100 }, (_, i) => before.seq + 1 + i));
      const entries = await store.read((tx) => tx.audit.page(1, 100_000));
      assert.equal(verifyChain(entries).ok, true);
    });

    it('NSIS 6 (Low) 7, issue 17: 100 parallel writes from four worker threads, each adding two entries (held back to the commit on PostgreSQL) and a history row naming the first, keep ONE chain; each write\'s entries are consecutive and its row names its entry', async () => {
      const { key } = await holderWithKey(store, { state: 'active' });
      const before = await store.read((tx) => tx.audit.head());
      const results = await race(spec, { op: 'add-audit-with-history', tag: 'held', credentialId: key.id, at: later(2) });
      assert.deepEqual(errorsOf(results), []);
      const pairs = results.map((r) => (Array.isArray(r.value) ? r.value : []));
      for (const [a, b] of pairs) assert.equal(Number(b), Number(a) + 1, "a write's two entries are consecutive");
      const seqs = pairs.flatMap(([a, b]) => [Number(a), Number(b)]).sort((x, y) => x - y);
      assert.deepEqual(seqs, Array.from({ length: 200 }, (_, i) => before.seq + 1 + i));
      const entries = await store.read((tx) => tx.audit.page(1, 100_000));
      assert.equal(verifyChain(entries).ok, true);
      const named = new Map((await store.read((tx) => tx.credentials.events(key.id))).map((e) => [e.note, e.auditSeq]));
      assert.equal(named.size, 100);
      for (const [a, , n] of pairs) assert.equal(named.get(n ?? ''), Number(a), 'the history row names its write\'s first entry');
    });

    it('issue 13, 1: 100 parallel hits on one rate-limit counter from four worker threads are all counted', async () => {
      const results = await race(spec, { op: 'limit-hit', key: `k-${randomUUID()}`, windowMs: 60_000, at: Date.parse(T0) });
      assert.deepEqual(errorsOf(results), []);
      assert.deepEqual(results.map((r) => Number(r.value)).sort((a, b) => a - b), Array.from({ length: 100 }, (_, i) => i + 1));
    });

    it('a lease: of 100 parallel takers, exactly one holds it', async () => {
      const results = await race(spec, { op: 'acquire-lease', name: `lease-${randomUUID()}`, until: later(60), at: later(1) });
      assert.equal(winners(results), 1);
    });
  });
}
