/**
 * Real-browser end-to-end proof of the NSIS 3.2 life cycle of a security key.
 *
 * A real gateway (SQLite, SoftHSM, file outbox) serves the built client; Debian's Chromium,
 * driven by playwright-core, uses Chromium's own virtual FIDO2 authenticator through the DevTools
 * protocol. The employee acts only through the real pages; the administrator/helpdesk acts through
 * the API (journeys.activeAdmin); activation codes are read from the mails the gateway wrote.
 *
 * The steps are ordered subtests of one story: each builds on the state the previous one left.
 * If a step fails, a screenshot is saved under /tmp and the later steps are skipped.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { type Browser, type BrowserContext, type CDPSession, type Page, type Response } from 'playwright-core';
import { field, type ApiClient, type ApiResponse } from '../support/apiClient.js';
import { activeAdmin } from '../support/journeys.js';
import { AUTHENTICATOR_OPTIONS, launchChromium } from '../support/browser.js';
import { repoRoot, startTestGateway, type TestGateway } from '../support/testGateway.js';
import { read } from '../support/storeReads.js';

const STEP_TIMEOUT = 60_000;
/** How long to wait for one thing to appear in the page. */
const UI_TIMEOUT = 20_000;

/** The fields of a WebAuthn.Credential (CDP) this test reads and writes. */
interface VirtualCredential {
  credentialId: string;
  isResidentCredential: boolean;
  rpId?: string;
  privateKey: string;
  userHandle?: string;
  signCount: number;
}

/** One browser profile (cookies) with one tab and Chromium's virtual authenticator in it. */
interface Person {
  context: BrowserContext;
  page: Page;
  cdp: CDPSession;
  authenticatorId: string;
}

interface SignInOutcome {
  status: number;
  code: string | undefined;
  /** The text of p#error when refused, '' when signed in. */
  error: string;
}

// ------------------------------------------------------------------------------- browser helpers

async function addAuthenticator(cdp: CDPSession): Promise<string> {
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', { options: AUTHENTICATOR_OPTIONS });
  return authenticatorId;
}

async function newPerson(browser: Browser, origin: string): Promise<Person> {
  const context = await browser.newContext({ baseURL: origin });
  context.setDefaultTimeout(UI_TIMEOUT);
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const authenticatorId = await addAuthenticator(cdp);
  return { context, page, cdp, authenticatorId };
}

const isApi = (p: string) => (r: Response) => new URL(r.url()).pathname === p;

/** Opens a page and waits until its first API call (if any) has answered, so the page has settled. */
async function open(page: Page, url: string, firstApiCall?: string): Promise<void> {
  const settled = firstApiCall ? page.waitForResponse(isApi(firstApiCall)) : undefined;
  await page.goto(url);
  if (settled) await settled;
}

async function text(page: Page, selector: string): Promise<string> {
  return ((await page.locator(selector).textContent()) ?? '').trim();
}

/** Waits until p#error has text and returns it. */
async function errorShown(page: Page): Promise<string> {
  await page.waitForFunction(() => (document.getElementById('error')?.textContent ?? '').trim() !== '', undefined, { timeout: UI_TIMEOUT });
  return text(page, '#error');
}

/** Registers the key in the browser from the enrolment link; returns the gateway's key id. */
async function enrolInBrowser(person: Person, link: string, label: string): Promise<string> {
  const { page } = person;
  await open(page, link, '/api/enrolment/options');
  await page.locator('#register-button').waitFor({ state: 'visible' });
  await page.locator('#label').fill(label);
  const verify = page.waitForResponse(isApi('/api/enrolment/verify'));
  await page.locator('#register-button').click();
  const res = await verify;
  assert.equal(res.status(), 201, await res.text());
  await page.locator('#enrol-done').waitFor({ state: 'visible' });
  return field<string>(await res.json(), 'credential', 'id');
}

