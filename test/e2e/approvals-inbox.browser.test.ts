/**
 * The approvals inbox (issue 16) with two staff members in two browser contexts: a second
 * org-admin asks for a staff role for an employee; the first org-admin, who may approve it, is
 * told by mail that it waits (NSIS 3.2.2 (High) 3, 5.2 (Substantial) 8: two-person control), finds
 * it in the inbox, sees exactly what will happen and approves it; the requester's inbox shows it
 * waiting, then carried out. In Danish and in English; each page state checked with axe-core, only
 * words of the page language's catalogue, photographed at desktop width and at 390 px.
 *
 * People and keys are made through the API with the software authenticator; each browser context
 * carries one staff member's session cookie.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { text, type Language } from '../../i18n/index.js';
import { ApiClient, field } from '../support/apiClient.js';
import { launchChromium } from '../support/browser.js';
import { activate, activeAdmin, activeEmployee, enrol, signIn } from '../support/journeys.js';
import { DESKTOP, photograph, seriousViolations, textsOf, wordsNotFromCatalogue } from '../support/pageChecks.js';
import { SoftAuthenticator } from '../support/softAuthenticator.js';
import { read } from '../support/storeReads.js';
import { startTestGateway, type TestGateway } from '../support/testGateway.js';

const UI_TIMEOUT = 20_000;
const LOCALES: Record<Language, string> = { da: 'da-DK', en: 'en-GB' };
const SECOND = { name: 'Birgit Andenadmin', email: 'birgit.admin@demo.example' };

describe('issue 16: one approvals inbox, two staff members in two browser contexts, in Danish and in English', { timeout: 600_000 }, () => {
  let gw: TestGateway;
  let browser: Browser;
  let admin: Awaited<ReturnType<typeof activeAdmin>>;
  let second: { client: ApiClient; auth: SoftAuthenticator; email: string };
  const contexts: BrowserContext[] = [];

  async function open(language: Language, client: ApiClient): Promise<Page> {
    const context = await browser.newContext({ baseURL: gw.origin, viewport: DESKTOP, locale: LOCALES[language], timezoneId: 'Europe/Copenhagen' });
    context.setDefaultTimeout(UI_TIMEOUT);
    contexts.push(context);
    const session = client.cookie('gw_session');
    assert.ok(session, 'the staff member has a session');
    await context.addCookies([{ name: 'gw_session', value: session, url: gw.origin }]);
    return context.newPage();
  }

  /**
   * The server's own words on the page (each request's items, still English, see docs/i18n.md,
   * "What is still English"; its summary, in the page's language but naming people and addresses),
   * as data of the test.
   */
  async function serverWordsOn(page: Page): Promise<string[]> {
    return page.locator('[data-testid="approval-items"] li, [data-testid="approval-summary"] .server-text, [data-testid="approval-result-text"]').allTextContents();
  }

  async function check(page: Page, language: Language, name: string, given: readonly string[]): Promise<void> {
    const data = [...given, ...(await serverWordsOn(page))];
    assert.equal(await page.getAttribute('html', 'lang'), language, `${name}: <html lang>`);
    assert.deepEqual(await seriousViolations(page), [], `${name} (${language}): serious or critical accessibility violations`);
    assert.deepEqual(wordsNotFromCatalogue(await textsOf(page), language, data), [], `${name} (${language}): words not from the ${language} catalogue`);
    await photograph(page, language, name);
  }

  before(async () => {
    gw = await startTestGateway({ withClient: true });
    browser = await launchChromium();
    admin = await activeAdmin(gw);
    // A second org-admin (granted alone: bootstrap, fewer than two org-admins), with a key.
    const created = await admin.client.post('/api/admin/identities', { name: SECOND.name, email: SECOND.email, ial: 'substantial', proofingMethod: 'ID checked by HR', roles: ['org-admin'] });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = field<string>(created.body, 'identity', 'id');
    assert.equal((await admin.client.post(`/api/admin/identities/${id}/enrolments`, {})).status, 201);
    const client = new ApiClient(gw.origin);
    const auth = new SoftAuthenticator();
    await enrol(gw, client, auth, await gw.latestEnrolmentLink(SECOND.email));
    assert.equal((await activate(gw, client, auth, SECOND.email)).status, 200);
    second = { client, auth, email: SECOND.email };
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await gw?.close();
  });

  for (const language of ['da', 'en'] as const) {
    it(`NSIS 5.2 (Substantial) 8, 3.2.2 (High) 3 (${language}): a role grant waits for a second org-admin, who is told by mail and approves it in the inbox; the requester sees it wait, then done`, async () => {
      // Fresh key touches for both (step-up), then the employee the request is about.
      assert.equal((await signIn(gw, admin.client, admin.auth, admin.email)).status, 200);
      assert.equal((await signIn(gw, second.client, second.auth, second.email)).status, 200);
      const emp = await activeEmployee(gw, admin.client, `inbox.${language}@demo.example`, language === 'da' ? 'Henrik Helpdesksen' : 'Harriet Helpdesk');
      const adminMails = (await gw.mailsTo(admin.email)).length;
      const secondMails = (await gw.mailsTo(second.email)).length;

      // The second org-admin asks; it waits.
      const asked = await second.client.post(`/api/admin/identities/${emp.identityId}/roles`, { role: 'helpdesk', grant: true });
      assert.equal(asked.status, 202, JSON.stringify(asked.body));
      const approvalId = field<string>(asked.body, 'approval', 'id');

      // The one who may approve is told that it waits, with the inbox's address; the requester is not.
      const told = (await gw.mailsTo(admin.email)).slice(adminMails);
      assert.deepEqual(told.map((m) => m.kind), ['approval-waiting']);
      assert.match(told[0]?.text ?? '', new RegExp(`${gw.origin.replace(/[.:/]/g, '\\$&')}/approvals\\.html`));
      assert.match(told[0]?.text ?? '', new RegExp(`Reference: ${approvalId}`));
      assert.match(told[0]?.text ?? '', new RegExp(SECOND.name));
      assert.deepEqual((await gw.mailsTo(second.email)).slice(secondMails), [], 'the requester is not asked to approve their own request');
      const data = [admin.email, SECOND.name, SECOND.email, 'First Administrator', emp.email, language === 'da' ? 'Henrik Helpdesksen' : 'Harriet Helpdesk'];

      // The requester's inbox: waiting, no Approve, a Withdraw.
      const requester = await open(language, second.client);
      await requester.goto('/approvals.html');
      const mine = requester.locator(`tr[data-approval-id="${approvalId}"][data-state="pending"]`);
      await mine.waitFor({ state: 'visible' });
      assert.equal(await mine.locator('[data-testid="approve-button"]').count(), 0);
      assert.equal(await mine.locator('[data-testid="reject-button"]').count(), 1);
      assert.equal(await requester.getByTestId('nav-inbox').getAttribute('aria-current'), 'page');
      await check(requester, language, 'inbox-requester', data);

      // The approver's inbox, in another browser context: Approve, exactly what will happen, then done.
      const approver = await open(language, admin.client);
      await approver.goto('/approvals.html');
      const theirs = approver.locator(`tr[data-approval-id="${approvalId}"][data-state="pending"]`);
      await theirs.waitFor({ state: 'visible' });
      await approver.locator('#status').filter({ hasText: /\S/ }).waitFor();
      assert.equal((await approver.locator('#status').textContent())?.trim(), text(language, 'inbox.ready.waiting.one'));
      await check(approver, language, 'inbox-approver', data);
      await theirs.locator('[data-testid="approve-button"]').click();
      await approver.locator('#confirm-dialog').waitFor({ state: 'visible' });
      await check(approver, language, 'inbox-approve-dialog', data);
      const decided = approver.waitForResponse((r) => new URL(r.url()).pathname === `/api/approvals/${approvalId}/approve`);
      // With the keyboard: the dialog opens on Cancel (the safe choice); Shift+Tab reaches Approve.
      assert.equal(await approver.evaluate(() => document.activeElement?.id), 'confirm-cancel');
      await approver.keyboard.press('Shift+Tab');
      assert.equal(await approver.evaluate(() => document.activeElement?.id), 'confirm-ok');
      await approver.keyboard.press('Enter');
      assert.equal((await decided).status(), 200);
      await approver.getByTestId('approval-result').waitFor({ state: 'visible' });
      await approver.locator(`tr[data-approval-id="${approvalId}"][data-state="executed"]`).waitFor({ state: 'visible' });
      assert.deepEqual((await read(gw.runtime.store, (tx) => tx.identities.get(emp.identityId)))?.roles.includes('helpdesk'), true);

      // The requester's inbox, reloaded: carried out, approved by the other person.
      await requester.locator('#approvals-refresh').click();
      await requester.locator(`tr[data-approval-id="${approvalId}"][data-state="executed"]`).waitFor({ state: 'visible' });
    });
  }

  it('issue 16: an employee without a staff role is told the inbox is for staff, and the header does not offer it', async () => {
    const emp = await activeEmployee(gw, admin.client, 'no.role@demo.example', 'Nora Norole');
    const page = await open('en', emp.client);
    await page.goto('/approvals.html');
    await page.locator('#not-allowed').waitFor({ state: 'visible' });
    assert.equal(await page.getByTestId('nav-inbox').isHidden(), true);
    await check(page, 'en', 'inbox-not-staff', ['Nora Norole', 'no.role@demo.example']);
  });
});
