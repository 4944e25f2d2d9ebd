/**
 * Issue 16, the audit trail's filter by name, in real Chromium on security.html, in English and
 * Danish: a person or a key is found by the person's name or e-mail address (not only by id)
 * through GET /api/security/audit/lookup, resolved to its id and the trail filtered by it; a
 * name matching nobody or several is said at the field, with the matches. The lookup is for
 * security officers only (ROLE_REQUIRED, audited), and a too short text is refused with
 * VALIDATION_FAILED. axe-core: no serious or critical violation; screenshots at desktop width
 * and 390 px in test-results/pages/.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { text, type Language } from '../../i18n/index.js';
import { field, type ApiClient } from '../support/apiClient.js';
import { launchChromium } from '../support/browser.js';
import { activeAdmin, activeEmployee, signIn } from '../support/journeys.js';
import { DESKTOP, photograph, seriousViolations } from '../support/pageChecks.js';
import { startTestGateway, type TestGateway } from '../support/testGateway.js';

const UI_TIMEOUT = 20_000;

describe('issue 16: the audit trail filtered by a person’s or key’s name or e-mail address (NSIS 6 (Low) 7)', { timeout: 300_000 }, () => {
  let gw: TestGateway;
  let browser: Browser;
  let admin: Awaited<ReturnType<typeof activeAdmin>>;
  let ida: Awaited<ReturnType<typeof activeEmployee>>;
  let ivan: Awaited<ReturnType<typeof activeEmployee>>;
  const contexts: BrowserContext[] = [];

  async function open(language: Language, client: ApiClient): Promise<Page> {
    const context = await browser.newContext({ baseURL: gw.origin, viewport: DESKTOP, locale: language === 'da' ? 'da-DK' : 'en-GB' });
    context.setDefaultTimeout(UI_TIMEOUT);
    contexts.push(context);
    const session = client.cookie('gw_session');
    if (session) await context.addCookies([{ name: 'gw_session', value: session, url: gw.origin }]);
    const page = await context.newPage();
    await page.goto(`/security.html?lang=${language}`);
    await page.locator('[data-testid="trail-row"]').first().waitFor({ state: 'visible' });
    return page;
  }

  /** Applies the filter and waits for the trail's answer; returns its query. */
  async function apply(page: Page): Promise<URLSearchParams> {
    const answered = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/security/audit/entries');
    await page.locator('#trail-apply').click();
    const res = await answered;
    assert.equal(res.status(), 200);
    return new URL(res.url()).searchParams;
  }

  before(async () => {
    gw = await startTestGateway({ withClient: true });
    browser = await launchChromium();
    admin = await activeAdmin(gw);
    ida = await activeEmployee(gw, admin.client, 'ida.iversen@demo.example', 'Ida Iversen');
    ivan = await activeEmployee(gw, admin.client, 'ivan.iversen@demo.example', 'Ivan Iversen');
    assert.equal((await signIn(gw, ida.client, ida.auth, ida.email)).status, 200);
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await gw?.close();
  });

  for (const language of ['en', 'da'] as const) {
    it(`NSIS 6 (Low) 7 (${language}): a person typed by e-mail address, and a key by its holder's name, are resolved to their ids and the trail is filtered by them`, async () => {
      const page = await open(language, admin.client);
      await page.locator('#trail-person').fill('ida.iversen@demo.example');
      const byPerson = await apply(page);
      assert.equal(byPerson.get('person'), ida.identityId);
      await page.locator('[data-testid="trail-resolved"]:not([hidden])').waitFor();
      assert.match((await page.locator('[data-testid="trail-resolved"]').textContent()) ?? '', /Ida Iversen <ida\.iversen@demo\.example>/);
      const subjects = await page.locator('[data-testid="trail-row"] [data-testid="trail-subject"] span[title]').evaluateAll((s) => s.map((e) => e.getAttribute('title')));
      const actors = await page.locator('[data-testid="trail-row"] [data-testid="trail-actor"] span[title]').evaluateAll((s) => s.map((e) => e.getAttribute('title')));
      assert.ok(subjects.length > 0);
      for (let i = 0; i < subjects.length; i++) assert.ok(subjects[i] === ida.identityId || actors[i] === ida.identityId || subjects[i] === ida.keyId, 'every row is about Ida or done by her');

      await page.locator('#trail-person').fill('');
      await page.locator('#trail-key').fill('Ivan Iversen');
      const byKey = await apply(page);
      assert.equal(byKey.get('key'), ivan.keyId);
      assert.equal(byKey.get('person'), null);
      assert.deepEqual(await seriousViolations(page), [], 'axe: no serious or critical violations');
      await page.locator('#audit-trail-section').scrollIntoViewIfNeeded();
      await photograph(page, language, 'security-audit-trail-lookup');
    });

    it(`NSIS 6 (Low) 7 (${language}): a name that matches several people or nobody is said at the field, with the matches, and the trail is not asked`, async () => {
      const page = await open(language, admin.client);
      let asked = 0;
      page.on('request', (r) => {
        if (new URL(r.url()).pathname === '/api/security/audit/entries') asked++;
      });
      await page.locator('#trail-actor').fill('Iversen');
      const looked = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/security/audit/lookup');
      await page.locator('#trail-apply').click();
      assert.equal((await looked).status(), 200);
      await page.locator('#trail-actor[aria-invalid="true"]').waitFor();
      const several = text(language, 'auditTrail.lookup.several', { text: 'Iversen', matches: '' }).split(':')[0] ?? '';
      const message = (await page.locator('[role="alert"], .error, #error').allTextContents()).join(' ');
      assert.ok(message.includes(several), message);
      assert.match(message, /Ida Iversen <ida\.iversen@demo\.example>/);
      assert.match(message, /Ivan Iversen <ivan\.iversen@demo\.example>/);
      await page.locator('#trail-actor').fill('Nobody Such');
      const none = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/security/audit/lookup');
      await page.locator('#trail-apply').click();
      await none;
      await page.waitForFunction((m) => document.body.innerText.includes(m), text(language, 'auditTrail.lookup.none', { text: 'Nobody Such' }));
      assert.equal(asked, 0, 'the trail was not asked with an unresolved filter');
    });
  }

  it('NSIS 6 (Low) 7: the lookup is for security officers only (ROLE_REQUIRED, audited); a text under 2 characters is refused (VALIDATION_FAILED); an id finds the key', async () => {
    const refused = await ida.client.get('/api/security/audit/lookup?q=Ivan');
    assert.equal(refused.status, 403);
    assert.equal(refused.code, 'ROLE_REQUIRED');
    const events = await gw.runtime.store.read((tx) => tx.audit.search({ types: ['audit.read-refused'] }, 'desc', 5));
    assert.ok(events.some((e) => e.actorId === ida.identityId && e.data['asked'] === 'lookup'), 'the refusal is audited');
    const short = await admin.client.get('/api/security/audit/lookup?q=I');
    assert.equal(short.status, 400);
    assert.equal(short.code, 'VALIDATION_FAILED');
    const byId = await admin.client.get(`/api/security/audit/lookup?q=${ivan.keyId}`);
    assert.equal(byId.status, 200);
    assert.deepEqual(field<{ id: string }[]>(byId.body, 'keys').map((k) => k.id), [ivan.keyId]);
  });
});
