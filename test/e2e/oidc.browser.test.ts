/**
 * Real-browser end-to-end proof of the OpenID Provider (NSIS 6): single sign-on into a relying
 * party with a security key, and single logout with back-channel logout; the form_post response
 * mode under the gateway's CSP, RP-initiated logout with the person's confirmation, and the styled
 * error pages (issue 13).
 *
 * A real gateway (SQLite, SoftHSM, file outbox) serves the built client; Debian's Chromium,
 * driven by playwright-core, uses Chromium's virtual FIDO2 authenticator through the DevTools
 * protocol. The relying party is a small web app served by this test on 127.0.0.1 (plain node
 * http) built on openid-client: /login starts the code flow (PKCE, nonce, state kept in memory),
 * /callback exchanges the code and opens an RP session, / greets the signed-in person, and
 * /backchannel-logout verifies logout tokens (jose, against the gateway's JWKS) and ends the RP
 * sessions they name.
 *
 * The steps are ordered subtests of one story; if a step fails, a screenshot is saved under /tmp
 * and the later steps are skipped. With E2E_SCREENSHOT_DIR set, the pages of issue 13 are saved
 * there too (desktop and 390 px wide), for a person to look at.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import * as client from 'openid-client';
import { type Browser, type BrowserContext, type CDPSession, type Page, type Response } from 'playwright-core';
import { field, type ApiClient } from '../support/apiClient.js';
import { activeAdmin } from '../support/journeys.js';
import { AUTHENTICATOR_OPTIONS, launchChromium } from '../support/browser.js';
import { repoRoot, startTestGateway, type TestGateway } from '../support/testGateway.js';
import { auditEntries, read } from '../support/storeReads.js';

const STEP_TIMEOUT = 60_000;
/** How long to wait for one thing to appear in a page. */
const UI_TIMEOUT = 20_000;
const SUBSTANTIAL = 'https://data.gov.dk/concept/core/nsis/loa/Substantial';
const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

// -------------------------------------------------------------------------- the relying party

interface RpSession {
  sub: string;
  loa: string;
  sid: string;
  idToken: string;
}

interface RpPendingLogin {
  verifier: string;
  nonce: string;
  state: string;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function cookieOf(req: http.IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function page(res: http.ServerResponse, status: number, body: string): void {
  res
    .writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
    .end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Payroll (RP)</title></head><body><main>${body}</main></body></html>`);
}

/** A form that posts `fields` to `action` when its button is pressed. */
function postForm(action: string, fields: URLSearchParams, id: string, label: string): string {
  const inputs = [...fields].map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`).join('');
  return `<form method="post" action="${escapeHtml(action)}">${inputs}<button id="${id}" type="submit">${escapeHtml(label)}</button></form>`;
}

/** A small web application that signs its users in with the gateway (OpenID Connect). */
class RelyingParty {
  readonly clientId = 'payroll-web';
  /** Logout tokens that verified, in arrival order. */
  readonly logoutTokens: JWTPayload[] = [];
  /** What went wrong inside the RP (shown in assertion messages). */
  readonly problems: string[] = [];
  private readonly sessions = new Map<string, RpSession>();
  private readonly pending = new Map<string, RpPendingLogin>();
  /**
   * form_post logins by their state: the gateway (localhost) posts to this RP (127.0.0.1), a
   * cross-site POST that carries no SameSite=Lax cookie (and SameSite=None needs https).
   */
  private readonly pendingByState = new Map<string, RpPendingLogin>();
  /** The HTTP methods the callback was reached with, in order. */
  readonly callbackMethods: string[] = [];
  private readonly server = http.createServer((req, res) => {
    this.handle(req, res).catch((err: unknown) => {
      const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      this.problems.push(message);
      if (!res.headersSent) page(res, 500, `<h1 id="rp-error">The sign-in did not work</h1><p>${escapeHtml(message)}</p>`);
    });
  });
  private config: client.Configuration | undefined;
  private jwks: ReturnType<typeof createRemoteJWKSet> | undefined;
  origin = '';

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.origin = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  get redirectUri(): string {
    return `${this.origin}/callback`;
  }
  get backchannelUri(): string {
    return `${this.origin}/backchannel-logout`;
  }