/** Activates (or reactivates) on activate.html; returns the verify answer's status. */
async function activateInBrowser(person: Person, email: string, code: string): Promise<{ status: number; code: string | undefined }> {
  const { page } = person;
  await open(page, '/activate.html');
  await page.locator('#email').fill(email);
  await page.locator('#code').fill(code);
  const verify = page.waitForResponse(isApi('/api/activation/verify'));
  await page.locator('#activate-button').click();
  const res = await verify;
  const body: unknown = await res.json();
  const problemCode = res.ok() ? undefined : field<string>(body, 'code');
  if (res.ok()) await page.locator('#activate-done').waitFor({ state: 'visible' });
  return { status: res.status(), code: problemCode };
}

/**
 * Signs in on index.html (the browser must not have a live session, or the page hides the form).
 * On success waits for the page to open keys.html; on refusal returns the page's error text.
 */
async function signInInBrowser(person: Person, email: string | undefined): Promise<SignInOutcome> {
  const { page } = person;
  await open(page, '/', '/api/me');
  await page.locator('#signin-button').waitFor({ state: 'visible' });
  await page.locator('#email').fill(email ?? '');
  const verify = page.waitForResponse(isApi('/api/signin/verify'));
  await page.locator('#signin-button').click();
  const res = await verify;
  if (res.ok()) {
    await page.waitForURL('**/keys.html');
    return { status: res.status(), code: undefined, error: '' };
  }
  const code = field<string>(await res.json(), 'code');
  return { status: res.status(), code, error: await errorShown(page) };
}

/** Opens keys.html signed in and returns the row of the key once it shows `state`. */
async function keyRowInBrowser(person: Person, keyId: string, state: string) {
  const { page } = person;
  await open(page, '/keys.html', '/api/me');
  const row = page.locator(`tr[data-testid="credential-row"][data-credential-id="${keyId}"][data-state="${state}"]`);
  await row.waitFor({ state: 'visible' });
  return row;
}

/** Signs out with the button on keys.html. */
async function signOutInBrowser(person: Person): Promise<void> {
  const { page } = person;
  if (new URL(page.url()).pathname !== '/keys.html') await open(page, '/keys.html', '/api/me');
  // Wait until the page has loaded the keys too, so no request of the page is in flight.
  await page.locator('#keys').waitFor({ state: 'visible' });
  await page.locator('#signout-button').waitFor({ state: 'visible' });
  const res = page.waitForResponse(isApi('/api/signout'));
  await page.locator('#signout-button').click();
  assert.equal((await res).status(), 204);
  await page.locator('#signed-out').waitFor({ state: 'visible' });
}

/** GET /api/me from inside the page, with the browser's own cookies. */
async function meStatus(page: Page): Promise<number> {
  return page.evaluate(async () => (await fetch('/api/me', { credentials: 'same-origin' })).status);
}

async function screenshot(page: Page | undefined, name: string): Promise<void> {
  if (!page || page.isClosed()) return;
  const file = path.join(os.tmpdir(), `e2e-lifecycle-${name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}-${Date.now()}.png`);
  try {
    await page.screenshot({ path: file, fullPage: true });
    console.error(`screenshot of the failed step: ${file}`);
  } catch {
    /* the page may be gone; the assertion error is what matters */
  }
}

// --------------------------------------------------------------------------------- API helpers

interface KeyView {
  id: string;
  state: string;
  stateReason: string | null;
}

