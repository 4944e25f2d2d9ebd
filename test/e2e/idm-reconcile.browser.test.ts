/**
 * Issue 18: the administration page's reconciliation with MitID Erhverv in a real browser (Debian's
 * Chromium) against the IdM contract server: the org-admin presses "Reconcile now" and the page
 * shows the outcome (differences found, changes queued) and the differences left for a person; in
 * Danish and in English, every word from that language's catalogue, no serious or critical
 * accessibility violation, photographed at desktop width and at 390 px
 * (test-results/pages/<language>/admin-idm-reconcile-*.png).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { text, type Language } from '../../i18n/index.js';
import { field } from '../support/apiClient.js';
import { launchChromium } from '../support/browser.js';
import { type IdmHarness, startIdm } from '../support/idmHarness.js';
import { activeAdmin } from '../support/journeys.js';
import { DESKTOP, photograph, seriousViolations, textsOf, wordsNotFromCatalogue } from '../support/pageChecks.js';
import { startTestGateway, type TestGateway } from '../support/testGateway.js';

const UI_TIMEOUT = 20_000;
const LOCALES: Record<Language, string> = { da: 'da-DK', en: 'en-GB' };

describe('issue 18: reconciliation on the administration page', { timeout: 600_000 }, () => {
  let gw: TestGateway;
  let idm: IdmHarness;
  let browser: Browser;
  let admin: Awaited<ReturnType<typeof activeAdmin>>;
  const contexts: BrowserContext[] = [];
  let data: string[] = [];

  before(async () => {
    idm = await startIdm();
    gw = await startTestGateway({ withClient: true, env: { ...idm.env(), GATEWAY_IDM_SUBJECT_NAME_ID_SUFFIX: '@demo.example' } });
    browser = await launchChromium();
    admin = await activeAdmin(gw);
    const reg = await admin.client.post('/api/admin/provisioning/clients', { label: 'Entra ID', ial: 'substantial', proofingMethod: 'HR onboarding: passport checked in person' });
    assert.equal(reg.status, 201);
    const res = await fetch(`${gw.origin}/scim/v2/Users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${field<string>(reg.body, 'token', 'token')}`, 'content-type': 'application/scim+json' },
      body: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'eva@demo.example', externalId: 'eva', name: { givenName: 'Eva', familyName: 'Holm' }, emails: [{ type: 'work', value: 'eva@demo.example', primary: true }] }),
    });
    assert.equal(res.status, 201);
    assert.ok(gw.runtime.idm);
    await gw.runtime.idm.runOnce();
    // Planted at MitID Erhverv: Eva suspended there (reported) and her email changed (repaired).
    const eva = [...idm.server.employees.values()].find((e) => e.emailAddress === 'eva@demo.example');
    assert.ok(eva);
    eva.status = 'Suspended';
    eva.emailAddress = 'eva.holm@example.org';
    data = ['First Administrator', admin.email, 'Entra ID', 'HR onboarding: passport checked in person', 'Eva Holm', 'eva@demo.example', 'active here, suspended there', gw.origin];
  });
  after(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await gw?.close();
    await idm?.close();
  });

  for (const language of ['en', 'da'] as const) {
    it(`issue 18 / NSIS 5.2 (${language}): an org-admin reconciles with MitID Erhverv from the admin page; the outcome and the differences left for a person are shown; accessible, from the catalogue`, async () => {
      const context = await browser.newContext({ baseURL: gw.origin, viewport: DESKTOP, locale: LOCALES[language], timezoneId: 'Europe/Copenhagen' });
      context.setDefaultTimeout(UI_TIMEOUT);
      contexts.push(context);
      const session = admin.client.cookie('gw_session');
      if (session) await context.addCookies([{ name: 'gw_session', value: session, url: gw.origin }]);
      const page: Page = await context.newPage();
      await page.goto('/admin.html');
      const button = page.locator('#idm-reconcile');
      await button.waitFor({ state: 'visible' });
      assert.equal((await button.textContent())?.trim(), text(language, 'provisioning.idm.reconcile.run'));
      await button.click();
      await page.locator('#idm-reconcile-reported li').first().waitFor({ state: 'visible' });
      const last = (await page.locator('#idm-reconcile-last').textContent()) ?? '';
      assert.ok(last.includes(text(language, 'provisioning.idm.reconcile.byHand')), last);
      assert.ok(last.includes(text(language, 'provisioning.idm.finding.suspended-there-only')) === false);
      const item = (await page.locator('#idm-reconcile-reported li').first().textContent()) ?? '';
      assert.ok(item.startsWith(text(language, 'provisioning.idm.finding.suspended-there-only')), item);
      assert.equal(await page.getAttribute('html', 'lang'), language);
      assert.deepEqual(await seriousViolations(page), [], `serious or critical accessibility violations (${language})`);
      assert.deepEqual(wordsNotFromCatalogue(await textsOf(page), language, data), [], `words not from the catalogue (${language})`);
      await photograph(page, language, 'admin-idm-reconcile');
    });
  }
});
