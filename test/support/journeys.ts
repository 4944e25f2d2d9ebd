/**
 * Whole journeys through the real API with the software authenticator: the building blocks of
 * the integration tests.
 */
import type { PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import assert from 'node:assert/strict';
import { ApiClient, field } from './apiClient.js';
import { SoftAuthenticator } from './softAuthenticator.js';
import type { IssuedEnrolment } from '../../server/flows/enrolment/issueEnrolment.js';

/**
 * What a journey needs of a gateway: its origin and the second channel. An in-process
 * TestGateway and a ChildGateway (a real `server/main.ts` process) both provide it.
 */
export interface JourneyGateway {
  origin: string;
  /** The 8-digit code in the newest activation/reactivation mail to `to`. */
  latestCode(to: string): Promise<string>;
  /** The link in the newest enrolment mail to `to` (the default delivery, NSIS 3.2.2 (Substantial) 2). */
  latestEnrolmentLink(to: string): Promise<string>;
}

/** The one-time link in an enrolment mail's text. */
export function enrolmentLinkIn(text: string): string | undefined {
  return /(https?:\/\/\S+\/enrol\.html#token=[A-Za-z0-9_-]+)/.exec(text)?.[1];
}

/** A journey gateway that also knows the seeded first administrator's one-time link. */
export interface SeededGateway extends JourneyGateway {
  seed: { enrolmentLink: string | undefined; admin: { email: string } };
}

/** An enrolment issued in-process with the explicit hand-over choice: its link and token. */
export function handedOver(e: IssuedEnrolment): { enrolmentId: string; token: string; link: string } {
  if (e.delivery === 'mail') throw new Error('this enrolment was mailed; issue it with delivery "handover"');
  return e;
}

export function tokenOf(link: string): string {
  const m = /#token=([A-Za-z0-9_-]+)$/.exec(link);
  if (!m?.[1]) throw new Error(`not an enrolment link: ${link}`);
  return m[1];
}

/** Registers a key from an enrolment link; returns the key's gateway id. */
export async function enrol(gw: JourneyGateway, client: ApiClient, auth: SoftAuthenticator, link: string, label = 'Test key'): Promise<string> {
  const token = tokenOf(link);
  const opt = await client.post('/api/enrolment/options', { token });
  assert.equal(opt.status, 200, JSON.stringify(opt.body));
  const options = field<PublicKeyCredentialCreationOptionsJSON>(opt.body, 'options');
  const response = await auth.createCredential({ ...options, origin: gw.origin });
  const ver = await client.post('/api/enrolment/verify', { token, label, response });
  assert.equal(ver.status, 201, JSON.stringify(ver.body));
  assert.equal(field(ver.body, 'credential', 'state'), 'issued');
  return field<string>(ver.body, 'credential', 'id');
}

export async function activate(gw: JourneyGateway, client: ApiClient, auth: SoftAuthenticator, email: string, code?: string) {
  const opt = await client.post('/api/activation/options', { email });
  assert.equal(opt.status, 200, JSON.stringify(opt.body));
  const options = field<PublicKeyCredentialRequestOptionsJSON>(opt.body, 'options');
  const response = await auth.getAssertion(options, gw.origin);
  return client.post('/api/activation/verify', { code: code ?? (await gw.latestCode(email)), response });
}

export async function signIn(gw: JourneyGateway, client: ApiClient, auth: SoftAuthenticator, email?: string) {
  const opt = await client.post('/api/signin/options', email === undefined ? {} : { email });
  assert.equal(opt.status, 200, JSON.stringify(opt.body));
  const options = field<PublicKeyCredentialRequestOptionsJSON>(opt.body, 'options');
  const response = await auth.getAssertion(options, gw.origin);
  return client.post('/api/signin/verify', { response });
}

/** The seeded administrator with an active key and a signed-in client. */
export async function activeAdmin(gw: SeededGateway) {
  const client = new ApiClient(gw.origin);
  const auth = new SoftAuthenticator();
  const link = gw.seed.enrolmentLink;
  if (!link) throw new Error('the seed issued no enrolment link');
  const keyId = await enrol(gw, client, auth, link, 'Admin key');
  const act = await activate(gw, client, auth, gw.seed.admin.email);
  assert.equal(act.status, 200, JSON.stringify(act.body));
  return { client, auth, keyId, email: gw.seed.admin.email };
}

/** An employee created by the admin, enrolled and activated, signed in on its own client. */
export async function activeEmployee(
  gw: JourneyGateway,
  admin: ApiClient,
  email: string,
  name = 'Employee',
  ial: 'low' | 'substantial' | 'high' = 'substantial',
  auth: SoftAuthenticator = new SoftAuthenticator(),
) {
  const created = await admin.post('/api/admin/identities', {
    name,
    email,
    ial,
    proofingMethod: 'ID document checked in person by HR',
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const identityId = field<string>(created.body, 'identity', 'id');
  // The link goes by mail to the bound address, and the person opens it from there.
  const issued = await admin.post(`/api/admin/identities/${identityId}/enrolments`, {});
  assert.equal(issued.status, 201, JSON.stringify(issued.body));
  assert.equal(field(issued.body, 'link'), undefined, 'the link is never returned to the issuer by default');
  const client = new ApiClient(gw.origin);
  const keyId = await enrol(gw, client, auth, await gw.latestEnrolmentLink(email));
  const act = await activate(gw, client, auth, email);
  assert.equal(act.status, 200, JSON.stringify(act.body));
  return { client, auth, keyId, identityId, email };
}
