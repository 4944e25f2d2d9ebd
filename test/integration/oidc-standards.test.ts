/**
 * The OpenID Provider as the standards say (issue 13, items 10-15, 19, 20): OpenID Connect Core 1.0,
 * Discovery 1.0, RP-Initiated Logout 1.0, OAuth 2.0 Form Post Response Mode, RFC 6749/6750,
 * RFC 7235, RFC 7523(bis) and RFC 9700, against a real gateway (SQLite, SoftHSM) over HTTP.
 * openid-client (v6) is the relying party wherever it has the feature; the browser is an ApiClient
 * that keeps cookies and sends what a browser sends (Accept: text/html for navigations).
 */
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import * as client from 'openid-client';
import { cookieNames } from '../../server/http/cookies.js';
import { ApiClient, field, obj, type ApiResponse } from '../support/apiClient.js';
import { activeAdmin, activeEmployee, signIn } from '../support/journeys.js';
import type { SoftAuthenticator } from '../support/softAuthenticator.js';
import { startTestGateway, type TestGateway } from '../support/testGateway.js';
import { auditEntries } from '../support/storeReads.js';

/** What Chromium sends when it navigates. */
const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const SESSION = cookieNames(false).session;
const BINDING = 'gw_oidc';

interface Rp {
  clientId: string;
  name: string;
  redirectUri: string;
  postLogoutRedirectUri: string;
  auth: () => client.ClientAuth;
}

interface Person {
  client: ApiClient;
  auth: SoftAuthenticator;
  email: string;
  identityId: string;
}

interface Pending {
  url: URL;
  verifier: string;
  nonce: string;
  state: string;
}

function locationOf(res: ApiResponse): URL {
  assert.equal(res.status, 303, `expected a 303, got ${res.status}: ${typeof res.body === 'string' ? res.body.slice(0, 300) : JSON.stringify(res.body)}`);
  const loc = res.headers.get('location');
  assert.ok(loc, 'a 303 carries a Location');
  return new URL(loc);
}

function unescapeHtml(s: string): string {
  return s.replace(/&#(\d+);/g, (_m, n: string) => String.fromCharCode(Number(n)));
}

/** The hidden fields and action of the one form in a server-rendered page. */
function formOf(page: string): { action: string; fields: Record<string, string> } {
  const action = /<form[^>]* action="([^"]*)"/.exec(page)?.[1];
  assert.ok(action !== undefined, 'the page has a form');
  const fields: Record<string, string> = {};
  for (const m of page.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) fields[unescapeHtml(m[1] ?? '')] = unescapeHtml(m[2] ?? '');
  return { action: unescapeHtml(action), fields };
}

function htmlOf(res: ApiResponse): string {
  assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
  assert.equal(typeof res.body, 'string');
  return String(res.body);
}

/** A server-rendered page: styled by our stylesheet, no inline script or style, the CSP in force. */
function assertStyledPage(res: ApiResponse): string {
  const page = htmlOf(res);
  assert.match(page, /<link rel="stylesheet" href="\/_gateway\/page\.css">/);
  assert.match(page, /<header class="site-header">/);
  assert.doesNotMatch(page, /<script|style=/, 'no inline script or style');
  const csp = res.headers.get('content-security-policy') ?? '';
  assert.match(csp, /style-src 'self'/);
  assert.doesNotMatch(csp, /unsafe-inline/);
  assert.equal(res.headers.get('cache-control'), 'no-store');
  return page;
}

async function auditOf(gw: TestGateway, fromSeq: number, type: string) {
  return (await auditEntries(gw.runtime.store, fromSeq)).filter((e) => e.type === type);
}

async function nextSeq(gw: TestGateway): Promise<number> {
  return (await gw.runtime.store.read((tx) => tx.audit.head())).seq + 1;
}

