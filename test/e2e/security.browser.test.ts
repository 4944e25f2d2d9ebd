/**
 * Real-browser end-to-end proof of two-person control over the gateway's HSM signing keys
 * (NSIS 6 (Substantial) 11) on the security team page, security.html.
 *
 * A real gateway (SQLite, SoftHSM, file outbox) serves the built client, with a key propagation
 * delay of 0 so that an approved rotation promotes the new key at once. Two security officers act
 * only through the real pages, each in their own browser profile with Chromium's own virtual
 * FIDO2 authenticator: officer 1 is the seeded administrator (who also holds the security-officer
 * role), officer 2 is created by him from inside his signed-in browser. Because officer 1 set
 * officer 2 up, officer 2 can never be officer 1's second person (separation of duties by
 * identity): officer 2 asks, and officer 1 approves.
 *
 * The steps are ordered subtests of one story: each builds on the state the previous one left.
 * If a step fails, a screenshot is saved under /tmp and the later steps are skipped. Set
 * E2E_SCREENSHOT_DIR to also keep a screenshot of the page with two keys and a pending request.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Browser, type BrowserContext, type Page, type Response } from 'playwright-core';
import { field } from '../support/apiClient.js';
import { AUTHENTICATOR_OPTIONS, launchChromium } from '../support/browser.js';
import { repoRoot, startTestGateway, type TestGateway } from '../support/testGateway.js';
import { read } from '../support/storeReads.js';

const STEP_TIMEOUT = 60_000;
/** How long to wait for one thing to appear in the page. */
const UI_TIMEOUT = 20_000;

/** One browser profile (cookies) with one tab and Chromium's virtual authenticator in it. */
interface Person {
  context: BrowserContext;
  page: Page;
}

// ------------------------------------------------------------------------------- browser helpers

async function newPerson(browser: Browser, origin: string): Promise<Person> {
  const context = await browser.newContext({ baseURL: origin });
  context.setDefaultTimeout(UI_TIMEOUT);
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  await cdp.send('WebAuthn.addVirtualAuthenticator', { options: AUTHENTICATOR_OPTIONS });
  return { context, page };
}

const isApi = (p: string, method = 'GET') => (r: Response) => new URL(r.url()).pathname === p && r.request().method() === method;

async function text(page: Page, selector: string): Promise<string> {
  return ((await page.locator(selector).first().textContent()) ?? '').trim();
}

/** Registers the key in the browser from the enrolment link; returns the gateway's key id. */
async function enrolInBrowser(person: Person, link: string, label: string): Promise<string> {
  const { page } = person;
  const options = page.waitForResponse(isApi('/api/enrolment/options', 'POST'));
  await page.goto(link);
  await options;
  await page.locator('#register-button').waitFor({ state: 'visible' });
  await page.locator('#label').fill(label);
  const verify = page.waitForResponse(isApi('/api/enrolment/verify', 'POST'));
  await page.locator('#register-button').click();
  const res = await verify;
  assert.equal(res.status(), 201, await res.text());
  await page.locator('#enrol-done').waitFor({ state: 'visible' });
  return field<string>(await res.json(), 'credential', 'id');
}

/** Activates the registered key on activate.html with the mailed code, which also signs in. */
async function activateInBrowser(person: Person, email: string, code: string): Promise<void> {
  const { page } = person;
  await page.goto('/activate.html');
  await page.locator('#email').fill(email);
  await page.locator('#code').fill(code);
  const verify = page.waitForResponse(isApi('/api/activation/verify', 'POST'));
  await page.locator('#activate-button').click();
  const res = await verify;
  assert.equal(res.status(), 200, await res.text());
  await page.locator('#activate-done').waitFor({ state: 'visible' });
}

