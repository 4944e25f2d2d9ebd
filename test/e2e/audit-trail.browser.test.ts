/**
 * Issue 16, the audit trail readable, in real Chromium on security.html, in English and Danish:
 * events in words, people by name with their ids on demand, a filter chosen with the keyboard,
 * the CSV export downloaded with that filter, Danish dates on the Danish page, usable at 390 px,
 * axe-core with zero serious or critical violations; screenshots in test-results/pages/.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { formatDateTime, text, type Language } from '../../i18n/index.js';
import type { ApiClient } from '../support/apiClient.js';
import { launchChromium } from '../support/browser.js';
import { activeAdmin, activeEmployee, signIn } from '../support/journeys.js';
import { DESKTOP, PHONE, photograph, seriousViolations } from '../support/pageChecks.js';
import { startTestGateway, type TestGateway } from '../support/testGateway.js';

const UI_TIMEOUT = 20_000;

describe('issue 16: the audit trail a person can read, on the security page (NSIS 6 (Low) 7)', { timeout: 300_000 }, () => {
  let gw: TestGateway;
  let browser: Browser;
  let admin: Awaited<ReturnType<typeof activeAdmin>>;
  let emp: Awaited<ReturnType<typeof activeEmployee>>;
  const contexts: BrowserContext[] = [];

  async function open(language: Language, client: ApiClient): Promise<Page> {
    const context = await browser.newContext({ baseURL: gw.origin, viewport: DESKTOP, locale: language === 'da' ? 'da-DK' : 'en-GB', acceptDownloads: true });
    context.setDefaultTimeout(UI_TIMEOUT);
    contexts.push(context);
    const session = client.cookie('gw_session');
    if (session) await context.addCookies([{ name: 'gw_session', value: session, url: gw.origin }]);
    const page = await context.newPage();
    await page.goto(`/security.html?lang=${language}`);
    await page.locator('[data-testid="trail-row"]').first().waitFor({ state: 'visible' });
    return page;
  }

  before(async () => {
    gw = await startTestGateway({ withClient: true });
    browser = await launchChromium();
    admin = await activeAdmin(gw);
    emp = await activeEmployee(gw, admin.client, 'ida.iversen@demo.example', 'Ida Iversen');
    assert.equal((await signIn(gw, emp.client, emp.auth, emp.email)).status, 200);
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await gw?.close();
  });

  for (const language of ['en', 'da'] as const) {
    it(`NSIS 6 (Low) 7 (${language}): events in words, people by name with the ids on demand, dates in the page's language, a filter by event chosen with the keyboard, and the CSV export of that filter`, async () => {
      const page = await open(language, admin.client);
      const first = page.locator('[data-testid="trail-row"]').first();
      const type = (await first.getAttribute('data-type')) ?? '';
      assert.equal((await first.locator('[data-testid="trail-event"]').textContent())?.trim(), text(language, `auditEvent.${type}` as 'auditEvent.signin.succeeded'));
      const at = (await first.locator('time').getAttribute('datetime')) ?? '';
      assert.equal((await first.locator('time').textContent())?.trim(), formatDateTime(at, { language, timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone }), 'the date in the page language');

      // Keyboard: the event choice, then Enter.
      await page.locator('#trail-event').focus();
      await page.locator('#trail-event').selectOption('signin.succeeded');
      const answered = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/security/audit/entries' && new URL(r.url()).searchParams.get('event') === 'signin.succeeded');
      // Enter in a filter field submits the filter (implicit submission), as a keyboard user does.
      await page.locator('#trail-person').press('Enter');
      assert.equal((await answered).status(), 200);
      await page.waitForFunction(() => Array.from(document.querySelectorAll('[data-testid="trail-row"]')).every((r) => (r as HTMLElement).dataset['type'] === 'signin.succeeded'));
      const idaRow = page.locator('[data-testid="trail-row"]', { hasText: 'Ida Iversen' }).first();
      await idaRow.waitFor({ state: 'visible' });
      assert.equal(await idaRow.locator('[data-testid="trail-actor"] span').first().getAttribute('title'), emp.identityId, 'the id in the title');
      await idaRow.locator('summary').click();
      assert.match((await idaRow.locator('[data-testid="trail-ids"]').textContent()) ?? '', new RegExp(emp.identityId), 'the id on demand');

      const csvHref = (await page.locator('#trail-csv').getAttribute('href')) ?? '';
      assert.match(csvHref, new RegExp(`event=signin.succeeded.*lang=${language}|lang=${language}.*event=signin.succeeded`));
      const download = page.waitForEvent('download');
      await page.locator('#trail-csv').click();
      const file = await (await download).path();
      const csv = fs.readFileSync(file, 'utf8');
      assert.ok(csv.startsWith(`\uFEFF${text(language, 'auditTrail.col.seq')},`), csv.slice(0, 40));
      assert.ok(csv.includes(text(language, 'auditEvent.signin.succeeded')) && !csv.includes('identity.created'), 'the export has the filter of the page');

      assert.deepEqual(await seriousViolations(page), [], 'axe: no serious or critical violations');
      await page.locator('#audit-trail-section').scrollIntoViewIfNeeded();
      await photograph(page, language, 'security-audit-trail');
      await page.setViewportSize(PHONE);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 1, `no sideways scrolling at 390 px (${overflow}px)`);
      assert.deepEqual(await seriousViolations(page), [], 'axe at 390 px');
    });
  }
});
