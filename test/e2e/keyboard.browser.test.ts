/**
 * Usable with a keyboard (issue 16): every page starts with a skip link, the header and the
 * page's controls come in reading order with a visible focus ring, the dialogs keep the focus
 * inside while open and give it back to the button that opened them, and a whole action (report
 * a key lost; suspend a key at the helpdesk) can be done with the keyboard alone. The language
 * switch on every page is remembered (the gw_lang cookie), client pages and server pages alike,
 * and the enrolment page keeps its one-time link when the language is switched.
 *
 * A real gateway (SQLite, SoftHSM, file outbox) serves the built client to Debian's Chromium; the
 * people and keys are made through the API with the software authenticator.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { LANGUAGE_COOKIE, text, type Language } from '../../i18n/index.js';
import { ApiClient } from '../support/apiClient.js';
import { launchChromium } from '../support/browser.js';
import { activate, activeAdmin, activeEmployee, enrol } from '../support/journeys.js';
import { DESKTOP, photograph, seriousViolations } from '../support/pageChecks.js';
import { SoftAuthenticator } from '../support/softAuthenticator.js';
import { startTestGateway, type TestGateway } from '../support/testGateway.js';

const UI_TIMEOUT = 20_000;

interface Focused {
  tag: string;
  testid: string | null;
  id: string;
  text: string;
  /** The focus ring as drawn: outline style and width in px. */
  outline: string;
  outlineWidth: number;
  inDialog: boolean;
  onScreen: boolean;
}

/** What has the keyboard focus now, and how it is drawn. */
function focused(page: Page): Promise<Focused> {
  return page.evaluate(`(() => {
    const el = document.activeElement || document.body;
    const style = getComputedStyle(el);
    const r = el.getBoundingClientRect();
    return {
      tag: el.tagName.toLowerCase(),
      testid: el.getAttribute('data-testid'),
      id: el.id,
      text: (el.textContent || '').trim().slice(0, 60),
      outline: style.outlineStyle,
      outlineWidth: parseFloat(style.outlineWidth) || 0,
      inDialog: !!el.closest('dialog[open]'),
      onScreen: r.width > 0 && r.height > 0 && r.bottom > 0 && r.right > 0 && r.left < innerWidth,
    };
  })()`) as Promise<Focused>;
}

/** Presses Tab until `match` has the focus (at most `max` times); every stop must show a focus ring. */
async function tabTo(page: Page, match: (f: Focused) => boolean, max = 60): Promise<Focused[]> {
  const stops: Focused[] = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const f = await focused(page);
    stops.push(f);
    assert.ok(f.outline !== 'none' && f.outlineWidth >= 2, `a visible focus ring on <${f.tag} ${f.id || f.testid || ''}> "${f.text}" (${f.outline} ${f.outlineWidth}px)`);
    if (match(f)) return stops;
  }
  assert.fail(`not reached with ${max} presses of Tab; stops: ${stops.map((s) => s.testid ?? s.id ?? s.text).join(', ')}`);
}