/** A JSON API call made by the page itself, with the browser's own session cookie. */
async function apiInPage(page: Page, method: 'GET' | 'POST', url: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  return page.evaluate(
    async ({ method, url, body }) => {
      const init: RequestInit = { method, credentials: 'same-origin' };
      if (body !== undefined) {
        init.headers = { 'Content-Type': 'application/json' };
        init.body = JSON.stringify(body);
      }
      const res = await fetch(url, init);
      const raw = await res.text();
      const parsed: unknown = raw ? JSON.parse(raw) : null;
      return { status: res.status, body: parsed };
    },
    { method, url, body },
  );
}

/** Opens security.html and waits until the keys and requests are shown. */
async function openSecurityPage(page: Page): Promise<void> {
  const keys = page.waitForResponse(isApi('/api/security/keys'));
  const requests = page.waitForResponse(isApi('/api/security/key-requests'));
  await page.goto('/security.html');
  assert.equal((await keys).status(), 200);
  assert.equal((await requests).status(), 200);
  await page.locator('#officer-content').waitFor({ state: 'visible' });
  await page.locator('tr[data-testid="key-row"]').first().waitFor({ state: 'visible' });
}

/** The data-state of every row of the keys table, by kid. */
async function keyStates(page: Page): Promise<Map<string, string>> {
  const rows = await page
    .locator('tr[data-testid="key-row"]')
    .evaluateAll((trs) => trs.map((tr) => [tr.getAttribute('data-kid') ?? '', tr.getAttribute('data-state') ?? ''] as const));
  return new Map(rows);
}

/** The kids listed in the <pre id="jwks"> (which must hold valid JSON). */
async function jwksKids(page: Page): Promise<string[]> {
  const parsed: unknown = JSON.parse(await text(page, '#jwks'));
  return field<Array<{ kid: string }>>(parsed, 'keys').map((k) => k.kid);
}

async function screenshot(page: Page | undefined, file: string): Promise<void> {
  if (!page || page.isClosed()) return;
  try {
    await page.screenshot({ path: file, fullPage: true });
    console.error(`screenshot: ${file}`);
  } catch {
    /* the page may be gone; the assertion error is what matters */
  }
}

// ---------------------------------------------------------------------------------- the story

