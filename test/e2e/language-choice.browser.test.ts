/**
 * Issue 16, "mails in the person's language", in Chromium: a signed-in person who switches the
 * page's language has it stored as theirs, and the next mail the gateway sends them follows it;
 * My keys shows and changes the language of their mails. The page is checked (axe-core: no
 * serious or critical violation, every word from the catalogue) and photographed at desktop width
 * and at 390 px in both languages.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { CATALOGUES, text, type Language } from '../../i18n/index.js';
import { ApiClient } from '../support/apiClient.js';
import { launchChromium } from '../support/browser.js';
import { activeAdmin, activeEmployee } from '../support/journeys.js';
import { DESKTOP, PHONE, photograph, seriousViolations, textsOf, wordsNotFromCatalogue } from '../support/pageChecks.js';
import { startTestGateway, type TestGateway } from '../support/testGateway.js';

const UI_TIMEOUT = 20_000;
const EMPLOYEE = { name: 'Signe Sprogskifter', email: 'signe.sprogskifter@demo.example' };

describe('issue 16: the language a signed-in person chooses is theirs, and their mails follow it', { timeout: 600_000 }, () => {
  let gw: TestGateway;
  let browser: Browser;
  let admin: Awaited<ReturnType<typeof activeAdmin>>;
  let employee: Awaited<ReturnType<typeof activeEmployee>>;
  const contexts: BrowserContext[] = [];

  async function open(locale: string, client: ApiClient, viewport = DESKTOP): Promise<Page> {
    const context = await browser.newContext({ baseURL: gw.origin, viewport, locale, timezoneId: 'Europe/Copenhagen' });
    context.setDefaultTimeout(UI_TIMEOUT);
    contexts.push(context);
    const session = client.cookie('gw_session');
    if (session) await context.addCookies([{ name: 'gw_session', value: session, url: gw.origin }]);
    return context.newPage();
  }

  async function check(page: Page, language: Language, name: string): Promise<void> {
    assert.equal(await page.getAttribute('html', 'lang'), language, `${name}: <html lang>`);
    assert.deepEqual(await seriousViolations(page), [], `${name} (${language}): serious or critical accessibility violations`);
    const data = [EMPLOYEE.name, EMPLOYEE.email, 'Test key', ...Object.values(CATALOGUES).map((c) => c['common.language.name'])];
    assert.deepEqual(wordsNotFromCatalogue(await textsOf(page), language, data), [], `${name} (${language}): words not from the catalogue`);
    await photograph(page, language, name);
  }

  const stored = async (): Promise<Language | null | undefined> => (await gw.runtime.store.read((tx) => tx.identities.get(employee.identityId)))?.language;

  before(async () => {
    gw = await startTestGateway({ withClient: true });
    browser = await launchChromium();
    admin = await activeAdmin(gw);
    employee = await activeEmployee(gw, admin.client, EMPLOYEE.email, EMPLOYEE.name);
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await gw?.close();
  });

  it('issue 16: switching to Danish while signed in stores Danish for the person, and the next mail (an enrolment link) is in Danish', async () => {
    assert.equal(await stored(), null, 'not chosen yet: the organisation’s language');
    const page = await open('en-GB', employee.client);
    await page.goto('/keys.html');
    await page.getByTestId('mail-language').waitFor({ state: 'visible' });
    await check(page, 'en', 'keys-mail-language');
    const storedAnswer = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/me/language');
    await page.getByTestId('language-switch').click();
    assert.equal((await storedAnswer).status(), 200);
    await page.waitForFunction(() => document.documentElement.lang === 'da');
    await page.getByTestId('mail-language').waitFor({ state: 'visible' });
    assert.equal(await stored(), 'da');
    assert.equal(await page.getByTestId('mail-language-select').inputValue(), 'da', 'My keys shows the stored language');
    await check(page, 'da', 'keys-mail-language');
    // The next mail to the person (an enrolment link for another key) is in Danish.
    const notice = await nextMail('enrolment-link');
    assert.equal(notice.subject, CATALOGUES.da['mail.link.subject']);
    assert.match(notice.text, /^Kære Signe Sprogskifter$/m);
  });

  it('issue 16: on a 390 px phone, My keys changes the language of my mails back to English; the next mail is in English', async () => {
    const page = await open('da-DK', employee.client, PHONE);
    await page.goto('/keys.html');
    await page.getByTestId('mail-language').waitFor({ state: 'visible' });
    await check(page, 'da', 'keys-mail-language-phone');
    await page.getByTestId('mail-language-select').selectOption('en');
    const storedAnswer = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/me/language');
    await page.getByTestId('mail-language-save').click();
    assert.equal((await storedAnswer).status(), 200);
    await page.getByTestId('mail-language-status').filter({ hasText: /\S/ }).waitFor();
    assert.equal(await page.getByTestId('mail-language-status').textContent(), text('da', 'keys.mailLanguage.saved', { language: text('da', 'keys.mailLanguage.in.en') }));
    assert.equal(await stored(), 'en');
    assert.equal(await page.getAttribute('html', 'lang'), 'da', 'the page stays in the language of the page');
    await check(page, 'da', 'keys-mail-language-saved-phone');
    const mail = await nextMail('enrolment-link');
    assert.equal(mail.subject, 'Register your security key');
    const english = await open('en-GB', employee.client, PHONE);
    await english.goto('/keys.html');
    await english.getByTestId('mail-language').waitFor({ state: 'visible' });
    await check(english, 'en', 'keys-mail-language-phone');
  });

  /** Has the admin mail the person an enrolment link; the newest mail of `kind` sent since. */
  async function nextMail(kind: string) {
    const before = (await gw.mailsTo(EMPLOYEE.email)).length;
    const issued = await admin.client.post(`/api/admin/identities/${employee.identityId}/enrolments`, {});
    assert.equal(issued.status, 201, JSON.stringify(issued.body));
    const mail = (await gw.mailsTo(EMPLOYEE.email)).slice(before).find((m) => m.kind === kind);
    assert.ok(mail, `a ${kind} mail`);
    return mail;
  }
});

