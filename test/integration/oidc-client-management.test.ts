/**
 * Issue 16, the applications page: an org-admin registers an OpenID Connect client, rotates its
 * secret (the new one answered once, the old one refused at the token endpoint), changes its
 * redirect URIs, disables and enables it. A real relying party (openid-client v6) signs in with
 * it. Every refusal is answered with problem+json and a stable code and is in the audit trail.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as client from 'openid-client';
import { FixedClock } from '../../server/clock.js';
import { ApiClient, field, type ApiResponse } from '../support/apiClient.js';
import { databaseText } from '../support/dbInspection.js';
import { activeAdmin, activeEmployee, signIn } from '../support/journeys.js';
import type { SoftAuthenticator } from '../support/softAuthenticator.js';
import { auditEntries } from '../support/storeReads.js';
import { startTestGateway, type TestGateway } from '../support/testGateway.js';

const REDIRECT = 'http://127.0.0.1:8711/callback';

function locationOf(res: ApiResponse): URL {
  assert.equal(res.status, 303, `expected a 303, got ${res.status}: ${JSON.stringify(res.body).slice(0, 300)}`);
  return new URL(res.headers.get('location') ?? '');
}

/** The protocol error of a refused token request, whichever way openid-client reports it. */
async function tokenRefusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof client.ResponseBodyError) return err.error;
    if (err instanceof client.WWWAuthenticateChallengeError) return err.cause.map((c) => c.parameters.error).find((e) => e !== undefined) ?? 'invalid_client';
    throw err;
  }
  throw new Error('expected the token request to be refused');
}

