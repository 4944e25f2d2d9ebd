/**
 * Real-browser end-to-end proof of the staff consoles (helpdesk.html, admin.html) and their
 * authority rules, per role.
 *
 * A real gateway (SQLite, SoftHSM, file outbox) serves the built client with an injected
 * FixedClock, so the step-up window and the hourly rate limit are crossed by advancing the
 * gateway's clock (the browser's own clock stays real: sessions live in Max-Age cookies and every
 * time check is made on the server). Every person has their own browser profile with Chromium's
 * own virtual FIDO2 authenticator and acts only through the real pages:
 *
 *   - the seeded administrator (roles org-admin, helpdesk, security-officer);
 *   - Hanne, a second helpdesk member the administrator adds on admin.html;
 *   - the employees Erik (one key), Gustav (four keys) and Freja (three keys), added by the
 *     administrator on admin.html; a second key needs a second authenticator (the gateway
 *     excludes keys already registered), so the profile swaps its authenticator per key.
 *
 * Activation codes are read from the mails the gateway wrote. The steps are ordered subtests of
 * one story: each builds on the state the previous one left. If a step fails, a screenshot of
 * every person's page is saved under /tmp and the later steps are skipped.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Browser, type BrowserContext, type CDPSession, type Locator, type Page, type Response } from 'playwright-core';
import { FixedClock } from '../../server/clock.js';
import { field } from '../support/apiClient.js';
import { AUTHENTICATOR_OPTIONS, launchChromium } from '../support/browser.js';
import { repoRoot, startTestGateway, type TestGateway } from '../support/testGateway.js';
import { read } from '../support/storeReads.js';

const STEP_TIMEOUT = 90_000;
/** How long to wait for one thing to appear in the page. */
const UI_TIMEOUT = 20_000;
const PROOFING = 'ID document checked in person by HR';

/** One person: a browser profile (cookies) with one tab and a virtual authenticator in it. */
interface Person {
  /** Short name for screenshots. */
  tag: string;
  name: string;
  email: string;
  identityId: string;
  context: BrowserContext;
  page: Page;
  cdp: CDPSession;
  authenticatorId: string;
  /** Every /api answer the tab received, oldest first, as "METHOD /path STATUS". */
  apiLog: string[];
}

interface Answer {
  status: number;
  body: unknown;
  code: string | undefined;
  headers: Record<string, string>;
}

// ------------------------------------------------------------------------------- browser helpers

const isApi = (p: string, method = 'GET') => (r: Response) => new URL(r.url()).pathname === p && r.request().method() === method;

/**
 * The answer to `method path` that the page acts on: a 401 STEP_UP_REQUIRED is skipped, since
 * the page then confirms the person with their key and sends the request once more.
 */
function finalAnswer(page: Page, p: string, method = 'POST'): Promise<Response> {
  return page.waitForResponse(async (r) => {
    if (!isApi(p, method)(r)) return false;
    if (r.status() !== 401) return true;
    const body: unknown = await r.json().catch(() => null);
    return field<string | undefined>(body, 'code') !== 'STEP_UP_REQUIRED';
  });
}

async function answerOf(res: Response): Promise<Answer> {
  const raw = await res.text();
  const body: unknown = raw ? JSON.parse(raw) : null;
  return { status: res.status(), body, code: res.ok() ? undefined : field<string>(body, 'code'), headers: res.headers() };
}

async function addAuthenticator(cdp: CDPSession): Promise<string> {
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', { options: AUTHENTICATOR_OPTIONS });
  return authenticatorId;
}

/** A new security key for the person: the old authenticator is unplugged, a fresh one plugged in. */
async function swapAuthenticator(person: Person): Promise<void> {
  await person.cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId: person.authenticatorId });
  person.authenticatorId = await addAuthenticator(person.cdp);
}

async function newPerson(browser: Browser, origin: string, tag: string, name: string, email: string): Promise<Person> {
  const context = await browser.newContext({ baseURL: origin });
  context.setDefaultTimeout(UI_TIMEOUT);
  // Records the step-up prompts the page opens, since the virtual key answers at once and the
  // prompt may close again before a locator could see it: <html data-step-up-shown="n"> counts
  // the openings, data-step-up-messages lists every text the prompt's message took (one a line).
  await context.addInitScript(() => {
    new MutationObserver((records) => {
      const root = document.documentElement;
      for (const r of records) {
        const t = r.target;
        if (r.type === 'attributes' && t instanceof HTMLDialogElement && t.id === 'step-up-dialog' && r.oldValue === null) {
          root.dataset['stepUpShown'] = String(Number(root.dataset['stepUpShown'] ?? '0') + 1);
        }
        if (r.type === 'childList' && t instanceof HTMLElement && t.id === 'step-up-message') {
          for (const n of Array.from(r.addedNodes)) {
            const said = (n.textContent ?? '').trim();
            if (said) root.dataset['stepUpMessages'] = `${root.dataset['stepUpMessages'] ?? ''}${said}\n`;
          }
        }
      }
    }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['open'], attributeOldValue: true });
  });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const authenticatorId = await addAuthenticator(cdp);
  const apiLog: string[] = [];
  page.on('response', (r) => {
    const u = new URL(r.url());
    if (u.pathname.startsWith('/api/')) apiLog.push(`${r.request().method()} ${u.pathname} ${r.status()}`);
  });
  return { tag, name, email, identityId: '', context, page, cdp, authenticatorId, apiLog };
}

/** How many step-up prompts the current page has opened, and every message they showed. */
async function stepUpsShown(page: Page): Promise<{ count: number; messages: string[] }> {
  const html = page.locator('html');
  return {
    count: Number((await html.getAttribute('data-step-up-shown')) ?? '0'),
    messages: ((await html.getAttribute('data-step-up-messages')) ?? '').split('\n').filter(Boolean),
  };
}

async function text(page: Page | Locator, selector: string): Promise<string> {
  return ((await page.locator(selector).first().textContent()) ?? '').trim();
}

/** Waits until p#error has text and returns it. */
async function errorShown(page: Page): Promise<string> {
  await page.waitForFunction(() => (document.getElementById('error')?.textContent ?? '').trim() !== '', undefined, { timeout: UI_TIMEOUT });
  return text(page, '#error');
}

/** Waits until p#status reads something matching `re` and returns it. */
async function statusShown(page: Page, re: RegExp): Promise<string> {
  await page.waitForFunction(
    ({ source, flags }) => new RegExp(source, flags).test(document.getElementById('status')?.textContent ?? ''),
    { source: re.source, flags: re.flags },
    { timeout: UI_TIMEOUT },
  );
  return text(page, '#status');
}

