/**
 * Real-browser end-to-end proof of the OIOSAML 3 identity provider (issue 15): Debian's Chromium
 * (playwright-core) with its virtual FIDO2 authenticator signs an employee in on the gateway's
 * own sign-in page for a SAML service provider, a small web app on 127.0.0.1 built on
 * @node-saml/node-saml: /login sends the signed AuthnRequest (HTTP-Redirect), /acs receives the
 * auto-posted Response, decrypts and validates it and greets the person with the NameID and the
 * NSIS level; /slo receives the gateway's LogoutRequest (HTTP-POST), validates its signature and
 * answers with a signed LogoutResponse (HTTP-Redirect). With E2E_SCREENSHOT_DIR set, the sign-in
 * page naming the service is saved there (desktop and 390 px wide).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { OIOSAML } from '../../server/saml/index.js';
import { field, type ApiClient } from '../support/apiClient.js';
import { AUTHENTICATOR_OPTIONS, launchChromium } from '../support/browser.js';
import { activeAdmin } from '../support/journeys.js';
import { auditEntries, read } from '../support/storeReads.js';
import { repoRoot, startTestGateway, type TestGateway } from '../support/testGateway.js';
import { SAML_ENV, makeGatewaySp, registerSp, type GatewaySp } from '../saml-gateway/harness.js';

const UI_TIMEOUT = 30_000;

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The SP web app: /login redirects to the gateway, /acs validates the Response and greets. */
class SamlWebApp {
  sp: GatewaySp | undefined;
  readonly problems: string[] = [];
  /** The LogoutRequests node-saml validated (signature included): NameID and SessionIndex. */
  readonly loggedOut: { nameId: string; sessionIndex: string | undefined }[] = [];
  origin = '';
  private readonly server = http.createServer((req, res) => {
    this.handle(req, res).catch((err: unknown) => {
      this.problems.push(err instanceof Error ? err.message : String(err));
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/html' }).end(`<h1 id="sp-error">${escapeHtml(String(err))}</h1>`);
    });
  });

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.origin = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const sp = this.sp;
    if (!sp) throw new Error('the SP is not configured');
    const url = new URL(req.url ?? '/', this.origin);
    if (url.pathname === '/login') {
      res.writeHead(302, { location: await sp.saml.getAuthorizeUrlAsync('browser-relay', undefined, {}) }).end();
      return;
    }
    if (url.pathname === '/acs' && req.method === 'POST') {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(Buffer.from(c as Buffer));
      const form = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
      const { profile } = await sp.saml.validatePostResponseAsync(form);
      const greeting = `Hello ${String(profile?.nameID)} at ${String(profile?.[OIOSAML.loaName])} (${String(form['RelayState'])})`;
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(`<!doctype html><title>SP</title><p id="greeting">${escapeHtml(greeting)}</p>`);
      return;
    }
    if (url.pathname === '/slo' && req.method === 'POST') {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(Buffer.from(c as Buffer));
      const form = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
      const { profile, loggedOut } = await sp.saml.validatePostRequestAsync(form);
      if (!loggedOut || !profile) throw new Error('not a LogoutRequest');
      this.loggedOut.push({ nameId: profile.nameID, sessionIndex: profile.sessionIndex });
      res.writeHead(302, { location: await sp.saml.getLogoutResponseUrlAsync(profile, form['RelayState'] ?? '', {}, true) }).end();
      return;
    }
    res.writeHead(404).end();
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }
}

async function lookAt(p: Page, name: string): Promise<void> {
  const dir = process.env['E2E_SCREENSHOT_DIR'];
  const desktop = p.viewportSize() ?? { width: 1280, height: 720 };
  if (dir) await p.screenshot({ path: path.join(dir, `saml-${name}-desktop.png`), fullPage: true });
  await p.setViewportSize({ width: 390, height: 844 });
  try {
    const overflow = await p.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `${name}: the page scrolls sideways by ${overflow} px at 390 px`);
    if (dir) await p.screenshot({ path: path.join(dir, `saml-${name}-390.png`), fullPage: true });
  } finally {
    await p.setViewportSize(desktop);
  }
}

