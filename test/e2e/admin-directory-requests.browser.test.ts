/**
 * Issue 18 on the administration page, in Danish and in English: the roles the organisation's
 * directory asks for (SCIM Groups mapped to staff roles by GATEWAY_SCIM_GROUP_ROLES_FILE) are a
 * list (client/src/lists.ts, GET /api/admin/lists/directory): person, role, groups, since, and the
 * one action an org-admin takes. Membership grants nothing (NSIS 5.2 (Substantial) 8; 4.1.5
 * (Substantial) 7): the button asks for the grant (step-up, the duties table's role-grant row), it
 * waits for a second org-admin, and once they approve the request leaves the list. axe-core finds
 * no serious or critical violation, every word is from the page language's catalogue, and the
 * page fits 390 px. Screenshots at desktop width and 390 px go to test-results/pages/<language>/.
 *
 * A real gateway (SQLite or PostgreSQL, SoftHSM, file outbox) serves the built client to Debian's
 * Chromium; the directory is a SCIM client over real HTTP.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { text, type Language } from '../../i18n/index.js';
import { field, obj } from '../support/apiClient.js';
import { launchChromium } from '../support/browser.js';
import { activeAdmin } from '../support/journeys.js';
import { DESKTOP, PHONE, photograph, seriousViolations, textsOf, wordsNotFromCatalogue } from '../support/pageChecks.js';
import { bindAndEnrol, type Person } from '../support/staff.js';
import { read } from '../support/storeReads.js';
import { startTestGateway, type TestGateway } from '../support/testGateway.js';

const UI_TIMEOUT = 20_000;
const LOCALES: Record<Language, string> = { da: 'da-DK', en: 'en-GB' };
const SCIM = 'application/scim+json';
const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
/** Who the directory puts in which group, and whose grant each language's run asks for. */
const PEOPLE = { ann: 'Ann Directory', bo: 'Bo Directory' } as const;
const ASKED_IN: Record<Language, keyof typeof PEOPLE> = { da: 'ann', en: 'bo' };