/** A JSON API call made by the page itself, with the browser's own session cookie. */
async function apiInPage(page: Page, method: 'GET' | 'POST' | 'PATCH', url: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  return page.evaluate(
    async ({ method, url, body }) => {
      const init: RequestInit = { method, credentials: 'same-origin' };
      if (body !== undefined) {
        init.headers = { 'Content-Type': 'application/json' };
        init.body = JSON.stringify(body);
      }
      const res = await fetch(url, init);
      const raw = await res.text();
      const parsed: unknown = raw ? JSON.parse(raw) : null;
      return { status: res.status, body: parsed };
    },
    { method, url, body },
  );
}

async function meStatus(page: Page): Promise<number> {
  return (await apiInPage(page, 'GET', '/api/me')).status;
}

async function screenshot(page: Page, file: string): Promise<void> {
  if (page.isClosed()) return;
  try {
    await page.screenshot({ path: file, fullPage: true });
    console.error(`screenshot: ${file}`);
  } catch {
    /* the page may be gone; the assertion error is what matters */
  }
}

// ------------------------------------------------------------------- the holder's own pages

/** Registers a key in the browser from the enrolment link; returns the gateway's key id. */
async function enrolInBrowser(person: Person, link: string, label: string): Promise<string> {
  const { page } = person;
  const options = page.waitForResponse(isApi('/api/enrolment/options', 'POST'));
  await page.goto(link);
  assert.equal((await options).status(), 200);
  await page.locator('#register-button').waitFor({ state: 'visible' });
  await page.locator('#label').fill(label);
  const verify = page.waitForResponse(isApi('/api/enrolment/verify', 'POST'));
  await page.locator('#register-button').click();
  const res = await verify;
  assert.equal(res.status(), 201, await res.text());
  await page.locator('#enrol-done').waitFor({ state: 'visible' });
  return field<string>(await res.json(), 'credential', 'id');
}

/** Activates (or reactivates) on activate.html with the code; a success also signs in. */
async function activateInBrowser(person: Person, code: string): Promise<void> {
  const { page } = person;
  await page.goto('/activate.html');
  await page.locator('#email').fill(person.email);
  await page.locator('#code').fill(code);
  const verify = page.waitForResponse(isApi('/api/activation/verify', 'POST'));
  await page.locator('#activate-button').click();
  const res = await verify;
  assert.equal(res.status(), 200, await res.text());
  await page.locator('#activate-done').waitFor({ state: 'visible' });
}

/** Opens keys.html signed in and returns the row of the key once it shows `state`. */
async function keyRowInBrowser(person: Person, keyId: string, state: string): Promise<Locator> {
  const { page } = person;
  const me = page.waitForResponse(isApi('/api/me'));
  await page.goto('/keys.html');
  await me;
  const row = page.locator(`tr[data-testid="credential-row"][data-credential-id="${keyId}"][data-state="${state}"]`);
  await row.waitFor({ state: 'visible' });
  return row;
}

async function signOutInBrowser(person: Person): Promise<void> {
  const { page } = person;
  const me = page.waitForResponse(isApi('/api/me'));
  await page.goto('/keys.html');
  await me;
  await page.locator('#keys').waitFor({ state: 'visible' });
  const res = page.waitForResponse(isApi('/api/signout', 'POST'));
  await page.locator('#signout-button').click();
  assert.equal((await res).status(), 204);
  await page.locator('#signed-out').waitFor({ state: 'visible' });
}

/** Signs in on index.html (without a live session); on refusal returns the page's error text. */
async function signInInBrowser(person: Person, email: string | undefined): Promise<{ status: number; code: string | undefined; error: string }> {
  const { page } = person;
  const me = page.waitForResponse(isApi('/api/me'));
  await page.goto('/');
  await me;
  await page.locator('#signin-button').waitFor({ state: 'visible' });
  await page.locator('#email').fill(email ?? '');
  const verify = page.waitForResponse(isApi('/api/signin/verify', 'POST'));
  await page.locator('#signin-button').click();
  const res = await verify;
  if (res.ok()) {
    await page.waitForURL('**/keys.html');
    return { status: res.status(), code: undefined, error: '' };
  }
  return { status: res.status(), code: field<string>(await res.json(), 'code'), error: await errorShown(page) };
}

// --------------------------------------------------------------------------- admin.html

async function openAdmin(person: Person): Promise<void> {
  const { page } = person;
  const me = page.waitForResponse(isApi('/api/me'));
  await page.goto('/admin.html');
  assert.equal((await me).status(), 200);
  await page.locator('#console-content').waitFor({ state: 'visible' });
}

/** Fills and sends the "Add an employee" form; returns the new identity's id. */
async function createOnAdmin(admin: Person, who: { name: string; email: string }, roles: string[] = []): Promise<string> {
  const { page } = admin;
  await page.locator('#create-name').fill(who.name);
  await page.locator('#create-email').fill(who.email);
  await page.locator('#create-ial').selectOption('substantial');
  await page.locator('#create-proofing').fill(PROOFING);
  for (const role of roles) await page.locator(`#create-role-${role}`).check();
  const created = finalAnswer(page, '/api/admin/identities');
  await page.locator('#create-submit').click();
  const res = await answerOf(await created);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const id = field<string>(res.body, 'identity', 'id');
  assert.deepEqual(field<string[]>(res.body, 'identity', 'roles').filter((r) => r !== 'employee').sort(), [...roles].sort());
  const result = page.locator(`#create-result[data-identity-id="${id}"]`);
  await result.waitFor({ state: 'visible' });
  assert.equal(await text(result, '[data-testid="created-name"]'), who.name);
  return id;
}

/**
 * Presses a "Send enrolment link by email" button (confirming the "withdraws the earlier link"
 * question when one was issued from this panel): the page says where it went, never shows the
 * link, and the person opens it from the mail at their address (NSIS 3.2.2 (Substantial) 2).
 */