/** The helpdesk's view of one key of an employee. */
async function keyAsHelpdesk(admin: ApiClient, identityId: string, keyId: string): Promise<KeyView> {
  const res = await admin.get(`/api/helpdesk/identities/${identityId}/credentials`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const key = field<KeyView[]>(res.body, 'credentials').find((c) => c.id === keyId);
  assert.ok(key, `key ${keyId} not listed for ${identityId}`);
  return key;
}

function assertProblem(res: ApiResponse, status: number, code?: string): void {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
  if (code) assert.equal(res.code, code, JSON.stringify(res.body));
}

// ---------------------------------------------------------------------------------- the story

describe('NSIS 3.2 life cycle of a security key in a real browser', () => {
  let gw: TestGateway;
  let browser: Browser;
  let admin: ApiClient;
  let adminEmail: string;
  const people: Person[] = [];
  let current: Person | undefined;
  let failed: string | undefined;

  // Employee 1 (steps 1-7) and employee 2 (step 8).
  const anna = { name: 'Anna Andersen', email: 'anna.andersen@demo.example', identityId: '', keyId: '', link: '' };
  const bo = { name: 'Bo Berg', email: 'bo.berg@demo.example', identityId: '', keyId: '' };
  /** Every refusal text the sign-in page showed, to prove they are one and the same. */
  const refusalTexts: string[] = [];

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
        await screenshot(current?.page, name);
        throw err;
      }
    });

  const signInRefused = async (person: Person, email: string | undefined): Promise<void> => {
    const out = await signInInBrowser(person, email);
    assert.equal(out.status, 401);
    assert.equal(out.code, 'SIGNIN_FAILED');
    assert.match(out.error, /^Sign-in failed\./);
    // Generic: the page never tells which state the key is in or why it was refused.
    assert.doesNotMatch(out.error, /issued|suspend|revoke|lost|clone|cop(y|ied)|counter|expired|activation/i);
    assert.equal(await meStatus(person.page), 401, 'a refused sign-in must not start a session');
    refusalTexts.push(out.error);
  };

  before(async () => {
    const built = path.join(repoRoot, 'client', 'dist', 'index.html');
    assert.ok(fs.existsSync(built), `${built} is missing: build the client first (npx vite build --config client/vite.config.ts)`);
    gw = await startTestGateway({ withClient: true });
    browser = await launchChromium();
    const a = await activeAdmin(gw);
    admin = a.client;
    adminEmail = a.email;
  });

  after(async () => {
    for (const p of people) await p.context.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await gw?.close();
  });

  step('NSIS 3.1.2, 3.2.2: the administrator binds the employee and issues a one-time enrolment link', async () => {
    const created = await admin.post('/api/admin/identities', {
      name: anna.name,
      email: anna.email,
      ial: 'substantial',
      proofingMethod: 'ID document checked in person by HR',
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    anna.identityId = field<string>(created.body, 'identity', 'id');
    const issued = await admin.post(`/api/admin/identities/${anna.identityId}/enrolments`, {});
    assert.equal(issued.status, 201, JSON.stringify(issued.body));
    // The link goes by mail to Anna's address, and she opens it from there.
    anna.link = await gw.latestEnrolmentLink(anna.email);
    assert.equal(anna.link.startsWith(`${gw.origin}/enrol.html#token=`), true, anna.link);
  });

  step('NSIS 3.2.2: a key enrolled in the browser starts issued, and an issued key cannot sign in', async () => {
    const person = await newPerson(browser, gw.origin);
    people.push(person);
    current = person;
    const { page } = person;

    anna.keyId = await enrolInBrowser(person, anna.link, 'Anna’s blue key');
    assert.equal(await text(page, '#status'), 'Your security key is registered. It is not active yet.');
    assert.match(await text(page, '#enrol-done-heading'), /not active yet/);
    assert.equal(await text(page, '#registered-label'), 'Anna’s blue key');
    // The token is gone from the address bar once read (one-time link).
    assert.equal(new URL(page.url()).hash, '');

    const stored = (await read(gw.runtime.store, (tx) => tx.credentials.get(anna.keyId)));
    assert.equal(stored?.state, 'issued');
    // Issue 6 / NSIS 3.2.1: Chromium's virtual authenticator (packed attestation, a self-signed test
    // batch certificate, AAGUID 01020304-…) is not trusted as High; with user verification it is Substantial.
    assert.equal(stored?.aaguid, '01020304-0506-0708-0102-030405060708');
    assert.equal(stored?.attestationFormat, 'packed');
    assert.equal(stored?.attestationVerified, false);
    assert.equal(stored?.aal, 'substantial');
    assert.equal(stored?.identityId, anna.identityId);
    assert.equal((await keyAsHelpdesk(admin, anna.identityId, anna.keyId)).state, 'issued');
    // The link came by mail to her address, and the activation code followed it at once.
    const mails = await gw.mailsTo(anna.email);
    assert.deepEqual(mails.map((m) => m.kind), ['enrolment-link', 'activation-code']);

    // Only possession, no code: the issued key is refused at sign-in.
    await signInRefused(person, anna.email);
    assert.equal((await read(gw.runtime.store, (tx) => tx.credentials.get(anna.keyId)))?.state, 'issued');
  });

  step('NSIS 3.2.2: the key becomes active only with possession plus the second-channel code', async () => {
    const person = people[0];
    assert.ok(person);
    const { page } = person;
    const code = await gw.latestCode(anna.email);

    // Possession without the right code is not enough.
    const wrong = code === '00000000' ? '11111111' : '00000000';
    const refused = await activateInBrowser(person, anna.email, wrong);
    assert.equal(refused.status, 400);
    assert.equal(refused.code, 'ACTIVATION_CODE_INVALID');
    assert.match(await errorShown(page), /activation code is not correct/i);
    assert.equal(await page.locator('#code').getAttribute('aria-invalid'), 'true');
    assert.equal((await read(gw.runtime.store, (tx) => tx.credentials.get(anna.keyId)))?.state, 'issued');

    // Possession plus the code from the mail activates and signs in.
    const ok = await activateInBrowser(person, anna.email, code);
    assert.equal(ok.status, 200);
    assert.equal(await text(page, '#status'), 'Your security key is active and you are signed in.');
    assert.equal(await text(page, '#activated-name'), anna.name);
    assert.equal((await read(gw.runtime.store, (tx) => tx.credentials.get(anna.keyId)))?.state, 'active');

    const row = await keyRowInBrowser(person, anna.keyId, 'active');
    assert.equal(await row.getAttribute('data-current'), 'true');
    assert.equal(await text(page, '#identity-email'), anna.email);
    assert.equal(await page.locator('tr[data-testid="credential-row"]').count(), 1);
  });

  step('NSIS 3.2.3 (Low) 1: reporting the key lost on the keys page suspends it at once and ends the session', async () => {
    const person = people[0];
    assert.ok(person);
    const { page } = person;
    const row = await keyRowInBrowser(person, anna.keyId, 'active');
    await row.locator('[data-testid="report-lost-button"]').click();
    const dialog = page.locator('dialog#report-lost-dialog');
    await dialog.waitFor({ state: 'visible' });
    assert.equal(await text(page, '#report-lost-label'), 'Anna’s blue key');
    assert.equal(await page.locator('#report-lost-current-warning').isVisible(), true);
    await page.locator('#report-lost-note').fill('Left it on the train');
    const reported = page.waitForResponse(isApi(`/api/me/credentials/${anna.keyId}/report-lost`));
    await page.locator('#report-lost-confirm').click();
    assert.equal((await reported).status(), 200);
    await dialog.waitFor({ state: 'hidden' });
    await page.locator('#signed-out').waitFor({ state: 'visible' });
    assert.match(await text(page, '#signed-out-message'), /reported lost and suspended.*you have been signed out/s);

    const stored = (await read(gw.runtime.store, (tx) => tx.credentials.get(anna.keyId)));
    assert.equal(stored?.state, 'suspended');
    assert.equal(stored?.stateReason, 'lost');
    // The session tied to the key ended with it.
    assert.equal(await meStatus(page), 401);
    await open(page, '/keys.html', '/api/me');
    await page.locator('#signed-out').waitFor({ state: 'visible' });
    assert.equal(await page.locator('#account').isHidden(), true);
    // The holder is told (NSIS 3.2.3: the holder learns of every change to the key).
    const kinds = (await gw.mailsTo(anna.email)).map((m) => m.kind);
    assert.equal(kinds.at(-1), 'suspend-notice');
  });

  step('NSIS 3.2.3 (Low) 1: a suspended key is refused at sign-in with a generic message', async () => {
    const person = people[0];
    assert.ok(person);
    await signInRefused(person, anna.email);
    await signInRefused(person, undefined);
    assert.equal((await read(gw.runtime.store, (tx) => tx.credentials.get(anna.keyId)))?.state, 'suspended');
  });

  step('NSIS 3.2.3 (Low) 3: the helpdesk starts a reactivation; possession plus a fresh code makes the key active again', async () => {
    const person = people[0];
    assert.ok(person);
    const { page } = person;
    const oldCode = await gw.latestCode(anna.email);
    const res = await admin.post(`/api/helpdesk/credentials/${anna.keyId}/reactivate`, { reason: 'found' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    // Still suspended until the holder proves possession and presents the new code.
    assert.equal(field(res.body, 'credential', 'state'), 'suspended');
    const mails = await gw.mailsTo(anna.email);
    assert.equal(mails.at(-1)?.kind, 'reactivation-code');
    const code = await gw.latestCode(anna.email);
    assert.notEqual(code, oldCode);
    // The code goes to the holder only; the helpdesk's answer never carries it.
    assert.equal(JSON.stringify(res.body).includes(code), false);

    const ok = await activateInBrowser(person, anna.email, code);
    assert.equal(ok.status, 200);
    assert.equal(await text(page, '#status'), 'Your security key is active and you are signed in.');
    const stored = (await read(gw.runtime.store, (tx) => tx.credentials.get(anna.keyId)));
    assert.equal(stored?.state, 'active');
    assert.equal((await keyAsHelpdesk(admin, anna.identityId, anna.keyId)).state, 'active');
    await keyRowInBrowser(person, anna.keyId, 'active');

    // An ordinary sign-in works again.
    await signOutInBrowser(person);
    const out = await signInInBrowser(person, anna.email);
    assert.equal(out.status, 200);
    await keyRowInBrowser(person, anna.keyId, 'active');
    assert.equal(await meStatus(page), 200);
  });

  step('NSIS 3.2.3 (Low) 4: the helpdesk revokes the key; the holder gets a receipt; sign-in and reactivation are refused', async () => {
    const person = people[0];
    assert.ok(person);
    const res = await admin.post(`/api/helpdesk/credentials/${anna.keyId}/revoke`, { reason: 'lost' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(field(res.body, 'credential', 'state'), 'revoked');
    assert.equal((await read(gw.runtime.store, (tx) => tx.credentials.get(anna.keyId)))?.state, 'revoked');

    const receipt = (await gw.mailsTo(anna.email)).find((m) => m.kind === 'revocation-receipt');
    assert.ok(receipt, 'the holder must receive a revocation receipt');
    assert.match(receipt.text, /receipt for the revocation/);
    assert.match(receipt.text, new RegExp(`Key id:\\s+${anna.keyId}`));
    assert.match(receipt.text, /Receipt:\s+audit #\d+ [0-9a-f]{16}/);

    // The session the browser had with the key ended with the revocation.
    assert.equal(await meStatus(person.page), 401);
    // A revoked key is not even offered for a named sign-in, so present it as a discoverable key.
    await signInRefused(person, undefined);

    const again = await admin.post(`/api/helpdesk/credentials/${anna.keyId}/reactivate`, { reason: 'found' });
    assertProblem(again, 409, 'LIFECYCLE_TRANSITION_REFUSED');
    assert.equal((await read(gw.runtime.store, (tx) => tx.credentials.get(anna.keyId)))?.state, 'revoked');
  });

  step('NSIS 3.2.3 (Low) 4: a cloned key (counter went backwards) is suspended on the issuer’s initiative and can never be reactivated', async () => {
    // A second employee, in a fresh browser profile with its own authenticator.
    const created = await admin.post('/api/admin/identities', {
      name: bo.name,
      email: bo.email,
      ial: 'substantial',
      proofingMethod: 'ID document checked in person by HR',
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    bo.identityId = field<string>(created.body, 'identity', 'id');
    const issued = await admin.post(`/api/admin/identities/${bo.identityId}/enrolments`, {});
    assert.equal(issued.status, 201, JSON.stringify(issued.body));

    const person = await newPerson(browser, gw.origin);
    people.push(person);
    current = person;
    const { cdp } = person;
    bo.keyId = await enrolInBrowser(person, await gw.latestEnrolmentLink(bo.email), 'Bo’s key');
    const act = await activateInBrowser(person, bo.email, await gw.latestCode(bo.email));
    assert.equal(act.status, 200);
    await keyRowInBrowser(person, bo.keyId, 'active');

    // The attacker's copy: the key's private key and counter as they are now.
    const exported = await cdp.send('WebAuthn.getCredentials', { authenticatorId: person.authenticatorId });
    assert.equal(exported.credentials.length, 1);
    const original: VirtualCredential | undefined = exported.credentials[0];
    assert.ok(original);
    // CDP speaks base64, WebAuthn JSON (and the gateway) base64url.
    assert.equal(Buffer.from(original.credentialId, 'base64').toString('base64url'), (await read(gw.runtime.store, (tx) => tx.credentials.get(bo.keyId)))?.credentialId);

    // The genuine key keeps being used, so the gateway's stored counter rises past the copy's.
    for (let i = 0; i < 3; i++) {
      await signOutInBrowser(person);
      const out = await signInInBrowser(person, bo.email);
      assert.equal(out.status, 200, `genuine sign-in ${i + 1}`);
    }
    await signOutInBrowser(person);
    const storedCount = (await read(gw.runtime.store, (tx) => tx.credentials.get(bo.keyId)))?.signCount ?? 0;
    assert.ok(storedCount > original.signCount, `stored counter ${storedCount} must exceed the copy's ${original.signCount}`);

    // The copy on another authenticator, with the lower counter.
    await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId: person.authenticatorId });
    person.authenticatorId = await addAuthenticator(cdp);
    const clone: VirtualCredential = {
      credentialId: original.credentialId,
      isResidentCredential: original.isResidentCredential,
      privateKey: original.privateKey,
      signCount: original.signCount,
      ...(original.rpId !== undefined ? { rpId: original.rpId } : {}),
      ...(original.userHandle !== undefined ? { userHandle: original.userHandle } : {}),
    };
    await cdp.send('WebAuthn.addCredential', { authenticatorId: person.authenticatorId, credential: clone });
    const mailsBefore = (await gw.mailsTo(adminEmail)).length;

    await signInRefused(person, bo.email);

    const stored = (await read(gw.runtime.store, (tx) => tx.credentials.get(bo.keyId)));
    assert.equal(stored?.state, 'suspended');
    assert.equal(stored?.stateReason, 'suspected-clone');
    assert.equal(stored?.signCount, storedCount, 'the copy’s counter must not be recorded');
    const view = await keyAsHelpdesk(admin, bo.identityId, bo.keyId);
    assert.equal(view.state, 'suspended');
    assert.equal(view.stateReason, 'suspected-clone');

    // The helpdesk is alerted, the owner told.
    const alerts = (await gw.mailsTo(adminEmail)).slice(mailsBefore).filter((m) => m.kind === 'clone-alert');
    assert.equal(alerts.length, 1);
    assert.match(alerts[0]?.text ?? '', new RegExp(`${bo.name} \\(${bo.email.replace(/\./g, '\\.')}\\)`));
    assert.match(alerts[0]?.text ?? '', new RegExp(bo.keyId));
    const notice = (await gw.mailsTo(bo.email)).at(-1);
    assert.equal(notice?.kind, 'suspend-notice');
    assert.match(notice?.text ?? '', /^  Reason:   Suspected copy \(clone\) of the key$/m);
    assert.match(notice?.text ?? '', /automatic protection/);

    // A key suspected cloned can only be revoked, never reactivated.
    const reactivate = await admin.post(`/api/helpdesk/credentials/${bo.keyId}/reactivate`, { reason: 'found' });
    assertProblem(reactivate, 409, 'LIFECYCLE_REACTIVATION_FORBIDDEN');
    assert.equal((await read(gw.runtime.store, (tx) => tx.codes.latestOpen(bo.keyId))), undefined, 'no reactivation code may be issued');
    assert.equal((await gw.mailsTo(bo.email)).at(-1)?.kind, 'suspend-notice');
  });

  step('NSIS 3.3.1: every refused sign-in looked the same in the page, whatever the key’s state', async () => {
    // issued, suspended (x2), revoked, suspected clone
    assert.equal(refusalTexts.length, 5);
    assert.equal(new Set(refusalTexts).size, 1, JSON.stringify(refusalTexts));
  });
});
