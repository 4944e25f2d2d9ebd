/**
 * Issue 16, the applications page (clients.html) in a real browser (Debian's Chromium): an
 * org-admin registers an OpenID Connect client and a real relying party (openid-client) signs a
 * person in with the secret the page showed once; the page rotates the secret (the old one is then
 * refused, the new one works) and disables the client (the RP is refused); a SAML service provider
 * (node-saml) is registered from its metadata with a display name, and the sign-in page names it
 * by that name. In Danish and in English, every word from that language's catalogue, no serious or
 * critical accessibility violation (axe-core), photographed at desktop width and at 390 px
 * (test-results/pages/<language>/clients-*.png).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as client from 'openid-client';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { text, type Language } from '../../i18n/index.js';
import type { ApiClient, ApiResponse } from '../support/apiClient.js';
import { launchChromium } from '../support/browser.js';
import { activeAdmin, activeEmployee } from '../support/journeys.js';
import { DESKTOP, photograph, seriousViolations, textsOf, wordsNotFromCatalogue } from '../support/pageChecks.js';
import type { SoftAuthenticator } from '../support/softAuthenticator.js';
import { startTestGateway, type TestGateway } from '../support/testGateway.js';
import { SAML_ENV, makeGatewaySp } from '../saml-gateway/harness.js';

const UI_TIMEOUT = 20_000;
const LOCALES: Record<Language, string> = { da: 'da-DK', en: 'en-GB' };
const REDIRECT = 'http://127.0.0.1:8721/callback';
const RP_NAME = { en: 'Staff Portal', da: 'Medarbejderportal' };
const SP_NAME = { en: 'Tax Self-Service', da: 'Skat Selvbetjening' };

describe('issue 16: the applications page (OpenID Connect clients and SAML service providers)', { timeout: 600_000 }, () => {
  let gw: TestGateway;
  let browser: Browser;
  let admin: Awaited<ReturnType<typeof activeAdmin>>;
  let person: { client: ApiClient; auth: SoftAuthenticator; email: string };
  const contexts: BrowserContext[] = [];
  let data: string[] = [];
  /** What the SAML rows of both languages' tests show (the page lists every registered SP). */
  const spData: string[] = [];
  /** The OIDC clients of both languages' tests. */
  const rpData: string[] = [];

  async function open(language: Language, session?: ApiClient): Promise<Page> {
    const context = await browser.newContext({ baseURL: gw.origin, viewport: DESKTOP, locale: LOCALES[language], timezoneId: 'Europe/Copenhagen' });
    context.setDefaultTimeout(UI_TIMEOUT);
    contexts.push(context);
    const cookie = session?.cookie('gw_session');
    if (cookie) await context.addCookies([{ name: 'gw_session', value: cookie, url: gw.origin }]);
    return context.newPage();
  }

  async function check(page: Page, language: Language, name: string, extra: string[] = []): Promise<void> {
    assert.equal(await page.getAttribute('html', 'lang'), language);
    assert.deepEqual(await seriousViolations(page), [], `${name} (${language}): serious or critical accessibility violations`);
    assert.deepEqual(wordsNotFromCatalogue(await textsOf(page), language, [...data, ...extra]), [], `${name} (${language}): words not from the catalogue`);
    await photograph(page, language, name);
  }

  /** A relying party's code flow for the signed-in person; undefined when the gateway refused the authorization request. */
  async function signInThrough(clientId: string, secret: string): Promise<{ authorize: ApiResponse; grant?: () => ReturnType<typeof client.authorizationCodeGrant> }> {
    const config = await client.discovery(new URL(gw.origin), clientId, {}, client.ClientSecretBasic(secret), { execute: [client.allowInsecureRequests] });
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid', code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state, nonce });
    const authorize = await person.client.get(url.pathname + url.search);
    if (authorize.status !== 303) return { authorize };
    const callback = new URL(authorize.headers.get('location') ?? '');
    return { authorize, grant: () => client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true }) };
  }

  async function refusedAtToken(p: Promise<unknown>): Promise<boolean> {
    try {
      await p;
      return false;
    } catch (err) {
      return err instanceof client.ResponseBodyError || err instanceof client.WWWAuthenticateChallengeError;
    }
  }

  async function shownSecret(page: Page): Promise<string> {
    const field = page.getByTestId('client-secret');
    await field.waitFor({ state: 'visible' });
    await page.getByTestId('client-secret-warning').waitFor({ state: 'visible' });
    await page.getByTestId('copy-secret-button').waitFor({ state: 'visible' });
    return field.inputValue();
  }

  before(async () => {
    gw = await startTestGateway({ withClient: true, env: { ...SAML_ENV, GATEWAY_STEP_UP_MINUTES: '60', GATEWAY_SESSION_IDLE_MINUTES: '600', GATEWAY_SESSION_ABSOLUTE_MINUTES: '6000' } });
    browser = await launchChromium();
    admin = await activeAdmin(gw);
    person = await activeEmployee(gw, admin.client, 'page-rp.person@demo.example', 'Page Person');
    data = ['First Administrator', admin.email, gw.origin, REDIRECT, ...Object.values(RP_NAME), ...Object.values(SP_NAME), 'OpenID', 'Connect', 'SAML', 'OIOSAML', 'NemLog-in', 'SHA-256', 'JWK', 'JSON', 'XML', 'ACS', 'SLO', 'URI', 'URIs', 'ID'];
  });
  after(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await gw?.close();
  });

  for (const language of ['en', 'da'] as const) {
    it(`NSIS 6 (Low) 1, 7 (${language}): an org-admin registers an OpenID Connect client in the page; openid-client signs in with the secret shown once; a rotated secret refuses the old one; a disabled client is refused`, async () => {
      const clientId = `page-rp-${language}`;
      rpData.push(clientId);
      const page = await open(language, admin.client);
      await page.goto('/clients.html');
      await page.locator('#oidc-section').waitFor({ state: 'visible' });
      await page.getByTestId('nav-clients').waitFor({ state: 'visible' });
      if (language === 'en') {
        await page.locator('#oidc-none').waitFor({ state: 'visible' });
        await check(page, language, 'clients-empty');
      }

      // With the keyboard: each field in turn.
      await page.locator('#oidc-client-id').focus();
      await page.keyboard.type(clientId);
      await page.locator('#oidc-name').focus();
      await page.keyboard.type(RP_NAME[language]);
      await page.locator('#oidc-redirect-uris').focus();
      await page.keyboard.type(REDIRECT);
      await page.locator('#oidc-submit').focus();
      await page.keyboard.press('Enter');
      const first = await shownSecret(page);
      await page.locator('#status').filter({ hasText: text(language, 'clients.oidc.registered', { client: RP_NAME[language] }) }).waitFor();
      await check(page, language, 'clients-secret-shown', [...rpData, ...spData, first]);
      assert.ok((await (await signInThrough(clientId, first)).grant?.())?.claims()?.sub, 'the RP signs in with the secret the page showed');

      const row = page.locator(`tr[data-client-id="${clientId}"]`);
      await row.getByTestId('oidc-rotate').click();
      await page.locator('#confirm-dialog').waitFor({ state: 'visible' });
      await check(page, language, 'clients-confirm-rotate', [...rpData, ...spData, first]);
      await page.locator('#confirm-ok').click();
      await page.waitForFunction((old) => (document.querySelector('[data-testid="client-secret"]') as HTMLInputElement | null)?.value !== old, first);
      const second = await shownSecret(page);
      assert.notEqual(second, first);
      const old = await signInThrough(clientId, first);
      assert.equal(await refusedAtToken(old.grant?.() ?? Promise.resolve()), true, 'the old secret is refused');
      assert.ok((await (await signInThrough(clientId, second)).grant?.())?.claims()?.sub, 'the new secret works');

      await row.getByTestId('oidc-disable').click();
      await page.locator('#confirm-dialog').waitFor({ state: 'visible' });
      // Issue 16: the dialog says the tokens the client holds stop working (they are revoked with the disable).
      assert.match((await page.locator('#confirm-dialog').textContent()) ?? '', /access tokens|adgangstokens/);
      await check(page, language, 'clients-confirm-disable', [...rpData, ...spData, first, second]);
      await page.locator('#confirm-ok').click();
      await row.getByTestId('oidc-enable').waitFor({ state: 'visible' });
      assert.equal(await row.getByTestId('oidc-state').textContent().then((s) => s?.startsWith(text(language, 'clients.disabled'))), true);
      const refused = await signInThrough(clientId, second);
      assert.equal(refused.authorize.status, 400, 'a disabled client is refused at the authorization endpoint');
      assert.equal(refused.grant, undefined);
      await check(page, language, 'clients-oidc-list', [...rpData, ...spData, first, second]);
    });

    it(`issue 16 (${language}): an org-admin registers a SAML service provider from its metadata with a display name; node-saml's request reaches the sign-in page, which names the service by it`, async () => {
      const sp = await makeGatewaySp(gw, { entityId: `https://${language}-page-sp.example.dk/metadata` });
      const page = await open(language, admin.client);
      await page.goto('/clients.html');
      await page.locator('#saml-section').waitFor({ state: 'visible' });
      await page.locator('#saml-xml').fill(sp.metadataXml);
      await page.locator('#saml-display-name').fill(SP_NAME[language]);
      await page.locator('#saml-submit').click();
      await page.locator('#status').filter({ hasText: text(language, 'clients.saml.registered', { entity: SP_NAME[language] }) }).waitFor();
      const row = page.getByTestId('saml-row').filter({ hasText: SP_NAME[language] });
      await row.getByTestId('saml-show-details').click();
      await page.getByTestId('saml-certificates').waitFor({ state: 'visible' });
      assert.equal(await page.getByTestId('saml-certificates').locator('li').count(), 2, 'its signing and encryption certificates');
      spData.push(sp.entityId, `${sp.acs} (HTTP-POST)`, `${sp.slo} (HTTP-POST)`, sp.acs, sp.slo, 'CN=Gateway test SP signing', 'CN=Gateway test SP encryption');
      // The certificates' fingerprints are data shown inside sentences.
      const fingerprints = (await page.getByTestId('saml-certificates').locator('li').allTextContents()).flatMap((l) => l.match(/([0-9A-F]{2}:){31}[0-9A-F]{2}/g) ?? []);
      await check(page, language, 'clients-saml-details', [...spData, ...fingerprints]);

      // A person who is not signed in yet follows the SP's AuthnRequest (node-saml) to the sign-in page.
      const visitor = await open(language);
      await visitor.goto(await sp.saml.getAuthorizeUrlAsync('relay', undefined, {}));
      await visitor.waitForURL(/\/index\.html\?saml=/);
      await visitor.locator('#status').filter({ hasText: SP_NAME[language] }).waitFor();
      assert.equal((await visitor.locator('#status').textContent())?.includes(sp.entityId), false, 'named by its display name, not its entityID');
      await check(visitor, language, 'clients-saml-signin-named');
    });
  }
});