async function issueLinkOnAdmin(gw: TestGateway, admin: Person, who: { identityId: string; email: string }, trigger: string, into: string): Promise<string> {
  const { page } = admin;
  const hadLink = (await page.locator(`${into} > *`).count()) > 0;
  const issued = finalAnswer(page, `/api/admin/identities/${who.identityId}/enrolments`);
  await page.locator(trigger).click();
  if (hadLink) {
    await page.locator('#confirm-dialog').waitFor({ state: 'visible' });
    assert.match(await text(page, '#confirm-heading'), /Issue a new enrolment link\?/);
    await page.locator('#confirm-ok').click();
  }
  const res = await answerOf(await issued);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  assert.equal(field(res.body, 'delivery'), 'mail');
  assert.equal(field(res.body, 'link'), undefined, 'the link is not shown to the administrator');
  await page.locator(`${into} [data-testid="enrolment-sent"]`).waitFor({ state: 'visible' });
  assert.equal(await page.locator(`${into} input[data-testid="enrolment-link"]`).count(), 0);
  return gw.latestEnrolmentLink(who.email);
}

/** Chooses "hand it over in person" (an explicit, recorded choice): the page shows the link once. */
async function handOverLinkOnAdmin(admin: Person, identityId: string, trigger: string, into: string): Promise<string> {
  const { page } = admin;
  const issued = finalAnswer(page, `/api/admin/identities/${identityId}/enrolments`);
  await page.locator(trigger).click();
  await page.locator('#confirm-dialog').waitFor({ state: 'visible' });
  assert.match(await text(page, '#confirm-heading'), /^Hand the link to .* in person\?$/);
  assert.match(await text(page, '#confirm-explanation'), /recorded in the audit trail/);
  await page.locator('#confirm-ok').click();
  const res = await answerOf(await issued);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const link = field<string>(res.body, 'link');
  await page.waitForFunction(
    ({ sel, link }) => document.querySelector<HTMLInputElement>(sel)?.value === link,
    { sel: `${into} input[data-testid="enrolment-link"]`, link },
    { timeout: UI_TIMEOUT },
  );
  return link;
}

async function openPersonOnAdmin(admin: Person, who: { email: string; identityId: string }): Promise<void> {
  const { page } = admin;
  await page.locator('#search-q').fill(who.email);
  const searched = page.waitForResponse(isApi('/api/admin/identities'));
  await page.locator('#search-button').click();
  assert.equal((await searched).status(), 200);
  await page.locator(`tr[data-testid="identity-row"][data-identity-id="${who.identityId}"]`).getByTestId('open-identity-button').click();
  await page.locator(`#person[data-identity-id="${who.identityId}"]`).waitFor({ state: 'visible' });
}

// ------------------------------------------------------------------------- helpdesk.html

async function openHelpdesk(person: Person): Promise<void> {
  const { page } = person;
  const approvals = page.waitForResponse(isApi('/api/helpdesk/approvals'));
  await page.goto('/helpdesk.html');
  assert.equal((await approvals).status(), 200);
  await page.locator('#console-content').waitFor({ state: 'visible' });
}

async function openPersonOnHelpdesk(staff: Person, who: { email: string; identityId: string }): Promise<void> {
  const { page } = staff;
  await page.locator('#search-q').fill(who.email);
  const searched = page.waitForResponse(isApi('/api/helpdesk/identities'));
  await page.locator('#search-button').click();
  assert.equal((await searched).status(), 200);
  const loaded = page.waitForResponse(isApi(`/api/helpdesk/identities/${who.identityId}`));
  await page.locator(`tr[data-testid="identity-row"][data-identity-id="${who.identityId}"]`).getByTestId('open-identity-button').click();
  assert.equal((await loaded).status(), 200);
  await page.locator(`#person[data-identity-id="${who.identityId}"]`).waitFor({ state: 'visible' });
}

const hdKeyRow = (page: Page, keyId: string, state?: string): Locator =>
  page.locator(`tr[data-testid="hd-credential-row"][data-credential-id="${keyId}"]${state ? `[data-state="${state}"]` : ''}`);

/**
 * Presses Suspend / Start reactivation / Revoke on a key row, answers the reason dialog and
 * returns the answer the page acted on (after a step-up, if one was asked for).
 */
async function keyActionOnHelpdesk(
  staff: Person,
  keyId: string,
  action: 'suspend' | 'reactivate' | 'revoke',
  reason: string,
  note?: string,
): Promise<Answer> {
  const { page } = staff;
  await hdKeyRow(page, keyId).getByTestId(`${action}-button`).click();
  const dialog = page.locator('#action-dialog');
  await dialog.waitFor({ state: 'visible' });
  await page.locator('#action-reason').selectOption(reason);
  if (note) await page.locator('#action-note').fill(note);
  const answer = finalAnswer(page, `/api/helpdesk/credentials/${keyId}/${action}`);
  await page.locator('#action-confirm').click();
  const res = await answerOf(await answer);
  await dialog.waitFor({ state: 'hidden' });
  return res;
}

// ---------------------------------------------------------------------------------- the story

