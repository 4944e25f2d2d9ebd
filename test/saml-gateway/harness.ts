/**
 * Shared set-up of the SAML gateway tests (issue 15): a real gateway (SQLite file, SoftHSM token,
 * HTTP on 127.0.0.1) with GATEWAY_SAML_ENABLED, an independent SP (@node-saml/node-saml, with its
 * own keys) registered from its metadata through the admin API, and a browser played by an
 * ApiClient with the software authenticator.
 */
import assert from 'node:assert/strict';
import { SAML, ValidateInResponseTo } from '@node-saml/node-saml';
import { NAMEID_FORMAT, OIOSAML } from '../../server/saml/index.js';
import { ApiClient, field, type ApiResponse } from '../support/apiClient.js';
import { signIn } from '../support/journeys.js';
import type { SoftAuthenticator } from '../support/softAuthenticator.js';
import type { TestGateway } from '../support/testGateway.js';
import { softwareKey } from '../saml/support.js';

export const SAML_ENV = { GATEWAY_SAML_ENABLED: 'true' };

export interface GatewaySp {
  saml: SAML;
  entityId: string;
  acs: string;
  slo: string;
  metadataXml: string;
  signing: Awaited<ReturnType<typeof softwareKey>>;
  encryption: Awaited<ReturnType<typeof softwareKey>>;
}

export interface SpOptions {
  entityId?: string;
  binding?: 'HTTP-POST' | 'HTTP-Redirect';
  authnContext?: string[];
  forceAuthn?: boolean;
  passive?: boolean;
  /** The IdP certificates the SP trusts (default: the gateway's published ones). */
  idpCert?: string[];
  /** node-saml's metadata offers SLO by HTTP-POST only; `HTTP-Redirect` rewrites it to that binding. */
  sloBinding?: 'HTTP-POST' | 'HTTP-Redirect';
}

/** The IdP's signing certificates as its metadata publishes them, active first. */
export async function idpCertificates(gw: TestGateway): Promise<string[]> {
  const res = await fetch(`${gw.origin}/saml/metadata`);
  assert.equal(res.status, 200);
  const xml = await res.text();
  return [...xml.matchAll(/<ds:X509Certificate>([^<]+)<\/ds:X509Certificate>/g)].map((m) => `-----BEGIN CERTIFICATE-----\n${m[1] ?? ''}\n-----END CERTIFICATE-----`);
}

