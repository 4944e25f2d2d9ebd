/**
 * Issue 16, "a language per person", on the administration page in Chromium: the "Add an employee"
 * form has a language field (Danish, English, or the organisation's); the person is bound with the
 * language chosen and their enrolment mail is written in it; left unchosen, the person has none
 * stored and gets the organisation's. The form is checked (axe-core: no serious or critical
 * violation) and photographed at desktop width and at 390 px in both languages.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { CATALOGUES, type Language } from '../../i18n/index.js';
import { launchChromium } from '../support/browser.js';
import { activeAdmin } from '../support/journeys.js';
import { DESKTOP, PHONE, photograph, seriousViolations } from '../support/pageChecks.js';
import { startTestGateway, type TestGateway } from '../support/testGateway.js';

const UI_TIMEOUT = 20_000;

describe('issue 16: the administration page binds a person with the language of their mails', { timeout: 600_000 }, () => {
  let gw: TestGateway;
  let browser: Browser;
  let admin: Awaited<ReturnType<typeof activeAdmin>>;
  const contexts: BrowserContext[] = [];

  async function open(language: Language, viewport = DESKTOP): Promise<Page> {
    const context = await browser.newContext({ baseURL: gw.origin, viewport, locale: language === 'da' ? 'da-DK' : 'en-GB', timezoneId: 'Europe/Copenhagen' });
    context.setDefaultTimeout(UI_TIMEOUT);
    contexts.push(context);
    const session = admin.client.cookie('gw_session');
    if (session) await context.addCookies([{ name: 'gw_session', value: session, url: gw.origin }]);
    const page = await context.newPage();
    await page.goto('/admin.html');
    await page.locator('#create-form').waitFor({ state: 'visible' });
    await page.waitForFunction(() => !document.documentElement.classList.contains('i18n-pending'));
    return page;
  }

  /** Fills and sends the form; returns the new identity's id (the answer must be 201). */
  async function bind(page: Page, who: { name: string; email: string }, language: '' | Language): Promise<string> {
    await page.locator('#create-name').fill(who.name);
    await page.locator('#create-email').fill(who.email);
    await page.locator('#create-ial').selectOption('substantial');
    await page.locator('#create-proofing').fill('ID document checked in person by HR');
    await page.locator('#create-language').selectOption(language);
    const answer = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/admin/identities' && r.request().method() === 'POST');
    await page.locator('#create-submit').click();
    const res = await answer;
    const body = (await res.json()) as { identity?: { id?: string } };
    assert.equal(res.status(), 201, JSON.stringify(body));
    const id = body.identity?.id;
    assert.ok(id, 'the new identity’s id');
    await page.locator(`#create-result[data-identity-id="${id}"]`).waitFor({ state: 'visible' });
    return id;
  }

  const stored = async (id: string): Promise<Language | null | undefined> => (await gw.runtime.store.read((tx) => tx.identities.get(id)))?.language;

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

  for (const [language, other] of [['da', 'en'], ['en', 'da']] as const) {
    it(`issue 16: on the ${language} page, the bind form offers the organisation’s language, Danish and English (each named in itself); no serious or critical axe violation at desktop width and 390 px`, async () => {
      for (const viewport of [DESKTOP, PHONE]) {
        const page = await open(language, viewport);
        const options = await page.locator('#create-language option').evaluateAll((os) => os.map((o) => [(o as HTMLOptionElement).value, o.textContent, o.getAttribute('lang')]));
        assert.deepEqual(options, [
          ['', CATALOGUES[language]['admin.create.language.organisation'], null],
          ['da', CATALOGUES.da['common.language.name'], 'da'],
          ['en', CATALOGUES.en['common.language.name'], 'en'],
        ]);
        assert.equal(await page.locator('#create-language').inputValue(), '', 'the organisation’s language is the default');
        assert.equal(await page.locator('label[for="create-language"]').textContent(), CATALOGUES[language]['admin.create.language.label']);
        assert.deepEqual(await seriousViolations(page), [], `admin bind form (${language}, ${viewport.width} px): serious or critical accessibility violations`);
        if (viewport === DESKTOP) {
          await page.locator('#create-language').scrollIntoViewIfNeeded();
          await photograph(page, language, 'admin-bind-language');
        }
      }
    });

    it(`issue 16: bound on the ${language} page with ${other} chosen, the person has ${other} stored and their enrolment mail is in ${other}`, async () => {
      const page = await open(language);
      const who = { name: `Sprog ${language} ${other}`, email: `sprog.${language}.${other}@demo.example` };
      const id = await bind(page, who, other);
      assert.equal(await stored(id), other);
      const before = (await gw.mailsTo(who.email)).length;
      const sent = page.waitForResponse((r) => new URL(r.url()).pathname === `/api/admin/identities/${id}/enrolments`);
      await page.locator('#issue-enrolment-button').click();
      assert.equal((await sent).status(), 201);
      const mail = (await gw.mailsTo(who.email)).slice(before).find((m) => m.kind === 'enrolment-link');
      assert.ok(mail, 'an enrolment mail');
      assert.equal(mail.subject, CATALOGUES[other]['mail.link.subject']);
    });
  }

  it('issue 16: bound with no language chosen, the person has none stored (the organisation’s language applies)', async () => {
    const page = await open('en');
    const id = await bind(page, { name: 'Sprog Organisation', email: 'sprog.organisation@demo.example' }, '');
    assert.equal(await stored(id), null);
  });
});
