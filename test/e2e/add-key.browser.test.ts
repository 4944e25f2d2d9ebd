/**
 * Adding a second key oneself, end to end in a real browser (issue 16; NSIS 3.2.4 (Low) 1,
 * NSIS 3.2.2): an employee with one active key sees the advice to add a spare one, registers the
 * new key on "My keys" with the keyboard, is told where the activation code went, and activates
 * the new key on the activation page with the code from the mail. In Danish and in English; each
 * page in each state is checked with axe-core (no serious or critical violation), holds only
 * words of its language's catalogue, and is photographed at desktop width and at 390 px.
 *
 * The employee's first key is the software authenticator (through the API, which also gives the
 * browser its fresh session); the browser's virtual authenticator is the new key being plugged in.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { text, type Language } from '../../i18n/index.js';
import type { ApiClient } from '../support/apiClient.js';
import { AUTHENTICATOR_OPTIONS, launchChromium } from '../support/browser.js';
import { activeAdmin, activeEmployee } from '../support/journeys.js';
import { DESKTOP, photograph, seriousViolations, textsOf, wordsNotFromCatalogue } from '../support/pageChecks.js';
import { read } from '../support/storeReads.js';
import { startTestGateway, type TestGateway } from '../support/testGateway.js';

const UI_TIMEOUT = 20_000;
const LOCALES: Record<Language, string> = { da: 'da-DK', en: 'en-GB' };

describe('issue 16: adding a second key oneself in a real browser, in Danish and in English', { timeout: 600_000 }, () => {
  let gw: TestGateway;
  let browser: Browser;
  let admin: Awaited<ReturnType<typeof activeAdmin>>;
  const contexts: BrowserContext[] = [];

  async function open(language: Language, client: ApiClient): Promise<Page> {
    const context = await browser.newContext({ baseURL: gw.origin, viewport: DESKTOP, locale: LOCALES[language], timezoneId: 'Europe/Copenhagen' });
    context.setDefaultTimeout(UI_TIMEOUT);
    contexts.push(context);
    const session = client.cookie('gw_session');
    assert.ok(session, 'the employee has a session');
    await context.addCookies([{ name: 'gw_session', value: session, url: gw.origin }]);
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    // The new key the person plugs in.
    await cdp.send('WebAuthn.addVirtualAuthenticator', { options: AUTHENTICATOR_OPTIONS });
    return page;
  }

  async function check(page: Page, language: Language, name: string, data: readonly string[]): Promise<void> {
    assert.equal(await page.getAttribute('html', 'lang'), language, `${name}: <html lang>`);
    assert.deepEqual(await seriousViolations(page), [], `${name} (${language}): serious or critical accessibility violations`);
    assert.deepEqual(wordsNotFromCatalogue(await textsOf(page), language, data), [], `${name} (${language}): words not from the ${language} catalogue`);
    await photograph(page, language, name);
  }

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

  for (const language of ['da', 'en'] as const) {
    it(`NSIS 3.2.4 (Low) 1, 3.2.2 (${language}): from a session on an active key the employee adds a spare key with the keyboard, and it activates with the code sent by mail`, async () => {
      const email = `spare.${language}@demo.example`;
      const name = language === 'da' ? 'Søren Reservesen' : 'Sam Sparesworth';
      const label = language === 'da' ? 'Reservenøgle i skuffen' : 'Spare in the drawer';
      const emp = await activeEmployee(gw, admin.client, email, name);
      const data = [name, email, 'Test key', label];
      const page = await open(language, emp.client);
      await page.goto('/keys.html');
      await page.locator('[data-testid="credential-row"]').first().waitFor({ state: 'visible' });
      // One usable key: the page recommends a spare one.
      await page.getByTestId('spare-key-advice').waitFor({ state: 'visible' });
      assert.equal(await page.getByTestId('spare-key-advice').textContent(), text(language, 'keys.add.spare'));
      await check(page, language, 'keys-add-key', data);

      // An empty name is refused in the page, the field marked and focused.
      await page.locator('#add-key-label').focus();
      await page.keyboard.press('Enter');
      await page.waitForFunction(() => (document.getElementById('error')?.textContent ?? '') !== '');
      assert.equal(await page.locator('#add-key-label').getAttribute('aria-invalid'), 'true');
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'add-key-label');

      // With the keyboard only: type the name and press Enter; the virtual key is touched.
      const mailsBefore = (await gw.mailsTo(email)).length;
      await page.keyboard.type(label);
      const verify = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/me/credentials/new/verify');
      await page.keyboard.press('Enter');
      const res = await verify;
      assert.equal(res.status(), 201, await res.text());
      const newId = ((await res.json()) as { credential: { id: string } }).credential.id;
      await page.locator('#next-steps[data-kind="add-next-steps"]').waitFor({ state: 'visible' });
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'next-steps-heading', 'focus moves to what to do next');
      await page.locator(`tr[data-credential-id="${newId}"][data-state="issued"]`).waitFor({ state: 'visible' });
      assert.equal(await page.getByTestId('spare-key-advice').isHidden(), true, 'two usable keys: no more advice');
      const steps = await page.locator('#next-steps-list li').allTextContents();
      assert.equal((await page.locator('#status').textContent())?.trim(), text(language, 'keys.add.done', { label }));
      assert.equal(steps.length, 2);
      const masked = /\S+@demo\.example/.exec(steps[0] ?? '')?.[0] ?? '';
      assert.equal(steps[0], text(language, 'keys.add.sentTo', { email: masked }));
      assert.equal(await page.getByTestId('add-activate-link').getAttribute('href'), '/activate.html');
      assert.ok((steps[1] ?? '').includes((await page.getByTestId('add-activate-link').textContent()) ?? '?'), 'the link is inside the sentence');
      await check(page, language, 'keys-key-added', [...data, masked]);

      // The code went by the second channel; possession of the new key plus the code activate it.
      const mails = (await gw.mailsTo(email)).slice(mailsBefore);
      assert.deepEqual(mails.map((m) => m.kind), ['activation-code']);
      await page.getByTestId('add-activate-link').click();
      await page.waitForURL('**/activate.html');
      await page.locator('#email').fill(email);
      await page.locator('#code').fill(await gw.latestCode(email));
      const activated = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/activation/verify');
      await page.locator('#activate-button').click();
      assert.equal((await activated).status(), 200);
      await page.locator('#activate-done').waitFor({ state: 'visible' });
      const keys = await read(gw.runtime.store, (tx) => tx.credentials.listOfIdentity(emp.identityId));
      assert.deepEqual(keys.map((k) => [k.id === newId ? 'new' : 'first', k.state]).sort(), [['first', 'active'], ['new', 'active']]);
      assert.equal(keys.find((k) => k.id === newId)?.label, label);
    });
  }
});
