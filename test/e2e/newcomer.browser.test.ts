/**
 * What a new user meets, in a real browser (issue 13, "What a new user hits"): the words when a
 * key does not answer, a header that follows the session, one wording per reason, one date format
 * per page language, and buttons that say why they cannot be used.
 *
 * A real gateway (SQLite, SoftHSM, file outbox) with a frozen clock serves the built client to
 * Debian's Chromium, whose virtual authenticators stand in for security keys. The browsers run in
 * Europe/Copenhagen. The administrator's key is made with the software authenticator and then
 * moved into his browser's authenticator (it is never used outside the browser again, so its
 * signature counter only rises). The steps are ordered subtests of one story; after a failed step
 * a screenshot is saved under /tmp and the later steps are skipped.
 */
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, CDPSession, Page, Response } from 'playwright-core';
import { REASON_LABELS } from '../../i18n/index.js';
import { FixedClock } from '../../server/clock.js';
import { field } from '../support/apiClient.js';
import { AUTHENTICATOR_OPTIONS, launchChromium } from '../support/browser.js';
import { activeAdmin } from '../support/journeys.js';
import { startTestGateway, type TestGateway } from '../support/testGateway.js';
import { read } from '../support/storeReads.js';

const STEP_TIMEOUT = 90_000;
const UI_TIMEOUT = 20_000;
const NOW = '2026-01-15T12:00:00.000Z';
/** NOW as the pages write it for a reader in Copenhagen (en: 13:00 CET). */
const NOW_ON_PAGE = '15 Jan 2026, 13:00';

interface Person {
  context: BrowserContext;
  page: Page;
  cdp: CDPSession;
  authenticatorId: string;
}

const isApi = (p: string, method = 'GET') => (r: Response) => new URL(r.url()).pathname === p && r.request().method() === method;

async function text(page: Page, selector: string): Promise<string> {
  return ((await page.locator(selector).first().textContent()) ?? '').trim();
}

/** Waits until p#error has text and returns it. */
async function errorShown(page: Page): Promise<string> {
  await page.waitForFunction(() => (document.getElementById('error')?.textContent ?? '').trim() !== '', undefined, { timeout: UI_TIMEOUT });
  return text(page, '#error');
}

/** Which navigation links the header shows: the data-testid of each visible one, in order. */
async function headerLinks(page: Page): Promise<string[]> {
  await page.locator('#site-header[data-session]').waitFor({ state: 'attached' });
  return page.locator('#site-header nav a:visible').evaluateAll((as) => as.map((a) => a.getAttribute('data-testid') ?? ''));
}

async function waitForHeader(page: Page, session: 'signed-in' | 'signed-out'): Promise<string[]> {
  await page.locator(`#site-header[data-session="${session}"]`).waitFor({ state: 'attached' });
  return headerLinks(page);
}

