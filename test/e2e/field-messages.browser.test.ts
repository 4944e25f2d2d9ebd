/**
 * Issue 16: a form the server refuses shows each field's message in the page's language (Danish
 * on a Danish page, not marked as English), next to the field's own label; in real Chromium.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { CATALOGUES, type Language } from '../../i18n/index.js';
import { launchChromium } from '../support/browser.js';
import { startTestGateway, type TestGateway } from '../support/testGateway.js';

describe('issue 16: field messages on the pages in the page’s language', { timeout: 300_000 }, () => {
  let gw: TestGateway;
  let browser: Browser;

  before(async () => {
    gw = await startTestGateway({ withClient: true, env: { GATEWAY_DEFAULT_LANGUAGE: 'da' } });
    browser = await launchChromium();
  });
  after(async () => {
    await browser.close();
    await gw.close();
  });

  /** The activation page, an address the browser accepts and the server refuses (no domain dot). */
  async function refusedAddress(language: Language): Promise<{ text: string; serverText: string[] }> {
    const ctx = await browser.newContext({ viewport: { width: 390, height: 800 } });
    try {
      const page = await ctx.newPage();
      await page.goto(`${gw.origin}/activate.html?lang=${language}`);
      await page.fill('#email', 'a@b');
      await page.fill('#code', '12345678');
      await page.click('#activate-form button[type=submit]');
      const error = page.locator('#error');
      await error.getByText(CATALOGUES[language]['validation.format.email']).waitFor();
      return { text: (await error.textContent()) ?? '', serverText: await error.locator('.server-text').allTextContents() };
    } finally {
      await ctx.close();
    }
  }

  it('issue 16: on a Danish page the refused field reads in Danish with its label, and the English detail is not repeated', async () => {
    const da = await refusedAddress('da');
    assert.ok(da.text.includes(`${CATALOGUES.da['common.emailAddress']}: ${CATALOGUES.da['validation.format.email']}`), da.text);
    assert.ok(da.text.includes(CATALOGUES.da['problem.VALIDATION_FAILED']), da.text);
    assert.deepEqual(da.serverText, [], 'nothing on the Danish page is the server’s English');
    const en = await refusedAddress('en');
    assert.ok(en.text.includes(`${CATALOGUES.en['common.emailAddress']}: ${CATALOGUES.en['validation.format.email']}`), en.text);
  });
});
