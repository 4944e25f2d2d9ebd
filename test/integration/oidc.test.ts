/**
 * The OpenID Provider (NSIS 6) against a certified relying-party library: openid-client (v6) does
 * discovery, PKCE, the code exchange with client_secret_basic and private_key_jwt, ID-token
 * validation against the published JWKS, and userinfo. The browser's part of the authorization
 * (cookies, the sign-in ceremony, following the redirects by hand) is played by an ApiClient with
 * the software authenticator. Back-channel logout is received by a tiny HTTP server in the test
 * and the logout tokens are verified with jose against the gateway's JWKS.
 *
 * The gateway runs on a FixedClock: time only moves when a test advances it, and openid-client is
 * told the same offset (clockSkew) so that both sides agree on "now".
 */
import { databaseText } from '../support/dbInspection.js';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createLocalJWKSet, decodeJwt, exportJWK, generateKeyPair, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import * as client from 'openid-client';
import { FixedClock } from '../../server/clock.js';
import { cookieNames } from '../../server/http/cookies.js';
import { plainHash } from '../../server/security/oneTimeSecrets.js';
import { ApiClient, field, obj, type ApiResponse } from '../support/apiClient.js';
import { activeAdmin, activeEmployee, signIn } from '../support/journeys.js';
import type { SoftAuthenticator } from '../support/softAuthenticator.js';
import { startTestGateway, type TestGateway } from '../support/testGateway.js';
import { auditEntries, read } from '../support/storeReads.js';

const LOA = {
  low: 'https://data.gov.dk/concept/core/nsis/loa/Low',
  substantial: 'https://data.gov.dk/concept/core/nsis/loa/Substantial',
  high: 'https://data.gov.dk/concept/core/nsis/loa/High',
} as const;
const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
const WAIT_MS = 5000;
/** How far the RP's clock is kept behind the gateway's FixedClock (see configOf). */
const RP_CLOCK_BEHIND_S = 5;

// ------------------------------------------------------------------- the RPs' back-channel endpoint

interface LogoutDelivery {
  /** The RP the delivery was addressed to (the path's last segment). */
  rp: string;
  contentType: string;
  logoutToken: string;
}

/** A tiny back-channel logout endpoint: POST /backchannel/<rp> with logout_token in a form. */
class BackChannelReceiver {
  readonly received: LogoutDelivery[] = [];
  private readonly server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rp = (req.url ?? '').split('/').pop() ?? '';
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      if (req.method === 'POST' && form.has('logout_token')) {
        this.received.push({ rp, contentType: req.headers['content-type'] ?? '', logoutToken: form.get('logout_token') ?? '' });
        res.writeHead(200, { 'cache-control': 'no-store' }).end();
      } else {
        res.writeHead(400).end();
      }
    });
  });
  private base = '';

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  uri(rp: string): string {
    return `${this.base}/backchannel/${rp}`;
  }
  /** Waits (bounded) until a delivery matching `pred` has arrived. */
  async waitFor(pred: (d: LogoutDelivery) => boolean, what: string): Promise<LogoutDelivery> {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const found = this.received.find(pred);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no back-channel logout ${what} within ${WAIT_MS} ms; got ${JSON.stringify(this.received.map((r) => r.rp))}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }
}

// ------------------------------------------------------------------------------------- helpers

interface RpDef {
  clientId: string;
  redirectUri: string;
  postLogoutRedirectUri: string;
  auth: () => client.ClientAuth;
}

interface PendingAuthorization {
  url: URL;
  verifier: string;
  nonce: string;
  state: string;
}

interface Person {
  client: ApiClient;
  auth: SoftAuthenticator;
  email: string;
  name: string;
  identityId: string;
  keyId: string;
}

/** The protocol error of a refused back-channel call, whichever way openid-client reports it. */
async function protocolError(p: Promise<unknown>): Promise<{ status: number; error: string }> {
  try {
    await p;
  } catch (err) {
    if (err instanceof client.ResponseBodyError) return { status: err.status, error: err.error };
    if (err instanceof client.WWWAuthenticateChallengeError) {
      const challengeError = err.cause.map((c) => c.parameters.error).find((e) => e !== undefined);
      const body: unknown = await err.response.json().catch(() => ({}));
      const bodyError = typeof body === 'object' && body !== null && 'error' in body && typeof body.error === 'string' ? body.error : undefined;
      return { status: err.status, error: challengeError ?? bodyError ?? '' };
    }
    throw err;
  }
  throw new Error('expected the call to be refused');
}

/** openid-client's requests, unchanged, with the token request's form handed to `onTokenForm`. */
function capturingFetch(onTokenForm: (form: URLSearchParams) => void): client.CustomFetch {
  return (url, options) => {
    const { body } = options;
    if (body !== undefined && body !== null && typeof body !== 'string' && !(body instanceof URLSearchParams)) throw new TypeError('expected a form or text body');
    if (url.endsWith('/oidc/token') && body) onTokenForm(new URLSearchParams(body.toString()));
    return fetch(url, { method: options.method, headers: options.headers, redirect: options.redirect, ...(options.signal ? { signal: options.signal } : {}), ...(body ? { body } : {}) });
  };
}

