/**
 * Danish and English on every page (issue 16): each page, in each state a person meets it, is
 * opened in a browser that prefers Danish and in one that prefers English; it must come in that
 * language (`<html lang>`), with every word from that language's catalogue (i18n/<language>/),
 * Danish dates on Danish pages, and no serious or critical accessibility violation (axe-core).
 * Each page is photographed at desktop width and at 390 px into test-results/pages/<language>/.
 *
 * A real gateway (SQLite, SoftHSM, file outbox) serves the built client to Debian's Chromium with
 * a virtual authenticator; people and keys are made through the API with the software
 * authenticator, and the browser carries their session cookies.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { formatDateTime, text, type Language } from '../../i18n/index.js';
import { ApiClient } from '../support/apiClient.js';
import { AUTHENTICATOR_OPTIONS, launchChromium } from '../support/browser.js';
import { activate, activeAdmin, activeEmployee, enrol } from '../support/journeys.js';
import { DESKTOP, photograph, seriousViolations, textsOf, wordsNotFromCatalogue } from '../support/pageChecks.js';
import { SoftAuthenticator } from '../support/softAuthenticator.js';
import { startTestGateway, type TestGateway } from '../support/testGateway.js';

const UI_TIMEOUT = 20_000;
/** What each browser prefers: Danish first, or English first (with Danish second, which must not win). */
const LOCALES: Record<Language, string> = { da: 'da-DK', en: 'en-GB' };

const EMPLOYEE = { name: 'Karoline Østergaard', email: 'karoline.oestergaard@demo.example' };
const ADMIN_NAME = 'First Administrator';
const LABELS = ['Reserve in the drawer', 'Key on the blue lanyard', 'Key for the laboratory', 'Old key', 'Test key', 'Admin key'];

