/**
 * Lists with filters on the helpdesk page (issue 16), in Danish and in English: people (two of
 * the same name told apart by email and id; "no active key"), keys suspended for a reason, keys
 * waiting for activation and requests waiting for a second person; sorted by a column heading
 * with the keyboard (aria-sort), paged, usable at 390 px, with axe-core finding no serious or
 * critical violation and every word from the page language's catalogue. Screenshots at desktop
 * width and 390 px go to test-results/pages/<language>/.
 *
 * A real gateway (SQLite, SoftHSM, file outbox) serves the built client to Debian's Chromium;
 * people and keys are made through the API with the software authenticator.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { formatDateTime, text, type Language } from '../../i18n/index.js';
import { ApiClient, field } from '../support/apiClient.js';
import { launchChromium } from '../support/browser.js';
import { activeAdmin, activeEmployee, enrol } from '../support/journeys.js';
import { DESKTOP, PHONE, photograph, seriousViolations, textsOf, wordsNotFromCatalogue } from '../support/pageChecks.js';
import { SoftAuthenticator } from '../support/softAuthenticator.js';
import { startTestGateway, type TestGateway } from '../support/testGateway.js';

const UI_TIMEOUT = 20_000;
const LOCALES: Record<Language, string> = { da: 'da-DK', en: 'en-GB' };
const EXTRA_PEOPLE = 26;

describe('issue 16: helpdesk lists with filters, sort and paging, in Danish and English, by keyboard and at 390 px', { timeout: 600_000 }, () => {
  let gw: TestGateway;
  let browser: Browser;
  let admin: Awaited<ReturnType<typeof activeAdmin>>;
  let anna1: Awaited<ReturnType<typeof activeEmployee>>;
  let anna2: Awaited<ReturnType<typeof activeEmployee>>;
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
    await page.goto('/helpdesk.html');
    await page.locator('#console-content').waitFor({ state: 'visible' });
    return page;
  }

  async function check(page: Page, language: Language, name: string): Promise<void> {
    assert.equal(await page.getAttribute('html', 'lang'), language);
    assert.deepEqual(await seriousViolations(page), [], `${name} (${language}): serious or critical accessibility violations`);
    assert.deepEqual(wordsNotFromCatalogue(await textsOf(page), language, data), [], `${name} (${language}): words not from the catalogue`);
    await photograph(page, language, name);
  }

  /** Switches to the list `view` (which loads it) and waits for its answer. */
  async function switchTo(page: Page, view: string): Promise<void> {
    const answer = page.waitForResponse((r) => new URL(r.url()).pathname === `/api/helpdesk/lists/${view}`);
    await page.locator('#lists-view').selectOption(view);
    assert.equal((await answer).status(), 200);
    await drawn(page);
  }

  /** The answer arrives before the table is drawn; the list says it is done with aria-busy. */
  const drawn = (page: Page) => page.locator('#lists-results[aria-busy="false"]').waitFor({ state: 'attached' });

  /** Shows the current list with the filters set, and waits for its answer. */
  async function show(page: Page, view: string): Promise<void> {
    assert.equal(await page.locator('#lists-view').inputValue(), view);
    const answer = page.waitForResponse((r) => new URL(r.url()).pathname === `/api/helpdesk/lists/${view}`);
    await page.locator('#lists-apply').click();
    assert.equal((await answer).status(), 200);
    await drawn(page);
  }

  const cells = (page: Page, column: number) => page.locator(`#lists-body tr td:nth-child(${column})`).allTextContents();

  before(async () => {
    gw = await startTestGateway({ withClient: true, env: { GATEWAY_BULK_APPROVAL_THRESHOLD: '2' } });
    browser = await launchChromium();
    admin = await activeAdmin(gw);
    anna1 = await activeEmployee(gw, admin.client, 'anna.berg@demo.example', 'Anna Berg');
    anna2 = await activeEmployee(gw, admin.client, 'anna.b@demo.example', 'Anna Berg');
    assert.equal((await admin.client.post(`/api/helpdesk/credentials/${anna2.keyId}/suspend`, { reason: 'lost' })).status, 200);
    const names: string[] = [];
    for (let i = 1; i <= EXTRA_PEOPLE; i++) {
      const name = `Zeta Person ${String(i).padStart(2, '0')}`;
      names.push(name);
      const made = await admin.client.post('/api/admin/identities', { name, email: `zeta${i}@demo.example`, ial: 'substantial', proofingMethod: 'ID checked by HR', ...(i === 1 ? { roles: ['helpdesk'] } : {}) });
      assert.equal(made.status, 201, JSON.stringify(made.body));
    }
    // One key registered and waiting for its activation code.
    const zetaId = field<string>((await admin.client.get('/api/helpdesk/lists/people?q=zeta2%40')).body, 'items', '0', 'id');
    assert.equal((await admin.client.post(`/api/admin/identities/${zetaId}/enrolments`, {})).status, 201);
    const waitingKey = await enrol(gw, new ApiClient(gw.origin), new SoftAuthenticator(), await gw.latestEnrolmentLink('zeta2@demo.example'), 'Waiting key');
    // A bulk action over the threshold waits for a second person.
    const bulk = await admin.client.post('/api/helpdesk/bulk', { action: 'revoke', credentialIds: [anna1.keyId, anna2.keyId, waitingKey], reason: 'suspected-compromise' });
    assert.equal(bulk.status, 202, JSON.stringify(bulk.body));
    data = ['First Administrator', admin.email, 'Anna Berg', 'anna.berg@demo.example', 'anna.b@demo.example', anna1.identityId, anna2.identityId, ...names, 'Waiting key', 'Key', 'Security key', 'ID checked by HR'];
    for (let i = 1; i <= EXTRA_PEOPLE; i++) data.push(`zeta${i}@demo.example`);
    const people = (await admin.client.get('/api/helpdesk/lists/people?limit=100')).body;
    for (const p of field<{ id: string }[]>(people, 'items')) data.push(p.id);
    for (const k of field<{ label: string }[]>((await admin.client.get('/api/helpdesk/lists/keys?limit=100')).body, 'items')) data.push(k.label);
    const summaries = field<{ summary: string }[]>((await admin.client.get('/api/helpdesk/lists/approvals')).body, 'items');
    data.push(...summaries.map((a) => a.summary));
  });
  after(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await gw?.close();
  });

  for (const language of ['da', 'en'] as const) {
    describe(language === 'da' ? 'in Danish' : 'in English', () => {
      it('issue 16: the people list tells two people of the same name apart (email and id), filters "no active key", and pages through every person', async () => {
        const page = await open(language);
        await page.locator('#list-q').fill('anna berg');
        await show(page, 'people');
        assert.deepEqual((await cells(page, 1)).map((s) => s.trim()), ['Anna Berg', 'Anna Berg']);
        assert.deepEqual((await cells(page, 2)).sort(), ['anna.b@demo.example', 'anna.berg@demo.example']);
        assert.deepEqual((await cells(page, 3)).sort(), [anna1.identityId, anna2.identityId].sort());
        await check(page, language, 'helpdesk-list-people');
        await page.locator('#list-q').fill('');
        await page.locator('#list-no-active-key').check();
        await show(page, 'people');
        const noActive = await cells(page, 1);
        assert.ok(noActive.includes('Anna Berg') && noActive.includes('Zeta Person 01'), 'the suspended key is not active; Zeta has no key');
        const cleared = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/helpdesk/lists/people');
        await page.locator('#lists-reset').click();
        await cleared;
        await drawn(page);
        // 29 people: a page of 25, then 4; the pager names the rows.
        await show(page, 'people');
        assert.equal(await page.locator('#lists-body tr').count(), 25);
        assert.equal(((await page.locator('#lists-range').textContent()) ?? '').trim(), text(language, 'lists.pager.range', { from: 1, to: 25, total: 29 }));
        assert.equal(await page.locator('#lists-prev').isDisabled(), true);
        const next = page.waitForResponse((r) => r.url().includes('/api/helpdesk/lists/people') && r.url().includes('offset=25'));
        await page.locator('#lists-next').click();
        await next;
        await drawn(page);
        await page.locator('#lists-next[disabled]').waitFor();
        assert.equal(await page.locator('#lists-body tr').count(), 4);
        assert.deepEqual(await cells(page, 1), ['Zeta Person 23', 'Zeta Person 24', 'Zeta Person 25', 'Zeta Person 26']);
      });

      it('issue 16: a column heading sorts by keyboard, says its order with aria-sort and keeps the focus', async () => {
        const page = await open(language);
        await show(page, 'people');
        const nameHeading = page.locator('#lists-head th').first();
        assert.equal(await nameHeading.getAttribute('aria-sort'), 'ascending');
        await page.locator('#lists-head button[data-sort="name"]').focus();
        const answer = page.waitForResponse((r) => r.url().includes('direction=desc'));
        await page.keyboard.press('Enter');
        await answer;
        await page.locator('#lists-head th[aria-sort="descending"]').waitFor();
        assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-sort')), 'name', 'the focus stays on the heading');
        assert.equal(((await cells(page, 1))[0] ?? '').trim(), 'Zeta Person 26');
        const created = page.locator('#lists-head button[data-sort="createdAt"]');
        await created.focus();
        await page.keyboard.press('Space');
        await page.locator('#lists-head th[aria-sort="ascending"] button[data-sort="createdAt"]').waitFor();
        assert.equal(await nameHeading.getAttribute('aria-sort'), 'none');
      });

      it('issue 16 / NSIS 3.2.3: the key list shows keys suspended for a reason, with dates in the page language', async () => {
        const page = await open(language);
        await switchTo(page, 'keys');
        await page.locator('#list-state').selectOption('suspended');
        await page.locator('#list-reason').selectOption('lost');
        await show(page, 'keys');
        assert.equal(await page.locator('#lists-body tr').count(), 1);
        assert.match((await cells(page, 1))[0] ?? '', /anna\.b@demo\.example/);
        assert.match((await cells(page, 5))[0] ?? '', new RegExp(text(language, 'reason.lost')));
        const times = page.locator('#lists-body time');
        for (let i = 0; i < (await times.count()); i++) {
          const iso = (await times.nth(i).getAttribute('datetime')) ?? '';
          assert.equal(await times.nth(i).textContent(), formatDateTime(iso, { language, timeZone: 'Europe/Copenhagen' }));
        }
        await check(page, language, 'helpdesk-list-keys');
      });

      it('issue 16: pending activations and requests waiting for a second person are listed; the page fits 390 px', async () => {
        const page = await open(language);
        await switchTo(page, 'activations');
        await show(page, 'activations');
        assert.deepEqual(await cells(page, 2), ['Waiting key']);
        await check(page, language, 'helpdesk-list-activations');
        await switchTo(page, 'approvals');
        assert.equal(await page.locator('#lists-body tr').count(), 1);
        assert.match((await cells(page, 1))[0] ?? '', new RegExp(text(language, 'helpdesk.kind.bulk')));
        await page.setViewportSize(PHONE);
        assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'no sideways scrolling at 390 px');
        await check(page, language, 'helpdesk-list-approvals');
        // A heading under the pointer keeps its contrast (the pages' button:hover background once made it 1.7:1).
        await page.locator('#lists-head button[data-sort="kind"]').hover();
        assert.deepEqual(await seriousViolations(page), [], 'a sort heading under the pointer');
      });
    });
  }
});