describe('NSIS 6 (Substantial) 11: a key rotation requested by one security officer and approved by another, independent one, in the browser', () => {
  let gw: TestGateway;
  let browser: Browser;
  const people: Person[] = [];
  let current: Person | undefined;
  let failed: string | undefined;

  const officer1 = { email: '', identityId: '', person: undefined as Person | undefined };
  const officer2 = { name: 'Sofie Sikkerhed', email: 'sofie.sikkerhed@demo.example', identityId: '', person: undefined as Person | undefined };
  let oldKid = '';
  let newKid = '';
  let rotationId = '';

  /** An ordered step: skipped when an earlier one failed; screenshots the page when it fails. */
  const step = (name: string, fn: () => Promise<void>) =>
    it(name, { timeout: STEP_TIMEOUT }, async () => {
      if (failed) {
        // The steps build on each other: a later step cannot run meaningfully after a failure.
        assert.fail(`not run: an earlier step failed (${failed})`);
      }
      try {
        await fn();
      } catch (err) {
        failed = name;
        const file = path.join(os.tmpdir(), `e2e-security-${name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}-${Date.now()}.png`);
        await screenshot(current?.page, file);
        throw err;
      }
    });

  const personOf = (o: { person: Person | undefined }): Person => {
    assert.ok(o.person, 'an earlier step should have signed this officer in');
    current = o.person;
    return o.person;
  };

  before(async () => {
    const built = path.join(repoRoot, 'client', 'dist', 'security.html');
    assert.ok(fs.existsSync(built), `${built} is missing: build the client first (npx vite build --config client/vite.config.ts)`);
    // A step-up window long enough for the whole story on a slow machine (the pages step up by themselves).
    gw = await startTestGateway({ withClient: true, env: { GATEWAY_KEY_PROPAGATION_SECONDS: '0', GATEWAY_STEP_UP_MINUTES: '60' } });
    browser = await launchChromium();
  });

  after(async () => {
    for (const p of people) await p.context.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await gw?.close();
  });

  step('officer 1, the seeded administrator with the security-officer role, registers and activates his key in the browser', async () => {
    const link = gw.seed.enrolmentLink;
    assert.ok(link, 'the seed must issue an enrolment link for the administrator');
    assert.ok(gw.seed.admin.roles.includes('security-officer'));
    officer1.email = gw.seed.admin.email;
    officer1.identityId = gw.seed.admin.id;
    const person = await newPerson(browser, gw.origin);
    people.push(person);
    officer1.person = person;
    current = person;
    await enrolInBrowser(person, link, 'Officer 1 key');
    await activateInBrowser(person, officer1.email, await gw.latestCode(officer1.email));
    const me = await apiInPage(person.page, 'GET', '/api/me');
    assert.equal(me.status, 200);
    assert.equal(field(me.body, 'identity', 'id'), officer1.identityId);
    // Alone, the page says plainly that two-person control over the keys is off, and why.
    await openSecurityPage(person.page);
    const banner = person.page.getByTestId('duties-banner');
    await banner.waitFor({ state: 'visible' });
    assert.match((await banner.textContent()) ?? '', /Two-person control is off for the signing keys.*only one security officer/);
  });

  step('officer 1 binds a second security officer, who registers and activates her key in her own browser', async () => {
    const { page } = personOf(officer1);
    const created = await apiInPage(page, 'POST', '/api/admin/identities', {
      name: officer2.name,
      email: officer2.email,
      ial: 'substantial',
      proofingMethod: 'ID document checked in person by HR',
      roles: ['security-officer'],
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    officer2.identityId = field<string>(created.body, 'identity', 'id');
    assert.ok(field<string[]>(created.body, 'identity', 'roles').includes('security-officer'), JSON.stringify(created.body));
    const issued = await apiInPage(page, 'POST', `/api/admin/identities/${officer2.identityId}/enrolments`, {});
    assert.equal(issued.status, 201, JSON.stringify(issued.body));

    const person = await newPerson(browser, gw.origin);
    people.push(person);
    officer2.person = person;
    current = person;
    // She opens the link from the mail sent to her address.
    await enrolInBrowser(person, await gw.latestEnrolmentLink(officer2.email), 'Officer 2 key');
    await activateInBrowser(person, officer2.email, await gw.latestCode(officer2.email));
    const me = await apiInPage(person.page, 'GET', '/api/me');
    assert.equal(field(me.body, 'identity', 'id'), officer2.identityId);
  });

  step('officer 2 sees one active key with a sound HSM attribute check, and asks for a rotation', async () => {
    const { page } = personOf(officer2);
    await openSecurityPage(page);
    assert.equal(await page.getByTestId('duties-banner').isHidden(), true, 'two officers: two-person control is on');
    assert.equal(await page.getByTestId('nav-security').getAttribute('aria-current'), 'page');
    assert.ok(await page.getByTestId('nav-security').isVisible(), 'the nav links the page for a security officer');

    const states = await keyStates(page);
    assert.equal(states.size, 1, JSON.stringify([...states]));
    const [kid, state] = [...states][0] ?? ['', ''];
    assert.equal(state, 'active');
    assert.match(kid, /^[A-Za-z0-9_-]{43}$/);
    oldKid = kid;
    const row = page.locator(`tr[data-testid="key-row"][data-kid="${oldKid}"]`);
    assert.equal(await row.getByTestId('key-alg').textContent(), 'ES256');
    assert.equal(await row.locator('code.kid').getAttribute('title'), oldKid);
    assert.equal(((await row.getByTestId('key-attribute-check').textContent()) ?? '').trim(), 'OK: sensitive, non-extractable, signing only');
    // The key policy profile in force and the HSM token (NSIS 4.1.6 (Low) 3).
    assert.equal(await page.getByTestId('key-policy-profile').textContent(), 'strict');
    assert.deepEqual(await page.getByTestId('hsm-token').allTextContents(), ['primary (token label “gateway”): available, signing']);
    assert.deepEqual(await jwksKids(page), [oldKid]);
    assert.equal(await page.locator('#jwks-link').getAttribute('href'), '/.well-known/jwks.json');

    // A plain rotation names no key: the target field stays hidden.
    await page.locator('#request-kind').selectOption('rotation');
    assert.equal(await page.locator('#request-target-field').isHidden(), true);
    await page.locator('#request-reason').fill('Yearly rotation of the signing key');
    const sent = page.waitForResponse(isApi('/api/security/key-requests', 'POST'));
    await page.locator('#request-submit').click();
    const res = await sent;
    assert.equal(res.status(), 201, await res.text());
    rotationId = field<string>(await res.json(), 'request', 'id');

    const mine = page.locator(`tr[data-testid="request-row"][data-request-id="${rotationId}"][data-state="pending"]`);
    await mine.waitFor({ state: 'visible' });
    assert.equal(((await mine.getByTestId('waiting-note').textContent()) ?? '').trim(), 'Waiting for a second security officer');
    // The request says exactly what will happen, naming the active key.
    assert.match((await mine.getByTestId('request-items').textContent()) ?? '', new RegExp(`Retire the active key ${oldKid}`));
    assert.equal(await mine.getByTestId('approve-button').count(), 0, 'no approve button on one’s own request');
    assert.equal(await mine.getByTestId('reject-button').count(), 0);
    assert.match(await text(page, '#status'), /second security officer must approve/);
    // Nothing happened to the keys yet.
    assert.deepEqual([...(await keyStates(page))], [[oldKid, 'active']]);
  });

  step('officer 1 approves in his browser; with no propagation delay the new key is active and the old one retired, both published', async () => {
    const { page } = personOf(officer1);
    await openSecurityPage(page);
    const theirs = page.locator(`tr[data-testid="request-row"][data-request-id="${rotationId}"][data-state="pending"]`);
    await theirs.waitFor({ state: 'visible' });
    assert.equal(await theirs.getByTestId('waiting-note').count(), 0);
    assert.equal(await theirs.getByTestId('reject-button').count(), 1);

    const approved = page.waitForResponse(isApi(`/api/security/key-requests/${rotationId}/approve`, 'POST'));
    await theirs.getByTestId('approve-button').click();
    const res = await approved;
    assert.equal(res.status(), 200, await res.text());
    assert.equal(field(await res.json(), 'request', 'state'), 'executed');

    await page.locator(`tr[data-testid="request-row"][data-request-id="${rotationId}"][data-state="executed"]`).waitFor({ state: 'visible' });
    await page.locator(`tr[data-testid="key-row"][data-kid="${oldKid}"][data-state="retired"]`).waitFor({ state: 'visible' });
    const states = await keyStates(page);
    assert.equal(states.size, 2, JSON.stringify([...states]));
    assert.equal(states.get(oldKid), 'retired');
    const active = [...states].filter(([, s]) => s === 'active');
    assert.equal(active.length, 1, JSON.stringify([...states]));
    newKid = active[0]?.[0] ?? '';
    assert.notEqual(newKid, oldKid);
    assert.deepEqual((await jwksKids(page)).sort(), [oldKid, newKid].sort());
    assert.match(await text(page, '#status'), /new key is active/);

    // The server agrees, and so does the public JWKS.
    assert.equal((await read(gw.runtime.store, (tx) => tx.signingKeys.get(newKid)))?.state, 'active');
    assert.equal((await read(gw.runtime.store, (tx) => tx.signingKeys.get(oldKid)))?.state, 'retired');
    const request = (await read(gw.runtime.store, (tx) => tx.approvals.get(rotationId)));
    assert.equal(request?.requestedBy, officer2.identityId);
    assert.equal(request?.decidedBy, officer1.identityId);
    assert.equal(request?.decidedRole, 'security-officer');
    const published = await apiInPage(page, 'GET', '/.well-known/jwks.json');
    assert.deepEqual(field<Array<{ kid: string }>>(published.body, 'keys').map((k) => k.kid).sort(), [oldKid, newKid].sort());
  });

  step('officer 2 reloads and sees the same: one active and one retired key, both kids in the JWKS, her request carried out', async () => {
    const { page } = personOf(officer2);
    await openSecurityPage(page);
    const states = await keyStates(page);
    assert.deepEqual([...states.values()].sort(), ['active', 'retired']);
    assert.equal(states.get(newKid), 'active');
    assert.equal(states.get(oldKid), 'retired');
    for (const kid of [oldKid, newKid]) {
      const check = page.locator(`tr[data-testid="key-row"][data-kid="${kid}"]`).getByTestId('key-attribute-check');
      assert.equal(await check.getAttribute('data-ok'), 'true');
    }
    assert.deepEqual((await jwksKids(page)).sort(), [oldKid, newKid].sort());
    const row = page.locator(`tr[data-testid="request-row"][data-request-id="${rotationId}"]`);
    assert.equal(await row.getAttribute('data-state'), 'executed');
    assert.equal(await page.getByTestId('waiting-note').count(), 0);
  });

  step('the audit verify button reports an intact audit trail', async () => {
    const { page } = personOf(officer1);
    const verified = page.waitForResponse(isApi('/api/security/audit'));
    await page.locator('#audit-verify').click();
    const res = await verified;
    assert.equal(res.status(), 200);
    const result = page.locator('#audit-result');
    await result.waitFor({ state: 'visible' });
    assert.equal(await result.getAttribute('data-ok'), 'true', (await result.textContent()) ?? '');
    assert.match((await result.textContent()) ?? '', /The audit trail is intact\./);
    // NSIS 6 (Low) 7: checked against keys from outside the database, and against the witness.
    assert.match(((await page.getByTestId('audit-anchor').textContent()) ?? ''), /Checked against the keys of the HSM token "gateway"/);
    assert.match(((await page.getByTestId('audit-witness').textContent()) ?? ''), /Witness outside the database: (\d+) checkpoints?, \1 of them in the database unchanged\./);
    const dir = process.env['E2E_SCREENSHOT_DIR'];
    if (dir) {
      await result.scrollIntoViewIfNeeded();
      await page.screenshot({ path: path.join(dir, 'security-audit-desktop.png') });
      await page.setViewportSize({ width: 390, height: 844 });
      await result.scrollIntoViewIfNeeded();
      await page.screenshot({ path: path.join(dir, 'security-audit-390.png') });
      await page.setViewportSize({ width: 1280, height: 800 });
    }
  });

  step('an emergency rotation asks for confirmation first; a destruction request of the retired key waits for the other officer', async () => {
    const { page } = personOf(officer2);
    await openSecurityPage(page);

    // Emergency rotation: the active key is the only choice, and cancelling the dialog sends nothing.
    await page.locator('#request-kind').selectOption('emergency-rotation');
    await page.locator('#request-target-field').waitFor({ state: 'visible' });
    assert.deepEqual(await page.locator('#request-target option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value)), [newKid]);
    await page.locator('#request-reason').fill('Testing the confirmation');
    let posted = 0;
    const count = (r: Response) => {
      if (isApi('/api/security/key-requests', 'POST')(r)) posted++;
    };
    page.on('response', count);
    await page.locator('#request-submit').click();
    const dialog = page.locator('#confirm-dialog');
    await dialog.waitFor({ state: 'visible' });
    assert.match((await dialog.textContent()) ?? '', /Every token signed by this key stops verifying at once/);
    await page.locator('#confirm-cancel').click();
    await dialog.waitFor({ state: 'hidden' });
    // The dialog's close event (which settles the page's confirmation) fires in a later task than
    // the dialog hiding: wait for the status line rather than read it at once.
    await page.locator('#status', { hasText: 'Nothing was requested.' }).waitFor();
    assert.equal(await text(page, '#status'), 'Nothing was requested.');
    page.off('response', count);
    assert.equal(posted, 0);

    // Destruction: only the retired key can be named.
    await page.locator('#request-kind').selectOption('destroy');
    assert.deepEqual(await page.locator('#request-target option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value)), [oldKid]);
    await page.locator('#request-reason').fill('Its tokens have expired');
    const sent = page.waitForResponse(isApi('/api/security/key-requests', 'POST'));
    await page.locator('#request-submit').click();
    const res = await sent;
    assert.equal(res.status(), 201, await res.text());
    const destroyId = field<string>(await res.json(), 'request', 'id');
    await page.locator(`tr[data-testid="request-row"][data-request-id="${destroyId}"]`).getByTestId('waiting-note').waitFor({ state: 'visible' });

    const other = personOf(officer1).page;
    await openSecurityPage(other);
    const row = other.locator(`tr[data-testid="request-row"][data-request-id="${destroyId}"][data-state="pending"]`);
    await row.getByTestId('approve-button').waitFor({ state: 'visible' });
    assert.equal(await row.getByTestId('reject-button').count(), 1);
    const dir = process.env['E2E_SCREENSHOT_DIR'];
    if (dir) await screenshot(other, path.join(dir, 'security-two-keys-pending-request.png'));

    // Officer 1 rejects it: nothing changes for the keys.
    const rejected = other.waitForResponse(isApi(`/api/security/key-requests/${destroyId}/reject`, 'POST'));
    await row.getByTestId('reject-button').click();
    assert.equal((await rejected).status(), 200);
    await other.locator(`tr[data-testid="request-row"][data-request-id="${destroyId}"][data-state="rejected"]`).waitFor({ state: 'visible' });
    assert.equal((await keyStates(other)).get(oldKid), 'retired');
  });

  step('NSIS 6 (Substantial) 11: officer 2, whom officer 1 set up, is never offered officer 1’s request to approve, and the server refuses it', async () => {
    const { page } = personOf(officer1);
    await openSecurityPage(page);
    await page.locator('#request-kind').selectOption('rotation');
    await page.locator('#request-reason').fill('Second rotation of the year');
    const sent = page.waitForResponse(isApi('/api/security/key-requests', 'POST'));
    await page.locator('#request-submit').click();
    const res = await sent;
    assert.equal(res.status(), 201, await res.text());
    const id = field<string>(await res.json(), 'request', 'id');
    const mine = page.locator(`tr[data-testid="request-row"][data-request-id="${id}"]`);
    assert.match(await text(page, `tr[data-request-id="${id}"] [data-testid="waiting-note"]`), /Nobody can approve it yet/);
    assert.equal(await mine.getByTestId('approve-button').count(), 0);

    const theirs = personOf(officer2).page;
    await openSecurityPage(theirs);
    const row = theirs.locator(`tr[data-testid="request-row"][data-request-id="${id}"][data-state="pending"]`);
    await row.waitFor({ state: 'visible' });
    assert.equal(await row.getByTestId('approve-button').count(), 0);
    assert.match(await text(theirs, `tr[data-request-id="${id}"] [data-testid="cannot-approve-note"]`), /created or changed your identity, your roles or your contact data/);
    const refused = await apiInPage(theirs, 'POST', `/api/security/key-requests/${id}/approve`, {});
    assert.equal(refused.status, 403, JSON.stringify(refused.body));
    assert.equal(field(refused.body, 'code'), 'SEGREGATION_OF_DUTIES');
    assert.equal((await read(gw.runtime.store, (tx) => tx.approvals.get(id)))?.state, 'pending');
    assert.equal([...(await keyStates(theirs)).values()].filter((st) => st === 'active').length, 1);
  });
});