describe('issue 16: every page in Danish and in English, every word from the catalogue, accessible', { timeout: 600_000 }, () => {
  let gw: TestGateway;
  let browser: Browser;
  let admin: Awaited<ReturnType<typeof activeAdmin>>;
  let employee: Awaited<ReturnType<typeof activeEmployee>>;
  const contexts: BrowserContext[] = [];
  /** Data the test put on the pages: people, addresses, key names, what the admin typed. */
  let data: string[] = [];

  async function open(language: Language, client?: ApiClient): Promise<Page> {
    const context = await browser.newContext({ baseURL: gw.origin, viewport: DESKTOP, locale: LOCALES[language], timezoneId: 'Europe/Copenhagen' });
    context.setDefaultTimeout(UI_TIMEOUT);
    contexts.push(context);
    const session = client?.cookie('gw_session');
    if (session) await context.addCookies([{ name: 'gw_session', value: session, url: gw.origin }]);
    return context.newPage();
  }

  /** The page is in `language`, accessible, every word from that language's catalogue; photographed. */
  async function check(page: Page, language: Language, name: string): Promise<void> {
    assert.equal(await page.getAttribute('html', 'lang'), language, `${name}: <html lang>`);
    assert.deepEqual(await seriousViolations(page), [], `${name} (${language}): serious or critical accessibility violations`);
    assert.deepEqual(wordsNotFromCatalogue(await textsOf(page), language, data), [], `${name} (${language}): words not from the ${language} catalogue`);
    await photograph(page, language, name);
  }

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
    employee = await activeEmployee(gw, admin.client, EMPLOYEE.email, EMPLOYEE.name);
    await addKey('Reserve in the drawer');
    const lost = await addKey('Key on the blue lanyard');
    await addKey('Key for the laboratory', false);
    const revoked = await addKey('Old key');
    assert.equal((await employee.client.post(`/api/me/credentials/${lost}/report-lost`, { note: 'Lost on the train' })).status, 200);
    assert.equal((await admin.client.post(`/api/helpdesk/credentials/${revoked}/revoke`, { reason: 'lost' })).status, 200);
    // The HSM tokens the security page names (their configured names and token labels).
    const hsm = (await admin.client.get('/api/security/keys')).body as { hsm?: { tokens: Array<{ name: string; tokenLabel: string }> } };
    const tokens = (hsm.hsm?.tokens ?? []).flatMap((t) => [t.name, t.tokenLabel]);
    data = [ADMIN_NAME, admin.email, EMPLOYEE.name, EMPLOYEE.email, ...LABELS, ...tokens, 'ID document checked in person by HR', 'Lost on the train'];
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await gw?.close();
  });

  it('the checks fail when they should: a word not from the catalogue, an English word on a Danish page, an image without text, a nameless button', async () => {
    const page = await open('da');
    await page.goto('/activate.html');
    await page.locator('#activate-button').waitFor({ state: 'visible' });
    await page.evaluate(`(() => {
      const main = document.querySelector('main');
      const p = document.createElement('p');
      p.textContent = 'Loading your keys… Vent venligst';
      const img = document.createElement('img');
      img.src = '/favicon.ico';
      const button = document.createElement('button');
      main.append(p, img, button);
    })()`);
    const words = wordsNotFromCatalogue(await textsOf(page), 'da', data).map((w) => w.split(' ')[0]);
    assert.deepEqual(words.sort(), ['keys', 'loading', 'vent', 'venligst', 'your'].sort(), 'an English sentence, and Danish words the catalogue does not have');
    const violations = (await seriousViolations(page)).map((v) => v.id);
    assert.ok(violations.includes('image-alt') && violations.includes('button-name'), violations.join(', '));
  });

  for (const language of ['da', 'en'] as const) {
    describe(`in ${language === 'da' ? 'Danish' : 'English'}`, () => {
      it('the sign-in page, signed out, after a refused key and signed in', async () => {
        const page = await open(language);
        await page.goto('/');
        await page.locator('#signin-button').waitFor({ state: 'visible' });
        assert.equal(await page.locator('#signin-button').textContent(), text(language, 'signin.button'));
        await check(page, language, 'signin');
        const cdp = await page.context().newCDPSession(page);
        await cdp.send('WebAuthn.enable');
        await cdp.send('WebAuthn.addVirtualAuthenticator', { options: AUTHENTICATOR_OPTIONS });
        await page.locator('#signin-button').click();
        await page.waitForFunction(() => (document.getElementById('error')?.textContent ?? '') !== '');
        assert.equal(await page.locator('#error').textContent(), text(language, 'ceremony.noKey.signin'));
        await check(page, language, 'signin-refused');
        const signedIn = await open(language, employee.client);
        await signedIn.goto('/');
        await signedIn.locator('#signed-in').waitFor({ state: 'visible' });
        await signedIn.getByTestId('header-user').waitFor({ state: 'visible' });
        await check(signedIn, language, 'signin-signed-in');
      });

      it('the activation page, also with an activation code of the wrong shape', async () => {
        const page = await open(language);
        await page.goto('/activate.html');
        await page.locator('#activate-button').waitFor({ state: 'visible' });
        await check(page, language, 'activate');
        await page.locator('#email').fill(EMPLOYEE.email);
        await page.locator('#code').fill('123');
        await page.locator('#activate-button').click();
        assert.equal(await page.locator('#error').textContent(), text(language, 'activate.codeShape'));
        await check(page, language, 'activate-refused');
      });

      it('the enrolment page, with the link’s expiry as a date of the language', async () => {
        const issued = await admin.client.post(`/api/admin/identities/${employee.identityId}/enrolments`, {});
        assert.equal(issued.status, 201);
        const expiresAt = (issued.body as { expiresAt: string }).expiresAt;
        const page = await open(language);
        await page.goto(await gw.latestEnrolmentLink(employee.email));
        await page.locator('#register-button').waitFor({ state: 'visible' });
        assert.equal(await page.locator('#enrol-expires time').textContent(), formatDateTime(expiresAt, { language, timeZone: 'Europe/Copenhagen' }));
        assert.equal(await page.locator('#label').inputValue(), text(language, 'enrol.label.default'));
        await check(page, language, 'enrol');
        // A link that is not valid: the page's words for the error code, in the page language.
        const refused = await open(language);
        await refused.goto('/enrol.html#token=this-link-was-never-issued');
        await refused.waitForFunction(() => (document.getElementById('error')?.textContent ?? '') !== '');
        assert.equal(await refused.locator('#error').textContent(), `${text(language, 'enrol.linkRefused')} ${text(language, 'problem.ENROLMENT_INVALID')}`);
        await check(refused, language, 'enrol-refused');
      });

      it('My keys, with the report-lost dialog', async () => {
        const page = await open(language, employee.client);
        await page.goto('/keys.html');
        await page.locator('[data-testid="credential-row"]').nth(4).waitFor({ state: 'visible' });
        await page.locator('#status').filter({ hasText: /\S/ }).waitFor();
        const expected = text(language, 'keys.countAndGone', { have: text(language, 'keys.count.other', { count: 4 }), gone: text(language, 'keys.gone.one') });
        assert.equal((await page.locator('#status').textContent())?.trim(), expected);
        assert.deepEqual(
          await page.locator('[data-testid="credential-state-text"]').allTextContents(),
          ['active', 'active', 'suspended', 'issued', 'revoked'].map((s) => text(language, `common.state.${s as 'active'}`)),
        );
        await check(page, language, 'keys');
        await page.locator('[data-testid="report-lost-button"]').first().click();
        await page.locator('#report-lost-dialog').waitFor({ state: 'visible' });
        await check(page, language, 'keys-report-lost-dialog');
      });

      it('the helpdesk page: search, a person with their keys and history, the revoke dialog', async () => {
        const page = await open(language, admin.client);
        await page.goto('/helpdesk.html');
        await page.locator('#console-content').waitFor({ state: 'visible' });
        await check(page, language, 'helpdesk');
        await page.locator('#search-q').fill(EMPLOYEE.email);
        await page.locator('#search-button').click();
        await page.locator('[data-testid="identity-row"]').first().waitFor({ state: 'visible' });
        await page.locator('[data-testid="open-identity-button"]').first().click();
        await page.locator('[data-testid="hd-credential-row"]').nth(4).waitFor({ state: 'visible' });
        for (const summary of await page.locator('details.history summary').all()) await summary.click();
        await check(page, language, 'helpdesk-person');
        await page.locator('[data-testid="hd-credential-row"][data-state="suspended"] [data-testid="revoke-button"]').click();
        await page.locator('#action-dialog').waitFor({ state: 'visible' });
        await check(page, language, 'helpdesk-revoke-dialog');
      });

      it('the administration page with a person open', async () => {
        const page = await open(language, admin.client);
        await page.goto('/admin.html');
        await page.locator('#console-content').waitFor({ state: 'visible' });
        await check(page, language, 'admin');
        await page.locator('#search-q').fill(EMPLOYEE.email);
        await page.locator('#search-button').click();
        await page.locator('[data-testid="open-identity-button"]').first().click();
        await page.locator('#person').waitFor({ state: 'visible' });
        await check(page, language, 'admin-person');
        // Refused by the server (the address is bound already): the page's words for the code; on a
        // Danish page the server's own (English) words follow, marked as English.
        await page.locator('#create-name').fill('Karoline Anden');
        await page.locator('#create-email').fill(EMPLOYEE.email);
        await page.locator('#create-ial').selectOption('substantial');
        await page.locator('#create-proofing').fill('ID document checked in person by HR');
        await page.locator('#create-submit').click();
        await page.waitForFunction(() => (document.getElementById('error')?.textContent ?? '') !== '');
        const error = (await page.locator('#error').textContent()) ?? '';
        assert.ok(error.startsWith(text(language, 'admin.create.failed')), error);
        assert.equal(await page.locator('#error .server-text[lang="en"]').count(), 1, 'the server’s words, marked as such');
        if (language === 'da') assert.ok(error.includes(`${text('da', 'problem.CONFLICT')} Serverens egen besked (på engelsk): `), error);
        await check(page, language, 'admin-refused');
      });

      it('the security team page with the fleet shown', async () => {
        const page = await open(language, admin.client);
        await page.goto('/security.html');
        await page.locator('#officer-content').waitFor({ state: 'visible' });
        await page.locator('#keys-body tr').first().waitFor({ state: 'visible' });
        await page.locator('#fleet-refresh').click();
        await page.locator('#fleet-table').waitFor({ state: 'visible' });
        await check(page, language, 'security');
      });

      it('the server’s own pages: an error page and the sign-out confirmation', async () => {
        const page = await open(language, admin.client);
        const res = await page.goto('/no-such-page');
        assert.equal(res?.status(), 404);
        assert.equal(await page.locator('h1').textContent(), text(language, 'errorPage.notFound.heading'));
        await check(page, language, 'error-404');
        await page.goto('/oidc/logout');
        await page.locator('#logout-confirm').waitFor({ state: 'visible' });
        assert.equal(await page.locator('h1').textContent(), text(language, 'logout.heading'));
        await check(page, language, 'logout-confirmation');
      });
    });
  }
});