/** Every page of the client, and the server's own pages a browser can meet. */
const CLIENT_PAGES = ['/', '/activate.html', '/enrol.html', '/keys.html', '/helpdesk.html', '/admin.html', '/security.html', '/approvals.html'] as const;
const SERVER_PAGES = [
  { path: '/no-such-page', status: 404, name: 'error-not-found' },
  { path: '/api/me', status: 401, name: 'error-sign-in-first' },
  { path: '/oidc/authorize?client_id=no-such-client&response_type=code&scope=openid', status: 400, name: 'error-oidc-refused' },
] as const;

describe('issue 16: every page has the language switch and the same header, and passes axe-core in both languages at desktop width and 390 px', { timeout: 900_000 }, () => {
  let gw: TestGateway;
  let browser: Browser;
  let admin: Awaited<ReturnType<typeof activeAdmin>>;
  const contexts: BrowserContext[] = [];

  before(async () => {
    gw = await startTestGateway({ withClient: true });
    browser = await launchChromium();
    admin = await activeAdmin(gw);
  });
  after(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await gw?.close();
  });

  async function open(language: Language, viewport: typeof DESKTOP, signedIn: boolean): Promise<Page> {
    const context = await browser.newContext({ baseURL: gw.origin, viewport, locale: language === 'da' ? 'da-DK' : 'en-GB', timezoneId: 'Europe/Copenhagen' });
    context.setDefaultTimeout(UI_TIMEOUT);
    contexts.push(context);
    const session = admin.client.cookie('gw_session');
    if (signedIn && session) await context.addCookies([{ name: 'gw_session', value: session, url: gw.origin }]);
    return context.newPage();
  }

  for (const language of ['da', 'en'] as const) {
    for (const [size, viewport] of [['desktop', DESKTOP], ['390 px', PHONE]] as const) {
      it(`issue 16: every client page (${language}, ${size}), signed in: the switch to the other language, who is signed in, sign out; no serious or critical axe violation`, async () => {
        const page = await open(language, viewport, true);
        for (const path of CLIENT_PAGES) {
          await page.goto(path);
          await page.waitForFunction(() => !document.documentElement.classList.contains('i18n-pending'));
          await page.getByTestId('header-user').waitFor({ state: 'visible' });
          assert.equal(await page.getAttribute('html', 'lang'), language, `${path}: <html lang>`);
          const other = language === 'da' ? 'en' : 'da';
          assert.equal(await page.getByTestId('language-switch').getAttribute('hreflang'), other, `${path}: the switch`);
          assert.equal(await page.getByTestId('header-signout').isVisible(), true, `${path}: sign out`);
          assert.match((await page.getByTestId('header-user').textContent()) ?? '', /First Administrator|Administrator/, `${path}: who is signed in`);
          assert.deepEqual(await seriousViolations(page), [], `${path} (${language}, ${size}): serious or critical accessibility violations`);
        }
      });

      it(`issue 16: the server’s error pages (${language}, ${size}): styled, in the language, with the switch; no serious or critical axe violation`, async () => {
        const page = await open(language, viewport, false);
        for (const p of SERVER_PAGES) {
          const res = await page.goto(p.path);
          assert.equal(res?.status(), p.status, p.path);
          assert.equal(await page.getAttribute('html', 'lang'), language, `${p.path}: <html lang>`);
          assert.equal(await page.getByTestId('language-switch').getAttribute('hreflang'), language === 'da' ? 'en' : 'da', `${p.path}: the switch`);
          assert.equal(await page.locator('h1').count(), 1, `${p.path}: a heading`);
          assert.deepEqual(await seriousViolations(page), [], `${p.path} (${language}, ${size}): serious or critical accessibility violations`);
          // (photograph takes the page at desktop width and at 390 px itself.)
          if (size === 'desktop') await photograph(page, language, p.name);
        }
      });
    }
  }
});