  /** Discovery, once the gateway knows this client. */
  async connect(issuer: string, secret: string): Promise<void> {
    this.config = await client.discovery(new URL(issuer), this.clientId, { id_token_signed_response_alg: 'ES256' }, client.ClientSecretBasic(secret), {
      execute: [client.allowInsecureRequests],
    });
    this.jwks = createRemoteJWKSet(new URL(this.config.serverMetadata().jwks_uri ?? `${issuer}/.well-known/jwks.json`));
  }

  liveSessions(): RpSession[] {
    return [...this.sessions.values()];
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const config = this.config;
    const jwks = this.jwks;
    if (!config || !jwks) throw new Error('the RP is not connected to its provider yet');
    const url = new URL(req.url ?? '/', this.origin);

    if (req.method === 'GET' && url.pathname === '/') {
      const session = this.sessions.get(cookieOf(req, 'rp_session') ?? '');
      if (session) {
        page(res, 200, `<h1 id="greeting">Hello ${escapeHtml(session.sub)} at ${escapeHtml(session.loa)}</h1>`);
      } else {
        page(res, 200, `<h1 id="signed-out">Signed out</h1><p><a id="login" href="/login">Sign in with your security key</a></p>`);
      }
      return;
    }

    if (req.method === 'GET' && url.pathname === '/login') {
      const login: RpPendingLogin = { verifier: client.randomPKCECodeVerifier(), nonce: client.randomNonce(), state: client.randomState() };
      const tx = randomBytes(16).toString('base64url');
      this.pending.set(tx, login);
      const formPost = url.searchParams.get('mode') === 'form_post';
      if (formPost) this.pendingByState.set(login.state, login);
      const target = client.buildAuthorizationUrl(config, {
        redirect_uri: this.redirectUri,
        scope: 'openid',
        code_challenge: await client.calculatePKCECodeChallenge(login.verifier),
        code_challenge_method: 'S256',
        nonce: login.nonce,
        state: login.state,
        ...(formPost ? { response_mode: 'form_post' } : {}),
      });
      res.writeHead(303, { location: target.href, 'set-cookie': `rp_tx=${tx}; Path=/; HttpOnly; SameSite=Lax; Max-Age=600`, 'cache-control': 'no-store' }).end();
      return;
    }

    if ((req.method === 'GET' || req.method === 'POST') && url.pathname === '/callback') {
      this.callbackMethods.push(req.method);
      let response: URL | Request = url;
      let login: RpPendingLogin | undefined;
      if (req.method === 'POST') {
        // OAuth 2.0 Form Post Response Mode: the response is the form; openid-client reads it.
        const chunks: Buffer[] = [];
        for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
        const body = Buffer.concat(chunks).toString('utf8');
        const state = new URLSearchParams(body).get('state') ?? '';
        login = this.pendingByState.get(state);
        this.pendingByState.delete(state);
        response = new Request(url, { method: 'POST', headers: { 'content-type': req.headers['content-type'] ?? '' }, body });
      } else {
        const tx = cookieOf(req, 'rp_tx') ?? '';
        login = this.pending.get(tx);
        this.pending.delete(tx);
      }
      if (!login) throw new Error('no sign-in in progress in this browser');
      const tokens = await client.authorizationCodeGrant(config, response, {
        pkceCodeVerifier: login.verifier,
        expectedNonce: login.nonce,
        expectedState: login.state,
        idTokenExpected: true,
      });
      const claims = tokens.claims();
      if (!claims || typeof claims['sid'] !== 'string' || typeof claims['loa'] !== 'string') throw new Error('the ID token lacks sid or loa');
      const id = randomBytes(24).toString('base64url');
      this.sessions.set(id, { sub: claims.sub, loa: claims['loa'], sid: claims['sid'], idToken: tokens.id_token ?? '' });
      res
        .writeHead(303, {
          location: '/',
          'set-cookie': [`rp_session=${id}; Path=/; HttpOnly; SameSite=Lax`, 'rp_tx=; Path=/; Max-Age=0'],
          'cache-control': 'no-store',
        })
        .end();
      return;
    }

    if (req.method === 'GET' && url.pathname === '/login-post') {
      // OIDC Core §3.1.2.1: the authorization request as a form POST (a cross-site form to the gateway).
      const login: RpPendingLogin = { verifier: client.randomPKCECodeVerifier(), nonce: client.randomNonce(), state: client.randomState() };
      const tx = randomBytes(16).toString('base64url');
      this.pending.set(tx, login);
      const target = client.buildAuthorizationUrl(config, {
        redirect_uri: this.redirectUri,
        scope: 'openid',
        code_challenge: await client.calculatePKCECodeChallenge(login.verifier),
        code_challenge_method: 'S256',
        nonce: login.nonce,
        state: login.state,
      });
      res.setHeader('set-cookie', `rp_tx=${tx}; Path=/; HttpOnly; SameSite=Lax; Max-Age=600`);
      page(res, 200, postForm(target.origin + target.pathname, target.searchParams, 'post-login', 'Sign in with your security key'));
      return;
    }

    if (req.method === 'GET' && url.pathname === '/logout-post') {
      // RP-Initiated Logout 1.0 §2: the logout request as a form POST, with the ID token as hint.
      const session = this.sessions.get(cookieOf(req, 'rp_session') ?? '');
      if (!session) throw new Error('not signed in at the RP');
      const target = client.buildEndSessionUrl(config, { id_token_hint: session.idToken, post_logout_redirect_uri: `${this.origin}/`, state: 'rp-post-logout' });
      page(res, 200, postForm(target.origin + target.pathname, target.searchParams, 'post-logout', 'Sign out'));
      return;
    }

    if (req.method === 'GET' && url.pathname === '/logout') {
      // A logout link as many RPs send it: no id_token_hint, just who asks and where to return.
      const target = client.buildEndSessionUrl(config, { post_logout_redirect_uri: `${this.origin}/`, state: 'rp-logout' });
      res.writeHead(303, { location: target.href, 'cache-control': 'no-store' }).end();
      return;
    }

    if (req.method === 'POST' && url.pathname === '/backchannel-logout') {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
      const token = new URLSearchParams(Buffer.concat(chunks).toString('utf8')).get('logout_token') ?? '';
      try {
        // OpenID Connect Back-Channel Logout 1.0 §2.6: signature, iss, aud, iat, typ, events, sid, no nonce.
        const { payload } = await jwtVerify(token, jwks, {
          issuer: config.serverMetadata().issuer,
          audience: this.clientId,
          algorithms: ['ES256'],
          typ: 'logout+jwt',
          requiredClaims: ['iat', 'jti', 'events', 'sid'],
        });
        const events = payload['events'];
        if (typeof events !== 'object' || events === null || !(BACKCHANNEL_EVENT in events)) throw new Error('no back-channel logout event');
        if ('nonce' in payload) throw new Error('a logout token must not carry a nonce');
        for (const [id, s] of this.sessions) if (s.sid === payload['sid']) this.sessions.delete(id);
        this.logoutTokens.push(payload);
        res.writeHead(200, { 'cache-control': 'no-store' }).end();
      } catch (err) {
        this.problems.push(`logout token refused: ${err instanceof Error ? err.message : String(err)}`);
        res.writeHead(400, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify({ error: 'invalid_request' }));
      }
      return;
    }

    page(res, 404, '<h1>Not found</h1>');
  }
}

// ------------------------------------------------------------------------------- browser helpers

interface Person {
  context: BrowserContext;
  page: Page;
  cdp: CDPSession;
}

async function newPerson(browser: Browser, origin: string): Promise<Person> {
  const context = await browser.newContext({ baseURL: origin });
  context.setDefaultTimeout(UI_TIMEOUT);
  const p = await context.newPage();
  const cdp = await context.newCDPSession(p);
  await cdp.send('WebAuthn.enable');
  await cdp.send('WebAuthn.addVirtualAuthenticator', { options: AUTHENTICATOR_OPTIONS });
  return { context, page: p, cdp };
}

const isApi = (p: string) => (r: Response) => new URL(r.url()).pathname === p;

/** Opens a page and waits until its first API call (if any) has answered, so the page has settled. */
async function open(p: Page, url: string, firstApiCall?: string): Promise<void> {
  const settled = firstApiCall ? p.waitForResponse(isApi(firstApiCall)) : undefined;
  await p.goto(url);
  if (settled) await settled;
}

async function text(p: Page, selector: string): Promise<string> {
  return ((await p.locator(selector).textContent()) ?? '').trim();
}

/** GET /api/me from inside a gateway page, with the browser's own cookies. */
async function meStatus(p: Page): Promise<number> {
  return p.evaluate(async () => (await fetch('/api/me', { credentials: 'same-origin' })).status);
}

async function screenshot(p: Page | undefined, name: string): Promise<void> {
  if (!p || p.isClosed()) return;
  const file = path.join(os.tmpdir(), `e2e-oidc-${name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}-${Date.now()}.png`);
  try {
    await p.screenshot({ path: file, fullPage: true });
    console.error(`screenshot of the failed step: ${file}`);
  } catch {
    /* the page may be gone; the assertion error is what matters */
  }
}

/**
 * With E2E_SCREENSHOT_DIR: the page at desktop width and at 390 px (a phone), for a person to look
 * at. Either way, the page must not scroll sideways at 390 px.
 */
async function lookAt(p: Page, name: string): Promise<void> {
  const dir = process.env['E2E_SCREENSHOT_DIR'];
  const desktop = p.viewportSize() ?? { width: 1280, height: 720 };
  if (dir) await p.screenshot({ path: path.join(dir, `oidc-${name}-desktop.png`), fullPage: true });
  await p.setViewportSize({ width: 390, height: 844 });
  try {
    const overflow = await p.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `${name}: the page scrolls sideways by ${overflow} px at 390 px`);
    if (dir) await p.screenshot({ path: path.join(dir, `oidc-${name}-390.png`), fullPage: true });
  } finally {
    await p.setViewportSize(desktop);
  }
}