describe('issue 16: OpenID Connect clients managed by an org-admin, with openid-client as the relying party', () => {
  let gw: TestGateway;
  let clock: FixedClock;
  let admin: Awaited<ReturnType<typeof activeAdmin>>;
  let person: { client: ApiClient; auth: SoftAuthenticator; email: string };

  const refusals = async (code: string): Promise<number> => (await auditEntries(gw.runtime.store)).filter((e) => e.type === 'oidc.client-refused' && e.data['code'] === code).length;

  const register = (body: Record<string, unknown>) =>
    admin.client.post('/api/admin/oidc-clients', { authMethod: 'client_secret_basic', minLoa: 'substantial', postLogoutRedirectUris: [], ...body });

  /** The code flow of a signed-in person; the code is exchanged with `secret`. */
  const codeFlowWith = async (clientId: string, secret: string) => {
    const config = await client.discovery(new URL(gw.origin), clientId, { [client.clockSkew]: Math.floor((clock.now().getTime() - Date.now()) / 1000) - 5 }, client.ClientSecretBasic(secret), {
      execute: [client.allowInsecureRequests],
    });
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid', code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state, nonce });
    const answer = await person.client.get(url.pathname + url.search);
    if (answer.status !== 303) return { authorize: answer };
    const callback = locationOf(answer);
    return { authorize: answer, config, grant: () => client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true }) };
  };

  before(async () => {
    clock = new FixedClock(new Date());
    gw = await startTestGateway({
      clock,
      env: { GATEWAY_SESSION_IDLE_MINUTES: '600', GATEWAY_SESSION_ABSOLUTE_MINUTES: '6000', GATEWAY_STEP_UP_MINUTES: '30', GATEWAY_HELPDESK_ACTIONS_PER_HOUR: '1000' },
    });
    admin = await activeAdmin(gw);
    person = await activeEmployee(gw, admin.client, 'rp-person@demo.example', 'RP Person');
  });
  after(async () => {
    await gw?.close();
  });

  it('NSIS 6 (Low) 1, 7: a client registered by the org-admin signs a person in; a rotated secret is answered once, the old one is refused and the new one works; the secret is never stored or audited in clear', async () => {
    const reg = await register({ clientId: 'managed-rp', name: 'Managed RP', redirectUris: [REDIRECT] });
    assert.equal(reg.status, 201, JSON.stringify(reg.body));
    assert.equal(reg.headers.get('cache-control'), 'no-store');
    const first = field<string>(reg.body, 'clientSecret');
    const ok = await codeFlowWith('managed-rp', first);
    assert.ok((await ok.grant?.())?.claims()?.sub, 'the first secret signs in');

    const rotated = await admin.client.post('/api/admin/oidc-clients/managed-rp/secret', {});
    assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
    assert.equal(rotated.headers.get('cache-control'), 'no-store');
    const second = field<string>(rotated.body, 'clientSecret');
    assert.notEqual(second, first);
    const old = await codeFlowWith('managed-rp', first);
    assert.equal(await tokenRefusal(old.grant?.() ?? Promise.resolve()), 'invalid_client', 'the old secret is refused at the token endpoint');
    const fresh = await codeFlowWith('managed-rp', second);
    assert.ok((await fresh.grant?.())?.claims()?.sub, 'the new secret works');

    const audit = await auditEntries(gw.runtime.store);
    assert.equal(audit.filter((e) => e.type === 'oidc.client-secret-rotated' && e.subjectId === 'managed-rp').length, 1);
    const everything = JSON.stringify(audit) + (await databaseText(gw));
    for (const s of [first, second]) assert.equal(everything.includes(s), false, 'no client secret in the audit trail or the database');
    const listed = await admin.client.get('/api/admin/oidc-clients');
    assert.equal(JSON.stringify(listed.body).includes('secretHash'), false, 'the list never carries the secret hash');
  });

  it('issue 16: a disabled client is refused at the authorization endpoint and at the token endpoint; enabled again it works; both changes audited', async () => {
    const reg = await register({ clientId: 'switched-rp', name: 'Switched RP', redirectUris: [REDIRECT] });
    const secret = field<string>(reg.body, 'clientSecret');
    const pending = await codeFlowWith('switched-rp', secret);
    const off = await admin.client.post('/api/admin/oidc-clients/switched-rp/disable', {});
    assert.equal(off.status, 200, JSON.stringify(off.body));
    assert.ok(field<{ disabledAt: string | null }>(off.body, 'client').disabledAt);
    assert.equal(await tokenRefusal(pending.grant?.() ?? Promise.resolve()), 'invalid_client', 'a code issued before is not exchanged once disabled');
    const refused = await codeFlowWith('switched-rp', secret);
    assert.equal(refused.authorize.status, 400, 'the browser is shown a refusal page');
    assert.match(String(refused.authorize.body), /OIDC_REQUEST_REFUSED/);
    assert.match(String(refused.authorize.body), /Switched RP is disabled/);
    assert.equal(refused.grant, undefined, 'nothing is sent to the redirect URI');
    const twice = await admin.client.post('/api/admin/oidc-clients/switched-rp/disable', {});
    assert.deepEqual([twice.status, twice.code], [409, 'OIDC_CLIENT_STATE']);

    const on = await admin.client.post('/api/admin/oidc-clients/switched-rp/enable', {});
    assert.equal(on.status, 200);
    assert.ok((await (await codeFlowWith('switched-rp', secret)).grant?.())?.claims()?.sub);
    const types = (await auditEntries(gw.runtime.store)).filter((e) => e.subjectId === 'switched-rp').map((e) => e.type);
    assert.ok(types.includes('oidc.client-disabled') && types.includes('oidc.client-enabled'));
  });

  it('NSIS 6 (Low) 1, 5 / issue 16: disabling a client revokes the access tokens it holds in the same commit (userinfo refuses them, 401 invalid_token; another client\'s token still works); its refresh-token and code grants are refused (invalid_client); enabling it again brings none back; audited', async () => {
    const secret = field<string>((await register({ clientId: 'revoked-rp', name: 'Revoked RP', redirectUris: [REDIRECT] })).body, 'clientSecret');
    const other = field<string>((await register({ clientId: 'bystander-rp', name: 'Bystander RP', redirectUris: [REDIRECT] })).body, 'clientSecret');
    const flows = [await codeFlowWith('revoked-rp', secret), await codeFlowWith('revoked-rp', secret)];
    const held = [];
    for (const f of flows) held.push(await (f.grant ?? assert.fail('signed in'))());
    const bystanderFlow = await codeFlowWith('bystander-rp', other);
    const bystander = await (bystanderFlow.grant ?? assert.fail('signed in'))();
    const config = flows[0]?.config ?? assert.fail('discovered');
    const sub = held[0]?.claims()?.sub ?? assert.fail('an ID token');
    for (const t of held) assert.equal((await client.fetchUserInfo(config, t.access_token, sub)).sub, sub, 'the tokens work before');
    assert.equal(held[0]?.refresh_token, undefined, 'the gateway issues no refresh tokens');
    assert.equal(await tokenRefusal(client.refreshTokenGrant(config, 'not-a-refresh-token')), 'unsupported_grant_type', 'an enabled client gets no refresh grant either');
    const pending = await codeFlowWith('revoked-rp', secret);

    const off = await admin.client.post('/api/admin/oidc-clients/revoked-rp/disable', {});
    assert.equal(off.status, 200, JSON.stringify(off.body));
    const disabled = (await auditEntries(gw.runtime.store)).filter((e) => e.type === 'oidc.client-disabled' && e.subjectId === 'revoked-rp');
    assert.equal(disabled.length, 1);
    assert.equal(disabled[0]?.data['accessTokensRevoked'], 2, 'the revocation is in the disable event of the same commit');
    const refusedBefore = (await auditEntries(gw.runtime.store)).filter((e) => e.type === 'oidc.userinfo' && e.data['status'] === 401).length;
    for (const t of held) {
      await assert.rejects(client.fetchUserInfo(config, t.access_token, sub), (err: unknown) => {
        assert.ok(err instanceof client.WWWAuthenticateChallengeError, String(err));
        assert.equal(err.status, 401);
        assert.equal(err.cause.map((c) => c.parameters.error).find((e) => e !== undefined), 'invalid_token');
        return true;
      });
    }
    assert.equal((await auditEntries(gw.runtime.store)).filter((e) => e.type === 'oidc.userinfo' && e.data['status'] === 401).length, refusedBefore + 2, 'each refusal audited');
    assert.equal((await client.fetchUserInfo(bystanderFlow.config ?? assert.fail('discovered'), bystander.access_token, sub)).sub, sub, 'another client keeps its token');
    assert.equal(await tokenRefusal(client.refreshTokenGrant(config, 'not-a-refresh-token')), 'invalid_client', 'a refresh grant of the disabled client');
    assert.equal(await tokenRefusal(pending.grant?.() ?? Promise.resolve()), 'invalid_client', 'a code issued before is not exchanged');

    assert.equal((await admin.client.post('/api/admin/oidc-clients/revoked-rp/enable', {})).status, 200);
    await assert.rejects(client.fetchUserInfo(config, held[0]?.access_token ?? '', sub), client.WWWAuthenticateChallengeError, 'a revoked token stays revoked');
  });

  it('RFC 6749 §3.1.2: new redirect URIs keep the secret; http on a host other than localhost and a fragment are refused (400 VALIDATION_FAILED), audited', async () => {
    const reg = await register({ clientId: 'moved-rp', name: 'Moved RP', redirectUris: ['https://rp.example.dk/cb'] });
    const secret = field<string>(reg.body, 'clientSecret');
    const moved = await admin.client.post('/api/admin/oidc-clients/moved-rp/redirect-uris', { redirectUris: [REDIRECT], postLogoutRedirectUris: [] });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    assert.ok((await (await codeFlowWith('moved-rp', secret)).grant?.())?.claims()?.sub, 'the secret still works with the new redirect URI');

    const before = await refusals('VALIDATION_FAILED');
    for (const bad of ['http://rp.example.dk/cb', 'https://rp.example.dk/cb#fragment']) {
      const edit = await admin.client.post('/api/admin/oidc-clients/moved-rp/redirect-uris', { redirectUris: [bad] });
      assert.deepEqual([edit.status, edit.code], [400, 'VALIDATION_FAILED'], bad);
      const reg2 = await register({ clientId: 'bad-rp', name: 'Bad RP', redirectUris: [bad] });
      assert.deepEqual([reg2.status, reg2.code], [400, 'VALIDATION_FAILED'], bad);
    }
    assert.equal(await refusals('VALIDATION_FAILED'), before + 4);
  });

  it('NSIS 6 (Low) 1: refusals are answered with their codes and audited: wrong role (403 ROLE_REQUIRED), no step-up (401 STEP_UP_REQUIRED), config-file client (409 OIDC_CLIENT_READ_ONLY), private_key_jwt (409 OIDC_CLIENT_NO_SECRET), unknown (404)', async () => {
    const byEmployee = await person.client.post('/api/admin/oidc-clients/managed-rp/secret', {});
    assert.deepEqual([byEmployee.status, byEmployee.code], [403, 'ROLE_REQUIRED']);
    assert.equal(await refusals('ROLE_REQUIRED'), 1);
    const list = await person.client.get('/api/admin/oidc-clients');
    assert.deepEqual([list.status, list.code], [403, 'ROLE_REQUIRED']);

    const oidc = gw.runtime.oidc ?? assert.fail('the OpenID Provider runs');
    await oidc.registerClient({ identityId: null, role: 'system' }, { clientId: 'file-rp', name: 'File RP', redirectUris: [REDIRECT], postLogoutRedirectUris: [], authMethod: 'client_secret_basic', scopes: ['openid'], minLoa: 'substantial', secret: 'from-the-secret-file-0123456789' });
    for (const [path, body] of [
      ['/api/admin/oidc-clients/file-rp/secret', {}],
      ['/api/admin/oidc-clients/file-rp/disable', {}],
      ['/api/admin/oidc-clients/file-rp/redirect-uris', { redirectUris: [REDIRECT] }],
    ] as const) {
      const r = await admin.client.post(path, body);
      assert.deepEqual([r.status, r.code], [409, 'OIDC_CLIENT_READ_ONLY'], path);
    }
    const overwrite = await register({ clientId: 'file-rp', name: 'Overwritten', redirectUris: [REDIRECT] });
    assert.deepEqual([overwrite.status, overwrite.code], [409, 'OIDC_CLIENT_READ_ONLY']);
    assert.equal(await refusals('OIDC_CLIENT_READ_ONLY'), 4);
    const listed = field<{ clientId: string; source: string }[]>((await admin.client.get('/api/admin/oidc-clients')).body, 'clients');
    assert.equal(listed.find((c) => c.clientId === 'file-rp')?.source, 'config');

    const pk = await admin.client.post('/api/admin/oidc-clients', {
      clientId: 'keys-rp',
      name: 'Keys RP',
      redirectUris: [REDIRECT],
      authMethod: 'private_key_jwt',
      jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0', kid: 'k1' }] },
    });
    assert.equal(pk.status, 201, JSON.stringify(pk.body));
    assert.equal('clientSecret' in (pk.body as object), false);
    const noSecret = await admin.client.post('/api/admin/oidc-clients/keys-rp/secret', {});
    assert.deepEqual([noSecret.status, noSecret.code], [409, 'OIDC_CLIENT_NO_SECRET']);
    const unknown = await admin.client.post('/api/admin/oidc-clients/nobody-rp/disable', {});
    assert.deepEqual([unknown.status, unknown.code], [404, 'NOT_FOUND']);

    clock.advance(31 * 60_000);
    const stale = await admin.client.post('/api/admin/oidc-clients/keys-rp/disable', {});
    assert.deepEqual([stale.status, stale.code], [401, 'STEP_UP_REQUIRED']);
    assert.equal(await refusals('STEP_UP_REQUIRED'), 1);
    assert.equal((await signIn(gw, admin.client, admin.auth, admin.email)).status, 200);
  });
});