describe('issue 16: keyboard use, dialogs, and the language switch remembered on every page', { timeout: 300_000 }, () => {
  let gw: TestGateway;
  let browser: Browser;
  let admin: Awaited<ReturnType<typeof activeAdmin>>;
  let employee: Awaited<ReturnType<typeof activeEmployee>>;
  const contexts: BrowserContext[] = [];

  async function open(language: Language, client?: ApiClient): Promise<Page> {
    const context = await browser.newContext({ baseURL: gw.origin, viewport: DESKTOP, locale: language === 'da' ? 'da-DK' : 'en-GB' });
    context.setDefaultTimeout(UI_TIMEOUT);
    contexts.push(context);
    const session = client?.cookie('gw_session');
    if (session) await context.addCookies([{ name: 'gw_session', value: session, url: gw.origin }]);
    return context.newPage();
  }

  async function cookieLanguage(page: Page): Promise<string | undefined> {
    return (await page.context().cookies()).find((c) => c.name === LANGUAGE_COOKIE)?.value;
  }

  before(async () => {
    gw = await startTestGateway({ withClient: true });
    browser = await launchChromium();
    admin = await activeAdmin(gw);
    employee = await activeEmployee(gw, admin.client, 'ida.iversen@demo.example', 'Ida Iversen');
    // A second key, so that reporting one lost does not leave Ida without a key.
    const issued = await admin.client.post(`/api/admin/identities/${employee.identityId}/enrolments`, {});
    assert.equal(issued.status, 201);
    const client = new ApiClient(gw.origin);
    const auth = new SoftAuthenticator();
    await enrol(gw, client, auth, await gw.latestEnrolmentLink(employee.email), 'Spare');
    assert.equal((await activate(gw, client, auth, employee.email)).status, 200);
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await gw?.close();
  });

  it('WCAG 2.4.1, 2.4.3, 2.4.7: the skip link first, then the header in order, each stop with a visible focus ring', async () => {
    const page = await open('da', employee.client);
    await page.goto('/keys.html');
    await page.locator('[data-testid="credential-row"]').nth(1).waitFor({ state: 'visible' });
    await page.keyboard.press('Tab');
    const skip = await focused(page);
    assert.equal(skip.text, text('da', 'common.skipLink'));
    assert.ok(skip.onScreen, 'the skip link shows when it has the focus');
    await photograph(page, 'da', 'keyboard-skip-link');
    const stops = await tabTo(page, (f) => f.testid === 'report-lost-button');
    const order = stops.map((s) => s.testid ?? s.text);
    const at = (name: string) => order.findIndex((o) => o === name);
    assert.ok(at(text('da', 'common.siteTitle')) < at('nav-keys'), order.join(' | '));
    assert.ok(at('nav-keys') < at('header-signout'), order.join(' | '));
    assert.ok(at('header-signout') < at('language-switch'), order.join(' | '));
    assert.ok(at('language-switch') < at('report-lost-button'), 'the header comes before the page');
  });

  it('WCAG 2.1.1, 2.1.2: a key reported lost with the keyboard alone; the dialog keeps the focus and gives it back', async () => {
    const page = await open('da', employee.client);
    await page.goto('/keys.html');
    await page.locator('[data-testid="credential-row"]').nth(1).waitFor({ state: 'visible' });
    // The second key's button: reporting the key of this very sign-in would sign Ida out.
    await tabTo(page, (f) => f.testid === 'report-lost-button');
    await tabTo(page, (f) => f.testid === 'report-lost-button');
    const opener = await page.evaluate(`document.activeElement.closest('tr').dataset.credentialId`);
    assert.equal(await page.evaluate(`document.activeElement.closest('tr').dataset.current`), undefined);
    await page.keyboard.press('Enter');
    await page.locator('#report-lost-dialog').waitFor({ state: 'visible' });
    assert.equal((await focused(page)).id, 'report-lost-note', 'the focus starts in the dialog');
    // A modal dialog makes the rest of the page inert: Tab goes round the dialog's controls, and
    // (as in every browser) through the browser's own controls, shown here as the document body;
    // never to the page behind it.
    const seen = new Set<string>();
    for (let i = 0; i < 10; i++) {
      await page.keyboard.press('Tab');
      const f = await focused(page);
      assert.ok(f.inDialog || f.tag === 'body', `Tab stays in the open dialog (at <${f.tag} ${f.id || f.testid || ''}>)`);
      if (f.inDialog) seen.add(f.id);
    }
    assert.deepEqual([...seen].sort(), ['report-lost-cancel', 'report-lost-confirm', 'report-lost-note'], 'and comes round to every control of it');
    await page.keyboard.press('Escape');
    await page.locator('#report-lost-dialog').waitFor({ state: 'hidden' });
    const back = await focused(page);
    assert.equal(back.testid, 'report-lost-button', 'Escape gives the focus back to the button that opened the dialog');
    assert.equal(await page.evaluate(`document.activeElement.closest('tr').dataset.credentialId`), opener);
    // Now for real: open, write a note, go to the confirm button, press it.
    await page.keyboard.press('Enter');
    await page.locator('#report-lost-dialog').waitFor({ state: 'visible' });
    await page.keyboard.type('Tabt i toget');
    while ((await focused(page)).id !== 'report-lost-confirm') await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.locator(`tr[data-credential-id="${String(opener)}"][data-state="suspended"]`).waitFor();
    assert.equal(await page.locator('#status').textContent(), text('da', 'keys.lost.done', { label: 'Spare' }), 'the result is said in Danish');
    assert.deepEqual(await seriousViolations(page), []);
  });

  it('WCAG 2.1.1: the helpdesk suspends a key with the keyboard; the reason dialog returns the focus when cancelled', async () => {
    const page = await open('en', admin.client);
    await page.goto('/helpdesk.html');
    await page.locator('#console-content').waitFor({ state: 'visible' });
    await tabTo(page, (f) => f.id === 'search-q');
    await page.keyboard.type(employee.email);
    await page.keyboard.press('Enter');
    await page.locator('[data-testid="identity-row"]').first().waitFor({ state: 'visible' });
    await tabTo(page, (f) => f.testid === 'open-identity-button');
    await page.keyboard.press('Enter');
    await page.locator('[data-testid="hd-credential-row"]').first().waitFor({ state: 'visible' });
    // Opening a person announces them by moving the focus to their name.
    await page.waitForFunction(() => document.activeElement?.id === 'person-heading');
    await tabTo(page, (f) => f.testid === 'suspend-button');
    await page.keyboard.press('Enter');
    await page.locator('#action-dialog').waitFor({ state: 'visible' });
    assert.equal((await focused(page)).id, 'action-reason');
    await page.keyboard.press('Escape');
    await page.locator('#action-dialog').waitFor({ state: 'hidden' });
    assert.equal((await focused(page)).testid, 'suspend-button');
    await page.keyboard.press('Enter');
    await page.locator('#action-dialog').waitFor({ state: 'visible' });
    await page.locator('#action-reason').selectOption('holder-request');
    while ((await focused(page)).id !== 'action-confirm') await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.locator('[data-testid="hd-credential-row"][data-state="suspended"]').first().waitFor();
  });

  it('the language switch on a client page is remembered: the next page, and the server’s own pages, follow it', async () => {
    const page = await open('da');
    await page.goto('/');
    assert.equal(await page.getAttribute('html', 'lang'), 'da', 'the browser prefers Danish');
    const toEnglish = page.getByTestId('language-switch');
    assert.equal(await toEnglish.textContent(), 'English');
    assert.equal(await toEnglish.getAttribute('lang'), 'en', 'the name of the language is marked as that language');
    await toEnglish.click();
    await page.waitForFunction(() => document.documentElement.lang === 'en');
    assert.equal(await page.locator('h1').textContent(), text('en', 'signin.heading'));
    assert.equal(await cookieLanguage(page), 'en');
    await page.goto('/activate.html');
    assert.equal(await page.getAttribute('html', 'lang'), 'en', 'the choice beats the browser’s preference');
    const notFound = await page.goto('/no-such-page');
    assert.equal(notFound?.status(), 404);
    assert.equal(await page.getAttribute('html', 'lang'), 'en', 'the server-rendered page reads the cookie too');
    await page.getByTestId('language-switch').click();
    await page.waitForURL(/lang=da/);
    assert.equal(await page.getAttribute('html', 'lang'), 'da');
    assert.equal(await page.locator('h1').textContent(), text('da', 'errorPage.notFound.heading'));
    assert.equal(await cookieLanguage(page), 'da', 'the server page remembers the switch');
    await page.goto('/?lang=en');
    await page.waitForFunction(() => document.documentElement.lang === 'en');
    assert.equal(new URL(page.url()).search, '', 'the switch’s parameter is taken out of the address');
    assert.equal(await cookieLanguage(page), 'en');
  });

  it('switching the language on the enrolment page keeps its one-time link', async () => {
    assert.equal((await admin.client.post(`/api/admin/identities/${employee.identityId}/enrolments`, {})).status, 201);
    const page = await open('en');
    await page.goto(await gw.latestEnrolmentLink(employee.email));
    await page.locator('#register-button').waitFor({ state: 'visible' });
    assert.equal(new URL(page.url()).hash, '', 'the token is out of the address bar');
    await page.getByTestId('language-switch').click();
    await page.waitForFunction(() => document.documentElement.lang === 'da');
    await page.locator('#register-button').waitFor({ state: 'visible' });
    assert.equal(await page.locator('#register-button').textContent(), text('da', 'enrol.button'));
    assert.equal(await page.locator('#holder-name').textContent(), 'Ida Iversen');
    assert.equal(new URL(page.url()).hash, '', 'and out again after the reload');
  });

  it('“Sign out” in the header of any page signs out and says so, in the page’s language', async () => {
    const client = new ApiClient(gw.origin);
    const auth = new SoftAuthenticator();
    assert.equal((await admin.client.post(`/api/admin/identities/${employee.identityId}/enrolments`, {})).status, 201);
    await enrol(gw, client, auth, await gw.latestEnrolmentLink(employee.email), 'Third');
    assert.equal((await activate(gw, client, auth, employee.email)).status, 200);
    const page = await open('da', client);
    await page.goto('/activate.html');
    await page.getByTestId('header-user').waitFor({ state: 'visible' });
    assert.equal(await page.getByTestId('header-user').textContent(), text('da', 'common.header.signedInAs', { name: 'Ida Iversen' }));
    await page.getByTestId('header-signout').click();
    await page.waitForURL(/signed-out=1/);
    assert.equal(await page.locator('#status').textContent(), text('da', 'signin.signedOut'));
    assert.equal((await client.get('/api/me')).status, 401, 'the session has ended');
  });
});