describe('OIOSAML 3 single sign-on in a real browser (issue 15)', () => {
  let gw: TestGateway;
  let browser: Browser;
  let admin: ApiClient;
  const app = new SamlWebApp();

  before(async () => {
    const assets = path.join(repoRoot, 'client', 'dist', 'assets');
    assert.ok(
      fs.existsSync(assets) && fs.readdirSync(assets).some((f) => f.endsWith('.js') && fs.readFileSync(path.join(assets, f), 'utf8').includes('/saml/sso/continue')),
      'the built sign-in page does not continue SAML requests: rebuild the client (npx vite build --config client/vite.config.ts)',
    );
    await app.start();
    gw = await startTestGateway({ withClient: true, env: SAML_ENV });
    browser = await launchChromium();
    admin = (await activeAdmin(gw)).client;
  });
  after(async () => {
    await browser?.close();
    await gw?.close();
    await app.close();
  });

  /** A new employee with an enrolled, activated key on the page's virtual authenticator (cookies cleared after). */
  async function employeeWithKey(p: Page, email: string, name: string): Promise<string> {
    const created = await admin.post('/api/admin/identities', { name, email, ial: 'substantial', proofingMethod: 'ID document checked in person by HR' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const identityId = field<string>(created.body, 'identity', 'id');
    assert.equal((await admin.post(`/api/admin/identities/${identityId}/enrolments`, {})).status, 201);
    await p.goto(await gw.latestEnrolmentLink(email));
    await p.locator('#register-button').waitFor({ state: 'visible' });
    await p.locator('#label').fill(`${name}’s key`);
    const enrolled = p.waitForResponse((r) => new URL(r.url()).pathname === '/api/enrolment/verify');
    await p.locator('#register-button').click();
    assert.equal((await enrolled).status(), 201);
    await p.goto('/activate.html');
    await p.locator('#email').fill(email);
    await p.locator('#code').fill(await gw.latestCode(email));
    const activated = p.waitForResponse((r) => new URL(r.url()).pathname === '/api/activation/verify');
    await p.locator('#activate-button').click();
    assert.equal((await activated).status(), 200);
    await p.context().clearCookies();
    return identityId;
  }

  it('OIOSAML 3 Web Browser SSO: the SP sends the employee to the gateway’s sign-in page, which names it; one touch of the virtual security key returns a Response node-saml validates', { timeout: 180_000 }, async () => {
    const sp = await makeGatewaySp(gw, { entityId: `${app.origin}/metadata` });
    app.sp = sp;
    assert.equal((await registerSp(admin, sp)).status, 201);
    const email = 'browser.saml@demo.example';
    const created = await admin.post('/api/admin/identities', { name: 'Bodil Browser', email, ial: 'substantial', proofingMethod: 'ID document checked in person by HR' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const identityId = field<string>(created.body, 'identity', 'id');
    assert.equal((await admin.post(`/api/admin/identities/${identityId}/enrolments`, {})).status, 201);

    const context = await browser.newContext({ baseURL: gw.origin });
    context.setDefaultTimeout(UI_TIMEOUT);
    const p = await context.newPage();
    const cdp = await context.newCDPSession(p);
    await cdp.send('WebAuthn.enable');
    await cdp.send('WebAuthn.addVirtualAuthenticator', { options: AUTHENTICATOR_OPTIONS });
    try {
      await p.goto(await gw.latestEnrolmentLink(email));
      await p.locator('#register-button').waitFor({ state: 'visible' });
      await p.locator('#label').fill('Bodil’s key');
      const enrolled = p.waitForResponse((r) => new URL(r.url()).pathname === '/api/enrolment/verify');
      await p.locator('#register-button').click();
      assert.equal((await enrolled).status(), 201);
      await p.goto('/activate.html');
      await p.locator('#email').fill(email);
      await p.locator('#code').fill(await gw.latestCode(email));
      const activated = p.waitForResponse((r) => new URL(r.url()).pathname === '/api/activation/verify');
      await p.locator('#activate-button').click();
      assert.equal((await activated).status(), 200);
      await context.clearCookies();

      await p.goto(`${app.origin}/login`);
      await p.waitForURL((u) => u.origin === gw.origin && u.pathname === '/index.html' && u.searchParams.has('saml'));
      await p.locator('#status', { hasText: `${sp.entityId} asks you to sign in with your security key.` }).waitFor();
      await lookAt(p, 'signin-asks');
      await p.locator('#email').fill(email);
      await p.locator('#signin-button').click();
      await p.waitForURL(`${app.origin}/acs`);
      await p.locator('#greeting').waitFor({ state: 'visible' });
      assert.equal(((await p.locator('#greeting').textContent()) ?? '').trim(), `Hello https://data.gov.dk/model/core/eid/professional/uuid/${identityId} at Substantial (browser-relay)`);
      assert.deepEqual(app.problems, []);
      const keys = await read(gw.runtime.store, (tx) => tx.credentials.listOfIdentity(identityId));
      assert.equal(keys[0]?.state, 'active');
    } finally {
      await context.close();
    }
  });

  /**
   * A SAML sign-in, then the gateway page's sign-out button `c.button`: the SP gets its signed
   * LogoutRequest by the front channel, the gateway session ends, the browser lands signed out.
   */
  async function signOutThroughSamlFrontChannel(c: { button: string; email: string; name: string }): Promise<void> {
    const sp = await makeGatewaySp(gw, { entityId: `${app.origin}/metadata` });
    app.sp = sp;
    const registered = await registerSp(admin, sp);
    assert.ok(registered.status === 201 || registered.status === 200, `registered: ${registered.status}`);
    const email = c.email;
    const context = await browser.newContext({ baseURL: gw.origin });
    context.setDefaultTimeout(UI_TIMEOUT);
    const p = await context.newPage();
    const cdp = await context.newCDPSession(p);
    await cdp.send('WebAuthn.enable');
    await cdp.send('WebAuthn.addVirtualAuthenticator', { options: AUTHENTICATOR_OPTIONS });
    try {
      const identityId = await employeeWithKey(p, email, c.name);
      await p.goto(`${app.origin}/login`);
      await p.waitForURL((u) => u.origin === gw.origin && u.pathname === '/index.html' && u.searchParams.has('saml'));
      await p.locator('#email').fill(email);
      await p.locator('#signin-button').click();
      await p.waitForURL(`${app.origin}/acs`);
      await p.locator('#greeting').waitFor({ state: 'visible' });

      // Back at the gateway's own page, signed in: its "Sign out".
      await p.goto('/keys.html');
      await p.locator(c.button).waitFor({ state: 'visible' });
      const before = app.loggedOut.length;
      const signedOut = p.waitForResponse((r) => new URL(r.url()).pathname === '/api/signout' && r.request().method() === 'POST');
      // The chain is several navigations (gateway, auto-posted form to the SP, its redirect back):
      // wait for the last one's response, then for the page it shows.
      const atEnd = p.waitForResponse((r) => {
        const u = new URL(r.url());
        return r.request().isNavigationRequest() && u.origin === gw.origin && u.pathname === '/' && u.searchParams.get('signed-out') === '1';
      });
      await p.locator(c.button).click();
      const answer = await signedOut;
      assert.equal(answer.status(), 200);
      assert.equal((await atEnd).status(), 200);
      await p.waitForLoadState('load');
      assert.equal(new URL(p.url()).searchParams.get('signed-out'), '1');
      assert.deepEqual(app.problems, []);
      assert.equal(app.loggedOut.length, before + 1, 'the SP received one LogoutRequest, its signature valid');
      assert.equal(app.loggedOut[before]?.nameId, `https://data.gov.dk/model/core/eid/professional/uuid/${identityId}`);
      assert.ok(app.loggedOut[before]?.sessionIndex, 'the LogoutRequest names the session (SessionIndex)');
      const me = await p.request.get('/api/me');
      assert.equal(me.status(), 401, 'the gateway session is gone');
      const entries = await auditEntries(gw.runtime.store);
      assert.ok(
        entries.some((e) => e.type === 'session.ended' && JSON.stringify(e).includes(identityId) && JSON.stringify(e.data).includes('signed-out')),
        'the sign-out is audited (session.ended)',
      );
      const received = entries.filter((e) => e.type === 'saml.logout-response.received');
      assert.ok(received.some((e) => JSON.stringify(e.data).includes(sp.entityId)), 'the SP’s LogoutResponse was verified and logged');
    } finally {
      await context.close();
    }
  }

  it('NSIS 6 (Low) 5, OIOSAML single logout (saml-profiles 4.4.2): the header’s “Sign out” after a SAML sign-in sends the SP a valid signed LogoutRequest by the front channel, the gateway session is gone, the browser ends on the signed-out page', { timeout: 180_000 }, () =>
    signOutThroughSamlFrontChannel({ button: '[data-testid="header-signout"]', email: 'browser.slo@demo.example', name: 'Svend Slo' }));

  it('NSIS 6 (Low) 5, OIOSAML single logout (saml-profiles 4.4.2): the keys page’s “Sign out” after a SAML sign-in sends the SP a valid signed LogoutRequest by the front channel, the gateway session is gone, the browser ends on the signed-out page', { timeout: 180_000 }, () =>
    signOutThroughSamlFrontChannel({ button: '#signout-button', email: 'browser.slo.keys@demo.example', name: 'Karen Keys' }));
});
