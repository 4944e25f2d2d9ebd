/**
 * Every page is usable on a phone, in Danish and in English: at 390 CSS pixels wide (an iPhone
 * 12-15 in portrait) no page scrolls sideways, and every button, link, field and table cell lies
 * inside the viewport, so nothing ("Report lost" on My keys, "Suspend" on the helpdesk) hides
 * off-screen, also with the longer Danish words.
 *
 * A real gateway (SQLite, SoftHSM, file outbox) serves the built client to Debian's Chromium. The
 * people and keys are made through the API with the software authenticator; the browser carries
 * their session cookies. A screenshot of every page at phone and desktop width is written to
 * $PHONE_SCREENSHOTS (or test-results/phone/<language>/) for a person to look at.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { text, type Language } from '../../i18n/index.js';
import { ApiClient, field } from '../support/apiClient.js';
import { AUTHENTICATOR_OPTIONS, launchChromium } from '../support/browser.js';
import { activate, activeAdmin, activeEmployee, enrol } from '../support/journeys.js';
import { SoftAuthenticator } from '../support/softAuthenticator.js';
import { repoRoot, startTestGateway, type TestGateway } from '../support/testGateway.js';

const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 900 };
const UI_TIMEOUT = 20_000;
const SHOTS = process.env['PHONE_SCREENSHOTS'] ?? path.join(repoRoot, 'test-results', 'phone');
const LANGUAGES: ReadonlyArray<{ language: Language; locale: string }> = [
  { language: 'en', locale: 'en-GB' },
  { language: 'da', locale: 'da-DK' },
];

interface Layout {
  /** How many CSS pixels the page is wider than the viewport (0 when it fits). */
  overflow: number;
  /** Visible controls and table cells that lie partly outside the viewport. */
  outside: string[];
  /** How many elements were checked (so a page that rendered nothing cannot pass). */
  checked: number;
}

/** Measures the page as laid out now: sideways overflow, and controls/cells outside the viewport. */
function measure(page: Page): Promise<Layout> {
  return page.evaluate(() => {
    const vw = document.documentElement.clientWidth;
    const selector = 'button, a[href], input:not([type="hidden"]), select, textarea, summary, td, th, dialog[open]';
    const outside: string[] = [];
    let checked = 0;
    for (const el of Array.from(document.querySelectorAll<HTMLElement>(selector))) {
      // Deliberately off-screen until focused, or only for screen readers.
      if (el.closest('.skip-link, .visually-hidden')) continue;
      if (!el.checkVisibility()) continue;
      const r = el.getBoundingClientRect();
      if (r.width <= 1 || r.height <= 1) continue;
      checked++;
      if (r.left < -1 || r.right > vw + 1) {
        const what = `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${el.dataset['testid'] ? `[${el.dataset['testid']}]` : ''}`;
        outside.push(`${what} "${(el.textContent ?? '').trim().slice(0, 40)}" at ${Math.round(r.left)}..${Math.round(r.right)}`);
      }
    }
    return { overflow: document.documentElement.scrollWidth - vw, outside, checked };
  });
}

