/** Store conformance: sessions, the outbox, the OpenID Provider's records, leases and the ephemeral store. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Store } from '../../server/ports/store.js';
import { ADAPTERS, T0, holderWithKey, key, later } from './adapters.js';

for (const adapter of ADAPTERS) {
  describe(`store conformance (${adapter.name}): sessions, outbox, OIDC, leases, ephemeral`, () => {
    let store: Store;
    let dispose: () => Promise<void>;
    before(async () => {
      ({ store, dispose } = await adapter.fresh());
    });
    after(async () => {
      await dispose();
    });

    it('NSIS 3.2.3 (Low) 1: sessions end once; ending by key or person returns exactly the sessions it ended', async () => {
      const { holder, key: k1 } = await holderWithKey(store);
      const k2 = await store.write((tx) => key(tx, holder.id));
      const session = (credentialId: string) => ({ idHash: randomUUID(), identityId: holder.id, credentialId, aal: 'substantial' as const, amr: ['hwk', 'pin'], sid: randomUUID(), createdAt: T0, lastSeenAt: T0, absoluteExpiresAt: later(3600) });
      const [s1, s2, s3] = [session(k1.id), session(k1.id), session(k2.id)];
      await store.write(async (tx) => {
        for (const s of [s1, s2, s3]) await tx.sessions.insert(s);
      });
      assert.deepEqual(await store.read((tx) => tx.sessions.get(s1.idHash)), { ...s1, endedAt: null, endReason: null });
      await store.write((tx) => tx.sessions.touch(s1.idHash, later(5)));
      assert.equal((await store.read((tx) => tx.sessions.get(s1.idHash)))?.lastSeenAt, later(5));
      assert.equal(await store.write((tx) => tx.sessions.end(s1.idHash, 'signed-out', later(6))), true);
      assert.equal(await store.write((tx) => tx.sessions.end(s1.idHash, 'again', later(7))), false);
      await store.write((tx) => tx.sessions.touch(s1.idHash, later(8)));
      assert.equal((await store.read((tx) => tx.sessions.get(s1.idHash)))?.lastSeenAt, later(5), 'an ended session is not touched');
      assert.deepEqual((await store.read((tx) => tx.sessions.liveOfCredential(k1.id))).map((s) => s.idHash), [s2.idHash]);
      const byKey = await store.write((tx) => tx.sessions.endOfCredential(k1.id, 'key-suspended', later(9)));
      assert.deepEqual(byKey.map((s) => [s.idHash, s.endReason, s.endedAt]), [[s2.idHash, 'key-suspended', later(9)]]);
      assert.deepEqual((await store.read((tx) => tx.sessions.liveOfIdentity(holder.id))).map((s) => s.idHash), [s3.idHash]);
      assert.deepEqual((await store.write((tx) => tx.sessions.endOfIdentity(holder.id, 'binding-ended', later(10)))).map((s) => s.idHash), [s3.idHash]);
      assert.deepEqual(await store.write((tx) => tx.sessions.endOfIdentity(holder.id, 'binding-ended', later(11))), []);
    });

    it('NSIS 6 (Low) 5: a new sign-in ends the previous session once, in one statement that returns the session it ended (none when it had ended or never existed)', async () => {
      const { holder, key: k } = await holderWithKey(store);
      const s = { idHash: randomUUID(), identityId: holder.id, credentialId: k.id, aal: 'substantial' as const, amr: ['hwk', 'pin'], sid: randomUUID(), createdAt: T0, lastSeenAt: T0, absoluteExpiresAt: later(3600) };
      await store.write((tx) => tx.sessions.insert(s));
      assert.deepEqual(await store.write((tx) => tx.sessions.endOne(s.idHash, 'replaced-by-new-sign-in', later(1))), { ...s, endedAt: later(1), endReason: 'replaced-by-new-sign-in' });
      assert.equal(await store.write((tx) => tx.sessions.endOne(s.idHash, 'again', later(2))), undefined);
      assert.equal(await store.write((tx) => tx.sessions.endOne(randomUUID(), 'none', later(2))), undefined);
      assert.equal((await store.read((tx) => tx.sessions.get(s.idHash)))?.endReason, 'replaced-by-new-sign-in');
    });

    it('NSIS 3.2.2: the outbox claims due mail with a lease, erases a body once sent or withdrawn, retries a failure later', async () => {
      const m = (id: string, at: string) => ({ id, channel: 'email' as const, recipient: 'x@example.test', subject: 'S', body: 'the body', kind: 'activation-code', createdAt: at, nextAttemptAt: at, receiptClaims: '{"a":1}', secretRef: 'activation-code:x' });
      const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
      const pending0 = await store.read((tx) => tx.outbox.pendingCount());
      await store.write(async (tx) => {
        await tx.outbox.enqueue(m(a, later(1)));
        await tx.outbox.enqueue(m(b, later(2)));
        await tx.outbox.enqueue(m(c, later(500)));
      });
      assert.equal(await store.read((tx) => tx.outbox.pendingCount()), pending0 + 3);
      const first = await store.write((tx) => tx.outbox.claimDue(later(10), later(70), 1));
      assert.deepEqual(first.map((x) => [x.id, x.body, x.receiptClaims, x.secretRef]), [[a, 'the body', '{"a":1}', 'activation-code:x']]);
      assert.deepEqual((await store.write((tx) => tx.outbox.claimDue(later(10), later(70), 10))).map((x) => x.id), [b], 'a claimed mail is not due; a future one neither');
      assert.deepEqual(await store.write((tx) => tx.outbox.claimDue(later(20), later(80), 10)), [], 'leased');
      assert.deepEqual((await store.write((tx) => tx.outbox.claimDue(later(70), later(130), 10))).map((x) => x.id), [a, b], 'a lease that ran out makes it due again');
      await store.write(async (tx) => {
        await tx.outbox.markSent(a, later(71));
        await tx.outbox.markFailed(b, 'smtp down', later(300));
        await tx.outbox.markWithdrawn(c, later(72), 'the code was used');
      });
      assert.equal(await store.read((tx) => tx.outbox.pendingCount()), pending0 + 1);
      assert.deepEqual(await store.write((tx) => tx.outbox.claimDue(later(299), later(400), 10)), []);
      const retried = await store.write((tx) => tx.outbox.claimDue(later(300), later(400), 10));
      assert.deepEqual(retried.map((x) => [x.id, x.attempts, x.lastError]), [[b, 1, 'smtp down']]);
      await store.write((tx) => tx.outbox.markSent(b, later(301)));
      assert.deepEqual(await store.write((tx) => tx.outbox.claimDue(later(10_000), later(10_100), 10)), [], 'sent and withdrawn mail is never claimed');
    });

    it('OIDC: clients are registered and replaced keeping their creator; requests, codes and tokens are single use and pruned', async () => {
      const { holder } = await holderWithKey(store);
      const client = { clientId: `rp-${randomUUID()}`, name: 'RP', redirectUris: ['https://rp.example/cb'], postLogoutRedirectUris: ['https://rp.example/bye'], authMethod: 'private_key_jwt' as const, secretHash: null, jwks: '{"keys":[]}', scopes: ['openid', 'email'], minLoa: 'substantial' as const, backchannelLogoutUri: 'https://rp.example/bc', createdBy: holder.id, createdAt: T0 };
      await store.write((tx) => tx.oidc.upsertClient(client));
      await store.write((tx) => tx.oidc.upsertClient({ ...client, name: 'RP renamed', createdBy: 'someone-else', createdAt: later(9) }));
      const got = await store.read((tx) => tx.oidc.client(client.clientId));
      assert.deepEqual([got?.name, got?.createdBy, got?.createdAt, got?.scopes], ['RP renamed', holder.id, T0, ['openid', 'email']]);
      assert.ok((await store.read((tx) => tx.oidc.clients())).some((c) => c.clientId === client.clientId));
      const rid = randomUUID();
      await store.write((tx) => tx.oidc.insertRequest(rid, client.clientId, '{"p":1}', T0, later(600)));
      assert.deepEqual(await store.read((tx) => tx.oidc.request(rid)), { clientId: client.clientId, params: '{"p":1}', createdAt: T0, expiresAt: later(600), consumed: false });
      assert.equal(await store.write((tx) => tx.oidc.consumeRequest(rid, later(600))), undefined, 'not at its expiry');
      assert.deepEqual(await store.write((tx) => tx.oidc.consumeRequest(rid, later(1))), { clientId: client.clientId, params: '{"p":1}', createdAt: T0 });
      assert.equal(await store.write((tx) => tx.oidc.consumeRequest(rid, later(2))), undefined);
      assert.equal((await store.read((tx) => tx.oidc.request(rid)))?.consumed, true);
      const code = { clientId: client.clientId, redirectUri: 'https://rp.example/cb', sessionHash: 'sess', nonce: null, codeChallenge: 'cc', scope: 'openid', createdAt: T0, expiresAt: later(60) };
      await store.write((tx) => tx.oidc.insertCode('code-1', code));
      assert.deepEqual(await store.write((tx) => tx.oidc.consumeCode('code-1', later(1))), { ...code, consumedBefore: false });
      assert.equal((await store.write((tx) => tx.oidc.consumeCode('code-1', later(2))))?.consumedBefore, true);
      assert.equal(await store.write((tx) => tx.oidc.consumeCode('unknown', later(2))), undefined);
      const token = { clientId: client.clientId, sessionHash: 'sess', scope: 'openid', createdAt: T0, expiresAt: later(300), codeHash: 'code-1' };
      await store.write(async (tx) => {
        await tx.oidc.insertAccessToken('tok-1', token);
        await tx.oidc.insertAccessToken('tok-2', { ...token, codeHash: 'code-2', sessionHash: 'other' });
        await tx.oidc.recordSessionClient('sess', client.clientId);
        await tx.oidc.recordSessionClient('sess', client.clientId);
      });
      assert.deepEqual(await store.read((tx) => tx.oidc.accessToken('tok-1')), token);
      assert.deepEqual(await store.read((tx) => tx.oidc.clientsOfSession('sess')), [client.clientId]);
      await store.write((tx) => tx.oidc.revokeAccessTokensOfCode('code-1'));
      assert.equal(await store.read((tx) => tx.oidc.accessToken('tok-1')), undefined);
      await store.write((tx) => tx.oidc.revokeAccessTokensOfSession('other'));
      assert.equal(await store.read((tx) => tx.oidc.accessToken('tok-2')), undefined);
      assert.equal(await store.write((tx) => tx.oidc.useAssertionJti('jti-1', client.clientId, later(300))), true);
      assert.equal(await store.write((tx) => tx.oidc.useAssertionJti('jti-1', client.clientId, later(300))), false);
      await store.write((tx) => tx.oidc.pruneExpired(later(10_000)));
      assert.equal(await store.read((tx) => tx.oidc.request(rid)), undefined);
      assert.equal(await store.write((tx) => tx.oidc.useAssertionJti('jti-1', client.clientId, later(20_000))), true, 'an expired assertion id is forgotten');
    });

    it('leases: one holder at a time; the holder renews; a lease that ran out or was released can be taken', async () => {
      const name = `lease-${randomUUID()}`;
      assert.equal(await store.write((tx) => tx.leases.acquire(name, 'a', later(60), later(0))), true);
      assert.equal(await store.write((tx) => tx.leases.acquire(name, 'b', later(70), later(10))), false);
      assert.equal(await store.write((tx) => tx.leases.acquire(name, 'a', later(120), later(50))), true, 'renewed by its holder');
      assert.equal(await store.write((tx) => tx.leases.acquire(name, 'b', later(180), later(119))), false);
      assert.equal(await store.write((tx) => tx.leases.acquire(name, 'b', later(180), later(120))), true, 'ran out');
      await store.write((tx) => tx.leases.release(name, 'a'));
      assert.equal(await store.write((tx) => tx.leases.acquire(name, 'a', later(190), later(130))), false, 'only the holder releases');
      await store.write((tx) => tx.leases.release(name, 'b'));
      assert.equal(await store.write((tx) => tx.leases.acquire(name, 'a', later(190), later(130))), true);
    });

    it('NSIS 3.3.1 (Low) 3: a challenge is kept with its binding, consumed once, and pruned after expiry', async () => {
      const c = { challenge: randomUUID(), flowHash: 'flow', ceremony: 'registration' as const, identityId: 'i', enrolmentId: 'e', createdAt: T0, expiresAt: later(120) };
      await store.ephemeral.challenges.put(c);
      assert.deepEqual(await store.ephemeral.challenges.consume(c.challenge, later(1)), { ...c, consumedAt: later(1) });
      assert.equal(await store.ephemeral.challenges.consume(c.challenge, later(2)), undefined);
      assert.equal(await store.ephemeral.challenges.consume(randomUUID(), later(2)), undefined);
      const old = { ...c, challenge: randomUUID(), expiresAt: later(5) };
      await store.ephemeral.challenges.put(old);
      assert.ok((await store.ephemeral.challenges.prune(later(6))) >= 1);
      assert.equal(await store.ephemeral.challenges.consume(old.challenge, later(7)), undefined);
    });

    it('issue 13, 1: a rate-limit window counts hits, takes one back, resets, and starts again when it ends', async () => {
      const limits = store.ephemeral.limits;
      const k = `key-${randomUUID()}`;
      const t = Date.parse(T0);
      assert.deepEqual(await limits.hit(k, 60_000, t), { hits: 1, resetAt: t + 60_000 });
      assert.deepEqual(await limits.hit(k, 60_000, t + 10), { hits: 2, resetAt: t + 60_000 });
      assert.deepEqual(await limits.get(k, t + 20), { hits: 2, resetAt: t + 60_000 });
      await limits.undo(k, t + 30);
      assert.equal((await limits.get(k, t + 30))?.hits, 1);
      await limits.undo(k, t + 31);
      await limits.undo(k, t + 32);
      assert.equal((await limits.get(k, t + 32))?.hits, 0, 'never below zero');
      assert.equal(await limits.get(k, t + 60_000), undefined, 'the window ended');
      assert.deepEqual(await limits.hit(k, 60_000, t + 60_000), { hits: 1, resetAt: t + 120_000 });
      await limits.reset(k);
      assert.equal(await limits.get(k, t + 60_001), undefined);
      await limits.hit(k, 1000, t);
      assert.ok((await limits.prune(t + 1000)) >= 1);
    });

    it('issue 17, issue 13, 1: hitThen counts the first key, and the second only while the first is within its limit, each atomically: concurrent calls never all see room only some have', async () => {
      const limits = store.ephemeral.limits;
      const hard = `hard-${randomUUID()}`;
      const soft = `soft-${randomUUID()}`;
      const t = Date.parse(T0);
      assert.deepEqual(await limits.hitThen(hard, 2, soft, 60_000, t), { first: { hits: 1, resetAt: t + 60_000 }, second: { hits: 1, resetAt: t + 60_000 } });
      assert.deepEqual(await limits.hitThen(hard, 2, soft, 60_000, t + 10), { first: { hits: 2, resetAt: t + 60_000 }, second: { hits: 2, resetAt: t + 60_000 } });
      // Over the first limit: the second is not counted (as when the hard limit refused before the soft one ran).
      assert.deepEqual(await limits.hitThen(hard, 2, soft, 60_000, t + 20), { first: { hits: 3, resetAt: t + 60_000 }, second: undefined });
      assert.equal((await limits.get(soft, t + 20))?.hits, 2);
      // The same counters as hit and undo use.
      await limits.undo(soft, t + 30);
      assert.deepEqual(await limits.hit(soft, 60_000, t + 40), { hits: 2, resetAt: t + 60_000 });
      // A window that ended starts again, for each key.
      assert.deepEqual(await limits.hitThen(hard, 2, soft, 60_000, t + 60_000), { first: { hits: 1, resetAt: t + 120_000 }, second: { hits: 1, resetAt: t + 120_000 } });
      await assert.rejects(limits.hitThen(hard, 2, hard, 60_000, t), TypeError);

      const h2 = `hard-${randomUUID()}`;
      const s2 = `soft-${randomUUID()}`;
      const got = await Promise.all(Array.from({ length: 20 }, () => limits.hitThen(h2, 5, s2, 60_000, t)));
      assert.deepEqual(got.map((g) => g.first.hits).sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i + 1));
      const counted = got.filter((g) => g.second !== undefined);
      assert.deepEqual(counted.map((g) => g.first.hits).sort((a, b) => a - b), [1, 2, 3, 4, 5]);
      assert.deepEqual(counted.map((g) => g.second?.hits).sort(), [1, 2, 3, 4, 5]);
      assert.equal((await limits.get(s2, t))?.hits, 5);
    });
  });
}