/** An independent SP (node-saml) that signs its AuthnRequests and decrypts and validates the gateway's Responses. */
export async function makeGatewaySp(gw: TestGateway, options: SpOptions = {}): Promise<GatewaySp> {
  const signing = await softwareKey('Gateway test SP signing');
  const encryption = await softwareKey('Gateway test SP encryption');
  const entityId = options.entityId ?? 'https://sp.example.dk/metadata';
  const base = new URL(entityId).origin;
  const acs = `${base}/acs`;
  const slo = `${base}/slo`;
  const saml = new SAML({
    entryPoint: `${gw.origin}/saml/sso`,
    skipRequestCompression: options.binding === 'HTTP-POST',
    issuer: entityId,
    callbackUrl: acs,
    logoutUrl: `${gw.origin}/saml/slo`,
    logoutCallbackUrl: slo,
    idpCert: options.idpCert ?? (await idpCertificates(gw)),
    idpIssuer: `${gw.origin}/saml/metadata`,
    audience: entityId,
    privateKey: signing.privateKeyPem,
    publicCert: signing.certificatePem,
    decryptionPvk: encryption.privateKeyPem,
    signatureAlgorithm: 'sha256',
    digestAlgorithm: 'sha256',
    wantAssertionsSigned: true,
    wantAuthnResponseSigned: false,
    identifierFormat: NAMEID_FORMAT.persistent,
    authnRequestBinding: options.binding ?? 'HTTP-Redirect',
    authnContext: options.authnContext ?? [OIOSAML.loaSubstantial],
    racComparison: 'minimum',
    forceAuthn: options.forceAuthn ?? false,
    passive: options.passive ?? false,
    validateInResponseTo: ValidateInResponseTo.always,
    acceptedClockSkewMs: 60_000,
  });
  const generated = saml.generateServiceProviderMetadata(encryption.certificatePem, signing.certificatePem);
  const metadataXml =
    options.sloBinding === 'HTTP-Redirect'
      ? generated.replace(/(<SingleLogoutService[^>]*Binding=")urn:oasis:names:tc:SAML:2\.0:bindings:HTTP-POST/, '$1urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect')
      : generated;
  return { saml, entityId, acs, slo, metadataXml, signing, encryption };
}

/** Registers an SP through the admin API (org-admin, step-up: the admin signed in just now). */
export async function registerSp(admin: ApiClient, sp: GatewaySp, settings: Record<string, unknown> = {}): Promise<ApiResponse> {
  return admin.post('/api/admin/saml/service-providers', { metadataXml: sp.metadataXml, settings });
}

/** The browser follows a gateway URL (its cookies, no automatic redirects). */
export function browse(gw: TestGateway, browser: ApiClient, url: string): Promise<ApiResponse> {
  const u = new URL(url, gw.origin);
  assert.equal(u.origin, gw.origin, `the browser is sent to the gateway, not to ${u.origin}`);
  return browser.get(u.pathname + u.search);
}

/** Where a 303 sends the browser. */
export function locationOf(res: ApiResponse): URL {
  assert.equal(res.status, 303, `expected a 303, got ${res.status}: ${JSON.stringify(res.body).slice(0, 400)}`);
  const loc = res.headers.get('location');
  assert.ok(loc, 'a 303 carries a Location');
  return new URL(loc);
}

/** The hidden fields and action of the auto-submitting form page the gateway answers an SP with. */
export function postedForm(res: ApiResponse): { action: string; fields: Record<string, string> } {
  assert.equal(res.status, 200, `expected the form page, got ${res.status}: ${JSON.stringify(res.body).slice(0, 400)}`);
  const html = String(res.body);
  const unescape = (v: string) => v.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
  assert.ok(action, 'the page holds a form');
  const fields: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) fields[unescape(m[1] ?? '')] = unescape(m[2] ?? '');
  return { action: unescape(action), fields };
}

/** Sends the browser to the gateway with the SP's AuthnRequest (Redirect: GET; POST: the form). */
export async function startSso(gw: TestGateway, browser: ApiClient, sp: GatewaySp, relayState = 'relay-1'): Promise<ApiResponse> {
  const url = await sp.saml.getAuthorizeUrlAsync(relayState, undefined, {});
  return browse(gw, browser, url);
}

/** The whole round: AuthnRequest, resume, the sign-in page's key touch, the continuation: the form page for the ACS. */
export async function signInThroughSso(gw: TestGateway, browser: ApiClient, auth: SoftAuthenticator, email: string, sp: GatewaySp, authnRequestUrl?: string): Promise<ApiResponse> {
  const resume = locationOf(authnRequestUrl ? await browse(gw, browser, authnRequestUrl) : await startSso(gw, browser, sp));
  assert.equal(resume.pathname, '/saml/sso/resume');
  const page = locationOf(await browse(gw, browser, resume.toString()));
  assert.equal(page.pathname, '/index.html');
  const requestId = page.searchParams.get('saml');
  assert.ok(requestId, 'the sign-in page is told which request to continue');
  const named = await browser.get(`/api/saml/authn-request?id=${encodeURIComponent(requestId)}`);
  assert.equal(named.status, 200);
  assert.equal(field(named.body, 'serviceProvider'), sp.entityId);
  const signedIn = await signIn(gw, browser, auth, email);
  assert.equal(signedIn.status, 200, JSON.stringify(signedIn.body));
  return browse(gw, browser, `/saml/sso/continue?request=${encodeURIComponent(requestId)}`);
}