async function shoot(page: Page, name: string): Promise<void> {
  // A modal dialog sits in the viewport: photograph what the person sees then.
  const modal = (await page.locator('dialog[open]').count()) > 0;
  const file = path.join(SHOTS, await page.evaluate('document.documentElement.lang'), `${name}.png`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await page.screenshot({ path: file, fullPage: !modal });
}

/** Checks the page at phone width (and photographs it at both widths). */
async function assertFitsPhone(page: Page, name: string): Promise<void> {
  await page.setViewportSize(DESKTOP);
  await shoot(page, `${name}-desktop`);
  await page.setViewportSize(PHONE);
  await shoot(page, `${name}-390`);
  const layout = await measure(page);
  assert.ok(layout.checked > 0, `${name}: nothing was laid out`);
  assert.equal(layout.overflow, 0, `${name}: the page is ${layout.overflow}px wider than a 390px phone`);
  assert.deepEqual(layout.outside, [], `${name}: controls or cells outside a 390px phone screen`);
}

describe('every page usable on a 390px phone, in Danish and in English', { timeout: 600_000 }, () => {
  let gw: TestGateway;
  let browser: Browser;
  let admin: Awaited<ReturnType<typeof activeAdmin>>;
  let employee: Awaited<ReturnType<typeof activeEmployee>>;
  const contexts: BrowserContext[] = [];

  /** A phone-sized browser profile preferring `locale`, signed in with `client`'s session when given. */
  async function phone(locale: string, client?: ApiClient): Promise<Page> {
    const context = await browser.newContext({ baseURL: gw.origin, viewport: PHONE, locale });
    context.setDefaultTimeout(UI_TIMEOUT);
    contexts.push(context);
    const session = client?.cookie('gw_session');
    if (session) await context.addCookies([{ name: 'gw_session', value: session, url: gw.origin }]);
    return context.newPage();
  }

  /** One more key for the employee, through a fresh enrolment link; activated unless told not to. */
  async function addKey(label: string, activated = true): Promise<string> {
    const issued = await admin.client.post(`/api/admin/identities/${employee.identityId}/enrolments`, {});
    assert.equal(issued.status, 201, JSON.stringify(issued.body));
    const client = new ApiClient(gw.origin);
    const auth = new SoftAuthenticator();
    const keyId = await enrol(gw, client, auth, await gw.latestEnrolmentLink(employee.email), label);
    if (activated) assert.equal((await activate(gw, client, auth, employee.email)).status, 200);
    return keyId;
  }

  before(async () => {
    gw = await startTestGateway({ withClient: true });
    browser = await launchChromium();
    admin = await activeAdmin(gw);
    employee = await activeEmployee(gw, admin.client, 'karoline.kristiansen-oestergaard@demo.example', 'Karoline Kristiansen-Østergaard');
    await addKey('Spare key from the top drawer of my desk');
    const lost = await addKey('Key on the blue lanyard');
    await addKey('Key for the laboratory, not yet activated', false);
    const revoked = await addKey('Old key');
    assert.equal((await employee.client.post(`/api/me/credentials/${lost}/report-lost`, { note: 'Lost on the train' })).status, 200);
    const rev = await admin.client.post(`/api/helpdesk/credentials/${revoked}/revoke`, { reason: 'lost' });
    assert.equal(rev.status, 200, JSON.stringify(rev.body));
    console.error(`phone screenshots: ${SHOTS}`);
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await gw?.close();
  });

  for (const { language, locale } of LANGUAGES) {
    describe(language === 'da' ? 'in Danish' : 'in English', () => {
      it('the sign-in page, signed out and signed in', async () => {
        const page = await phone(locale);
        await page.goto('/');
        await page.locator('#signin-button').waitFor({ state: 'visible' });
        assert.equal(await page.getAttribute('html', 'lang'), language, 'the page in the language the phone prefers');
        await assertFitsPhone(page, 'signin');
        const cdp = await page.context().newCDPSession(page);
        await cdp.send('WebAuthn.enable');
        await cdp.send('WebAuthn.addVirtualAuthenticator', { options: AUTHENTICATOR_OPTIONS });
        await page.locator('#email').fill('someone.with.a.long.address@demo.example');
        await page.locator('#signin-button').click();
        await page.waitForFunction(() => (document.getElementById('error')?.textContent ?? '') !== '');
        await assertFitsPhone(page, 'signin-refused');
        const signedIn = await phone(locale, employee.client);
        await signedIn.goto('/');
        await signedIn.locator('#signed-in').waitFor({ state: 'visible' });
        await assertFitsPhone(signedIn, 'signin-signed-in');
      });

      it('the activation page, also with the words shown when no key answered', async () => {
        const page = await phone(locale);
        await page.goto('/activate.html');
        await page.locator('#activate-button').waitFor({ state: 'visible' });
        await assertFitsPhone(page, 'activate');
        // A key that holds nothing for this address: the page explains, and the words fit too.
        const cdp = await page.context().newCDPSession(page);
        await cdp.send('WebAuthn.enable');
        await cdp.send('WebAuthn.addVirtualAuthenticator', { options: AUTHENTICATOR_OPTIONS });
        await page.locator('#email').fill('someone.with.a.long.address@demo.example');
        await page.locator('#code').fill('1234 5678');
        await page.locator('#activate-button').click();
        await page.waitForFunction(() => (document.getElementById('error')?.textContent ?? '') !== '');
        await assertFitsPhone(page, 'activate-refused');
      });

      it('the enrolment page', async () => {
        const issued = await admin.client.post(`/api/admin/identities/${employee.identityId}/enrolments`, {});
        assert.equal(issued.status, 201);
        const page = await phone(locale);
        await page.goto(await gw.latestEnrolmentLink(employee.email));
        await page.locator('#register-button').waitFor({ state: 'visible' });
        await assertFitsPhone(page, 'enrol');
      });

      it('My keys: every key row, with "Report lost" and "I found it" on screen', async () => {
        const page = await phone(locale, employee.client);
        await page.goto('/keys.html');
        await page.locator('[data-testid="credential-row"]').nth(4).waitFor({ state: 'visible' });
        await page.locator('[data-testid="report-lost-button"]').first().waitFor({ state: 'visible' });
        await page.locator('[data-testid="found-button"]').waitFor({ state: 'visible' });
        // Revoked keys are listed for the record, not counted as keys the person has.
        const counted = text(language, 'keys.countAndGone', { have: text(language, 'keys.count.other', { count: 4 }), gone: text(language, 'keys.gone.one') });
        assert.equal((await page.locator('#status').textContent())?.trim(), counted);
        await assertFitsPhone(page, 'keys');
        await page.locator('[data-testid="report-lost-button"]').first().click();
        await page.locator('#report-lost-dialog').waitFor({ state: 'visible' });
        await assertFitsPhone(page, 'keys-report-lost-dialog');
      });

      it('the helpdesk page with a person open', async () => {
        const page = await phone(locale, admin.client);
        await page.goto('/helpdesk.html');
        await page.locator('#console-content').waitFor({ state: 'visible' });
        await page.locator('#search-q').fill(employee.email);
        await page.locator('#search-button').click();
        await page.locator('[data-testid="identity-row"]').first().waitFor({ state: 'visible' });
        assert.equal((await page.locator('[data-testid="identity-keys"]').first().textContent())?.trim(), text(language, 'console.activeOf', { active: 2, total: 4 }), 'the revoked key is not counted');
        await assertFitsPhone(page, 'helpdesk-search');
        await page.locator('[data-testid="open-identity-button"]').first().click();
        await page.locator('#person').waitFor({ state: 'visible' });
        await page.locator('[data-testid="hd-credential-row"]').nth(4).waitFor({ state: 'visible' });
        await assertFitsPhone(page, 'helpdesk-person');
        await page.locator('[data-testid="hd-credential-row"][data-state="suspended"] [data-testid="revoke-button"]').click();
        await page.locator('#action-dialog').waitFor({ state: 'visible' });
        await assertFitsPhone(page, 'helpdesk-revoke-dialog');
      });

      it('the administration page with a person open', async () => {
        const page = await phone(locale, admin.client);
        await page.goto('/admin.html');
        await page.locator('#console-content').waitFor({ state: 'visible' });
        await assertFitsPhone(page, 'admin');
        await page.locator('#search-q').fill(employee.email);
        await page.locator('#search-button').click();
        await page.locator('[data-testid="open-identity-button"]').first().click();
        await page.locator('#person').waitFor({ state: 'visible' });
        await assertFitsPhone(page, 'admin-person');
      });

      it('the security team page with the fleet shown', async () => {
        const page = await phone(locale, admin.client);
        await page.goto('/security.html');
        await page.locator('#officer-content').waitFor({ state: 'visible' });
        await page.locator('[data-testid="signing-key-row"], #keys-body tr').first().waitFor({ state: 'visible' });
        await page.locator('#fleet-refresh').click();
        await page.locator('#fleet-table').waitFor({ state: 'visible' });
        await assertFitsPhone(page, 'security');
      });
    });
  }
});