function locationOf(res: ApiResponse): URL {
  assert.equal(res.status, 303, `expected a 303, got ${res.status}: ${JSON.stringify(res.body)}`);
  const loc = res.headers.get('location');
  assert.ok(loc, 'a 303 carries a Location');
  return new URL(loc);
}

function sessionCookie(person: { client: ApiClient }): string {
  const value = person.client.cookie(cookieNames(false).session);
  assert.ok(value, 'the browser has a session cookie');
  return value;
}

// ----------------------------------------------------------------------------------- the tests

describe('OpenID Provider (NSIS 6) with openid-client as the relying party', () => {
  let gw: TestGateway;
  let clock: FixedClock;
  let admin: Awaited<ReturnType<typeof activeAdmin>>;
  let jwks: JSONWebKeySet;
  const backchannel = new BackChannelReceiver();
  let basic: RpDef;
  let pkjwt: RpDef;
  let basicSecret = '';
  let people = 0;

  /**
   * openid-client's view of the provider, its clock moved as far as the gateway's. The gateway's
   * clock stands still while the real one runs, and the gateway checks a client assertion's
   * iat/nbf without tolerance, so the RP is kept a few seconds behind: never ahead of the gateway
   * while one test runs, and well within openid-client's 30 s tolerance for the ID token.
   */
  const configOf = (rp: RpDef, auth: client.ClientAuth = rp.auth()): Promise<client.Configuration> =>
    client.discovery(
      new URL(gw.origin),
      rp.clientId,
      { id_token_signed_response_alg: 'ES256', [client.clockSkew]: Math.floor((clock.now().getTime() - Date.now()) / 1000) - RP_CLOCK_BEHIND_S },
      auth,
      { execute: [client.allowInsecureRequests] },
    );

  /** An authorization request as an RP builds it: PKCE S256, nonce, state. */
  const authorizationRequest = async (config: client.Configuration, rp: RpDef, extra: Record<string, string> = {}): Promise<PendingAuthorization> => {
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

  /** The browser follows a URL on the gateway (its cookies, no automatic redirects). */
  const browse = (browser: ApiClient, url: URL | string): Promise<ApiResponse> => {
    const u = typeof url === 'string' ? new URL(url, gw.origin) : url;
    assert.equal(u.origin, gw.origin, `the browser is sent to the gateway, not to ${u.origin}`);
    return browser.get(u.pathname + u.search);
  };

  /** The sign-in page's job: a key touch, then continue the pending request. */
  const signInAndContinue = async (person: Person, signInPage: URL): Promise<ApiResponse> => {
    assert.equal(signInPage.origin + signInPage.pathname, `${gw.origin}/index.html`);
    const requestId = signInPage.searchParams.get('oidc');
    assert.ok(requestId, 'the sign-in page is told which request to continue');
    const res = await signIn(gw, person.client, person.auth, person.email);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return browse(person.client, `/oidc/authorize/continue?request=${encodeURIComponent(requestId)}`);
  };

  const exchange = (config: client.Configuration, callback: URL, pending: PendingAuthorization, maxAge?: number) =>
    client.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: pending.verifier,
      expectedNonce: pending.nonce,
      expectedState: pending.state,
      idTokenExpected: true,
      ...(maxAge !== undefined ? { maxAge } : {}),
    });

  /** The whole code flow for a signed-in person (single sign-on: no key touch needed). */
  const codeFlow = async (rp: RpDef, person: Person, extra: Record<string, string> = {}) => {
    const config = await configOf(rp);
    const pending = await authorizationRequest(config, rp, extra);
    const callback = locationOf(await browse(person.client, pending.url));
    assert.equal(callback.searchParams.get('error'), null, callback.href);
    const tokens = await exchange(config, callback, pending);
    const claims = tokens.claims();
    assert.ok(claims, 'an ID token came back');
    return { config, pending, callback, tokens, claims };
  };

  const newPerson = async (ial: 'low' | 'substantial' | 'high' = 'substantial'): Promise<Person> => {
    people += 1;
    const name = `OIDC Person ${people}`;
    const p = await activeEmployee(gw, admin.client, `oidc-${people}@demo.example`, name, ial);
    return { client: p.client, auth: p.auth, email: p.email, name, identityId: p.identityId, keyId: p.keyId };
  };

  const verifyLogoutToken = async (token: string, clientId: string): Promise<JWTPayload> => {
    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks), {
      issuer: gw.origin,
      audience: clientId,
      algorithms: ['ES256'],
      typ: 'logout+jwt',
      currentDate: clock.now(),
      requiredClaims: ['iat', 'jti', 'sid', 'events'],
    });
    assert.equal(protectedHeader.alg, 'ES256');
    assert.deepEqual(obj(payload['events']), { [BACKCHANNEL_EVENT]: {} }, 'events names the back-channel logout event');
    assert.equal('nonce' in payload, false, 'a logout token never carries a nonce');
    return payload;
  };

  before(async () => {
    clock = new FixedClock(new Date());
    await backchannel.start();
    gw = await startTestGateway({
      clock,
      env: {
        GATEWAY_SESSION_IDLE_MINUTES: '600',
        GATEWAY_SESSION_ABSOLUTE_MINUTES: '6000',
        GATEWAY_STEP_UP_MINUTES: '60',
        GATEWAY_HELPDESK_ACTIONS_PER_HOUR: '1000',
      },
    });
    admin = await activeAdmin(gw);
    const res = await fetch(`${gw.origin}/.well-known/jwks.json`);
    jwks = (await res.json()) as JSONWebKeySet;

    // A client_secret_basic RP registered by the organisation's administrator (step-up, audited).
    basic = {
      clientId: 'intranet',
      redirectUri: 'http://127.0.0.1:8701/callback',
      postLogoutRedirectUri: 'http://127.0.0.1:8701/signed-out',
      auth: () => client.ClientSecretBasic(basicSecret),
    };
    const registered = await admin.client.post('/api/admin/oidc-clients', {
      clientId: basic.clientId,
      name: 'Intranet',
      redirectUris: [basic.redirectUri],
      postLogoutRedirectUris: [basic.postLogoutRedirectUri],
      authMethod: 'client_secret_basic',
      scopes: ['openid', 'profile', 'email'],
      minLoa: 'substantial',
      backchannelLogoutUri: backchannel.uri(basic.clientId),
    });
    assert.equal(registered.status, 201, JSON.stringify(registered.body));
    basicSecret = field<string>(registered.body, 'clientSecret');
    assert.match(basicSecret, /^[A-Za-z0-9_-]{40,}$/);

    // A private_key_jwt RP registered as a system action, with its ES256 public key.
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const kid = 'payroll-2025';
    pkjwt = {
      clientId: 'payroll',
      redirectUri: 'http://localhost:8702/oidc/cb',
      postLogoutRedirectUri: 'http://localhost:8702/bye',
      auth: () => client.PrivateKeyJwt({ key: privateKey, kid }),
    };
    const runtimeOidc = gw.runtime.oidc;
    assert.ok(runtimeOidc, 'the OpenID Provider runs with the HSM');
    runtimeOidc.registerClient(
      { identityId: null, role: 'system' },
      {
        clientId: pkjwt.clientId,
        name: 'Payroll',
        redirectUris: [pkjwt.redirectUri],
        postLogoutRedirectUris: [pkjwt.postLogoutRedirectUri],
        authMethod: 'private_key_jwt',
        jwks: { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' }] },
        scopes: ['openid'],
        minLoa: 'substantial',
        backchannelLogoutUri: backchannel.uri(pkjwt.clientId),
      },
    );
  });

  after(async () => {
    await gw?.close();
    await backchannel.close();
  });

  it('discovery document: issuer, endpoints, S256 only, ES256, private_key_jwt + client_secret_basic, the three NSIS LoA URIs, back-channel logout', async () => {
    const res = await fetch(`${gw.origin}/.well-known/openid-configuration`);
    assert.equal(res.status, 200);
    const d = obj(await res.json());
    assert.equal(d['issuer'], gw.origin);
    assert.equal(d['authorization_endpoint'], `${gw.origin}/oidc/authorize`);
    assert.equal(d['token_endpoint'], `${gw.origin}/oidc/token`);
    assert.equal(d['userinfo_endpoint'], `${gw.origin}/oidc/userinfo`);
    assert.equal(d['jwks_uri'], `${gw.origin}/.well-known/jwks.json`);
    assert.equal(d['end_session_endpoint'], `${gw.origin}/oidc/logout`);
    assert.deepEqual(d['response_types_supported'], ['code']);
    assert.deepEqual(d['code_challenge_methods_supported'], ['S256']);
    assert.deepEqual(d['id_token_signing_alg_values_supported'], ['ES256']);
    assert.deepEqual([...(d['token_endpoint_auth_methods_supported'] as string[])].sort(), ['client_secret_basic', 'private_key_jwt']);
    assert.deepEqual([...(d['acr_values_supported'] as string[])].sort(), [LOA.high, LOA.low, LOA.substantial]);
    assert.equal(d['backchannel_logout_supported'], true);
    assert.equal(d['backchannel_logout_session_supported'], true);
    // openid-client accepts the document for this issuer.
    const config = await configOf(basic);
    assert.equal(config.serverMetadata().issuer, gw.origin);
    assert.equal(config.serverMetadata().supportsPKCE(), true);
  });

  it('full code flow with PKCE and client_secret_basic: the ID token validates against the JWKS and carries the NSIS claims; userinfo releases name/email only for profile/email', async () => {
    const person = await newPerson();
    const session = (await read(gw.runtime.store, (tx) => tx.sessions.get(plainHash(sessionCookie(person)))));
    assert.ok(session?.sid);

    const config = await configOf(basic);
    const pending = await authorizationRequest(config, basic);
    const callback = locationOf(await browse(person.client, pending.url));
    assert.equal(callback.origin + callback.pathname, basic.redirectUri);
    assert.ok(callback.searchParams.get('code'));
    assert.equal(callback.searchParams.get('state'), pending.state);
    assert.equal(callback.searchParams.get('iss'), gw.origin);

    const tokens = await exchange(config, callback, pending);
    assert.equal(tokens.token_type.toLowerCase(), 'bearer');
    const claims = tokens.claims();
    assert.ok(claims);
    // openid-client checked signature (JWKS), iss, aud, nonce, exp; check again independently with jose.
    const { payload, protectedHeader } = await jwtVerify(tokens.id_token ?? '', createLocalJWKSet(jwks), {
      issuer: gw.origin,
      audience: basic.clientId,
      algorithms: ['ES256'],
      currentDate: clock.now(),
    });
    assert.equal(protectedHeader.alg, 'ES256');
    assert.equal(payload.aud, basic.clientId);
    assert.equal(payload['nonce'], pending.nonce);
    assert.equal(claims.sub, person.identityId);
    assert.equal(claims.auth_time, Math.floor(new Date(session.createdAt).getTime() / 1000));
    assert.deepEqual(claims.amr, ['hwk', 'pin']);
    assert.equal(claims.acr, LOA.substantial);
    assert.equal(claims['loa'], LOA.substantial);
    assert.equal(claims['cvr'], '12345674');
    assert.equal(claims['org_name'], 'Demo Organisation ApS');
    assert.equal(claims['sid'], session.sid);

    const plain = await client.fetchUserInfo(config, tokens.access_token, person.identityId);
    assert.equal(plain.sub, person.identityId);
    assert.equal('name' in plain, false, 'no name without the profile scope');
    assert.equal('email' in plain, false, 'no email without the email scope');

    const wide = await codeFlow(basic, person, { scope: 'openid profile email' });
    const info = await client.fetchUserInfo(wide.config, wide.tokens.access_token, person.identityId);
    assert.equal(info.sub, person.identityId);
    assert.equal(info.name, person.name);
    assert.equal(info.email, person.email);
  });

  it('full code flow with PKCE and private_key_jwt (ES256 client key): the same validated ID token for this audience', async () => {
    const person = await newPerson();
    const { claims, tokens, config } = await codeFlow(pkjwt, person);
    assert.equal(claims.aud, pkjwt.clientId);
    assert.equal(claims.sub, person.identityId);
    assert.equal(claims.acr, LOA.substantial);
    assert.equal(claims['loa'], LOA.substantial);
    assert.deepEqual(claims.amr, ['hwk', 'pin']);
    assert.equal(typeof claims['sid'], 'string');
    // An ID token for one RP does not validate for another.
    await assert.rejects(jwtVerify(tokens.id_token ?? '', createLocalJWKSet(jwks), { audience: basic.clientId, currentDate: clock.now() }), /aud/);
    const info = await client.fetchUserInfo(config, tokens.access_token, person.identityId);
    assert.equal(info.sub, person.identityId);
    // A scope the client is not registered for is refused.
    const cfg = await configOf(pkjwt);
    const wide = await authorizationRequest(cfg, pkjwt, { scope: 'openid email' });
    const refused = locationOf(await browse(person.client, wide.url));
    assert.equal(refused.searchParams.get('error'), 'invalid_scope');
  });

  it('refusal: a wrong redirect_uri gets a 400 HTML page and is never redirected to', async () => {
    const person = await newPerson();
    const config = await configOf(basic);
    const evil = 'http://127.0.0.1:8701/callback-evil';
    const pending = await authorizationRequest(config, basic, { redirect_uri: evil });
    const res = await browse(person.client, pending.url);
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('location'), null);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(String(res.body), /redirect_uri is not registered/);
    assert.doesNotMatch(String(res.body), /callback-evil/);
    // The same for an unknown client.
    const unknown = new URL(pending.url);
    unknown.searchParams.set('client_id', 'nobody');
    unknown.searchParams.set('redirect_uri', basic.redirectUri);
    const res2 = await browse(person.client, unknown);
    assert.equal(res2.status, 400);
    assert.equal(res2.headers.get('location'), null);
  });

  it('refusal: a wrong code_verifier is invalid_grant', async () => {
    const person = await newPerson();
    const config = await configOf(basic);
    const pending = await authorizationRequest(config, basic);
    const callback = locationOf(await browse(person.client, pending.url));
    const wrong = { ...pending, verifier: client.randomPKCECodeVerifier() };
    assert.deepEqual(await protocolError(exchange(config, callback, wrong)), { status: 400, error: 'invalid_grant' });
  });

  it('refusal: a reused code is invalid_grant, and the access token issued from the first exchange stops working', async () => {
    const person = await newPerson();
    const config = await configOf(basic);
    const pending = await authorizationRequest(config, basic);
    const callback = locationOf(await browse(person.client, pending.url));
    const first = await exchange(config, callback, pending);
    assert.equal((await client.fetchUserInfo(config, first.access_token, person.identityId)).sub, person.identityId);
    assert.deepEqual(await protocolError(exchange(config, callback, pending)), { status: 400, error: 'invalid_grant' });
    assert.deepEqual(await protocolError(client.fetchUserInfo(config, first.access_token, person.identityId)), { status: 401, error: 'invalid_token' });
  });

  it('refusal: a code older than 60 s is invalid_grant', async () => {
    const person = await newPerson();
    const config = await configOf(basic);
    const pending = await authorizationRequest(config, basic);
    const callback = locationOf(await browse(person.client, pending.url));
    clock.advance(61_000);
    // The RP's clock moves with the gateway's.
    const later = await configOf(basic);
    assert.deepEqual(await protocolError(exchange(later, callback, pending)), { status: 400, error: 'invalid_grant' });
  });

  it('refusal: an authorization request without PKCE is sent back with invalid_request', async () => {
    const person = await newPerson();
    const config = await configOf(basic);
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(config, { redirect_uri: basic.redirectUri, scope: 'openid', nonce: client.randomNonce(), state });
    const back = locationOf(await browse(person.client, url));
    assert.equal(back.origin + back.pathname, basic.redirectUri);
    assert.equal(back.searchParams.get('error'), 'invalid_request');
    assert.equal(back.searchParams.get('state'), state);
    assert.equal(back.searchParams.get('iss'), gw.origin);
    assert.equal(back.searchParams.get('code'), null);
    // plain is not S256.
    const plain = client.buildAuthorizationUrl(config, {
      redirect_uri: basic.redirectUri,
      scope: 'openid',
      nonce: client.randomNonce(),
      state,
      code_challenge: client.randomPKCECodeVerifier(),
      code_challenge_method: 'plain',
    });
    assert.equal(locationOf(await browse(person.client, plain)).searchParams.get('error'), 'invalid_request');
  });

  it('refusal: a wrong client secret is invalid_client (401)', async () => {
    const person = await newPerson();
    const config = await configOf(basic);
    const pending = await authorizationRequest(config, basic);
    const callback = locationOf(await browse(person.client, pending.url));
    const wrongSecret = await configOf(basic, client.ClientSecretBasic(`${basicSecret}x`));
    assert.deepEqual(await protocolError(exchange(wrongSecret, callback, pending)), { status: 401, error: 'invalid_client' });
  });

  it('refusal: a replayed private_key_jwt client assertion is invalid_client', async () => {
    const person = await newPerson();
    const config = await configOf(pkjwt);
    let captured: URLSearchParams | undefined;
    config[client.customFetch] = capturingFetch((form) => {
      captured = form;
    });
    const first = await authorizationRequest(config, pkjwt);
    await exchange(config, locationOf(await browse(person.client, first.url)), first);
    const assertion = captured?.get('client_assertion');
    assert.ok(assertion, 'openid-client sent a client assertion');
    assert.equal(captured?.get('client_assertion_type'), 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
    assert.ok(decodeJwt(assertion).jti);

    // A fresh, valid code, but the old assertion: refused.
    const second = await authorizationRequest(config, pkjwt);
    const callback = locationOf(await browse(person.client, second.url));
    const res = await fetch(`${gw.origin}/oidc/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: callback.searchParams.get('code') ?? '',
        redirect_uri: pkjwt.redirectUri,
        code_verifier: second.verifier,
        client_id: pkjwt.clientId,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: assertion,
      }).toString(),
    });
    assert.equal(res.status, 401);
    assert.equal(field(await res.json(), 'error'), 'invalid_client');
  });

  it('refusal: a malformed client_secret_basic header is invalid_client (401), not a server error', async () => {
    for (const raw of ['%zz:secret', `${basic.clientId}:%E0%A4%A`, `${basic.clientId}`]) {
      const res = await fetch(`${gw.origin}/oidc/token`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(raw).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=authorization_code&code=x',
      });
      assert.equal(res.status, 401, raw);
      assert.equal(field(await res.json(), 'error'), 'invalid_client');
    }
  });

  it('NSIS 6 (Substantial) 8: prompt=login forces a new key touch even with a live session', async () => {
    const person = await newPerson();
    const before = (await read(gw.runtime.store, (tx) => tx.sessions.get(plainHash(sessionCookie(person)))));
    assert.ok(before);
    clock.advance(5_000);
    const config = await configOf(basic);

    // Without a fresh sign-in the pending request ends in login_required.
    const stale = await authorizationRequest(config, basic, { prompt: 'login' });
    const signInPage = locationOf(await browse(person.client, stale.url));
    assert.equal(signInPage.pathname, '/index.html');
    const requestId = signInPage.searchParams.get('oidc') ?? '';
    const refused = locationOf(await browse(person.client, `/oidc/authorize/continue?request=${encodeURIComponent(requestId)}`));
    assert.equal(refused.searchParams.get('error'), 'login_required');
    assert.equal(refused.searchParams.get('state'), stale.state);
    assert.equal(refused.searchParams.get('code'), null);

    // With a fresh key touch: a code, and auth_time is the new sign-in.
    clock.advance(1_000);
    const fresh = await authorizationRequest(config, basic, { prompt: 'login' });
    const freshPage = locationOf(await browse(person.client, fresh.url));
    assert.equal(freshPage.pathname, '/index.html', 'prompt=login asks for a key touch although a session exists');
    const callback = locationOf(await signInAndContinue(person, freshPage));
    assert.ok(callback.searchParams.get('code'));
    const tokens = await exchange(config, callback, fresh);
    const authTime = tokens.claims()?.auth_time ?? 0;
    assert.ok(authTime > Math.floor(new Date(before.createdAt).getTime() / 1000), 'auth_time is the fresh sign-in');
    assert.equal(authTime, Math.floor(clock.now().getTime() / 1000));
    // A request id is single use.
    const again = await browse(person.client, `/oidc/authorize/continue?request=${encodeURIComponent(freshPage.searchParams.get('oidc') ?? '')}`);
    assert.equal(again.status, 400);
    assert.equal(again.headers.get('location'), null);
  });

  it('NSIS 6 (Substantial) 8: max_age older than the sign-in forces a new key touch; within max_age single sign-on works', async () => {
    const person = await newPerson();
    clock.advance(120_000);
    const config = await configOf(pkjwt);

    // Within max_age: single sign-on, straight to the RP.
    const sso = await authorizationRequest(config, pkjwt, { max_age: '3600' });
    const ssoBack = locationOf(await browse(person.client, sso.url));
    assert.ok(ssoBack.searchParams.get('code'));
    await exchange(config, ssoBack, sso, 3600);

    // Older than max_age: to the sign-in page; continuing without a touch is login_required.
    const stale = await authorizationRequest(config, pkjwt, { max_age: '60' });
    const page = locationOf(await browse(person.client, stale.url));
    assert.equal(page.pathname, '/index.html');
    const refused = locationOf(await browse(person.client, `/oidc/authorize/continue?request=${encodeURIComponent(page.searchParams.get('oidc') ?? '')}`));
    assert.equal(refused.searchParams.get('error'), 'login_required');

    const fresh = await authorizationRequest(config, pkjwt, { max_age: '60' });
    const callback = locationOf(await signInAndContinue(person, locationOf(await browse(person.client, fresh.url))));
    const tokens = await exchange(config, callback, fresh, 60);
    assert.equal(tokens.claims()?.auth_time, Math.floor(clock.now().getTime() / 1000));
  });

  it('NSIS 6 (Substantial) 8: prompt=none without a session is login_required', async () => {
    const stranger = new ApiClient(gw.origin);
    const config = await configOf(basic);
    const pending = await authorizationRequest(config, basic, { prompt: 'none' });
    const back = locationOf(await browse(stranger, pending.url));
    assert.equal(back.origin + back.pathname, basic.redirectUri);
    assert.equal(back.searchParams.get('error'), 'login_required');
    assert.equal(back.searchParams.get('state'), pending.state);
    assert.equal(back.searchParams.get('code'), null);
    // Without prompt=none the stranger is sent to the sign-in page instead.
    const normal = await authorizationRequest(config, basic);
    assert.equal(locationOf(await browse(stranger, normal.url)).pathname, '/index.html');
  });

  it('acr_values=High with only a Substantial key is unmet_authentication_requirements, never a lower level silently; acr_values=Substantial works', async () => {
    // Identity proofed High, key Substantial: the sign-in reaches Substantial.
    const person = await newPerson('high');
    const config = await configOf(basic);
    const high = await authorizationRequest(config, basic, { acr_values: LOA.high });
    const refused = locationOf(await browse(person.client, high.url));
    assert.equal(refused.searchParams.get('error'), 'unmet_authentication_requirements');
    assert.equal(refused.searchParams.get('state'), high.state);
    assert.equal(refused.searchParams.get('code'), null);

    const { claims } = await codeFlow(basic, person, { acr_values: LOA.substantial });
    assert.equal(claims.acr, LOA.substantial);

    // A Low identity never gets a Substantial client's token, even if the client asks for Low.
    const low = await newPerson('low');
    const lowReq = await authorizationRequest(config, basic, { acr_values: LOA.low });
    assert.equal(locationOf(await browse(low.client, lowReq.url)).searchParams.get('error'), 'unmet_authentication_requirements');
  });

  it('NSIS 6 (Low) 5-6: single logout ends all the person’s sessions and every RP of them receives a verified logout token', async () => {
    const person = await newPerson();
    // A second browser of the same person.
    const second: Person = { ...person, client: new ApiClient(gw.origin) };
    assert.equal((await signIn(gw, second.client, second.auth, second.email)).status, 200);

    const a = await codeFlow(basic, person);
    const b = await codeFlow(pkjwt, second);
    assert.notEqual(a.claims['sid'], b.claims['sid']);
    const already = backchannel.received.length;

    const out = await person.client.post('/api/signout', { everywhere: true });
    assert.equal(out.status, 204);

    const fresh = () => backchannel.received.slice(already);
    const toBasic = await backchannel.waitFor((d) => fresh().includes(d) && d.rp === basic.clientId, 'to the intranet');
    const toPkjwt = await backchannel.waitFor((d) => fresh().includes(d) && d.rp === pkjwt.clientId, 'to payroll');
    assert.match(toBasic.contentType, /^application\/x-www-form-urlencoded/);
    const lb = await verifyLogoutToken(toBasic.logoutToken, basic.clientId);
    const lp = await verifyLogoutToken(toPkjwt.logoutToken, pkjwt.clientId);
    assert.equal(lb['sid'], a.claims['sid']);
    assert.equal(lb.sub, person.identityId);
    assert.equal(lp['sid'], b.claims['sid']);
    assert.equal(lp.sub, person.identityId);

    // Both browsers are signed out, and the RPs' access tokens are dead.
    assert.equal((await person.client.get('/api/me')).status, 401);
    assert.equal((await second.client.get('/api/me')).status, 401);
    assert.deepEqual(await protocolError(client.fetchUserInfo(a.config, a.tokens.access_token, person.identityId)), { status: 401, error: 'invalid_token' });
    assert.deepEqual(await protocolError(client.fetchUserInfo(b.config, b.tokens.access_token, person.identityId)), { status: 401, error: 'invalid_token' });
    // Delivery is audited per RP.
    const delivered = (await auditEntries(gw.runtime.store)).filter((e) => e.type === 'oidc.backchannel-logout' && (e.data['sid'] === a.claims['sid'] || e.data['sid'] === b.claims['sid']));
    assert.deepEqual(delivered.map((e) => [e.subjectId, e.data['status']]).sort(), [
      [basic.clientId, 200],
      [pkjwt.clientId, 200],
    ]);
  });

  it('NSIS 6 (Low) 5-6: a key suspended by the helpdesk ends its session with a back-channel logout', async () => {
    const person = await newPerson();
    const flow = await codeFlow(basic, person);
    const res = await admin.client.post(`/api/helpdesk/credentials/${person.keyId}/suspend`, { reason: 'suspected-compromise' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const delivery = await backchannel.waitFor((d) => d.rp === basic.clientId && decodeJwt(d.logoutToken)['sid'] === flow.claims['sid'], 'after the suspension');
    const payload = await verifyLogoutToken(delivery.logoutToken, basic.clientId);
    assert.equal(payload.sub, person.identityId);
    assert.equal((await person.client.get('/api/me')).status, 401);
    assert.deepEqual(await protocolError(client.fetchUserInfo(flow.config, flow.tokens.access_token, person.identityId)), { status: 401, error: 'invalid_token' });
  });

  it('NSIS 6 (Low) 5-6: a key reported lost by its holder ends its session with a back-channel logout', async () => {
    const person = await newPerson();
    const flow = await codeFlow(pkjwt, person);
    const res = await person.client.post(`/api/me/credentials/${person.keyId}/report-lost`, {});
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const delivery = await backchannel.waitFor((d) => d.rp === pkjwt.clientId && decodeJwt(d.logoutToken)['sid'] === flow.claims['sid'], 'after the report');
    await verifyLogoutToken(delivery.logoutToken, pkjwt.clientId);
    assert.equal((await person.client.get('/api/me')).status, 401);
  });

  it('NSIS 6 (Low) 7: the audit chain records authorize, token and userinfo with the jti and the released claim names, and no code, token or secret in clear', async () => {
    const person = await newPerson();
    const fromSeq = { next: (await gw.runtime.store.read((tx) => tx.audit.head())).seq + 1 };
    let sentAssertion = '';
    const config = await configOf(pkjwt);
    config[client.customFetch] = capturingFetch((form) => {
      sentAssertion = form.get('client_assertion') ?? '';
    });
    const pending = await authorizationRequest(config, pkjwt);
    const callback = locationOf(await browse(person.client, pending.url));
    const tokens = await exchange(config, callback, pending);
    const claims = tokens.claims();
    assert.ok(claims);
    const info = await client.fetchUserInfo(config, tokens.access_token, person.identityId);
    // And a client_secret_basic exchange, so the secret has been presented too.
    const other = await codeFlow(basic, person, { scope: 'openid profile email' });
    await client.fetchUserInfo(other.config, other.tokens.access_token, person.identityId);

    const entries = (await auditEntries(gw.runtime.store, fromSeq.next));
    const ofPayroll = entries.filter((e) => e.subjectId === pkjwt.clientId);
    const authorize = ofPayroll.find((e) => e.type === 'oidc.authorize' && e.data['status'] === 'code-issued');
    assert.ok(authorize, 'the authorization is audited');
    assert.equal(authorize.actorId, person.identityId);
    const token = ofPayroll.find((e) => e.type === 'oidc.token' && e.data['jti'] === claims.jti);
    assert.ok(token, 'the token response is audited by the ID token’s jti');
    assert.equal(token.data['status'], 200);
    assert.deepEqual(token.data['claims'], Object.keys(claims).sort());
    assert.equal(token.data['loa'], LOA.substantial);
    const userinfo = ofPayroll.find((e) => e.type === 'oidc.userinfo' && e.data['status'] === 200);
    assert.ok(userinfo, 'the userinfo response is audited');
    assert.deepEqual(userinfo.data['claims'], Object.keys(info).sort());
    const wideInfo = entries.find((e) => e.type === 'oidc.userinfo' && e.subjectId === basic.clientId && e.data['status'] === 200);
    assert.deepEqual(wideInfo?.data['claims'], ['cvr', 'email', 'loa', 'name', 'org_name', 'sub']);

    // No secret in clear anywhere in the audit data (nor anywhere else in the database).
    const secrets: Record<string, string> = {
      'authorization code': callback.searchParams.get('code') ?? '',
      'second authorization code': other.callback.searchParams.get('code') ?? '',
      'access token': tokens.access_token,
      'second access token': other.tokens.access_token,
      'ID token': tokens.id_token ?? '',
      'ID token signature': (tokens.id_token ?? '').split('.')[2] ?? '',
      'PKCE verifier': pending.verifier,
      'client secret': basicSecret,
      'client assertion': sentAssertion,
      'session cookie': sessionCookie(person),
    };
    for (const [what, value] of Object.entries(secrets)) assert.ok(value.length >= 20, `${what} was captured`);
    const auditText = (await auditEntries(gw.runtime.store)).map((e) => JSON.stringify(e)).join('\n');
    const dbText = await databaseText(gw);
    for (const [what, value] of Object.entries(secrets)) {
      assert.equal(auditText.includes(value), false, `the audit data holds the ${what} in clear`);
      assert.equal(dbText.includes(value), false, `the database holds the ${what} in clear`);
    }
  });

  it('RP-initiated logout: a registered post_logout_redirect_uri is followed with state; an unregistered one is not', async () => {
    const person = await newPerson();
    const { config, tokens, claims } = await codeFlow(basic, person);
    const already = backchannel.received.length;
    const url = client.buildEndSessionUrl(config, { id_token_hint: tokens.id_token ?? '', post_logout_redirect_uri: basic.postLogoutRedirectUri, state: 'x' });
    const back = locationOf(await browse(person.client, url));
    assert.equal(back.origin + back.pathname, basic.postLogoutRedirectUri);
    assert.equal(back.searchParams.get('state'), 'x');
    assert.equal((await person.client.get('/api/me')).status, 401, 'the gateway session ended');
    await backchannel.waitFor((d) => backchannel.received.indexOf(d) >= already && decodeJwt(d.logoutToken)['sid'] === claims['sid'], 'after RP-initiated logout');

    const other = await newPerson();
    const second = await codeFlow(basic, other);
    const evil = client.buildEndSessionUrl(second.config, { id_token_hint: second.tokens.id_token ?? '', post_logout_redirect_uri: 'https://evil.example/after', state: 'y' });
    const res = await browse(other.client, evil);
    const landed = locationOf(res);
    assert.equal(landed.origin, gw.origin, 'an unregistered post_logout_redirect_uri is not followed');
    assert.equal(landed.pathname, '/index.html');
    // Another client's registered URI is not followed for this client either.
    const third = await newPerson();
    const t = await codeFlow(basic, third);
    const cross = client.buildEndSessionUrl(t.config, { id_token_hint: t.tokens.id_token ?? '', post_logout_redirect_uri: pkjwt.postLogoutRedirectUri });
    assert.equal(locationOf(await browse(third.client, cross)).origin, gw.origin);
  });
});
