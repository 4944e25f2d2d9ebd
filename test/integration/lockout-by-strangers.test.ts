/**
 * Issue 13, "Abuse and races" 1: nobody can lock a person out. A person's email address and
 * credential ids are public (sign-in options list the ids), so a stranger can name them in as many
 * junk requests as he likes. The limits count per account AND client (OWASP ASVS V2.2.1): the
 * stranger uses up only his own budget for that person; the person's own browser (a device cookie
 * the gateway issued when they signed in, activated or enrolled there) keeps its budget even on
 * the stranger's network, and is never slowed; any other browser is slowed progressively (a soft
 * limit), never refused. The hard per-client limit stays.
 *
 * The test client plays a reverse proxy on 127.0.0.1 (GATEWAY_TRUST_PROXY=loopback), so each
 * party has the address it would have: the stranger and the victim's office on one NAT, a new
 * laptop elsewhere.
 */
import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { softDelayMs } from '../../server/http/rateLimit.js';
import { ApiClient, field, type ApiResponse } from '../support/apiClient.js';
import { activeAdmin, activeEmployee } from '../support/journeys.js';
import { SoftAuthenticator } from '../support/softAuthenticator.js';
import { statementsOf } from '../support/statementLog.js';
import { startTestGateway, type TestGateway } from '../support/testGateway.js';

const PER_ACCOUNT_AND_CLIENT = 4;
const SOFT = 2;
const OFFICE_NAT = '198.51.100.10';
const ELSEWHERE = '203.0.113.20';

const from = (ip: string): Record<string, string> => ({ 'x-forwarded-for': ip });
const b64 = (n: number): string => randomBytes(n).toString('base64url');

/** A well-formed assertion naming `id` that does not verify: what a stranger can send. */
function junk(id: string) {
  return { id, rawId: id, type: 'public-key', response: { clientDataJSON: b64(60), authenticatorData: b64(37), signature: b64(70) }, clientExtensionResults: {} };
}

/** The soft limit's delay this answer reports (Server-Timing), 0 when it was not held back. */
function throttled(res: ApiResponse): number {
  const m = /rate-limit;dur=(\d+)/.exec(res.headers.get('server-timing') ?? '');
  return m ? Number(m[1]) : 0;
}

async function signInFrom(gw: TestGateway, c: ApiClient, auth: SoftAuthenticator, email: string, ip: string): Promise<{ options: ApiResponse; verify: ApiResponse }> {
  const options = await c.post('/api/signin/options', { email }, from(ip));
  assert.equal(options.status, 200, JSON.stringify(options.body));
  const response = await auth.getAssertion(field<PublicKeyCredentialRequestOptionsJSON>(options.body, 'options'), gw.origin);
  return { options, verify: await c.post('/api/signin/verify', { response }, from(ip)) };
}

