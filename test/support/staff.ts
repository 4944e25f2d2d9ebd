/**
 * People set up through the real consoles, as an organisation does it: an org-admin binds them
 * (with staff roles, which the duties table grants at once or leaves waiting), the enrolment link
 * goes by mail to their address, and they enrol and activate their key in their own browser.
 */
import assert from 'node:assert/strict';
import { ApiClient, field, type ApiResponse } from './apiClient.js';
import { activate, enrol, signIn, type JourneyGateway } from './journeys.js';
import { SoftAuthenticator } from './softAuthenticator.js';

export interface Person {
  client: ApiClient;
  auth: SoftAuthenticator;
  keyId: string;
  identityId: string;
  email: string;
  name: string;
  /** The answer to the binding request (roles granted, or waiting for approval). */
  created: ApiResponse;
}

/** `by` (an org-admin's signed-in client) binds the person; they enrol from the mailed link. */
export async function bindAndEnrol(gw: JourneyGateway, by: ApiClient, who: { name: string; email: string; roles?: string[] }): Promise<Person> {
  const created = await by.post('/api/admin/identities', { name: who.name, email: who.email, ial: 'substantial', proofingMethod: 'ID document checked in person by HR', roles: who.roles ?? [] });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const identityId = field<string>(created.body, 'identity', 'id');
  const issued = await by.post(`/api/admin/identities/${identityId}/enrolments`, {});
  assert.equal(issued.status, 201, JSON.stringify(issued.body));
  const client = new ApiClient(gw.origin);
  const auth = new SoftAuthenticator();
  const keyId = await enrol(gw, client, auth, await gw.latestEnrolmentLink(who.email));
  const act = await activate(gw, client, auth, who.email);
  assert.equal(act.status, 200, JSON.stringify(act.body));
  return { client, auth, keyId, identityId, email: who.email, name: who.name, created };
}

/** A fresh key touch, as a console asks for when a step-up is needed. */
export async function touch(gw: JourneyGateway, who: { client: ApiClient; auth: SoftAuthenticator; email: string }): Promise<void> {
  const res = await signIn(gw, who.client, who.auth, who.email);
  assert.equal(res.status, 200, JSON.stringify(res.body));
}

/** An org-admin registers the organisation's directory (a SCIM provisioning client); its bearer token. */
export async function registerDirectory(by: ApiClient, label = 'Entra ID (HR sync)'): Promise<string> {
  const registered = await by.post('/api/admin/provisioning/clients', { label, ial: 'substantial', proofingMethod: 'HR onboarding: passport checked in person', tokenDays: 30 });
  assert.equal(registered.status, 201, JSON.stringify(registered.body));
  return field<string>(registered.body, 'token', 'token');
}

/** A role grant by two org-admins (duties table, role-grant): `asker` asks for it, `approver` approves. */
export async function grantByTwo(asker: ApiClient, approver: ApiClient, identityId: string, role: string): Promise<void> {
  const asked = await asker.post(`/api/admin/identities/${identityId}/roles`, { role, grant: true });
  assert.equal(asked.status, 202, JSON.stringify(asked.body));
  const ok = await approver.post(`/api/approvals/${field<string>(asked.body, 'approval', 'id')}/approve`, {});
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
}