/** Records the Content-Security-Policy violations a page reports to its console. */
function cspViolations(p: Page): string[] {
  const seen: string[] = [];
  p.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) seen.push(m.text());
  });
  return seen;
}

/** The stylesheet of the server-rendered pages is in force (the header has its colour). */
async function styled(p: Page): Promise<boolean> {
  return p.evaluate(() => {
    const header = document.querySelector('.site-header');
    return header !== null && getComputedStyle(header).backgroundColor === 'rgb(7, 66, 125)';
  });
}

/** Waits (bounded) for a condition outside the page, e.g. the RP's back channel. */
async function eventually(what: string, check: () => boolean, timeoutMs = UI_TIMEOUT): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

// ---------------------------------------------------------------------------------- the story

describe('OpenID Connect single sign-on and single logout in a real browser (NSIS 6)', () => {
  let gw: TestGateway;
  let browser: Browser;
  let admin: ApiClient;
  const rp = new RelyingParty();
  let person: Person | undefined;
  let failed: string | undefined;
  const emp = { name: 'Clara Christensen', email: 'clara.christensen@demo.example', identityId: '', keyId: '', link: '', sid: '' };

  /** An ordered step: skipped when an earlier one failed; screenshots the page when it fails. */
  const step = (name: string, fn: (t: TestContext) => Promise<void>) =>
    it(name, { timeout: STEP_TIMEOUT }, async (t) => {
      if (failed) {
        // The steps build on each other: a later step cannot run meaningfully after a failure.
        assert.fail(`not run: an earlier step failed (${failed})`);
      }
      try {
        await fn(t);
      } catch (err) {
        failed = name;
        await screenshot(person?.page, name);
        if (rp.problems.length > 0) console.error(`relying party problems: ${rp.problems.join(' | ')}`);
        throw err;
      }
    });

  const thePerson = (): Person => {
    assert.ok(person, 'the browser profile exists');
    return person;
  };

  before(async () => {
    const built = path.join(repoRoot, 'client', 'dist', 'index.html');
    assert.ok(fs.existsSync(built), `${built} is missing: build the client first (npx vite build --config client/vite.config.ts)`);
    const assets = path.join(repoRoot, 'client', 'dist', 'assets');
    assert.ok(
      fs.readdirSync(assets).some((f) => f.endsWith('.js') && fs.readFileSync(path.join(assets, f), 'utf8').includes('/oidc/authorize/continue')),
      'the built sign-in page does not continue OpenID Connect requests: rebuild the client',
    );
    assert.ok(
      fs.readdirSync(assets).some((f) => f.endsWith('.js') && fs.readFileSync(path.join(assets, f), 'utf8').includes('/api/oidc/authorization-request')),
      'the built sign-in page does not name the application that asks: rebuild the client',
    );
    await rp.start();
    gw = await startTestGateway({ withClient: true });
    browser = await launchChromium();
    admin = (await activeAdmin(gw)).client;
  });

  after(async () => {
    await person?.context.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await gw?.close();
    await rp.close();
  });

  step('NSIS 6: the administrator registers the relying party, with its back-channel logout endpoint', async () => {
    const res = await admin.post('/api/admin/oidc-clients', {
      clientId: rp.clientId,
      name: 'Payroll (web)',
      redirectUris: [rp.redirectUri],
      postLogoutRedirectUris: [`${rp.origin}/`],
      authMethod: 'client_secret_basic',
      scopes: ['openid'],
      minLoa: 'substantial',
      backchannelLogoutUri: rp.backchannelUri,
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    await rp.connect(gw.origin, field<string>(res.body, 'clientSecret'));
  });

  step('NSIS 3.2.2: the employee enrols a key and activates it in the browser', async () => {
    const created = await admin.post('/api/admin/identities', { name: emp.name, email: emp.email, ial: 'substantial', proofingMethod: 'ID document checked in person by HR' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    emp.identityId = field<string>(created.body, 'identity', 'id');
    const issued = await admin.post(`/api/admin/identities/${emp.identityId}/enrolments`, {});
    assert.equal(issued.status, 201, JSON.stringify(issued.body));
    emp.link = await gw.latestEnrolmentLink(emp.email);

    person = await newPerson(browser, gw.origin);
    const { page: p } = person;
    await open(p, emp.link, '/api/enrolment/options');
    await p.locator('#register-button').waitFor({ state: 'visible' });
    await p.locator('#label').fill('Clara’s key');
    const enrolled = p.waitForResponse(isApi('/api/enrolment/verify'));
    await p.locator('#register-button').click();
    const enrolRes = await enrolled;
    assert.equal(enrolRes.status(), 201, await enrolRes.text());
    emp.keyId = field<string>(await enrolRes.json(), 'credential', 'id');
    await p.locator('#enrol-done').waitFor({ state: 'visible' });

    await open(p, '/activate.html');
    await p.locator('#email').fill(emp.email);
    await p.locator('#code').fill(await gw.latestCode(emp.email));
    const activated = p.waitForResponse(isApi('/api/activation/verify'));
    await p.locator('#activate-button').click();
    assert.equal((await activated).status(), 200);
    await p.locator('#activate-done').waitFor({ state: 'visible' });
    assert.equal((await read(gw.runtime.store, (tx) => tx.credentials.get(emp.keyId)))?.state, 'active');

    // Signed out again on the keys page, so the RP visit needs a key touch.
    await open(p, '/keys.html', '/api/me');
    await p.locator('#keys').waitFor({ state: 'visible' });
    const signedOut = p.waitForResponse(isApi('/api/signout'));
    await p.locator('#signout-button').click();
    assert.equal((await signedOut).status(), 204);
    await p.locator('#signed-out').waitFor({ state: 'visible' });
    assert.equal(await meStatus(p), 401);
  });

  step('NSIS 6 (Low) 1-3: visiting the RP sends the employee to the gateway’s sign-in page; one key touch brings them back signed in at Substantial', async () => {
    const { page: p } = thePerson();
    await p.goto(`${rp.origin}/`);
    await p.locator('#signed-out').waitFor({ state: 'visible' });
    await p.locator('#login').click();

    // The gateway's sign-in page, continuing the RP's request.
    await p.waitForURL((u) => u.origin === gw.origin && u.pathname === '/index.html' && u.searchParams.has('oidc'));
    await p.locator('#signin-button').waitFor({ state: 'visible' });
    // Issue 13 item 20: the page names the application that asks.
    await p.locator('#status', { hasText: 'Payroll (web) asks you to sign in with your security key.' }).waitFor();
    await p.locator('#email').fill(emp.email);
    const verified = p.waitForResponse(isApi('/api/signin/verify'));
    await p.locator('#signin-button').click();
    assert.equal((await verified).status(), 200);

    // Back at the RP, signed in.
    await p.waitForURL(`${rp.origin}/`);
    await p.locator('#greeting').waitFor({ state: 'visible' });
    assert.equal(await text(p, '#greeting'), `Hello ${emp.identityId} at ${SUBSTANTIAL}`);
    assert.deepEqual(rp.problems, []);
    const sessions = rp.liveSessions();
    assert.equal(sessions.length, 1);
    emp.sid = sessions[0]?.sid ?? '';
    assert.ok(emp.sid);
    // The RP session is tied to the gateway session the key touch started.
    const gwSessions = (await read(gw.runtime.store, (tx) => tx.sessions.liveOfIdentity(emp.identityId)));
    assert.deepEqual(
      gwSessions.map((s) => s.sid),
      [emp.sid],
    );
  });

  step('NSIS 6: a second visit to the RP while the gateway session lives is single sign-on: no key touch', async () => {
    const { page: p } = thePerson();
    const touches: string[] = [];
    const onRequest = (r: { url(): string }) => {
      if (new URL(r.url()).pathname === '/api/signin/verify') touches.push(r.url());
    };
    p.on('request', onRequest);
    try {
      await p.goto(`${rp.origin}/login`);
      await p.waitForURL(`${rp.origin}/`);
      await p.locator('#greeting').waitFor({ state: 'visible' });
    } finally {
      p.off('request', onRequest);
    }
    assert.deepEqual(touches, [], 'no sign-in ceremony for single sign-on');
    const sessions = rp.liveSessions();
    assert.equal(sessions.length, 2);
    assert.deepEqual(
      sessions.map((s) => s.sid),
      [emp.sid, emp.sid],
    );
  });

  step('NSIS 6 (Low) 5-6: signing out everywhere at the gateway ends the RP session through the back channel', async () => {
    const { page: p } = thePerson();
    await open(p, `${gw.origin}/keys.html`, '/api/me');
    await p.locator('#keys').waitFor({ state: 'visible' });
    const status = await p.evaluate(async () => {
      const res = await fetch('/api/signout', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ everywhere: true }),
      });
      return res.status;
    });
    assert.equal(status, 204);
    assert.equal(await meStatus(p), 401);

    await eventually('the RP’s back channel to receive the logout token', () => rp.logoutTokens.length > 0);
    assert.deepEqual(rp.problems, []);
    const token = rp.logoutTokens[0];
    assert.ok(token);
    assert.equal(token.sub, emp.identityId);
    assert.equal(token['sid'], emp.sid);
    assert.equal(rp.logoutTokens.length, 1, 'one logout token per RP and gateway session');
    assert.equal(rp.liveSessions().length, 0, 'the RP ended every session of the sid the logout token named');

    await p.goto(`${rp.origin}/`);
    await p.locator('#signed-out').waitFor({ state: 'visible' });
    assert.equal(await p.locator('#greeting').count(), 0);
  });

  step('OAuth 2.0 Form Post Response Mode: the RP asks for form_post; after one key touch the gateway’s page posts the code to the RP by itself, within the CSP', async () => {
    const { page: p } = thePerson();
    const violations = cspViolations(p);
    const before = rp.callbackMethods.length;
    await p.goto(`${rp.origin}/login?mode=form_post`);
    await p.waitForURL((u) => u.origin === gw.origin && u.pathname === '/index.html' && u.searchParams.has('oidc'));
    await p.locator('#status', { hasText: 'Payroll (web) asks you to sign in with your security key.' }).waitFor();
    if (process.env['E2E_SCREENSHOT_DIR']) await lookAt(p, 'signin-names-client');
    await p.locator('#email').fill(emp.email);
    const verified = p.waitForResponse(isApi('/api/signin/verify'));
    await p.locator('#signin-button').click();
    assert.equal((await verified).status(), 200);

    await p.waitForURL(`${rp.origin}/`);
    await p.locator('#greeting').waitFor({ state: 'visible' });
    assert.equal(await text(p, '#greeting'), `Hello ${emp.identityId} at ${SUBSTANTIAL}`);
    assert.deepEqual(rp.callbackMethods.slice(before), ['POST'], 'the code came by form post, not in a URL');
    assert.deepEqual(rp.problems, []);
    assert.deepEqual(violations, [], 'the self-submitting page stays within its Content-Security-Policy');
    assert.equal(rp.liveSessions().length, 1);
    emp.sid = rp.liveSessions()[0]?.sid ?? '';
  });

  step('RP-Initiated Logout 1.0 §2 (NSIS 6 (Low) 6): a logout link without id_token_hint asks the person on a styled page naming the RP; nothing ends until they confirm', async () => {
    const { page: p } = thePerson();
    await p.goto(`${rp.origin}/logout`);
    await p.waitForURL((u) => u.origin === gw.origin && u.pathname === '/oidc/logout');
    await p.locator('h1', { hasText: 'Sign out?' }).waitFor();
    assert.equal(await text(p, '[data-testid="logout-asker"]'), 'Payroll (web) asks to sign you out.');
    assert.match(await text(p, 'main'), new RegExp(`signed in as ${emp.name}`));
    assert.ok(await styled(p), 'the page has the gateway’s look');
    await lookAt(p, 'logout-confirmation');
    assert.equal(await meStatus(p), 200, 'the question ends nothing');
    assert.equal(rp.liveSessions().length, 1);

    const tokensBefore = rp.logoutTokens.length;
    await p.locator('#logout-confirm').click();
    await p.waitForURL((u) => u.origin === rp.origin && u.pathname === '/' && u.searchParams.get('state') === 'rp-logout');
    await p.locator('#signed-out').waitFor({ state: 'visible' });
    assert.equal(rp.logoutTokens.length, tokensBefore + 1, 'the RP was told by back channel');
    assert.equal(rp.logoutTokens.at(-1)?.['sid'], emp.sid);
    assert.equal(rp.liveSessions().length, 0);
    await p.goto(`${gw.origin}/index.html`);
    assert.equal(await meStatus(p), 401, 'the gateway session ended');
    const audit = (await auditEntries(gw.runtime.store)).filter((e) => e.type === 'oidc.logout' && e.actorId === emp.identityId);
    assert.deepEqual(
      audit.slice(-2).map((e) => [e.data['confirmationAsked'] ?? false, e.data['sessionEnded'], e.data['confirmed'] ?? false]),
      [
        [true, false, false],
        [false, true, true],
      ],
    );
  });

  step('OIDC Core 3.1.2.1 and RP-Initiated Logout 1.0 §2: the RP’s cross-site form POSTs to /oidc/authorize (single sign-on, no key touch) and to /oidc/logout with id_token_hint (the session ends at once)', async () => {
    const { page: p } = thePerson();
    // Signed out by the previous step: one key touch through the usual GET flow.
    await p.goto(`${rp.origin}/login`);
    await p.waitForURL((u) => u.origin === gw.origin && u.pathname === '/index.html');
    await p.locator('#status', { hasText: 'Payroll (web) asks you' }).waitFor();
    await p.locator('#email').fill(emp.email);
    const verified = p.waitForResponse(isApi('/api/signin/verify'));
    await p.locator('#signin-button').click();
    assert.equal((await verified).status(), 200);
    await p.waitForURL(`${rp.origin}/`);
    await p.locator('#greeting').waitFor({ state: 'visible' });

    // The authorization request as a form POST from the RP's page: single sign-on.
    const touches: string[] = [];
    const methods: string[] = [];
    const onRequest = (r: { url(): string; method(): string }) => {
      const u = new URL(r.url());
      if (u.pathname === '/api/signin/verify') touches.push(r.url());
      if (u.origin === gw.origin && u.pathname === '/oidc/authorize') methods.push(r.method());
    };
    p.on('request', onRequest);
    try {
      await p.goto(`${rp.origin}/login-post`);
      await p.locator('#post-login').click();
      await p.waitForURL(`${rp.origin}/`);
      await p.locator('#greeting').waitFor({ state: 'visible' });
    } finally {
      p.off('request', onRequest);
    }
    assert.deepEqual(touches, [], 'single sign-on: no key touch');
    assert.equal(methods[0], 'POST', 'the RP posted the request');
    assert.equal(rp.liveSessions().length, 2);
    assert.deepEqual(rp.problems, []);

    // Logout by form POST with the ID token: no question, the session ends, the RP is told.
    const tokensBefore = rp.logoutTokens.length;
    await p.goto(`${rp.origin}/logout-post`);
    await p.locator('#post-logout').click();
    await p.waitForURL((u) => u.origin === rp.origin && u.searchParams.get('state') === 'rp-post-logout');
    await p.locator('#signed-out').waitFor({ state: 'visible' });
    assert.equal(rp.logoutTokens.length, tokensBefore + 1);
    assert.equal(rp.liveSessions().length, 0);
    await p.goto(`${gw.origin}/index.html`);
    assert.equal(await meStatus(p), 401, 'the gateway session ended');
  });

  step('Issue 13 item 19: a refused sign-in request and an unknown page are styled pages that name the RP and say what to do next, at desktop and phone width', async () => {
    const { page: p } = thePerson();
    const violations = cspViolations(p);
    const refused = new URL(`${gw.origin}/oidc/authorize`);
    for (const [k, v] of Object.entries({ client_id: rp.clientId, redirect_uri: 'https://evil.example/cb', response_type: 'code', scope: 'openid', state: 's' })) refused.searchParams.set(k, v);
    const res = await p.goto(refused.href);
    assert.equal(res?.status(), 400);
    assert.equal(new URL(p.url()).origin, gw.origin, 'never sent to an unregistered redirect_uri');
    assert.equal(await text(p, 'h1'), 'The sign-in request from Payroll (web) was refused');
    assert.equal(await text(p, '[data-testid="application"]'), 'Payroll (web) sent you here to sign in.');
    await p.locator('.next-steps li', { hasText: 'Go back to Payroll (web) and start the sign-in again.' }).waitFor();
    assert.ok(await styled(p));
    await lookAt(p, 'error-refused-authorize');

    const missing = await p.goto(`${gw.origin}/no/such/page`);
    assert.equal(missing?.status(), 404);
    assert.equal(await text(p, 'h1'), 'Page not found');
    assert.ok(await styled(p));
    await lookAt(p, 'error-not-found');
    await p.locator('a', { hasText: 'Go to the sign-in page' }).click();
    await p.locator('#signin-button').waitFor({ state: 'visible' });
    assert.deepEqual(violations, []);
  });
});