describe('what a new user meets', { timeout: 600_000 }, () => {
  const clock = new FixedClock(NOW);
  let gw: TestGateway;
  let browser: Browser;
  let admin: Awaited<ReturnType<typeof activeAdmin>>;
  let nina: Person;
  let boss: Person;
  let ninaId = '';
  let ninaKey = '';
  let ninaCode = '';
  const NINA = 'nina.nielsen@demo.example';
  let failed = false;

  async function newPerson(): Promise<Person> {
    const context = await browser.newContext({ baseURL: gw.origin, timezoneId: 'Europe/Copenhagen', locale: 'en-GB' });
    context.setDefaultTimeout(UI_TIMEOUT);
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', { options: AUTHENTICATOR_OPTIONS });
    return { context, page, cdp, authenticatorId };
  }

  function step(name: string, fn: () => Promise<void>): void {
    it(name, { timeout: STEP_TIMEOUT }, async (t) => {
      if (failed) return t.skip('an earlier step failed');
      try {
        await fn();
      } catch (err) {
        failed = true;
        for (const [tag, p] of [['nina', nina], ['admin', boss]] as const) {
          if (!p || p.page.isClosed()) continue;
          const file = path.join(os.tmpdir(), `e2e-newcomer-${tag}-${Date.now()}.png`);
          await p.page.screenshot({ path: file, fullPage: true }).catch(() => undefined);
          console.error(`screenshot: ${file}`);
        }
        throw err;
      }
    });
  }

  /**
   * Activation on activate.html; resolves with the error shown. `keyAnswers`: whether Nina's key is
   * among the ids offered (her own address), so that a verify is sent; otherwise none is.
   */
  async function activationRefused(email: string, code: string, keyAnswers = false): Promise<string> {
    const { page } = nina;
    const verifies: string[] = [];
    page.on('request', (r) => {
      if (new URL(r.url()).pathname === '/api/activation/verify') verifies.push(r.url());
    });
    await page.goto('/activate.html');
    await page.locator('#email').fill(email);
    await page.locator('#code').fill(code);
    const options = page.waitForResponse(isApi('/api/activation/options', 'POST'));
    await page.locator('#activate-button').click();
    assert.equal((await options).status(), 200, 'the options never say whether the address exists');
    const error = await errorShown(page);
    if (keyAnswers) assert.equal(verifies.length, 1, 'her own key answered, so the server decided');
    else assert.deepEqual(verifies, [], 'no key answered, so nothing was sent to verify');
    return error;
  }

  async function signInRefused(email: string): Promise<string> {
    const { page } = nina;
    await page.goto('/');
    await page.locator('#signin-button').waitFor({ state: 'visible' });
    await page.locator('#email').fill(email);
    const options = page.waitForResponse(isApi('/api/signin/options', 'POST'));
    await page.locator('#signin-button').click();
    assert.equal((await options).status(), 200);
    return errorShown(page);
  }

  async function signInHere(p: Person, email: string): Promise<void> {
    await p.page.goto('/');
    await p.page.locator('#signin-button').waitFor({ state: 'visible' });
    await p.page.locator('#email').fill(email);
    const verify = p.page.waitForResponse(isApi('/api/signin/verify', 'POST'));
    await p.page.locator('#signin-button').click();
    assert.equal((await verify).status(), 200);
    await p.page.waitForURL('**/keys.html');
  }

  before(async () => {
    gw = await startTestGateway({ withClient: true, clock });
    browser = await launchChromium();
    admin = await activeAdmin(gw);
    nina = await newPerson();
    boss = await newPerson();
  });

  after(async () => {
    await browser?.close();
    await gw?.close();
  });

  step('a new employee registers and activates her key in the browser; My keys gives dates in the one English format', async () => {
    const created = await admin.client.post('/api/admin/identities', { name: 'Nina Nielsen', email: NINA, ial: 'substantial', proofingMethod: 'ID document checked in person by HR' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    ninaId = field<string>(created.body, 'identity', 'id');
    // NSIS 3.2.2: the link goes to Nina's own address; she opens it from her mail.
    const issued = await admin.client.post(`/api/admin/identities/${ninaId}/enrolments`, {});
    assert.equal(issued.status, 201, JSON.stringify(issued.body));
    const { page } = nina;
    await page.goto(await gw.latestEnrolmentLink(NINA));
    await page.locator('#label').fill('Nina’s key');
    const enrolled = page.waitForResponse(isApi('/api/enrolment/verify', 'POST'));
    await page.locator('#register-button').click();
    ninaKey = field<string>(await (await enrolled).json(), 'credential', 'id');
    ninaCode = await gw.latestCode(NINA);
    await page.goto('/activate.html');
    await page.locator('#email').fill(NINA);
    await page.locator('#code').fill(ninaCode);
    await page.locator('#activate-button').click();
    await page.locator('#activate-done').waitFor({ state: 'visible' });
    // Activation signed her in: the header now shows no "Sign in".
    assert.deepEqual(await waitForHeader(page, 'signed-in'), ['nav-activate', 'nav-keys']);

    await page.goto('/keys.html');
    const row = page.locator(`tr[data-credential-id="${ninaKey}"][data-state="active"]`);
    await row.waitFor({ state: 'visible' });
    assert.equal(await text(page, `tr[data-credential-id="${ninaKey}"] [data-testid="credential-created"]`), NOW_ON_PAGE);
    assert.equal(await text(page, '#status'), 'You have 1 security key.');
  });

  step('a wrong email and an unknown email get the same plain words; a used code on her own key says it may be active already; none blames the key', async () => {
    const { page } = nina;
    await page.goto('/keys.html');
    await page.locator('#signout-button').click();
    await page.locator('#signed-out').waitFor({ state: 'visible' });

    const unknown = await activationRefused('nobody.here@demo.example', '12345678');
    const someoneElse = await activationRefused(gw.seed.admin.email, '12345678');
    // Issue 13, 8: the options for her own address list her (active) key, so it answers and the
    // server says what happened to that key, which only its holder can learn.
    const used = await activationRefused(NINA, ninaCode, true);
    for (const said of [unknown, someoneElse]) {
      assert.match(said, /^Nothing was activated\. /);
      assert.match(said, /email address/);
      assert.match(said, /if your key is already active, sign in instead/);
    }
    for (const said of [unknown, someoneElse, used]) {
      assert.doesNotMatch(said, /touch your key when it blinks|security key was not used|not registered here\. Try again/i);
    }
    assert.equal(someoneElse, unknown, 'an existing address reads exactly like an unknown one');
    assert.match(used, /not waiting for activation: it may be active already \(then sign in\)/);

    const unknownSignIn = await signInRefused('nobody.here@demo.example');
    const otherSignIn = await signInRefused(gw.seed.admin.email);
    assert.match(unknownSignIn, /^You are not signed in\. /);
    assert.match(unknownSignIn, /Check the email address/);
    assert.equal(otherSignIn, unknownSignIn, 'an existing address reads exactly like an unknown one');
    assert.doesNotMatch(unknownSignIn, /touch your key when it blinks|security key was not used/i);
  });

  step('the header follows the session: no "Sign in" while signed in, no staff links after signing out', async () => {
    // The administrator's key moves into his browser (and stays there).
    const stored = (await read(gw.runtime.store, (tx) => tx.credentials.get(admin.keyId)));
    assert.ok(stored);
    const soft = admin.auth.exportCredential(stored.credentialId);
    const b64 = (v: string) => Buffer.from(v, 'base64url').toString('base64');
    await boss.cdp.send('WebAuthn.addCredential', {
      authenticatorId: boss.authenticatorId,
      credential: { credentialId: b64(soft.id), isResidentCredential: soft.discoverable, rpId: soft.rpId, privateKey: b64(soft.privateKeyPkcs8), userHandle: b64(soft.userHandle), signCount: soft.signCount },
    });
    const { page } = boss;
    await page.goto('/');
    assert.deepEqual(await waitForHeader(page, 'signed-out'), ['nav-signin', 'nav-activate', 'nav-keys']);
    await signInHere(boss, gw.seed.admin.email);
    const staff = ['nav-activate', 'nav-keys', 'nav-security', 'nav-helpdesk', 'nav-admin', 'nav-clients', 'nav-inbox'];
    assert.deepEqual(await waitForHeader(page, 'signed-in'), staff);
    await page.goto('/');
    await page.locator('#signed-in').waitFor({ state: 'visible' });
    assert.deepEqual(await waitForHeader(page, 'signed-in'), staff, 'the sign-in page does not offer "Sign in" to someone signed in');

    await page.goto('/keys.html');
    await page.locator('#keys').waitFor({ state: 'visible' });
    await page.locator('#signout-button').click();
    await page.locator('#signed-out').waitFor({ state: 'visible' });
    assert.deepEqual(await waitForHeader(page, 'signed-out'), ['nav-signin', 'nav-activate', 'nav-keys']);
    for (const url of ['/helpdesk.html', '/security.html', '/admin.html', '/approvals.html', '/activate.html']) {
      await page.goto(url);
      assert.deepEqual(await waitForHeader(page, 'signed-out'), ['nav-signin', 'nav-activate', 'nav-keys'], url);
    }

    // A session ended elsewhere: the next answer says so, and the header follows at once.
    await signInHere(boss, gw.seed.admin.email);
    await page.goto('/helpdesk.html');
    await page.locator('#console-content').waitFor({ state: 'visible' });
    assert.deepEqual(await waitForHeader(page, 'signed-in'), staff);
    assert.equal((await admin.client.post('/api/signout', { everywhere: true })).status, 204);
    await page.locator('#search-q').fill('Nina');
    await page.locator('#search-button').click();
    await page.locator('#signed-out').waitFor({ state: 'visible' });
    assert.deepEqual(await waitForHeader(page, 'signed-out'), ['nav-signin', 'nav-activate', 'nav-keys']);
  });

  step('NSIS 3.2.3 (Low) 4: revoking a key suspended as a suspected clone starts from that reason, in the same words as the receipt', async () => {
    const { page } = boss;
    await signInHere(boss, gw.seed.admin.email);
    await page.goto('/helpdesk.html');
    await page.locator('#console-content').waitFor({ state: 'visible' });
    await page.locator('#search-q').fill(NINA);
    await page.locator('#search-button').click();
    await page.locator(`tr[data-identity-id="${ninaId}"] [data-testid="open-identity-button"]`).click();
    const row = (state: string) => page.locator(`tr[data-testid="hd-credential-row"][data-credential-id="${ninaKey}"][data-state="${state}"]`);

    // Suspended as a suspected copy (the gateway does this itself when a counter goes back).
    await row('active').getByTestId('suspend-button').click();
    await page.locator('#action-dialog').waitFor({ state: 'visible' });
    assert.equal(await page.locator('#action-reason').inputValue(), '', 'a suspension has no reason chosen in advance');
    await page.locator('#action-reason').selectOption('suspected-clone');
    await page.locator('#action-confirm').click();
    await row('suspended').waitFor({ state: 'visible' });
    assert.equal(await text(page, `tr[data-credential-id="${ninaKey}"] [data-testid="hd-credential-reason"]`), `Reason: ${REASON_LABELS.en['suspected-clone']}`);

    await row('suspended').getByTestId('revoke-button').click();
    await page.locator('#action-dialog').waitFor({ state: 'visible' });
    assert.equal(await page.locator('#action-reason').inputValue(), 'suspected-clone');
    const options = await page.locator('#action-reason option').evaluateAll((os) => os.map((o) => [(o as HTMLOptionElement).value, (o.textContent ?? '').trim()]));
    assert.deepEqual(options.find(([v]) => v === 'damaged'), ['damaged', 'Damaged or broken']);
    for (const [value, label] of options) if (value) assert.equal(label, REASON_LABELS.en[value as keyof typeof REASON_LABELS.en], `one wording for ${value}`);
    const revoked = page.waitForResponse(isApi(`/api/helpdesk/credentials/${ninaKey}/revoke`, 'POST'));
    await page.locator('#action-confirm').click();
    assert.equal((await revoked).status(), 200);
    await row('revoked').waitFor({ state: 'visible' });
    assert.equal((await read(gw.runtime.store, (tx) => tx.credentials.get(ninaKey)))?.stateReason, 'suspected-clone');

    // The receipt uses the page's words, and the time in Copenhagen with the zone named.
    const receipt = (await gw.mailsTo(NINA)).filter((m) => m.kind === 'revocation-receipt').at(-1);
    assert.match(receipt?.text ?? '', new RegExp(`^  Reason: {3}${REASON_LABELS.en['suspected-clone'].replace(/[()]/g, '\\$&')}$`, 'm'));
    assert.match(receipt?.text ?? '', /^ {2}Time: {5}15 Jan 2026, 13:00 CET \(Europe\/Copenhagen\)$/m);
  });

  step('"Reload FIDO metadata" cannot be pressed without metadata, and the page says why', async () => {
    const { page } = boss;
    await page.goto('/security.html');
    await page.locator('#officer-content').waitFor({ state: 'visible' });
    const hint = page.getByTestId('metadata-reload-hint');
    await hint.waitFor({ state: 'visible' });
    assert.equal(await page.locator('#metadata-reload').isDisabled(), true);
    assert.equal(await page.locator('#metadata-reload').getAttribute('aria-describedby'), 'metadata-reload-hint');
    assert.match((await hint.textContent()) ?? '', /no FIDO metadata is configured.*GATEWAY_MDS_ROOT_FILE/s);
    const fleet = await page.evaluate(async () => (await fetch('/api/security/fleet')).json() as Promise<unknown>);
    assert.equal(field(fleet, 'metadataConfigured'), false);
  });
});