describe('a stranger cannot lock a person out (issue 13, 1)', () => {
  let gw: TestGateway;
  let victim: { client: ApiClient; auth: SoftAuthenticator; email: string; keyId: string };
  let credentialId: string;
  let other: { client: ApiClient; auth: SoftAuthenticator; email: string };
  before(async () => {
    gw = await startTestGateway({
      env: {
        GATEWAY_TRUST_PROXY: 'loopback',
        GATEWAY_RATE_LIMIT_IP_PER_MINUTE: '1000',
        GATEWAY_RATE_LIMIT_ACCOUNT_PER_MINUTE: String(PER_ACCOUNT_AND_CLIENT),
        GATEWAY_RATE_LIMIT_ACCOUNT_SOFT_PER_MINUTE: String(SOFT),
      },
    });
    const admin = await activeAdmin(gw);
    victim = await activeEmployee(gw, admin.client, 'victim@demo.example', 'Victim');
    other = await activeEmployee(gw, admin.client, 'stranger@demo.example', 'Stranger');
    const [id] = victim.auth.credentialIds();
    assert.ok(id);
    credentialId = id;
  });
  after(async () => {
    await gw?.close();
  });

  it("OWASP ASVS V2.2.1: the browser a person enrolled and activated in holds their device cookie", () => {
    const cookie = victim.client.cookie('gw_device');
    assert.ok(cookie && /^[A-Za-z0-9_-]{65}$/.test(cookie), `device cookie: ${cookie}`);
  });

  it("NSIS 3.3.1 (Low) 3, OWASP ASVS V2.2.1: a stranger flooding a person's credential id and email is refused (429 RATE_LIMITED) and slowed, while the person signs in from their own browser on the same network at once (200, not delayed)", async () => {
    const stranger = new ApiClient(gw.origin);
    const statuses: number[] = [];
    const delays: number[] = [];
    for (let i = 0; i < 10; i++) {
      const res = await stranger.post('/api/signin/verify', { response: junk(credentialId) }, from(OFFICE_NAT));
      statuses.push(res.status);
      delays.push(throttled(res));
      if (res.status === 429) {
        assert.equal(res.code, 'RATE_LIMITED');
        assert.match(res.headers.get('retry-after') ?? '', /^\d+$/);
      } else {
        assert.equal(res.code, 'SIGNIN_FAILED');
      }
    }
    // His budget for this person on this network: 4 requests; past the soft limit each waits longer.
    assert.deepEqual(statuses, [401, 401, 401, 401, 429, 429, 429, 429, 429, 429]);
    assert.deepEqual(delays.slice(0, 4), [0, 0, softDelayMs(1), softDelayMs(2)]);
    for (let i = 0; i < 10; i++) {
      const res = await stranger.post('/api/signin/options', { email: victim.email }, from(OFFICE_NAT));
      assert.equal(res.status, i < PER_ACCOUNT_AND_CLIENT ? 200 : 429, `options ${i + 1}`);
    }

    // The person, on the same office network, with the browser they activated in: unaffected.
    for (let round = 0; round < 3; round++) {
      const { options, verify } = await signInFrom(gw, victim.client, victim.auth, victim.email, OFFICE_NAT);
      assert.equal(verify.status, 200, JSON.stringify(verify.body));
      assert.equal(throttled(options) + throttled(verify), 0, 'the holder was slowed');
    }
  });

  it('OWASP ASVS V2.2.1: from a browser that never signed in, on another network, the person is slowed (soft limit, Server-Timing says by how much) but not refused; that browser is then theirs', async () => {
    const laptop = new ApiClient(gw.origin);
    const first = await signInFrom(gw, laptop, victim.auth, victim.email, ELSEWHERE);
    assert.equal(first.verify.status, 200, JSON.stringify(first.verify.body));
    assert.ok(throttled(first.verify) >= softDelayMs(1), `not slowed: ${first.verify.headers.get('server-timing')}`);
    const setCookie = first.verify.headers.getSetCookie().find((c) => c.startsWith('gw_device=')) ?? '';
    assert.match(setCookie, /; HttpOnly/);
    assert.match(setCookie, /; SameSite=Strict/);
    assert.match(setCookie, /; Max-Age=34560000/);
    assert.ok(laptop.cookie('gw_device'), 'the laptop got its device cookie');
    const second = await signInFrom(gw, laptop, victim.auth, victim.email, ELSEWHERE);
    assert.equal(second.verify.status, 200);
    assert.equal(throttled(second.verify), 0, 'a browser that signed in is the holder\'s own');
  });

  it("OWASP ASVS V2.2.1: a stranger's own device cookie, or a forged one, earns no trust for someone else's account", async () => {
    // The stranger signs in as himself and keeps his device cookie; then he floods the victim again.
    const own = await signInFrom(gw, other.client, other.auth, other.email, '192.0.2.55');
    assert.equal(own.verify.status, 200);
    const res = await other.client.post('/api/signin/verify', { response: junk(credentialId) }, from('192.0.2.55'));
    assert.equal(res.status, 401);
    assert.ok(throttled(res) > 0, 'his own device cookie made him trusted for the victim');
    const forged = new ApiClient(gw.origin);
    const cookie = victim.client.cookie('gw_device') ?? '';
    const res2 = await forged.request('POST', '/api/signin/verify', { response: junk(credentialId) }, { ...from('192.0.2.56'), cookie: `gw_device=${cookie.slice(0, 22)}${b64(32)}` });
    assert.equal(res2.status, 401);
    assert.ok(throttled(res2) > 0, 'a forged device cookie was trusted');
  });

  it("NSIS 3.3.1, issue 17: a sign-in's options from a browser with a device cookie read the address once (the trusted-browser check's read is the options' read), and list that address's own keys, whoever's the browser is", async (t) => {
    const allowOf = (res: ApiResponse): string[] => field<PublicKeyCredentialRequestOptionsJSON>(res.body, 'options').allowCredentials?.map((c) => c.id) ?? [];
    let own: ApiResponse | undefined;
    const sql = await statementsOf(async () => {
      own = await other.client.post('/api/signin/options', { email: other.email }, from('192.0.2.55'));
    });
    assert.equal(own?.status, 200);
    assert.equal(throttled(own), 0, 'the holder\'s own browser is trusted');
    assert.deepEqual(allowOf(own), other.auth.credentialIds());
    assert.equal(sql.filter((s) => /email_norm/.test(s)).length, 1, `the address was read more than once:\n${sql.join('\n')}`);
    t.diagnostic(`statements of one options request from the holder's browser: ${sql.length}`);
    // The same browser naming someone else: not trusted for them, and their keys are what is listed.
    let theirs: ApiResponse | undefined;
    const sql2 = await statementsOf(async () => {
      theirs = await other.client.post('/api/signin/options', { email: victim.email.toUpperCase() }, from('192.0.2.55'));
    });
    assert.equal(theirs?.status, 200);
    assert.deepEqual(allowOf(theirs), victim.auth.credentialIds());
    assert.equal(sql2.filter((s) => /email_norm/.test(s)).length, 1);
  });

  it('OWASP ASVS V2.2.1: the hard per-client limit stays: one network naming many accounts is refused at the per-IP limit', async () => {
    const g = await startTestGateway({ env: { GATEWAY_TRUST_PROXY: 'loopback', GATEWAY_RATE_LIMIT_IP_PER_MINUTE: '5' } });
    try {
      const c = new ApiClient(g.origin);
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++) statuses.push((await c.post('/api/signin/options', { email: `p${i}@demo.example` }, from(OFFICE_NAT))).status);
      assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429, 429]);
      assert.equal((await c.post('/api/signin/options', { email: 'p0@demo.example' }, from(ELSEWHERE))).status, 200, 'another network');
    } finally {
      await g.close();
    }
  });
});
