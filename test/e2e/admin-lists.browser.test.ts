/**
 * Lists with filters on the administration page (issue 16), in Danish and in English: people
 * filtered by binding state, role, "no active key" and text; the requests waiting for a second
 * administrator; sorted by a column heading with the keyboard (aria-sort), paged, usable at
 * 390 px, with axe-core finding no serious or critical violation and every word from the page
 * language's catalogue. The list module is the helpdesk's (client/src/lists.ts), asking
 * GET /api/admin/lists/{people,approvals}. Screenshots at desktop width and 390 px go to
 * test-results/pages/<language>/.
 *
 * A real gateway (SQLite, SoftHSM, file outbox) serves the built client to Debian's Chromium.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page, Response } from 'playwright-core';
import { text, type Language } from '../../i18n/index.js';
import { field } from '../support/apiClient.js';
import { launchChromium } from '../support/browser.js';
import { activeAdmin, activeEmployee } from '../support/journeys.js';
import { DESKTOP, PHONE, photograph, seriousViolations, textsOf, wordsNotFromCatalogue } from '../support/pageChecks.js';
import { startTestGateway, type TestGateway } from '../support/testGateway.js';

const UI_TIMEOUT = 20_000;
const LOCALES: Record<Language, string> = { da: 'da-DK', en: 'en-GB' };
const EXTRA_PEOPLE = 26;

describe('issue 16: administration page lists with filters, sort and paging, in Danish and English, by keyboard and at 390 px', { timeout: 600_000 }, () => {
  let gw: TestGateway;
  let browser: Browser;
  let admin: Awaited<ReturnType<typeof activeAdmin>>;
  let anna: Awaited<ReturnType<typeof activeEmployee>>;
  const contexts: BrowserContext[] = [];
  let data: string[] = [];

  async function open(language: Language): Promise<Page> {
    const context = await browser.newContext({ baseURL: gw.origin, viewport: DESKTOP, locale: LOCALES[language], timezoneId: 'Europe/Copenhagen' });
    context.setDefaultTimeout(UI_TIMEOUT);
    contexts.push(context);
    const session = admin.client.cookie('gw_session');
    assert.ok(session);
    await context.addCookies([{ name: 'gw_session', value: session, url: gw.origin }]);
    const page = await context.newPage();
    await page.goto('/admin.html');
    await page.locator('#console-content').waitFor({ state: 'visible' });
    await page.locator('#lists-view option').first().waitFor({ state: 'attached' });
    return page;
  }

  async function check(page: Page, language: Language, name: string): Promise<void> {
    assert.equal(await page.getAttribute('html', 'lang'), language);
    assert.deepEqual(await seriousViolations(page), [], `${name} (${language}): serious or critical accessibility violations`);
    assert.deepEqual(wordsNotFromCatalogue(await textsOf(page), language, data), [], `${name} (${language}): words not from the catalogue`);
    await page.locator('#lists-section').scrollIntoViewIfNeeded();
    await photograph(page, language, name);
  }

  const answerOf = (page: Page, view: string) => page.waitForResponse((r) => new URL(r.url()).pathname === `/api/admin/lists/${view}`);

  /** Waits until the people list shows the answer's rows (the answer arrives before the table is drawn). */
  async function drawn(page: Page, answer: Response): Promise<void> {
    assert.equal(answer.status(), 200);
    const names = field<{ name: string }[]>(await answer.json(), 'items').map((p) => p.name);
    await page.waitForFunction(
      (expected) => JSON.stringify(Array.from(document.querySelectorAll('#lists-body tr td:first-child')).map((c) => (c.textContent ?? '').trim())) === JSON.stringify(expected),
      names,
    );
  }

  /** Shows the people list with the filters set, and waits until it is drawn. */
  async function show(page: Page, view: 'people'): Promise<void> {
    assert.equal(await page.locator('#lists-view').inputValue(), view);
    const answer = answerOf(page, view);
    await page.locator('#lists-apply').click();
    await drawn(page, await answer);
  }

  const cells = async (page: Page, column: number) => (await page.locator(`#lists-body tr td:nth-child(${column})`).allTextContents()).map((s) => s.trim());

  before(async () => {
    gw = await startTestGateway({ withClient: true });
    browser = await launchChromium();
    admin = await activeAdmin(gw);
    anna = await activeEmployee(gw, admin.client, 'anna.berg@demo.example', 'Anna Berg');
    assert.equal((await admin.client.post(`/api/helpdesk/credentials/${anna.keyId}/suspend`, { reason: 'lost' })).status, 200);
    const names: string[] = [];
    for (let i = 1; i <= EXTRA_PEOPLE; i++) {
      const name = `Zeta Person ${String(i).padStart(2, '0')}`;
      names.push(name);
      const made = await admin.client.post('/api/admin/identities', { name, email: `zeta${i}@demo.example`, ial: 'substantial', proofingMethod: 'ID checked by HR', ...(i === 1 ? { roles: ['helpdesk'] } : {}) });
      assert.equal(made.status, 201, JSON.stringify(made.body));
    }
    // An email address change always waits for a second person (no bootstrap exception).
    const zeta2 = field<string>((await admin.client.get('/api/admin/lists/people?q=zeta2%40')).body, 'items', '0', 'id');
    const change = await admin.client.request('PATCH', `/api/admin/identities/${zeta2}`, { email: 'zeta2.new@demo.example' });
    assert.equal(change.status, 202, JSON.stringify(change.body));
    // One binding ended.
    const zeta3 = field<string>((await admin.client.get('/api/admin/lists/people?q=zeta3%40')).body, 'items', '0', 'id');
    assert.equal((await admin.client.post(`/api/admin/identities/${zeta3}/end-binding`, { reason: 'employment-ended' })).status, 200);
    data = ['First Administrator', admin.email, 'Anna Berg', 'anna.berg@demo.example', anna.identityId, 'zeta2.new@demo.example', ...names, 'ID checked by HR'];
    for (let i = 1; i <= EXTRA_PEOPLE; i++) data.push(`zeta${i}@demo.example`);
    for (const p of field<{ id: string }[]>((await admin.client.get('/api/admin/lists/people?limit=100')).body, 'items')) data.push(p.id);
    data.push(...field<{ summary: string }[]>((await admin.client.get('/api/admin/lists/approvals')).body, 'items').map((a) => a.summary));
  });
  after(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await gw?.close();
  });

  for (const language of ['da', 'en'] as const) {
    describe(language === 'da' ? 'in Danish' : 'in English', () => {
      it('issue 16: the administration page’s people list filters by text, role, binding state and "no active key", and pages through every person', async () => {
        const page = await open(language);
        assert.deepEqual(await page.locator('#lists-view option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value)), ['people', 'approvals'], 'the views an administrator has');
        await page.locator('#list-q').fill('anna berg');
        await show(page, 'people');
        assert.deepEqual(await cells(page, 1), ['Anna Berg']);
        assert.deepEqual(await cells(page, 3), [anna.identityId]);
        await check(page, language, 'admin-list-people');
        // A name under the pointer keeps its contrast (the pages' button:hover background once hid it).
        await page.locator('#lists-body [data-testid="list-open-person"]').first().hover();
        assert.deepEqual(await seriousViolations(page), [], 'a person\'s name under the pointer');
        await page.locator('#list-q').fill('');
        await page.locator('#list-no-active-key').check();
        await page.locator('#list-binding').selectOption('active');
        await show(page, 'people');
        const noActive = await cells(page, 1);
        assert.ok(noActive.includes('Anna Berg') && noActive.includes('Zeta Person 01'), 'a suspended key is not active; Zeta has no key');
        assert.ok(!noActive.includes('Zeta Person 03'), 'the ended binding is filtered out');
        assert.ok(!noActive.includes('First Administrator'), 'the administrator has an active key');
        await page.locator('#list-no-active-key').uncheck();
        await page.locator('#list-binding').selectOption('ended');
        await show(page, 'people');
        assert.deepEqual(await cells(page, 1), ['Zeta Person 03']);
        await page.locator('#list-binding').selectOption('');
        await page.locator('#list-role').selectOption('helpdesk');
        await show(page, 'people');
        assert.deepEqual(await cells(page, 1), ['First Administrator', 'Zeta Person 01'], 'the seeded administrator holds every staff role');
        const cleared = answerOf(page, 'people');
        await page.locator('#lists-reset').click();
        await drawn(page, await cleared);
        // 28 people: a page of 25, then 3; the pager names the rows.
        assert.equal(await page.locator('#lists-body tr').count(), 25);
        assert.equal(((await page.locator('#lists-range').textContent()) ?? '').trim(), text(language, 'lists.pager.range', { from: 1, to: 25, total: 28 }));
        assert.equal(await page.locator('#lists-prev').isDisabled(), true);
        const next = page.waitForResponse((r) => r.url().includes('/api/admin/lists/people') && r.url().includes('offset=25'));
        await page.locator('#lists-next').click();
        await drawn(page, await next);
        await page.locator('#lists-next[disabled]').waitFor();
        assert.deepEqual(await cells(page, 1), ['Zeta Person 24', 'Zeta Person 25', 'Zeta Person 26']);
      });

      it('issue 16: on the administration page a column heading sorts by keyboard, says its order with aria-sort and keeps the focus; a name opens the person', async () => {
        const page = await open(language);
        await show(page, 'people');
        const nameHeading = page.locator('#lists-head th').first();
        assert.equal(await nameHeading.getAttribute('aria-sort'), 'ascending');
        await page.locator('#lists-head button[data-sort="name"]').focus();
        const answer = page.waitForResponse((r) => r.url().includes('/api/admin/lists/people') && r.url().includes('direction=desc'));
        await page.keyboard.press('Enter');
        await drawn(page, await answer);
        await page.locator('#lists-head th[aria-sort="descending"]').waitFor();
        assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-sort')), 'name', 'the focus stays on the heading');
        assert.equal((await cells(page, 1))[0], 'Zeta Person 26');
        // Enter on a name opens the person panel.
        await page.locator('#lists-body [data-testid="list-open-person"]').first().focus();
        await page.keyboard.press('Enter');
        await page.locator('#person:not([hidden]) #person-name', { hasText: 'Zeta Person 26' }).waitFor();
        assert.equal(await page.locator('#person [data-testid="person-email"]').textContent(), 'zeta26@demo.example');
      });

      it('issue 16: the requests waiting for a second administrator are listed on the administration page; it fits 390 px', async () => {
        const page = await open(language);
        const answer = answerOf(page, 'approvals');
        await page.locator('#lists-view').selectOption('approvals');
        assert.equal((await answer).status(), 200);
        // The answer arrives before the table is drawn: wait for the request's row, then count.
        await page.locator('#lists-body tr', { hasText: text(language, 'helpdesk.kind.contact-change') }).waitFor();
        assert.equal(await page.locator('#lists-body tr').count(), 1);
        assert.match((await cells(page, 1))[0] ?? '', new RegExp(text(language, 'helpdesk.kind.contact-change')));
        assert.equal(await page.locator('#lists-head th[aria-sort="ascending"] button[data-sort="requestedAt"]').count(), 1);
        await page.setViewportSize(PHONE);
        assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'no sideways scrolling at 390 px');
        await check(page, language, 'admin-list-approvals');
      });
    });
  }
});