describe('helpdesk and administration consoles, per role, in real browsers', () => {
  let gw: TestGateway;
  let clock: FixedClock;
  let browser: Browser;
  const people: Person[] = [];
  let failed: string | undefined;

  let admin: Person | undefined;
  let hanne: Person | undefined;
  let erik: Person | undefined;
  let gustav: Person | undefined;
  let erikKey = '';
  const gustavKeys: string[] = [];
  const frejaKeys: string[] = [];

  /** An ordered step: skipped when an earlier one failed; screenshots every page when it fails. */
  const step = (name: string, fn: () => Promise<void>) =>
    it(name, { timeout: STEP_TIMEOUT }, async () => {
      if (failed) {
        // The steps build on each other: a later step cannot run meaningfully after a failure.
        assert.fail(`not run: an earlier step failed (${failed})`);
      }
      try {
        await fn();
      } catch (err) {
        failed = name;
        const stamp = Date.now();
        for (const p of people) {
          await screenshot(p.page, path.join(os.tmpdir(), `e2e-consoles-${name.replace(/[^a-z0-9]+/gi, '-').slice(0, 50)}-${p.tag}-${stamp}.png`));
        }
        throw err;
      }
    });

  const must = (p: Person | undefined): Person => {
    assert.ok(p, 'an earlier step should have set this person up');
    return p;
  };

  const addPerson = async (tag: string, name: string, email: string): Promise<Person> => {
    const p = await newPerson(browser, gw.origin, tag, name, email);
    people.push(p);
    return p;
  };

  const state = async (keyId: string) => (await read(gw.runtime.store, (tx) => tx.credentials.get(keyId)))?.state;

  /** The administrator issues one more link for `who` from the open person panel; `who` enrols and activates it. */
  const enrolAnotherKey = async (who: Person, label: string): Promise<string> => {
    const a = must(admin);
    const link = await issueLinkOnAdmin(gw, a, who, '#person-enrolment-button', '#person-link');
    await swapAuthenticator(who);
    const keyId = await enrolInBrowser(who, link, label);
    await activateInBrowser(who, await gw.latestCode(who.email));
    assert.equal((await state(keyId)), 'active');
    return keyId;
  };

  before(async () => {
    const built = path.join(repoRoot, 'client', 'dist', 'helpdesk.html');
    assert.ok(fs.existsSync(built), `${built} is missing: build the client first (npx vite build --config client/vite.config.ts)`);
    clock = new FixedClock(new Date());
    gw = await startTestGateway({
      clock,
      withClient: true,
      env: {
        GATEWAY_HELPDESK_ACTIONS_PER_HOUR: '3',
        GATEWAY_BULK_APPROVAL_THRESHOLD: '2',
        GATEWAY_SESSION_IDLE_MINUTES: '600',
        GATEWAY_SESSION_ABSOLUTE_MINUTES: '6000',
      },
    });
    browser = await launchChromium();
  });

  after(async () => {
    for (const p of people) await p.context.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await gw?.close();
  });

  step('setup: the seeded administrator activates his key, and adds a helpdesk colleague on admin.html who activates hers', async () => {
    const link = gw.seed.enrolmentLink;
    assert.ok(link, 'the seed must issue an enrolment link for the administrator');
    assert.deepEqual([...gw.seed.admin.roles].filter((r) => r !== 'employee').sort(), ['helpdesk', 'org-admin', 'security-officer']);
    const a = await addPerson('admin', gw.seed.admin.name, gw.seed.admin.email);
    a.identityId = gw.seed.admin.id;
    admin = a;
    await enrolInBrowser(a, link, 'Admin key');
    await activateInBrowser(a, await gw.latestCode(a.email));

    await openAdmin(a);
    assert.equal(await text(a.page, '#identity-name'), a.name);
    for (const nav of ['nav-admin', 'nav-helpdesk', 'nav-security']) await a.page.getByTestId(nav).waitFor({ state: 'visible' });

    const h = await addPerson('hanne', 'Hanne Hjælpsom', 'hanne.hjaelpsom@demo.example');
    hanne = h;
    h.identityId = await createOnAdmin(a, h, ['helpdesk']);
    // The only administrator grants the helpdesk role alone, and the page says that two-person control is off.
    const banner = a.page.getByTestId('duties-banner');
    await banner.waitFor({ state: 'visible' });
    assert.match((await banner.textContent()) ?? '', /Two-person control is off for staff roles.*only one administrator/);
    // He hands Hanne her link in person (the explicit choice); her address is told.
    const hLink = await handOverLinkOnAdmin(a, h.identityId, '#handover-enrolment-button', '#create-link');
    assert.ok(hLink.startsWith(`${gw.origin}/enrol.html#token=`), hLink);
    assert.equal((await gw.mailsTo(h.email)).at(-1)?.kind, 'enrolment-handover');
    await enrolInBrowser(h, hLink, 'Hanne’s key');
    await activateInBrowser(h, await gw.latestCode(h.email));
    assert.deepEqual((await read(gw.runtime.store, (tx) => tx.identities.get(h.identityId)))?.roles.filter((r) => r !== 'employee'), ['helpdesk']);

    await openHelpdesk(h);
    await h.page.getByTestId('nav-helpdesk').waitFor({ state: 'visible' });
    assert.equal(await h.page.getByTestId('nav-admin').isHidden(), true, 'a helpdesk member is not offered the administration page');
  });

  step("helpdesk suspends and reactivates an employee's key in the console", async () => {
    const a = must(admin);
    const h = must(hanne);

    // The administrator adds the employee and issues the enrolment link on admin.html.
    const e = await addPerson('erik', 'Erik Eriksen', 'erik.eriksen@demo.example');
    erik = e;
    await openAdmin(a);
    e.identityId = await createOnAdmin(a, e);
    const link = await issueLinkOnAdmin(gw, a, e, '#issue-enrolment-button', '#create-link');
    assert.equal(await a.page.locator('#issue-enrolment-button').textContent(), 'Send a new link by email (withdraws the earlier one)');

    // The employee registers and activates the key in his own browser.
    erikKey = await enrolInBrowser(e, link, 'Erik’s key');
    await activateInBrowser(e, await gw.latestCode(e.email));
    await keyRowInBrowser(e, erikKey, 'active');

    // The helpdesk member finds him and suspends the key, with a reason and a note.
    await openHelpdesk(h);
    await openPersonOnHelpdesk(h, e);
    assert.equal(await text(h.page, '#person-name'), e.name);
    assert.equal(await text(h.page, '[data-testid="person-email"]'), e.email);
    await hdKeyRow(h.page, erikKey, 'active').waitFor({ state: 'visible' });
    const suspended = await keyActionOnHelpdesk(h, erikKey, 'suspend', 'lost', 'Erik called: lost on the bus');
    assert.equal(suspended.status, 200, JSON.stringify(suspended.body));
    const row = hdKeyRow(h.page, erikKey, 'suspended');
    await row.waitFor({ state: 'visible' });
    assert.equal(await text(row, '[data-testid="hd-credential-reason"]'), 'Reason: Lost');
    assert.match(await statusShown(h.page, /is suspended/), /“Erik’s key” is suspended\. Erik Eriksen has been told\./);
    assert.equal((await state(erikKey)), 'suspended');
    assert.equal((await read(gw.runtime.store, (tx) => tx.credentials.get(erikKey)))?.stateReason, 'lost');
    assert.equal((await gw.mailsTo(e.email)).at(-1)?.kind, 'suspend-notice');
    // The suspension ended the session the employee had with that key.
    assert.equal(await meStatus(e.page), 401);

    // ... then starts the reactivation: a fresh code goes to the holder, never to the helpdesk.
    const oldCode = await gw.latestCode(e.email);
    const started = await keyActionOnHelpdesk(h, erikKey, 'reactivate', 'found', 'Found in his coat');
    assert.equal(started.status, 200, JSON.stringify(started.body));
    assert.match(await statusShown(h.page, /new activation code was sent/), /A new activation code was sent to Erik Eriksen\./);
    await hdKeyRow(h.page, erikKey, 'suspended').waitFor({ state: 'visible' });
    assert.equal((await state(erikKey)), 'suspended', 'still suspended until the holder uses the key with the new code');
    assert.equal((await gw.mailsTo(e.email)).at(-1)?.kind, 'reactivation-code');
    const code = await gw.latestCode(e.email);
    assert.notEqual(code, oldCode);
    assert.equal(JSON.stringify(started.body).includes(code), false, 'the helpdesk never sees the code');
    assert.equal((await h.page.content()).includes(code), false);

    // The employee activates with the new code on activate.html.
    await activateInBrowser(e, code);
    assert.equal((await state(erikKey)), 'active');
    await keyRowInBrowser(e, erikKey, 'active');

    // The helpdesk page shows the key active again, with the whole history.
    await openHelpdesk(h);
    await openPersonOnHelpdesk(h, e);
    const active = hdKeyRow(h.page, erikKey, 'active');
    await active.waitFor({ state: 'visible' });
    await active.locator('[data-testid="hd-history"] summary').click();
    const entries = active.getByTestId('hd-history-entry');
    await entries.first().waitFor({ state: 'visible' });
    assert.deepEqual(await entries.evaluateAll((lis) => lis.map((li) => li.getAttribute('data-action'))), ['issue', 'activate', 'suspend', 'request-reactivation', 'reactivate']);
    // The registration says what happened, not a placeholder reason ("Reason: other").
    const issueEntry = (await active.locator('[data-testid="hd-history-entry"][data-action="issue"]').textContent()) ?? '';
    assert.match(issueEntry, /— Registered, by Erik Eriksen \(the holder\)\./);
    assert.doesNotMatch(issueEntry, /Reason|other/i);
    const suspendEntry = (await active.locator('[data-testid="hd-history-entry"][data-action="suspend"]').textContent()) ?? '';
    assert.match(suspendEntry, /by you \(helpdesk\)\. Reason: Lost\. Note: “Erik called: lost on the bus”/);
    const startEntry = (await active.locator('[data-testid="hd-history-entry"][data-action="request-reactivation"]').textContent()) ?? '';
    assert.match(startEntry, /by you \(helpdesk\)\. Reason: Found again\./);
    const reactivated = (await active.locator('[data-testid="hd-history-entry"][data-action="reactivate"]').textContent()) ?? '';
    assert.match(reactivated, /suspended → active/);
    assert.match(reactivated, /Erik Eriksen \(the holder\)/);
  });

  step('an employee is refused every helpdesk and admin page and API', async () => {
    const e = must(erik);
    const h = must(hanne);
    const { page } = e;
    assert.equal(await meStatus(page), 200, 'the employee is signed in');

    const logFrom = e.apiLog.length;
    for (const [url, notAllowed, tools] of [
      ['/helpdesk.html', '#not-allowed', '#console-content'],
      ['/admin.html', '#not-allowed', '#console-content'],
      ['/security.html', '#not-officer', '#officer-content'],
    ] as const) {
      const me = page.waitForResponse(isApi('/api/me'));
      await page.goto(url);
      assert.equal((await me).status(), 200);
      await page.locator(notAllowed).waitFor({ state: 'visible' });
      assert.equal(await page.locator(tools).isHidden(), true, `${url}: no tools`);
      assert.equal(await page.locator('#account').isHidden(), true, url);
      for (const form of ['#search-form', '#create-form', '#bulk-form', '#end-form']) {
        assert.equal(await page.locator(form).isVisible(), false, `${url}: ${form} not shown`);
      }
      for (const nav of ['nav-helpdesk', 'nav-admin', 'nav-security']) assert.equal(await page.getByTestId(nav).isHidden(), true, `${url}: ${nav} hidden`);
    }
    // The pages asked only who is signed in, nothing of the staff APIs.
    assert.deepEqual([...new Set(e.apiLog.slice(logFrom))], ['GET /api/me 200']);
    await page.goto('/helpdesk.html');
    await page.locator('#not-allowed').waitFor({ state: 'visible' });
    assert.match(await text(page, '#not-allowed-message'), /does not have the helpdesk role/);
    await page.goto('/admin.html');
    await page.locator('#not-allowed').waitFor({ state: 'visible' });
    assert.match(await text(page, '#not-allowed-message'), /does not have the administrator role/);

    // The server checks the role on every call, whatever the page shows.
    const probes: Array<readonly ['GET' | 'POST' | 'PATCH', string, unknown?]> = [
      ['GET', '/api/helpdesk/identities?q=e'],
      ['GET', `/api/helpdesk/identities/${h.identityId}`],
      ['GET', `/api/helpdesk/identities/${h.identityId}/audit`],
      ['GET', `/api/helpdesk/identities/${h.identityId}/credentials`],
      ['GET', '/api/helpdesk/approvals'],
      ['POST', `/api/helpdesk/credentials/${erikKey}/suspend`, { reason: 'lost' }],
      ['POST', `/api/helpdesk/credentials/${erikKey}/revoke`, { reason: 'lost' }],
      ['POST', '/api/helpdesk/bulk', { action: 'suspend', credentialIds: [erikKey], reason: 'lost' }],
      ['POST', `/api/helpdesk/identities/${e.identityId}/replacement`, { basis: 'active-key' }],
      ['GET', '/api/admin/identities?q=e'],
      ['POST', '/api/admin/identities', { name: 'Eve Intruder', email: 'eve@demo.example', ial: 'substantial', proofingMethod: PROOFING, roles: ['org-admin'] }],
      ['POST', `/api/admin/identities/${e.identityId}/roles`, { role: 'org-admin', grant: true }],
      ['POST', `/api/admin/identities/${h.identityId}/enrolments`, {}],
      ['PATCH', `/api/admin/identities/${h.identityId}`, { email: 'taken.over@demo.example' }],
      ['POST', `/api/admin/identities/${h.identityId}/end-binding`, { reason: 'other' }],
      ['POST', '/api/admin/identities/import', { csv: `name,email,ial,proofing_method\nEve,eve@demo.example,high,${PROOFING}\n` }],
      ['GET', '/api/security/keys'],
      ['GET', '/api/security/key-requests'],
    ];
    for (const [method, url, body] of probes) {
      const res = await apiInPage(page, method, url, body);
      assert.equal(res.status, 403, `${method} ${url}: ${JSON.stringify(res.body)}`);
      assert.equal(field(res.body, 'code'), 'ROLE_REQUIRED', `${method} ${url}`);
    }
    // Nothing happened.
    assert.equal((await state(erikKey)), 'active');
    assert.equal((await read(gw.runtime.store, (tx) => tx.identities.findActiveByEmail('eve@demo.example'))), undefined);
    assert.deepEqual((await read(gw.runtime.store, (tx) => tx.identities.get(e.identityId)))?.roles.filter((r) => r !== 'employee'), []);
    assert.equal((await read(gw.runtime.store, (tx) => tx.identities.get(h.identityId)))?.email, h.email);
    assert.equal((await read(gw.runtime.store, (tx) => tx.identities.get(h.identityId)))?.bindingState, 'active');
  });

  step('NSIS 3.1.2 (Substantial) 8: step-up is demanded after the window passes', async () => {
    const a = must(admin);
    const e = must(erik);
    const { page } = a;
    await openHelpdesk(a);
    // The administrator's last key touch is now more than 5 minutes (GATEWAY_STEP_UP_MINUTES) old.
    clock.advance(6 * 60_000);
    // Reading needs no step-up.
    await openPersonOnHelpdesk(a, e);
    await hdKeyRow(page, erikKey, 'active').waitFor({ state: 'visible' });
    assert.equal((await stepUpsShown(page)).count, 0);
    const from = a.apiLog.length;

    const res = await keyActionOnHelpdesk(a, erikKey, 'suspend', 'suspected-compromise', 'Seen on a stranger’s desk');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    await hdKeyRow(page, erikKey, 'suspended').waitFor({ state: 'visible' });
    await statusShown(page, /is suspended/);

    // The page asked once for a fresh key touch, signed in again with the key, and sent the action again.
    const prompt = await stepUpsShown(page);
    assert.equal(prompt.count, 1);
    // The prompt carried the server's reason (it is replaced at once by the touch instruction).
    assert.match(prompt.messages[0] ?? '', /^Touch your security key again: this action needs a security-key sign-in within the last 5 minutes\./);
    assert.ok(prompt.messages.includes('Confirmed. Carrying out the change…'), JSON.stringify(prompt.messages));
    await page.locator('#step-up-dialog').waitFor({ state: 'hidden' });
    const suspendPath = `/api/helpdesk/credentials/${erikKey}/suspend`;
    assert.deepEqual(
      a.apiLog.slice(from).filter((l) => /^POST /.test(l)),
      [`POST ${suspendPath} 401`, 'POST /api/signin/options 200', 'POST /api/signin/verify 200', `POST ${suspendPath} 200`],
    );
    assert.equal((await state(erikKey)), 'suspended');
    assert.equal((await read(gw.runtime.store, (tx) => tx.credentials.get(erikKey)))?.stateReason, 'suspected-compromise');
    const last = (await read(gw.runtime.store, (tx) => tx.credentials.events(erikKey))).at(-1);
    assert.equal(last?.action, 'suspend');
    assert.equal(last?.actorId, a.identityId);
    // A key suspended for suspected compromise can only be revoked: the console offers no reactivation.
    const row = hdKeyRow(page, erikKey, 'suspended');
    assert.equal(await row.getByTestId('reactivate-button').count(), 0);
    await row.getByTestId('no-reactivation-note').waitFor({ state: 'visible' });
  });

  step('NSIS 3.2.3 (Low) 2: an operator exceeding the rate limit is stopped', async () => {
    const a = must(admin);
    const h = must(hanne);
    const g = await addPerson('gustav', 'Gustav Gram', 'gustav.gram@demo.example');
    gustav = g;

    // An employee with four active keys.
    await openAdmin(a);
    g.identityId = await createOnAdmin(a, g);
    const link = await issueLinkOnAdmin(gw, a, g, '#issue-enrolment-button', '#create-link');
    const first = await enrolInBrowser(g, link, 'Gustav key 1');
    await activateInBrowser(g, await gw.latestCode(g.email));
    gustavKeys.push(first);
    await openPersonOnAdmin(a, g);
    for (let i = 2; i <= 4; i++) gustavKeys.push(await enrolAnotherKey(g, `Gustav key ${i}`));
    assert.equal(new Set(gustavKeys).size, 4);
    await keyRowInBrowser(g, gustavKeys[3] ?? '', 'active');

    // An hour later, so that only this test's suspensions count against Hanne's hourly cap (3).
    clock.advance(61 * 60_000);
    await openHelpdesk(h);
    await openPersonOnHelpdesk(h, g);
    for (let i = 0; i < 3; i++) {
      const keyId = gustavKeys[i] ?? '';
      const res = await keyActionOnHelpdesk(h, keyId, 'suspend', 'holder-request');
      assert.equal(res.status, 200, `suspension ${i + 1}: ${JSON.stringify(res.body)}`);
      await hdKeyRow(h.page, keyId, 'suspended').waitFor({ state: 'visible' });
    }
    assert.equal((await stepUpsShown(h.page)).count, 1, 'the first action after the hour needed a fresh key touch');

    // The fourth is refused, with the reason shown, and the key stays active.
    const fourth = gustavKeys[3] ?? '';
    const refused = await keyActionOnHelpdesk(h, fourth, 'suspend', 'holder-request');
    assert.equal(refused.status, 429, JSON.stringify(refused.body));
    assert.equal(refused.code, 'RATE_LIMITED');
    assert.ok(Number(refused.headers['retry-after']) > 0, 'Retry-After says when to try again');
    const error = await errorShown(h.page);
    assert.match(error, /^Nothing was changed for “Gustav key 4”\./);
    assert.match(error, /You have taken 3 suspensions or revocations in the last hour, the most allowed\./);
    assert.match(error, /use a bulk action approved by a colleague/);
    await hdKeyRow(h.page, fourth, 'active').getByTestId('suspend-button').waitFor({ state: 'visible' });
    assert.equal((await state(fourth)), 'active');
    assert.deepEqual(await Promise.all(gustavKeys.map(state)), ['suspended', 'suspended', 'suspended', 'active']);
    // The holder can still use the key that was not suspended.
    assert.equal(await meStatus(g.page), 200);
    const refusals = (await read(gw.runtime.store, (tx) => tx.audit.forPerson(h.identityId))).filter((ev) => ev.type === 'staff-action.rate-limited');
    assert.equal(refusals.length, 1, 'the refusal is audited');
  });

  step('NSIS 3.2.3 (Low) 2: a bulk action waits for the second approver', async () => {
    const a = must(admin);
    const h = must(hanne);
    const f = await addPerson('freja', 'Freja Frost', 'freja.frost@demo.example');

    // An employee with three active keys (more than the bulk approval threshold of 2).
    await openAdmin(a);
    f.identityId = await createOnAdmin(a, f);
    const link = await issueLinkOnAdmin(gw, a, f, '#issue-enrolment-button', '#create-link');
    frejaKeys.push(await enrolInBrowser(f, link, 'Freja key 1'));
    await activateInBrowser(f, await gw.latestCode(f.email));
    await openPersonOnAdmin(a, f);
    for (let i = 2; i <= 3; i++) frejaKeys.push(await enrolAnotherKey(f, `Freja key ${i}`));
    assert.deepEqual(await Promise.all(frejaKeys.map(state)), ['active', 'active', 'active']);

    // Hanne (who has used up her hourly cap in the previous step) selects the three keys.
    await openHelpdesk(h);
    await openPersonOnHelpdesk(h, f);
    for (const keyId of frejaKeys) await hdKeyRow(h.page, keyId, 'active').getByTestId('bulk-select').check();
    assert.equal(await text(h.page, '#bulk-count'), '3 keys selected');
    await h.page.locator('#bulk-action').selectOption('suspend');
    await h.page.locator('#bulk-reason').selectOption('suspected-compromise');
    await h.page.locator('#bulk-note').fill('Bag with three keys stolen');
    await h.page.locator('#bulk-submit').click();
    await h.page.locator('#confirm-dialog').waitFor({ state: 'visible' });
    assert.equal(await text(h.page, '#confirm-heading'), 'Suspend 3 keys of Freja Frost?');
    const sent = finalAnswer(h.page, '/api/helpdesk/bulk');
    await h.page.locator('#confirm-ok').click();
    const res = await answerOf(await sent);
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const approvalId = field<string>(res.body, 'approval', 'id');

    // Waiting: nothing happened to the keys, and the requester cannot approve it herself.
    const waiting = h.page.getByTestId('bulk-waiting');
    await waiting.waitFor({ state: 'visible' });
    assert.match((await waiting.textContent()) ?? '', /^Waiting for a second approver\. Another helpdesk member must approve the suspension of 3 keys/);
    const mine = h.page.locator(`tr[data-testid="approval-row"][data-approval-id="${approvalId}"][data-state="pending"]`);
    await mine.waitFor({ state: 'visible' });
    assert.equal(await text(mine, '[data-testid="waiting-note"]'), 'Waiting for a second approver');
    assert.equal(await mine.getByTestId('approve-button').count(), 0, 'no approve button on one’s own request');
    assert.equal(await mine.getByTestId('reject-button').count(), 0);
    for (const keyId of frejaKeys) await hdKeyRow(h.page, keyId, 'active').waitFor({ state: 'visible' });
    assert.deepEqual(await Promise.all(frejaKeys.map(state)), ['active', 'active', 'active']);
    const self = await apiInPage(h.page, 'POST', `/api/helpdesk/approvals/${approvalId}/approve`, {});
    assert.equal(self.status, 403, JSON.stringify(self.body));
    assert.equal(field(self.body, 'code'), 'SEGREGATION_OF_DUTIES');
    assert.deepEqual(await Promise.all(frejaKeys.map(state)), ['active', 'active', 'active']);

    // Hanne's own hourly cap is used up (test above); the approval is what authorises the bulk.
    const hourAgo = new Date(clock.now().getTime() - 3600_000).toISOString();
    assert.equal((await read(gw.runtime.store, (tx) => tx.staffActions.timesSince(h.identityId, hourAgo))).length, 3);

    // The administrator (also helpdesk) approves in his own browser.
    await openHelpdesk(a);
    const theirs = a.page.locator(`tr[data-testid="approval-row"][data-approval-id="${approvalId}"][data-state="pending"]`);
    await theirs.waitFor({ state: 'visible' });
    assert.equal(await theirs.getByTestId('waiting-note').count(), 0);
    assert.match(await text(a.page, '#status'), /1 request waits for your approval/);
    await theirs.getByTestId('approve-button').click();
    await a.page.locator('#confirm-dialog').waitFor({ state: 'visible' });
    assert.equal(await text(a.page, '#confirm-heading'), 'Approve this bulk action?');
    const approved = finalAnswer(a.page, `/api/helpdesk/approvals/${approvalId}/approve`);
    await a.page.locator('#confirm-ok').click();
    const ok = await answerOf(await approved);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(field(ok.body, 'approval', 'state'), 'executed');
    await a.page.locator(`tr[data-testid="approval-row"][data-approval-id="${approvalId}"][data-state="executed"]`).waitFor({ state: 'visible' });
    await a.page.getByTestId('approval-result').waitFor({ state: 'visible' });
    assert.match((await a.page.getByTestId('approval-result').textContent()) ?? '', /Approved and carried out\./);

    // Hanne's page, left open, follows the decision by itself: the waiting box says who approved
    // and the keys show suspended, without a reload.
    const decided = h.page.locator(`[data-testid="bulk-result"][data-approval-id="${approvalId}"][data-approval-state="executed"]`);
    await decided.waitFor({ state: 'visible' });
    assert.match((await decided.textContent()) ?? '', new RegExp(`^Approved by ${a.name} and carried out\\. `));
    assert.equal(await h.page.getByTestId('bulk-waiting').count(), 0, 'the waiting box is gone');
    for (const keyId of frejaKeys) await hdKeyRow(h.page, keyId, 'suspended').waitFor({ state: 'visible' });

    // Carried out in the requester's name, past her hourly cap (the approval authorises it).
    assert.deepEqual(await Promise.all(frejaKeys.map(state)), ['suspended', 'suspended', 'suspended']);
    for (const keyId of frejaKeys) {
      assert.equal((await read(gw.runtime.store, (tx) => tx.credentials.get(keyId)))?.stateReason, 'suspected-compromise');
      const ev = (await read(gw.runtime.store, (tx) => tx.credentials.events(keyId))).at(-1);
      assert.equal(ev?.actorId, h.identityId);
      assert.equal(ev?.note, `Bag with three keys stolen (approved by ${a.name})`);
      assert.equal(ev?.reason, 'suspected-compromise');
    }
    const record = (await read(gw.runtime.store, (tx) => tx.approvals.get(approvalId)));
    assert.equal(record?.requestedBy, h.identityId);
    assert.equal(record?.decidedBy, a.identityId);

    // Hanne sees it decided, and the keys suspended.
    await openHelpdesk(h);
    const decidedRow = h.page.locator(`tr[data-testid="approval-row"][data-approval-id="${approvalId}"][data-state="executed"]`);
    await decidedRow.waitFor({ state: 'visible' });
    assert.match(await text(decidedRow, '[data-testid="approval-decision"]'), new RegExp(`^Approved by ${a.name}`));
    await openPersonOnHelpdesk(h, f);
    for (const keyId of frejaKeys) await hdKeyRow(h.page, keyId, 'suspended').waitFor({ state: 'visible' });
  });

  step('NSIS 3.2.2 (High) 3: an email change waits for a second staff member and the old address is told; a colleague the admin set up is shown why they cannot approve it', async () => {
    const a = must(admin);
    const h = must(hanne);
    const e = must(erik);
    await openAdmin(a);
    await openPersonOnAdmin(a, e);
    await a.page.locator('#contact-email').fill('erik.private@demo.example');
    const sent = finalAnswer(a.page, `/api/admin/identities/${e.identityId}`, 'PATCH');
    await a.page.locator('#contact-submit').click();
    const res = await answerOf(await sent);
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const id = field<string>(res.body, 'approval', 'id');
    assert.match(await statusShown(a.page, /second staff member/), /erik\.eriksen@demo\.example has been told/);
    assert.equal((await read(gw.runtime.store, (tx) => tx.identities.get(e.identityId)))?.email, e.email, 'nothing changed yet');
    assert.equal((await gw.mailsTo(e.email)).at(-1)?.kind, 'duty-requested');

    // The administration page lists it with exactly what will happen, and no Approve for its requester.
    const row = a.page.locator(`#approvals-body tr[data-approval-id="${id}"][data-state="pending"]`);
    await row.waitFor({ state: 'visible' });
    assert.match((await row.getByTestId('approval-items').textContent()) ?? '', /erik\.eriksen@demo\.example → erik\.private@demo\.example/);
    assert.equal(await row.getByTestId('approve-button').count(), 0);

    // Hanne (set up by the administrator) sees it on the helpdesk page, with the reason she cannot approve it.
    await openHelpdesk(h);
    const hers = h.page.locator(`tr[data-testid="approval-row"][data-approval-id="${id}"]`);
    await hers.waitFor({ state: 'visible' });
    assert.match((await hers.getByTestId('cannot-approve-note').textContent()) ?? '', /created or changed your identity, your roles or your contact data/);
    assert.equal(await hers.getByTestId('approve-button').count(), 0);

    // The administrator withdraws his request.
    await openAdmin(a);
    const withdrawn = finalAnswer(a.page, `/api/approvals/${id}/reject`);
    await a.page.locator(`#approvals-body tr[data-approval-id="${id}"]`).getByTestId('reject-button').click();
    assert.equal((await answerOf(await withdrawn)).status, 200);
    await a.page.locator(`#approvals-body tr[data-approval-id="${id}"][data-state="rejected"]`).waitFor({ state: 'visible' });
    const dir = process.env['E2E_SCREENSHOT_DIR'];
    if (dir) await screenshot(a.page, path.join(dir, 'admin-approvals.png'));
  });

  step("NSIS 5.2 (Low) 3: an admin ends a binding and the employee's next sign-in is refused", async () => {
    const a = must(admin);
    const g = must(gustav);
    const key = gustavKeys[3] ?? '';
    // Before: Gustav's remaining active key signs him in.
    await signOutInBrowser(g);
    const before = await signInInBrowser(g, g.email);
    assert.equal(before.status, 200);
    await keyRowInBrowser(g, key, 'active');

    // The administrator ends the binding on admin.html, after confirming.
    const mailedBefore = new Set((await gw.mailsTo(g.email)).map((m) => m.file));
    await openAdmin(a);
    await openPersonOnAdmin(a, g);
    assert.equal(await text(a.page, '[data-testid="person-keys"]'), '1 active of 4');
    await a.page.locator('#end-reason').selectOption('employment-ended');
    await a.page.locator('#end-note').fill('Last working day');
    await a.page.locator('#end-submit').click();
    await a.page.locator('#confirm-dialog').waitFor({ state: 'visible' });
    assert.equal(await text(a.page, '#confirm-heading'), `End the binding of ${g.name}?`);
    assert.match(await text(a.page, '#confirm-explanation'), /all 4 keys are revoked, every session ends/);
    const ended = finalAnswer(a.page, `/api/admin/identities/${g.identityId}/end-binding`);
    await a.page.locator('#confirm-ok').click();
    const res = await answerOf(await ended);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(field(res.body, 'revokedKeys'), 4);
    await a.page.locator('#person[data-binding-state="ended"]').waitFor({ state: 'visible' });
    await a.page.locator('#person-ended-note').waitFor({ state: 'visible' });
    assert.equal(await a.page.locator('#person-tools').isHidden(), true);
    assert.match(await statusShown(a.page, /has ended/), /The binding of Gustav Gram has ended\. 4 keys were revoked\./);

    assert.equal((await read(gw.runtime.store, (tx) => tx.identities.get(g.identityId)))?.bindingState, 'ended');
    assert.deepEqual(await Promise.all(gustavKeys.map(state)), ['revoked', 'revoked', 'revoked', 'revoked']);
    // The mails the end of the binding caused, as a set: one receipt per revoked key and the
    // notice (delivered in one batch, so their order says nothing).
    const caused = (await gw.mailsTo(g.email)).filter((m) => !mailedBefore.has(m.file)).map((m) => m.kind).sort();
    assert.deepEqual(caused, ['binding-ended', 'revocation-receipt', 'revocation-receipt', 'revocation-receipt', 'revocation-receipt']);

    // Gustav's session ended with the binding; his next sign-in is refused with the generic message.
    assert.equal(await meStatus(g.page), 401);
    const me = g.page.waitForResponse(isApi('/api/me'));
    await g.page.goto('/keys.html');
    await me;
    await g.page.locator('#signed-out').waitFor({ state: 'visible' });
    const out = await signInInBrowser(g, undefined);
    assert.equal(out.status, 401);
    assert.equal(out.code, 'SIGNIN_FAILED');
    assert.match(out.error, /^Sign-in failed\./);
    assert.doesNotMatch(out.error, /binding|ended|revoke|employ/i, 'the page does not say why');
    assert.equal(await meStatus(g.page), 401, 'a refused sign-in starts no session');

    // The same words as for any other refused key (Erik's suspended one).
    const e = must(erik);
    assert.equal(await meStatus(e.page), 401);
    const other = await signInInBrowser(e, e.email);
    assert.equal(other.status, 401);
    assert.equal(other.error, out.error);
  });
});
