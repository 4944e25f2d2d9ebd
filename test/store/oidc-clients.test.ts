/** Store conformance: an org-admin's changes of an OpenID Connect client (issue 16), on both adapters. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { OidcClient } from '../../server/domain/oidc.js';
import type { Store } from '../../server/ports/store.js';
import { ADAPTERS, T0, later } from './adapters.js';

function rp(clientId: string): Omit<OidcClient, 'disabledAt'> {
  return { clientId, name: 'RP', redirectUris: ['https://rp.example/cb'], postLogoutRedirectUris: [], authMethod: 'client_secret_basic', secretHash: 'hash-1', jwks: null, scopes: ['openid'], minLoa: 'substantial', backchannelLogoutUri: null, createdBy: 'admin-1', createdAt: T0 };
}

for (const adapter of ADAPTERS) {
  describe(`store conformance (${adapter.name}): OpenID Connect clients managed by an org-admin`, () => {
    let store: Store;
    let dispose: () => Promise<void>;
    before(async () => {
      ({ store, dispose } = await adapter.fresh());
    });
    after(async () => {
      await dispose();
    });

    it('issue 16: disabling is a compare-and-set on the state (once per change of state); a re-registration keeps it; a new secret hash replaces the old', async () => {
      const id = `rp-${randomUUID()}`;
      await store.write((tx) => tx.oidc.upsertClient(rp(id)));
      assert.equal((await store.read((tx) => tx.oidc.client(id)))?.disabledAt, null);
      const results = await Promise.all([store.write((tx) => tx.oidc.setClientDisabled(id, later(1))), store.write((tx) => tx.oidc.setClientDisabled(id, later(2)))]);
      assert.deepEqual(results.filter(Boolean).length, 1, 'exactly one caller disables it');
      const disabledAt = (await store.read((tx) => tx.oidc.client(id)))?.disabledAt;
      assert.ok(disabledAt === later(1) || disabledAt === later(2), String(disabledAt));
      await store.write((tx) => tx.oidc.upsertClient({ ...rp(id), redirectUris: ['https://rp.example/new'] }));
      const kept = await store.read((tx) => tx.oidc.client(id));
      assert.deepEqual([kept?.redirectUris, kept?.disabledAt], [['https://rp.example/new'], disabledAt]);
      assert.equal(await store.write((tx) => tx.oidc.setClientDisabled(id, null)), true);
      assert.equal(await store.write((tx) => tx.oidc.setClientDisabled(id, null)), false, 'enabling an enabled client changes nothing');
      assert.equal(await store.write((tx) => tx.oidc.setClientSecretHash(id, 'hash-2')), true);
      assert.equal((await store.read((tx) => tx.oidc.client(id)))?.secretHash, 'hash-2');
      assert.equal(await store.write((tx) => tx.oidc.setClientSecretHash(`rp-${randomUUID()}`, 'hash-3')), false, 'an unknown client');
    });

    it('issue 16 / NSIS 6 (Low) 5: revoking a client\'s access tokens removes every one of that client and none of another, and says how many', async () => {
      const [a, b] = [`rp-${randomUUID()}`, `rp-${randomUUID()}`];
      const token = (clientId: string, n: number) => ({ clientId, sessionHash: `sess-${n}`, scope: 'openid', createdAt: T0, expiresAt: later(300), codeHash: `code-${randomUUID()}` });
      const hashes = [randomUUID(), randomUUID(), randomUUID()];
      await store.write(async (tx) => {
        await tx.oidc.insertAccessToken(hashes[0] ?? '', token(a, 1));
        await tx.oidc.insertAccessToken(hashes[1] ?? '', token(a, 2));
        await tx.oidc.insertAccessToken(hashes[2] ?? '', token(b, 1));
      });
      assert.equal(await store.write((tx) => tx.oidc.revokeAccessTokensOfClient(a)), 2);
      assert.equal(await store.write((tx) => tx.oidc.revokeAccessTokensOfClient(a)), 0, 'nothing left to revoke');
      assert.equal(await store.read((tx) => tx.oidc.accessToken(hashes[0] ?? '')), undefined);
      assert.equal(await store.read((tx) => tx.oidc.accessToken(hashes[1] ?? '')), undefined);
      assert.equal((await store.read((tx) => tx.oidc.accessToken(hashes[2] ?? '')))?.clientId, b, "another client's token stays");
    });
  });
}