describe('OpenID Provider as the standards say (issue 13: Core, Discovery, RP-Initiated Logout, RFC 6749/6750/7235/7523/9700)', () => {
  let gw: TestGateway;
  let admin: Awaited<ReturnType<typeof activeAdmin>>;
  let people = 0;
  const portalSecret = 'portal-secret-0123456789-abcdefghijklmnop';
  const portal: Rp = {
    clientId: 'portal',
    name: 'Staff Portal',
    redirectUri: 'http://127.0.0.1:8711/cb',
    postLogoutRedirectUri: 'http://127.0.0.1:8711/bye',
    auth: () => client.ClientSecretBasic(portalSecret),
  };
  let ledgerKey: CryptoKey;
  const ledgerKid = 'ledger-1';
  const ledger: Rp = {
    clientId: 'ledger',
    name: 'Ledger',
    redirectUri: 'http://localhost:8712/cb',
    postLogoutRedirectUri: 'http://localhost:8712/bye',
    auth: () => client.PrivateKeyJwt({ key: ledgerKey, kid: ledgerKid }),
  };

  const configOf = (rp: Rp) => client.discovery(new URL(gw.origin), rp.clientId, { id_token_signed_response_alg: 'ES256' }, rp.auth(), { execute: [client.allowInsecureRequests] });

  const authorizationRequest = async (config: client.Configuration, rp: Rp, extra: Record<string, string> = {}): Promise<Pending> => {
    const verifier = client.randomPKCECodeVerifier();
    const nonce = client.randomNonce();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: rp.redirectUri,
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      nonce,
      state,
      ...extra,
    });
    return { url, verifier, nonce, state };
  };

  /** A browser navigation to a gateway URL (its cookies, Accept as Chromium, no automatic redirects). */
  const browse = (browser: ApiClient, url: URL | string, accept = BROWSER_ACCEPT): Promise<ApiResponse> => {
    const u = typeof url === 'string' ? new URL(url, gw.origin) : url;
    assert.equal(u.origin, gw.origin);
    return browser.request('GET', u.pathname + u.search, undefined, { accept });
  };

  const exchange = (config: client.Configuration, callback: URL | Request, pending: Pending) =>
    client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: pending.verifier, expectedNonce: pending.nonce, expectedState: pending.state, idTokenExpected: true });

  const codeFlow = async (rp: Rp, person: Person, extra: Record<string, string> = {}) => {
    const config = await configOf(rp);
    const pending = await authorizationRequest(config, rp, extra);
    const callback = locationOf(await browse(person.client, pending.url));
    assert.equal(callback.searchParams.get('error'), null, callback.href);
    const tokens = await exchange(config, callback, pending);
    return { config, pending, callback, tokens };
  };

  const newPerson = async (): Promise<Person> => {
    people += 1;
    const p = await activeEmployee(gw, admin.client, `std-${people}@demo.example`, `Standards Person ${people}`);
    return { client: p.client, auth: p.auth, email: p.email, identityId: p.identityId };
  };

  const me = async (person: Person) => (await person.client.get('/api/me')).status;

  before(async () => {
    gw = await startTestGateway({ env: { GATEWAY_HELPDESK_ACTIONS_PER_HOUR: '1000' } });
    admin = await activeAdmin(gw);
    const oidc = gw.runtime.oidc;
    assert.ok(oidc, 'the OpenID Provider runs with the HSM');
    const system = { identityId: null, role: 'system' } as const;
    oidc.registerClient(system, {
      clientId: portal.clientId,
      name: portal.name,
      redirectUris: [portal.redirectUri],
      postLogoutRedirectUris: [portal.postLogoutRedirectUri],
      authMethod: 'client_secret_basic',
      scopes: ['openid', 'profile'],
      minLoa: 'substantial',
      secret: portalSecret,
    });
    const pair = await generateKeyPair('ES256');
    ledgerKey = pair.privateKey;
    oidc.registerClient(system, {
      clientId: ledger.clientId,
      name: ledger.name,
      redirectUris: [ledger.redirectUri],
      postLogoutRedirectUris: [ledger.postLogoutRedirectUri],
      authMethod: 'private_key_jwt',
      jwks: { keys: [{ ...(await exportJWK(pair.publicKey)), kid: ledgerKid, alg: 'ES256', use: 'sig' }] },
      scopes: ['openid'],
      minLoa: 'substantial',
    });
  });

  after(async () => {
    await gw?.close();
  });

  // ------------------------------------------------------------------------------- item 10

  it('OIDC Core 3.1.2.1: POST /oidc/authorize (form-encoded) is served like GET; openid-client exchanges the code', async () => {
    const person = await newPerson();
    const config = await configOf(portal);
    const pending = await authorizationRequest(config, portal);
    const res = await person.client.post('/oidc/authorize', pending.url.searchParams.toString(), { ...FORM, accept: BROWSER_ACCEPT });
    const callback = locationOf(res);
    assert.equal(callback.origin + callback.pathname, portal.redirectUri);
    assert.equal(callback.searchParams.get('state'), pending.state);
    assert.equal(callback.searchParams.get('iss'), gw.origin);
    const tokens = await exchange(config, callback, pending);
    assert.equal(tokens.claims()?.sub, person.identityId);
    // A refusal that goes back to the client works for POST too.
    const refused = await person.client.post('/oidc/authorize', new URLSearchParams({ ...Object.fromEntries(pending.url.searchParams), scope: 'profile' }).toString(), FORM);
    assert.equal(locationOf(refused).searchParams.get('error'), 'invalid_scope');
    // A relying party's cross-site form carries no SameSite=Lax cookie: the gateway re-issues it
    // once as the equivalent GET (a top-level navigation, which carries the cookie).
    const crossSite = await authorizationRequest(config, portal);
    const bounced = await fetch(`${gw.origin}/oidc/authorize`, {
      method: 'POST',
      headers: { ...FORM, 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate' },
      body: crossSite.url.searchParams.toString(),
      redirect: 'manual',
    });
    assert.equal(bounced.status, 303);
    const again = new URL(bounced.headers.get('location') ?? '', gw.origin);
    assert.equal(again.pathname, '/oidc/authorize');
    assert.deepEqual([...again.searchParams].sort(), [...crossSite.url.searchParams].sort());
    const served = locationOf(await browse(person.client, again));
    assert.equal(served.searchParams.get('state'), crossSite.state);
    assert.ok(served.searchParams.get('code'));
  });

  it('RP-Initiated Logout 1.0 §2 (NSIS 6 (Low) 5): POST /oidc/logout with a valid id_token_hint ends the session and follows the registered post_logout_redirect_uri with state', async () => {
    const person = await newPerson();
    const { tokens } = await codeFlow(portal, person);
    const res = await person.client.post(
      '/oidc/logout',
      new URLSearchParams({ id_token_hint: tokens.id_token ?? '', post_logout_redirect_uri: portal.postLogoutRedirectUri, state: 'after-post' }).toString(),
      FORM,
    );
    const back = locationOf(res);
    assert.equal(back.origin + back.pathname, portal.postLogoutRedirectUri);
    assert.equal(back.searchParams.get('state'), 'after-post');
    assert.equal(await me(person), 401, 'the gateway session ended');
    assert.equal(person.client.cookie(SESSION), undefined, 'the cookie is cleared');
  });

  // ------------------------------------------------------------------------------- item 11

  it('OIDC Core 6.1-6.2: a request object (request) or request_uri is answered request_not_supported / request_uri_not_supported, never with a code; discovery says both are unsupported', async () => {
    const person = await newPerson();
    const config = await configOf(portal);
    const verifier = client.randomPKCECodeVerifier();
    const { privateKey } = await generateKeyPair('ES256');
    // openid-client's JAR: only client_id and request in the URL.
    const jar = await client.buildAuthorizationUrlWithJAR(
      config,
      {
        redirect_uri: portal.redirectUri,
        scope: 'openid',
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        nonce: client.randomNonce(),
        state: 'jar-state',
      },
      { key: privateKey },
    );
    assert.ok(jar.searchParams.get('request'));
    const back = locationOf(await browse(person.client, jar));
    assert.equal(back.origin + back.pathname, portal.redirectUri, 'the one registered redirect URI receives the refusal');
    assert.equal(back.searchParams.get('error'), 'request_not_supported');
    assert.equal(back.searchParams.get('code'), null);

    const byReference = await authorizationRequest(config, portal, { request_uri: 'https://portal.example/requests/1' });
    const refused = locationOf(await browse(person.client, byReference.url));
    assert.equal(refused.searchParams.get('error'), 'request_uri_not_supported');
    assert.equal(refused.searchParams.get('state'), byReference.state);
    assert.equal(refused.searchParams.get('code'), null);

    const withBoth = await authorizationRequest(config, portal, { request: 'e30.e30.', redirect_uri: portal.redirectUri });
    assert.equal(locationOf(await browse(person.client, withBoth.url)).searchParams.get('error'), 'request_not_supported');

    const discovery = obj(await (await fetch(`${gw.origin}/.well-known/openid-configuration`)).json());
    assert.equal(discovery['request_parameter_supported'], false);
    assert.equal(discovery['request_uri_parameter_supported'], false);
  });

  // ------------------------------------------------------------------------------- item 12

  it('RP-Initiated Logout 1.0 §2 (NSIS 6 (Low) 6): GET /oidc/logout without an id_token_hint changes nothing, asks the person on a page naming the client, and ends the session only when confirmed; audited', async () => {
    const person = await newPerson();
    const { config } = await codeFlow(portal, person);
    const cookie = person.client.cookie(SESSION);
    const fromSeq = await nextSeq(gw);
    const url = client.buildEndSessionUrl(config, { post_logout_redirect_uri: portal.postLogoutRedirectUri, state: 'confirm-state' });
    const asked = await browse(person.client, url);
    assert.equal(asked.status, 200);
    const page = assertStyledPage(asked);
    assert.match(page, /<strong>Staff Portal<\/strong> asks to sign you out\./);
    assert.match(page, /Standards Person \d+/);
    assert.deepEqual(asked.headers.getSetCookie(), [], 'no cookie is touched by the question');
    assert.equal(person.client.cookie(SESSION), cookie);
    assert.equal(await me(person), 200, 'the session is alive');
    const asking = (await auditOf(gw, fromSeq, 'oidc.logout'));
    assert.deepEqual(
      asking.map((e) => [e.subjectId, e.actorId, e.data['sessionEnded'], e.data['confirmationAsked']]),
      [[portal.clientId, person.identityId, false, true]],
    );

    // Another site posting the logout (without the page's token) only gets the question again.
    const forged = await person.client.post('/oidc/logout', new URLSearchParams({ client_id: portal.clientId }).toString(), { ...FORM, accept: BROWSER_ACCEPT });
    assert.equal(forged.status, 200);
    assert.match(htmlOf(forged), /Sign out\?/);
    assert.equal(await me(person), 200);

    // The person confirms: the session ends and the registered URI is followed with state.
    const { action, fields } = formOf(page);
    assert.equal(action, '/oidc/logout');
    assert.deepEqual(Object.keys(fields).sort(), ['client_id', 'logout_confirmation', 'post_logout_redirect_uri', 'state']);
    const confirmed = await person.client.post(action, new URLSearchParams(fields).toString(), { ...FORM, accept: BROWSER_ACCEPT });
    const back = locationOf(confirmed);
    assert.equal(back.origin + back.pathname, portal.postLogoutRedirectUri);
    assert.equal(back.searchParams.get('state'), 'confirm-state');
    assert.equal(await me(person), 401, 'the session ended');
    assert.equal(person.client.cookie(SESSION), undefined);
    const ended = (await auditOf(gw, fromSeq, 'oidc.logout')).at(-1);
    assert.equal(ended?.data['sessionEnded'], true);
    assert.equal(ended?.data['confirmed'], true);
  });

  it('RP-Initiated Logout 1.0 §2 (NSIS 6 (Low) 6): a confirmation token of another session or a forged one ends nothing (400 OIDC_LOGOUT_NOT_CONFIRMED, audited)', async () => {
    const victim = await newPerson();
    const attacker = await newPerson();
    const attackerPage = htmlOf(await browse(attacker.client, '/oidc/logout'));
    assert.match(attackerPage, /An application asks to sign you out\./, 'without a client the page says so');
    const attackerToken = formOf(attackerPage).fields['logout_confirmation'] ?? '';
    assert.match(attackerToken, /^\d+\.[0-9a-f]{64}$/);
    const fromSeq = await nextSeq(gw);
    for (const token of [attackerToken, `${Math.floor(Date.now() / 1000)}.${'0'.repeat(64)}`, 'yes']) {
      const res = await victim.client.post('/oidc/logout', new URLSearchParams({ logout_confirmation: token }).toString(), { ...FORM, accept: BROWSER_ACCEPT });
      assert.equal(res.status, 400, token);
      const page = assertStyledPage(res);
      assert.match(page, /You were not signed out/);
      assert.match(page, /OIDC_LOGOUT_NOT_CONFIRMED/);
      const api = await victim.client.post('/oidc/logout', new URLSearchParams({ logout_confirmation: token }).toString(), { ...FORM, accept: 'application/json' });
      assert.equal(api.status, 400);
      assert.equal(api.code, 'OIDC_LOGOUT_NOT_CONFIRMED');
      assert.equal(field(api.body, 'error'), 'invalid_request');
    }
    assert.equal(await me(victim), 200, 'the victim is still signed in');
    assert.equal(await me(attacker), 200);
    const refusals = (await auditOf(gw, fromSeq, 'oidc.logout'));
    assert.equal(refusals.length, 6);
    assert.ok(refusals.every((e) => e.data['reason'] === 'confirmation-invalid' && e.data['sessionEnded'] === false && e.actorId === victim.identityId));
  });

  // ------------------------------------------------------------------------------- item 13

  it('RFC 7235 §2.1: the Basic and Bearer auth schemes are case-insensitive at the token and userinfo endpoints', async () => {
    const person = await newPerson();
    const config = await configOf(portal);
    for (const scheme of ['basic', 'BASIC', 'bAsIc']) {
      const pending = await authorizationRequest(config, portal);
      const callback = locationOf(await browse(person.client, pending.url));
      const res = await fetch(`${gw.origin}/oidc/token`, {
        method: 'POST',
        headers: { ...FORM, authorization: `${scheme} ${Buffer.from(`${portal.clientId}:${portalSecret}`).toString('base64')}` },
        body: new URLSearchParams({ grant_type: 'authorization_code', code: callback.searchParams.get('code') ?? '', redirect_uri: portal.redirectUri, code_verifier: pending.verifier }),
      });
      assert.equal(res.status, 200, scheme);
      const accessToken = field<string>(await res.json(), 'access_token');
      for (const bearer of ['bearer', 'BEARER', 'Bearer']) {
        const info = await fetch(`${gw.origin}/oidc/userinfo`, { headers: { authorization: `${bearer} ${accessToken}` } });
        assert.equal(info.status, 200, bearer);
        assert.equal(field(await info.json(), 'sub'), person.identityId);
      }
    }
    // Another scheme is still no credential.
    const other = await fetch(`${gw.origin}/oidc/userinfo`, { headers: { authorization: 'Token abc' } });
    assert.equal(other.status, 401);
    assert.equal(field(await other.json(), 'error'), 'invalid_token');
  });

  it('RFC 6749 §5.1: token responses, token errors and userinfo carry Cache-Control: no-store and Pragma: no-cache', async () => {
    const person = await newPerson();
    const config = await configOf(portal);
    const pending = await authorizationRequest(config, portal);
    const callback = locationOf(await browse(person.client, pending.url));
    const token = (code: string) =>
      fetch(`${gw.origin}/oidc/token`, {
        method: 'POST',
        headers: { ...FORM, authorization: `Basic ${Buffer.from(`${portal.clientId}:${portalSecret}`).toString('base64')}` },
        body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: portal.redirectUri, code_verifier: pending.verifier }),
      });
    const ok = await token(callback.searchParams.get('code') ?? '');
    const bad = await token('no-such-code');
    assert.equal(ok.status, 200);
    assert.equal(bad.status, 400);
    assert.equal(field(await bad.json(), 'error'), 'invalid_grant');
    const info = await fetch(`${gw.origin}/oidc/userinfo`, { headers: { authorization: `Bearer ${field<string>(await ok.json(), 'access_token')}` } });
    assert.equal(info.status, 200);
    for (const res of [ok, bad, info]) {
      assert.equal(res.headers.get('cache-control'), 'no-store');
      assert.equal(res.headers.get('pragma'), 'no-cache');
    }
  });

  it('OAuth 2.0 Form Post Response Mode: response_mode=form_post answers a self-submitting form (script allowed only by its hash, posting only to the client) that openid-client accepts; errors come the same way; discovery lists it', async () => {
    const person = await newPerson();
    const config = await configOf(portal);
    const pending = await authorizationRequest(config, portal, { response_mode: 'form_post' });
    const res = await browse(person.client, pending.url);
    assert.equal(res.status, 200);
    const page = htmlOf(res);
    assert.match(page, /Returning to Staff Portal/);
    const { action, fields } = formOf(page);
    assert.equal(action, portal.redirectUri);
    assert.deepEqual(Object.keys(fields).sort(), ['code', 'iss', 'state']);
    assert.equal(fields['state'], pending.state);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    // CSP: the one inline script by its hash, the form only to the client's origin, nothing else.
    const csp = res.headers.get('content-security-policy') ?? '';
    const script = /<script>([^<]*)<\/script>/.exec(page)?.[1] ?? '';
    assert.ok(script.includes('.submit()'), 'the page submits itself');
    assert.ok(csp.includes(`script-src 'sha256-${createHash('sha256').update(script).digest('base64')}'`), csp);
    assert.match(csp, /form-action http:\/\/127\.0\.0\.1:8711(;|$)/);
    assert.match(csp, /default-src 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline/);
    // The browser posts the form; openid-client reads the response from the POST.
    const post = new Request(action, { method: 'POST', headers: FORM, body: new URLSearchParams(fields).toString() });
    const tokens = await exchange(config, post, pending);
    assert.equal(tokens.claims()?.sub, person.identityId);

    // An error for a form_post request is posted too (prompt=none without a session).
    const stranger = new ApiClient(gw.origin);
    const none = await authorizationRequest(config, portal, { response_mode: 'form_post', prompt: 'none' });
    const errorPage = await browse(stranger, none.url);
    assert.equal(errorPage.status, 200);
    const posted = formOf(htmlOf(errorPage)).fields;
    assert.equal(posted['error'], 'login_required');
    assert.equal(posted['state'], none.state);
    assert.equal(posted['code'], undefined);

    // An unknown response mode is invalid_request, answered in the default (query) mode.
    const fragment = await authorizationRequest(config, portal, { response_mode: 'fragment' });
    const refused = locationOf(await browse(person.client, fragment.url));
    assert.equal(refused.searchParams.get('error'), 'invalid_request');
    assert.equal(refused.searchParams.get('code'), null);
    assert.deepEqual(config.serverMetadata().response_modes_supported, ['query', 'form_post']);
  });

  it('OIDC Core 3.1.2.1 prompt (NSIS 6 (Substantial) 8): consent is served (implicit for first-party clients), select_account asks for a sign-in, none with another value is invalid_request; discovery lists the four values', async () => {
    const person = await newPerson();
    const consent = await codeFlow(portal, person, { prompt: 'consent' });
    assert.equal(consent.tokens.claims()?.sub, person.identityId, 'prompt=consent is single sign-on: consent is implicit');
    const config = await configOf(portal);
    const select = await authorizationRequest(config, portal, { prompt: 'select_account' });
    const signInPage = locationOf(await browse(person.client, select.url));
    assert.equal(signInPage.pathname, '/index.html', 'select_account: the person chooses on the sign-in page');
    assert.ok(signInPage.searchParams.get('oidc'));
    const both = await authorizationRequest(config, portal, { prompt: 'login consent' });
    assert.equal(locationOf(await browse(person.client, both.url)).pathname, '/index.html');
    for (const prompt of ['none login', 'none consent', 'none select_account', 'always']) {
      const bad = await authorizationRequest(config, portal, { prompt });
      const back = locationOf(await browse(person.client, bad.url));
      assert.equal(back.searchParams.get('error'), 'invalid_request', prompt);
      assert.equal(back.searchParams.get('code'), null);
    }
    assert.deepEqual([...field<string[]>(config.serverMetadata(), 'prompt_values_supported')].sort(), ['consent', 'login', 'none', 'select_account']);
  });

  it('OIDC Discovery 1.0 §4 and RFC 7517: discovery and the JWKS are readable by browser-only relying parties (Access-Control-Allow-Origin: *, Cross-Origin-Resource-Policy: cross-origin)', async () => {
    for (const path of ['/.well-known/openid-configuration', '/.well-known/jwks.json']) {
      const res = await fetch(`${gw.origin}${path}`, { headers: { origin: 'https://spa.example', 'sec-fetch-mode': 'cors', 'sec-fetch-site': 'cross-site' } });
      assert.equal(res.status, 200, path);
      assert.equal(res.headers.get('access-control-allow-origin'), '*', path);
      assert.equal(res.headers.get('cross-origin-resource-policy'), 'cross-origin', path);
      assert.equal(res.headers.get('access-control-allow-credentials'), null, 'never with credentials');
    }
    // Everything else keeps the same-origin resource policy.
    const me = await fetch(`${gw.origin}/api/me`);
    assert.equal(me.headers.get('cross-origin-resource-policy'), 'same-origin');
    assert.equal(me.headers.get('access-control-allow-origin'), null);
  });

  // ------------------------------------------------------------------------------- item 14

  it('RFC 7523bis audience: a client assertion whose aud is an array (even one naming only this issuer) or another server is invalid_client; the issuer or the token endpoint URL as one string is accepted', async () => {
    const person = await newPerson();
    const config = await configOf(ledger);
    const pending = await authorizationRequest(config, ledger);
    const code = locationOf(await browse(person.client, pending.url)).searchParams.get('code') ?? '';
    const assertion = (aud: string | string[]) =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'ES256', kid: ledgerKid })
        .setIssuer(ledger.clientId)
        .setSubject(ledger.clientId)
        .setAudience(aud)
        .setJti(randomUUID())
        .setIssuedAt()
        .setExpirationTime('60s')
        .sign(ledgerKey);
    const token = async (aud: string | string[]) => {
      const res = await fetch(`${gw.origin}/oidc/token`, {
        method: 'POST',
        headers: FORM,
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code,
          redirect_uri: ledger.redirectUri,
          code_verifier: pending.verifier,
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: await assertion(aud),
        }),
      });
      return { status: res.status, body: obj(await res.json()) };
    };
    for (const aud of [[gw.origin, 'https://other-as.example'], [gw.origin], [`${gw.origin}/oidc/token`], 'https://other-as.example', `${gw.origin}/`]) {
      const refused = await token(aud);
      assert.equal(refused.status, 401, JSON.stringify(aud));
      assert.equal(refused.body['error'], 'invalid_client', JSON.stringify(aud));
    }
    // Client authentication failed before the code was looked at: the code still works.
    const accepted = await token(`${gw.origin}/oidc/token`);
    assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
    // openid-client sends aud = the issuer, as a string.
    const flow = await codeFlow(ledger, person);
    assert.equal(flow.tokens.claims()?.sub, person.identityId);
  });

  // ------------------------------------------------------------------------------- item 15

  it('RFC 9700 (NSIS 6 (Low) 6): the continuation link works only in the browser that started the request; another browser gets a page naming the client (403 OIDC_BROWSER_MISMATCH, audited) and the request stays usable', async () => {
    const starter = await newPerson();
    const config = await configOf(portal);
    const pending = await authorizationRequest(config, portal, { prompt: 'login' });
    const started = await browse(starter.client, pending.url);
    const signInPage = locationOf(started);
    const requestId = signInPage.searchParams.get('oidc') ?? '';
    const binding = started.headers.getSetCookie().find((c) => c.startsWith(`${BINDING}=`)) ?? '';
    assert.match(binding, /; HttpOnly; SameSite=Lax; Max-Age=600/);
    assert.ok(starter.client.cookie(BINDING));

    // Someone else (signed in, with no binding or their own) follows the link.
    const other = await newPerson();
    const fromSeq = await nextSeq(gw);
    const refused = await browse(other.client, `/oidc/authorize/continue?request=${requestId}`);
    assert.equal(refused.status, 403);
    assert.equal(refused.headers.get('location'), null, 'never sent to the client');
    const page = assertStyledPage(refused);
    assert.match(page, /This sign-in was started in another browser/);
    assert.match(page, /Open Staff Portal in this browser/);
    assert.match(page, /OIDC_BROWSER_MISMATCH/);
    const api = await other.client.get(`/api/oidc/authorization-request?id=${requestId}`);
    assert.equal(api.status, 403);
    assert.equal(api.code, 'OIDC_BROWSER_MISMATCH');
    // With a binding cookie of its own (from its own request) it is still another browser.
    await browse(other.client, (await authorizationRequest(config, portal, { prompt: 'login' })).url);
    assert.ok(other.client.cookie(BINDING));
    assert.equal((await browse(other.client, `/oidc/authorize/continue?request=${requestId}`)).status, 403);
    const audited = (await auditOf(gw, fromSeq, 'oidc.authorize')).filter((e) => e.data['reason'] === 'other-browser');
    assert.equal(audited.length, 3);
    assert.ok(audited.every((e) => e.subjectId === portal.clientId && e.actorId === other.identityId && e.data['status'] === 'refused'));

    // The browser that started it signs in and continues: a code.
    assert.equal((await signIn(gw, starter.client, starter.auth, starter.email)).status, 200);
    const callback = locationOf(await browse(starter.client, `/oidc/authorize/continue?request=${requestId}`));
    assert.ok(callback.searchParams.get('code'));
    const tokens = await exchange(config, callback, pending);
    assert.equal(tokens.claims()?.sub, starter.identityId);
  });

  // ------------------------------------------------------------------------------- items 19-20

  it('Issue 13 item 19: browsers get styled error pages that say what to do next and name the client when there is one; API clients keep problem+json with the same code', async () => {
    const browser = new ApiClient(gw.origin);
    // An unknown path.
    const missing = await browse(browser, '/no/such/page');
    assert.equal(missing.status, 404);
    const missingPage = assertStyledPage(missing);
    assert.match(missingPage, /<h1>Page not found<\/h1>/);
    assert.match(missingPage, /What you can do/);
    assert.match(missingPage, /<a href="\/">Go to the sign-in page<\/a>/);
    assert.match(missingPage, new RegExp(`reference <code data-testid="request-id">${missing.headers.get('x-request-id') ?? 'none'}</code>`));
    const missingApi = await browser.get('/no/such/page');
    assert.equal(missingApi.status, 404);
    assert.match(missingApi.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.equal(missingApi.code, 'NOT_FOUND');
    const apiPath = await browse(browser, '/api/no-such-route');
    assert.equal(apiPath.status, 404);
    assertStyledPage(apiPath);
    assert.equal((await browser.get('/api/no-such-route')).code, 'NOT_FOUND');
    const unauthenticated = await browse(browser, '/api/me');
    assert.equal(unauthenticated.status, 401);
    assert.match(assertStyledPage(unauthenticated), /Sign in first/);

    // A refused authorization request: an unknown client (no name to give) and a known one.
    const config = await configOf(portal);
    const wrongRedirect = await authorizationRequest(config, portal, { redirect_uri: 'https://evil.example/cb' });
    const refused = await browse(browser, wrongRedirect.url);
    assert.equal(refused.status, 400);
    const refusedPage = assertStyledPage(refused);
    assert.match(refusedPage, /<h1>The sign-in request from Staff Portal was refused<\/h1>/);
    assert.match(refusedPage, /Staff Portal sent you here to sign in\./);
    assert.match(refusedPage, /Go back to Staff Portal and start the sign-in again\./);
    assert.match(refusedPage, /OIDC_REQUEST_REFUSED/);
    assert.doesNotMatch(refusedPage, /evil\.example/);
    const refusedApi = await browse(browser, wrongRedirect.url, 'application/json');
    assert.equal(refusedApi.status, 400);
    assert.equal(refusedApi.code, 'OIDC_REQUEST_REFUSED');
    assert.equal(field(refusedApi.body, 'error'), 'invalid_request');
    // Without Accept, the authorization endpoint (a browser endpoint) answers with the page.
    assert.match(htmlOf(await browser.request('GET', wrongRedirect.url.pathname + wrongRedirect.url.search)), /Staff Portal/);

    const unknownClient = new URL(wrongRedirect.url);
    unknownClient.searchParams.set('client_id', '<script>alert(1)</script>');
    const unknownPage = assertStyledPage(await browse(browser, unknownClient));
    assert.match(unknownPage, /<h1>This sign-in request was refused<\/h1>/);
    assert.doesNotMatch(unknownPage, /alert\(1\)<\/script>/, 'nothing from the request is echoed as markup');

    // A used continuation link names the client; an unknown one cannot.
    const person = await newPerson();
    const pending = await authorizationRequest(config, portal, { prompt: 'login' });
    const requestId = locationOf(await browse(person.client, pending.url)).searchParams.get('oidc') ?? '';
    assert.equal((await signIn(gw, person.client, person.auth, person.email)).status, 200);
    locationOf(await browse(person.client, `/oidc/authorize/continue?request=${requestId}`));
    const used = await browse(person.client, `/oidc/authorize/continue?request=${requestId}`);
    assert.equal(used.status, 400);
    const usedPage = assertStyledPage(used);
    assert.match(usedPage, /This sign-in link has expired or was already used/);
    assert.match(usedPage, /Go back to Staff Portal and sign in again\./);
    const unknown = assertStyledPage(await browse(person.client, '/oidc/authorize/continue?request=nonexistent-request-id'));
    assert.match(unknown, /Go back to the application and sign in again\./);

    // The stylesheet the pages use is served from our origin.
    const css = await fetch(`${gw.origin}/_gateway/page.css`);
    assert.equal(css.status, 200);
    assert.match(css.headers.get('content-type') ?? '', /^text\/css/);
    assert.match(await css.text(), /\.site-header/);
  });

  it('Issue 16: the server’s own pages speak the person’s language: the switch’s choice (?lang=, kept in gw_lang), else Accept-Language; error pages, the form_post page and the sign-out confirmation', async () => {
    const danishBrowser = { accept: BROWSER_ACCEPT, 'accept-language': 'da-DK,da;q=0.9,en-US;q=0.8' };
    const browser = new ApiClient(gw.origin);
    const missing = await browser.request('GET', '/no/such/page', undefined, danishBrowser);
    assert.equal(missing.status, 404);
    const page = assertStyledPage(missing);
    assert.match(page, /<html lang="da">/);
    assert.match(page, /<h1>Siden findes ikke<\/h1>/);
    assert.match(page, /<h2 id="next-steps-heading">Det kan du gøre<\/h2>/);
    // The server's own detail is English until the server speaks Danish: said as such, marked as English.
    assert.match(page, /Serverens egen besked \(på engelsk\): <span class="server-text" lang="en">Nothing at \/no\/such\/page\.<\/span>/);
    assert.match(page, /<a class="language-switch" data-testid="language-switch" href="\/no\/such\/page\?lang=en" lang="en" hreflang="en">English<\/a>/);
    assert.equal(browser.cookie('gw_lang'), undefined, 'the browser’s preference is not a choice: nothing is remembered');
    assert.match(htmlOf(await browser.request('GET', '/no/such/page', undefined, { accept: BROWSER_ACCEPT, 'accept-language': 'sv-SE,de' })), /<html lang="en">/, 'neither language: English');

    // The switch on that page: English now, and remembered over the browser's preference.
    const switched = await browser.request('GET', '/no/such/page?lang=en', undefined, danishBrowser);
    assert.match(htmlOf(switched), /<html lang="en">[\s\S]*<h1>Page not found<\/h1>/);
    assert.match(switched.headers.get('set-cookie') ?? '', /^gw_lang=en; Path=\/; Max-Age=31536000; SameSite=Lax$/);
    assert.match(htmlOf(await browser.request('GET', '/no/such/page', undefined, danishBrowser)), /<html lang="en">/, 'the cookie beats Accept-Language');
    const bogus = await browser.request('GET', '/no/such/page?lang=%3Cscript%3E', undefined, danishBrowser);
    assert.match(htmlOf(bogus), /<html lang="en">/, 'an unknown lang is ignored');
    assert.equal(bogus.headers.get('set-cookie'), null);

    // The form_post page and the sign-out confirmation of a person whose browser prefers Danish.
    const person = await newPerson();
    const config = await configOf(portal);
    const pending = await authorizationRequest(config, portal, { response_mode: 'form_post' });
    const formPost = htmlOf(await person.client.request('GET', pending.url.pathname + pending.url.search, undefined, danishBrowser));
    assert.match(formPost, /<html lang="da">/);
    assert.match(formPost, /<h1>Vender tilbage til Staff Portal …<\/h1>/);
    assert.match(formPost, /<button type="submit">Fortsæt til Staff Portal<\/button>/);
    assert.deepEqual(Object.keys(formOf(formPost).fields).sort(), ['code', 'iss', 'state'], 'the same form, in Danish');
    const confirmation = await person.client.request('GET', '/oidc/logout?client_id=portal', undefined, danishBrowser);
    assert.equal(confirmation.status, 200);
    const logoutPage = htmlOf(confirmation);
    assert.match(logoutPage, /<html lang="da">/);
    assert.match(logoutPage, /<h1>Vil du logge ud\?<\/h1>/);
    assert.match(logoutPage, /<strong>Staff Portal<\/strong> beder om at logge dig ud\./);
    assert.match(logoutPage, /<button type="submit" id="logout-confirm">Log ud<\/button> <a id="logout-cancel" href="\/keys.html">Forbliv logget ind<\/a>/);
    assert.equal(await me(person), 200, 'asking changed nothing');
  });

  it('Issue 13 item 20: the sign-in page learns the name of the client that asks, only in the browser that started the request', async () => {
    const person = await newPerson();
    const config = await configOf(ledger);
    const pending = await authorizationRequest(config, ledger, { prompt: 'login' });
    const requestId = locationOf(await browse(person.client, pending.url)).searchParams.get('oidc') ?? '';
    const named = await person.client.get(`/api/oidc/authorization-request?id=${encodeURIComponent(requestId)}`);
    assert.equal(named.status, 200);
    assert.deepEqual(named.body, { clientName: 'Ledger' });
    assert.equal(named.headers.get('cache-control'), 'no-store');
    const elsewhere = await new ApiClient(gw.origin).get(`/api/oidc/authorization-request?id=${encodeURIComponent(requestId)}`);
    assert.equal(elsewhere.status, 403);
    assert.equal(elsewhere.code, 'OIDC_BROWSER_MISMATCH');
    const unknown = await person.client.get('/api/oidc/authorization-request?id=nonexistent-request-id');
    assert.equal(unknown.status, 400);
    assert.equal(unknown.code, 'OIDC_REQUEST_UNKNOWN');
  });
});
