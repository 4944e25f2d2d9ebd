/**
 * Issue 15/16: the SAML signing key towards NemLog-in managed on the security page, in real
 * Chromium, in English and Danish, by two security officers in two browser profiles. Officer 2
 * (set up by officer 1, so never officer 1's second person) makes a pending key, downloads its
 * PKCS#10 request, which the test signs with a test CA (openssl, asynchronously: the gateway runs
 * in this process), imports a wrong certificate (X509_KEY_MISMATCH in words) and then the issued
 * one, and asks for the switch; officer 1 approves it in the shared approvals list; the key is
 * active and /saml/metadata publishes the CA-issued certificate first. A pending key that is not
 * wanted is discarded the same way (asked by officer 2, approved by officer 1) and ends destroyed,
 * never active. axe-core: no serious or
 * critical violation; screenshots at desktop width and 390 px in test-results/pages/.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page, Response } from 'playwright-core';
import { text, type Language } from '../../i18n/index.js';
import { launchChromium } from '../support/browser.js';
import { activeAdmin } from '../support/journeys.js';
import { DESKTOP, PHONE, photograph, SCREENSHOTS, seriousViolations } from '../support/pageChecks.js';
import { bindAndEnrol, touch, type Person } from '../support/staff.js';
import { idpCertificates, SAML_ENV } from '../saml-gateway/harness.js';
import { startTestGateway, type TestGateway } from '../support/testGateway.js';

const run = promisify(execFile);
const UI_TIMEOUT = 30_000;
const body = (pem: string): string => pem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s+/g, '');
const isApi = (p: RegExp, method: string) => (r: Response) => p.test(new URL(r.url()).pathname) && r.request().method() === method;

describe('OIOSAML 3 signing key on the security page, two security officers (issue 15, 16)', { timeout: 600_000 }, () => {
  let gw: TestGateway;
  let browser: Browser;
  let officer1: { client: Person['client']; auth: Person['auth']; email: string };
  let officer2: Person;
  const contexts: BrowserContext[] = [];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'saml-keys-e2e-'));

  async function open(language: Language, who: { client: Person['client']; auth: Person['auth']; email: string }): Promise<Page> {
    await touch(gw, who); // a fresh key touch: the step-up the key routes ask for
    const context = await browser.newContext({ baseURL: gw.origin, viewport: DESKTOP, locale: language === 'da' ? 'da-DK' : 'en-GB', acceptDownloads: true });
    context.setDefaultTimeout(UI_TIMEOUT);
    contexts.push(context);
    const session = who.client.cookie('gw_session');
    assert.ok(session);
    await context.addCookies([{ name: 'gw_session', value: session, url: gw.origin }]);
    const page = await context.newPage();
    await page.goto(`/security.html?lang=${language}`);
    await page.locator('[data-testid="saml-key-row"]').first().waitFor({ state: 'visible' });
    return page;
  }

  before(async () => {
    gw = await startTestGateway({ withClient: true, env: SAML_ENV });
    browser = await launchChromium();
    const admin = await activeAdmin(gw);
    officer1 = { client: admin.client, auth: admin.auth, email: admin.email };
    officer2 = await bindAndEnrol(gw, admin.client, { name: 'Sofie Sikkerhed', email: 'sofie.sikkerhed@demo.example', roles: ['security-officer'] });
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await gw?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  for (const language of ['en', 'da'] as const) {
    it(`NSIS 6 (Substantial) 11, 4.1.6 (Low) 3 / OIOSAML 3 signing key (${language}): a new pending key, its PKCS#10 request signed by a CA, the certificate imported (X509_KEY_MISMATCH in words first), the switch approved by a second security officer, the metadata carries the new certificate`, async () => {
      const page2 = await open(language, officer2);
      assert.equal(await page2.locator('#saml-metadata-link').getAttribute('href'), '/saml/metadata');
      const before = new Set(await page2.locator('[data-testid="saml-key-row"]').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-kid') ?? '')));

      const made = page2.waitForResponse(isApi(/^\/api\/security\/saml\/keys$/, 'POST'));
      await page2.locator('#saml-generate').click();
      const madeAnswer = await made;
      assert.equal(madeAnswer.status(), 201);
      const kid = ((await madeAnswer.json()) as { key: { kid: string } }).key.kid;
      assert.ok(kid && !before.has(kid));
      const pendingRow = page2.locator(`[data-testid="saml-key-row"][data-kid="${kid}"][data-state="pending"]`);
      await pendingRow.waitFor({ state: 'visible' });
      assert.equal((await pendingRow.locator('[data-testid="saml-key-alg"]').textContent())?.trim(), 'RSA-3072');
      assert.equal(await pendingRow.locator('[data-testid="saml-cert"]').getAttribute('data-self-signed'), 'true');
      assert.equal((await pendingRow.locator('[data-testid="saml-cert-kind"]').textContent())?.trim(), text(language, 'samlKeys.cert.selfSigned'));

      // The CSR, downloaded from the page, signed by a test CA.
      const download = page2.waitForEvent('download');
      await pendingRow.locator('[data-testid="saml-csr-link"]').click();
      const csr = path.join(dir, `${language}-req.pem`);
      await (await download).saveAs(csr);
      await run('openssl', ['req', '-in', csr, '-verify', '-noout']);
      const [caKey, caCert, ext, issued] = ['ca.key', 'ca.pem', 'ext.cnf', 'issued.pem'].map((f) => path.join(dir, `${language}-${f}`)) as [string, string, string, string];
      await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', caKey, '-out', caCert, '-subj', '/CN=Test OCES3 CA', '-days', '30']);
      fs.writeFileSync(ext, 'keyUsage=critical,digitalSignature\nbasicConstraints=critical,CA:FALSE\n');
      await run('openssl', ['x509', '-req', '-in', csr, '-CA', caCert, '-CAkey', caKey, '-CAcreateserial', '-days', '30', '-sha256', '-extfile', ext, '-out', issued]);
      const issuedPem = fs.readFileSync(issued, 'utf8');

      // A certificate of another key: refused, in words.
      const [activeCert] = await idpCertificates(gw);
      await pendingRow.locator('[data-testid="saml-import-button"]').click();
      await page2.locator('#saml-cert-pem').fill(activeCert ?? '');
      const refused = page2.waitForResponse(isApi(/\/certificate$/, 'POST'));
      await page2.locator('#saml-import-submit').click();
      const refusedAnswer = await refused;
      assert.equal(refusedAnswer.status(), 400);
      assert.equal(((await refusedAnswer.json()) as { code?: string }).code, 'X509_KEY_MISMATCH');
      await page2.locator('#error').waitFor({ state: 'visible' });
      assert.ok(((await page2.locator('#error').textContent()) ?? '').includes(text(language, 'problem.X509_KEY_MISMATCH')));

      // The CA-issued one, chosen as a file.
      await page2.locator('#saml-cert-pem').fill('');
      await page2.locator('#saml-cert-file').setInputFiles(issued);
      await page2.waitForFunction(() => (document.querySelector<HTMLTextAreaElement>('#saml-cert-pem')?.value ?? '').includes('BEGIN CERTIFICATE'));
      const imported = page2.waitForResponse(isApi(/\/certificate$/, 'POST'));
      await page2.locator('#saml-import-submit').click();
      assert.equal((await imported).status(), 200);
      await page2.locator(`[data-testid="saml-key-row"][data-kid="${kid}"] [data-testid="saml-cert"][data-self-signed="false"]`).waitFor({ state: 'visible' });
      assert.match((await page2.locator(`[data-testid="saml-key-row"][data-kid="${kid}"] [data-testid="saml-cert-issuer"]`).textContent()) ?? '', /Test OCES3 CA/);

      // Ask for the switch: it waits for a second security officer.
      await page2.locator(`[data-testid="saml-key-row"][data-kid="${kid}"] [data-testid="saml-activate-button"]`).click();
      const asked = page2.waitForResponse(isApi(/\/activate$/, 'POST'));
      await page2.locator('#confirm-ok').click();
      assert.equal((await asked).status(), 202);
      await page2.locator('#saml-approvals-body [data-testid="approval-row"][data-state="pending"]').first().waitFor({ state: 'visible' });
      assert.deepEqual(await seriousViolations(page2), [], 'axe: officer 2 with a pending request');
      await photograph(page2, language, 'security-saml-keys-asked');
      assert.equal((await idpCertificates(gw)).length >= 2, true, 'the next certificate is published before the switch');

      // Officer 1 approves in their own browser.
      const page1 = await open(language, officer1);
      const row = page1.locator('#saml-approvals-body [data-testid="approval-row"][data-kind="saml-key-activation"][data-state="pending"]').first();
      await row.waitFor({ state: 'visible' });
      await row.locator('[data-testid="approve-button"]').click();
      const approved = page1.waitForResponse(isApi(/^\/api\/approvals\/[^/]+\/approve$/, 'POST'));
      await page1.locator('#confirm-ok').click();
      assert.equal((await approved).status(), 200);
      await page1.locator(`[data-testid="saml-key-row"][data-kid="${kid}"][data-state="active"]`).waitFor({ state: 'visible' });
      assert.equal((await page1.locator(`[data-testid="saml-key-row"][data-kid="${kid}"] [data-testid="saml-key-state-text"]`).textContent())?.trim(), text(language, 'samlKeys.state.active'));
      assert.deepEqual(await seriousViolations(page1), [], 'axe: officer 1 after approving');
      await photograph(page1, language, 'security-saml-keys-approved');
      // The section alone at 390 px, for a person to look at without the rest of the long page.
      await page1.setViewportSize(PHONE);
      assert.deepEqual(await seriousViolations(page1), [], 'axe: at 390 px');
      await page1.locator('#saml-keys-section').screenshot({ path: path.join(SCREENSHOTS, language, 'security-saml-keys-section-390.png') });
      await page1.setViewportSize(DESKTOP);

      const published = await idpCertificates(gw);
      assert.equal(body(published[0] ?? ''), body(issuedPem), 'the metadata carries the CA-issued certificate of the new active key first');
    });

    it(`NSIS 6 (Substantial) 11 (key life cycle) / OIOSAML 3 signing key (${language}): a pending key that is not wanted is discarded from the page, a second security officer approves, and it is destroyed without ever being active`, async () => {
      const page2 = await open(language, officer2);
      const made = page2.waitForResponse(isApi(/^\/api\/security\/saml\/keys$/, 'POST'));
      await page2.locator('#saml-generate').click();
      const madeAnswer = await made;
      assert.equal(madeAnswer.status(), 201);
      const key = ((await madeAnswer.json()) as { key: { kid: string; certificatePem: string } }).key;
      const pendingRow = page2.locator(`[data-testid="saml-key-row"][data-kid="${key.kid}"][data-state="pending"]`);
      await pendingRow.waitFor({ state: 'visible' });
      const discardButton = pendingRow.locator('[data-testid="saml-discard-button"]');
      const short = `${key.kid.slice(0, 8)}…${key.kid.slice(-4)}`;
      assert.equal(await discardButton.getAttribute('class'), 'danger-button');
      assert.equal(await page2.locator('[data-testid="saml-key-row"][data-state="active"] [data-testid="saml-discard-button"]').count(), 0, 'the active key offers no discard');
      assert.ok((await idpCertificates(gw)).map(body).includes(body(key.certificatePem)), 'published as the next key until discarded');

      // Ask: the confirmation says what happens, then the request waits for a second security officer.
      await discardButton.click();
      await page2.locator('#confirm-heading').waitFor({ state: 'visible' });
      assert.equal((await page2.locator('#confirm-heading').textContent())?.trim(), text(language, 'samlKeys.discard.heading', { kid: short }));
      assert.equal((await page2.locator('#confirm-explanation').textContent())?.trim(), text(language, 'samlKeys.discard.text', { kid: short }));
      const asked = page2.waitForResponse(isApi(/\/discard$/, 'POST'));
      await page2.locator('#confirm-ok').click();
      assert.equal((await asked).status(), 202);
      const request = page2.locator('#saml-approvals-body [data-testid="approval-row"][data-kind="saml-key-discard"][data-state="pending"]').first();
      await request.waitFor({ state: 'visible' });
      assert.ok(((await request.textContent()) ?? '').includes(text(language, 'samlKeys.approvals.kind.saml-key-discard')));
      assert.deepEqual(await seriousViolations(page2), [], 'axe: officer 2 with a pending discard request');
      await photograph(page2, language, 'security-saml-keys-discard-asked');
      // The section alone, for a person to look at the pending key's actions and the request.
      await page2.locator('#saml-keys-section').screenshot({ path: path.join(SCREENSHOTS, language, 'security-saml-keys-discard-section.png') });

      // Officer 1 approves in their own browser: the key is destroyed, never active.
      const page1 = await open(language, officer1);
      const row = page1.locator('#saml-approvals-body [data-testid="approval-row"][data-kind="saml-key-discard"][data-state="pending"]').first();
      await row.waitFor({ state: 'visible' });
      await row.locator('[data-testid="approve-button"]').click();
      const approved = page1.waitForResponse(isApi(/^\/api\/approvals\/[^/]+\/approve$/, 'POST'));
      await page1.locator('#confirm-ok').click();
      assert.equal((await approved).status(), 200);
      const destroyedRow = page1.locator(`[data-testid="saml-key-row"][data-kid="${key.kid}"][data-state="destroyed"]`);
      await destroyedRow.waitFor({ state: 'visible' });
      assert.equal((await destroyedRow.locator('[data-testid="saml-key-state-text"]').textContent())?.trim(), text(language, 'samlKeys.state.destroyed'));
      const stored = (await gw.runtime.store.read((tx) => tx.saml.keys())).find((k) => k.kid === key.kid);
      assert.deepEqual([stored?.state, stored?.activatedAt, stored?.retiredAt], ['destroyed', null, null], 'never active');
      assert.ok(!(await idpCertificates(gw)).map(body).includes(body(key.certificatePem)), 'its certificate left the metadata');
      assert.deepEqual(await seriousViolations(page1), [], 'axe: officer 1 after approving the discard');
      await photograph(page1, language, 'security-saml-keys-discarded');
    });
  }
});