describe('issue 18: the administration page lists the roles the directory asks for, with the grant an org-admin asks for, in Danish and English, at 390 px', { timeout: 600_000 }, () => {
  let gw: TestGateway;
  let browser: Browser;
  let admin: Awaited<ReturnType<typeof activeAdmin>>;
  let second: Person;
  let dir = '';
  const ids: Record<keyof typeof PEOPLE, string> = { ann: '', bo: '' };
  const contexts: BrowserContext[] = [];
  let data: string[] = [];

  const scim = async (token: string, method: string, p: string, body: unknown) => {
    const res = await fetch(`${gw.origin}/scim/v2${p}`, { method, headers: { authorization: `Bearer ${token}`, accept: SCIM, 'content-type': SCIM }, body: JSON.stringify(body) });
    const answer = obj(JSON.parse(await res.text()));
    assert.equal(res.status, 201, JSON.stringify(answer));
    return String(answer['id']);
  };

  async function open(language: Language): Promise<Page> {
    const context = await browser.newContext({ baseURL: gw.origin, viewport: DESKTOP, locale: LOCALES[language], timezoneId: 'Europe/Copenhagen' });
    context.setDefaultTimeout(UI_TIMEOUT);
    contexts.push(context);
    // The second org-admin works the page: the first (who bound them) approves, as an
    // independent second person (the one who created an approver's identity may not be approved by it).
    const session = second.client.cookie('gw_session');
    assert.ok(session);
    await context.addCookies([{ name: 'gw_session', value: session, url: gw.origin }]);
    const page = await context.newPage();
    await page.goto('/admin.html');
    await page.locator('#console-content').waitFor({ state: 'visible' });
    // Offered once the page learnt that the organisation maps directory groups to roles.
    await page.locator('#lists-view option[value="directory"]').waitFor({ state: 'attached' });
    return page;
  }

  /** Shows the directory list and waits until the answer's rows are drawn. */
  async function showDirectory(page: Page): Promise<{ name: string; role: string; since: string | null; grantWaiting: boolean }[]> {
    const answer = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/admin/lists/directory');
    await page.locator('#lists-view').selectOption('directory');
    const res = await answer;
    assert.equal(res.status(), 200);
    const items = field<{ name: string; role: string; since: string | null; grantWaiting: boolean }[]>(await res.json(), 'items');
    await page.locator('#lists-results[aria-busy="false"]').waitFor();
    assert.equal(await page.locator('#lists-body tr').count(), items.length);
    return items;
  }

  const cells = async (page: Page, column: number) => (await page.locator(`#lists-body tr td:nth-child(${column})`).allTextContents()).map((s) => s.replace(/\s+/g, ' ').trim());

  async function check(page: Page, language: Language, name: string): Promise<void> {
    assert.equal(await page.getAttribute('html', 'lang'), language);
    assert.deepEqual(await seriousViolations(page), [], `${name} (${language}): serious or critical accessibility violations`);
    assert.deepEqual(wordsNotFromCatalogue(await textsOf(page), language, data), [], `${name} (${language}): words not from the catalogue`);
    await page.locator('#lists-section').scrollIntoViewIfNeeded();
    await photograph(page, language, name);
  }

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'directory-requests-'));
    const file = path.join(dir, 'group-roles.json');
    fs.writeFileSync(
      file,
      JSON.stringify([
        { displayName: 'GW Helpdesk', role: 'helpdesk' },
        { displayName: 'GW Security Officers', role: 'security-officer' },
      ]),
    );
    gw = await startTestGateway({ withClient: true, env: { GATEWAY_SESSION_IDLE_MINUTES: '600', GATEWAY_SESSION_ABSOLUTE_MINUTES: '6000', GATEWAY_STEP_UP_MINUTES: '60', GATEWAY_SCIM_GROUP_ROLES_FILE: file } });
    browser = await launchChromium();
    admin = await activeAdmin(gw);
    // Bootstrap: the one org-admin grants the second alone; from then on a grant takes two.
    second = await bindAndEnrol(gw, admin.client, { name: 'Second Admin', email: 'second.admin@demo.example', roles: ['org-admin'] });
    const registered = await admin.client.post('/api/admin/provisioning/clients', { label: 'Entra ID (HR sync)', ial: 'substantial', proofingMethod: 'HR onboarding: passport checked in person', tokenDays: 30 });
    assert.equal(registered.status, 201, JSON.stringify(registered.body));
    const token = field<string>(registered.body, 'token', 'token');
    const scimIds: Record<keyof typeof PEOPLE, string> = { ann: '', bo: '' };
    for (const who of ['ann', 'bo'] as const) {
      const email = `${who}@demo.example`;
      scimIds[who] = await scim(token, 'POST', '/Users', { schemas: [USER_SCHEMA], userName: email, externalId: who, active: true, name: { givenName: who === 'ann' ? 'Ann' : 'Bo', familyName: 'Directory' }, emails: [{ primary: true, type: 'work', value: email }] });
      ids[who] = (await read(gw.runtime.store, async (tx) => (await tx.identities.findActiveByEmail(email))?.id)) ?? assert.fail('bound');
    }
    await scim(token, 'POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: 'GW Helpdesk', members: [{ value: scimIds.ann }, { value: scimIds.bo }] });
    await scim(token, 'POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: 'GW Security Officers', members: [{ value: scimIds.bo }] });
    data = [...Object.values(PEOPLE), 'ann@demo.example', 'bo@demo.example', 'GW Helpdesk', 'GW Security Officers', 'Entra ID (HR sync)', 'HR onboarding: passport checked in person', 'First Administrator', admin.email, 'Second Admin', 'second.admin@demo.example'];
    // The provisioning section names the client's token by its random id (all letters now and then, so it reads as a word).
    data.push(field<string>(registered.body, 'token', 'tokenId'));
    data.push(...field<{ id: string }[]>((await admin.client.get('/api/admin/lists/people?limit=100')).body, 'items').map((p) => p.id));
  });
  after(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await gw?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  for (const language of ['da', 'en'] as const) {
    it(`NSIS 5.2 (Substantial) 8 / issue 18 (${language}): each open directory request is listed (person, role, groups, since); "ask for the grant" makes it wait for a second org-admin, whose approval grants the role and takes it off the list; 390 px`, async () => {
      const who = ASKED_IN[language];
      const name = PEOPLE[who];
      const role = text(language, 'role.helpdesk');
      const page = await open(language);
      const items = await showDirectory(page);
      const notWaiting = items.filter((r) => !r.grantWaiting);
      assert.ok(notWaiting.some((r) => r.name === name && r.role === 'helpdesk'), 'the request of this run is open');
      assert.ok(items.every((r) => r.since !== null), 'each request says since when (its scim.group-role-asked event)');
      assert.equal(await page.locator('#lists-body time').count(), items.length, 'since, as a date');
      const rows = await cells(page, 1);
      assert.ok(rows.some((r) => r.includes(name) && r.includes(`${who}@demo.example`)), 'the person by name and address');
      assert.ok((await cells(page, 3)).includes('GW Helpdesk'));
      const head = (await page.locator('#lists-head th').allTextContents()).map((s) => s.trim());
      assert.deepEqual(head, ['lists.col.person', 'lists.col.role', 'lists.col.groups', 'lists.col.since', 'lists.col.action'].map((k) => text(language, k as 'lists.col.person')));
      await check(page, language, 'admin-list-directory');

      const row = page.locator('#lists-body tr', { hasText: name }).filter({ hasText: role }).filter({ hasText: 'GW Helpdesk' });
      const ask = row.locator('[data-testid="directory-ask"]');
      assert.equal(await ask.count(), 1);
      assert.equal(await ask.evaluate((b) => b.textContent), text(language, 'admin.directory.ask', { role, name }), 'the button names the role and the person to a screen reader');
      await ask.click();
      await page.locator('#status', { hasText: text(language, 'admin.directory.asked', { role, name }) }).waitFor();
      await row.locator('[data-testid="directory-waiting"]').waitFor();
      assert.equal((await row.locator('[data-testid="directory-waiting"]').textContent())?.trim(), text(language, 'admin.directory.waiting'));
      const roles = async () => (await read(gw.runtime.store, (tx) => tx.identities.get(ids[who])))?.roles ?? [];
      assert.deepEqual(await roles(), ['employee'], 'asking grants nothing');
      await page.setViewportSize(PHONE);
      assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'no sideways scrolling at 390 px');
      await check(page, language, 'admin-list-directory-waiting');

      // The other org-admin approves the waiting grant; the request leaves the list.
      const waiting = (await read(gw.runtime.store, (tx) => tx.approvals.pending())).find((a) => a.kind === 'role-grant' && a.subjects.includes(ids[who]));
      assert.ok(waiting, 'the grant waits in the approvals inbox');
      const approved = await admin.client.post(`/api/approvals/${waiting.id}/approve`, {});
      assert.equal(approved.status, 200, JSON.stringify(approved.body));
      assert.ok((await roles()).includes('helpdesk'));
      await page.reload();
      await page.locator('#lists-view option[value="directory"]').waitFor({ state: 'attached' });
      const afterwards = await showDirectory(page);
      assert.equal(afterwards.some((r) => r.name === name && r.role === 'helpdesk'), false, 'a held role is no longer asked for');
    });
  }
});
