/**
 * Issue 17: the API's paths without parameters (the ceremonies among them) are answered from a
 * table of their middleware instead of the router's walk (server/http/exactRoutes.ts). Every
 * protection still applies there, and on any other spelling of the same path, which the walk
 * serves: CSRF, the media type, the body limit, the per-IP and per-account rate limits (one budget
 * whichever spelling), the session and role rules with the refusal audited, problem+json, and the
 * route label of the metrics. Real gateway, real SQLite, real SoftHSM, real HTTP.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { FixedClock } from '../../server/clock.js';
import { ApiClient, field, type ApiResponse } from '../support/apiClient.js';
import { activeAdmin, activeEmployee } from '../support/journeys.js';
import { auditEntries } from '../support/storeReads.js';
import { startTestGateway, type TestGateway } from '../support/testGateway.js';

const b64 = (n: number): string => randomBytes(n).toString('base64url');

/** A well-formed assertion for a credential id the gateway does not know. */
function fakeAssertion(id: string) {
  return { id, rawId: id, type: 'public-key', response: { clientDataJSON: b64(60), authenticatorData: b64(37), signature: b64(70) }, clientExtensionResults: {} };
}

function problem(res: ApiResponse, status: number, code: string): void {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
  assert.equal(res.code, code);
  assert.equal(field(res.body, 'status'), status);
}

/** The same path as another client would spell it: the router walk serves it, not the table. */
const SPELLINGS = (path: string): string[] => [path, `${path}/`, path.replace('/signin/', '/SignIn/')];

describe('issue 17: the exact-path table keeps every protection of the API routes', () => {
  const IP_LIMIT = 30;
  const ACCOUNT_LIMIT = 3;
  const clock = new FixedClock(new Date());
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway({
      clock,
      env: { GATEWAY_RATE_LIMIT_IP_PER_MINUTE: String(IP_LIMIT), GATEWAY_RATE_LIMIT_ACCOUNT_PER_MINUTE: String(ACCOUNT_LIMIT) },
    });
  });
  after(async () => {
    await gw.close();
  });
  /** Every test starts in fresh one-minute windows. */
  const nextWindow = (): void => clock.advance(61_000);

  it('NSIS 3.3.1 / issue 7: a cross-origin or cross-site POST to /api/signin/verify is refused with 403 CSRF_CHECK_FAILED and a body not sent as JSON with 415 UNSUPPORTED_MEDIA_TYPE, however the path is spelled', async () => {
    nextWindow();
    const c = new ApiClient(gw.origin);
    const body = { response: fakeAssertion(b64(32)) };
    for (const path of SPELLINGS('/api/signin/verify')) {
      problem(await c.post(path, body, { origin: 'https://evil.example' }), 403, 'CSRF_CHECK_FAILED');
      problem(await c.post(path, body, { 'sec-fetch-site': 'cross-site' }), 403, 'CSRF_CHECK_FAILED');
      problem(await c.post(path, 'response=x', { 'content-type': 'application/x-www-form-urlencoded' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    }
  });

  it('NSIS 3.3.1 / issue 7: a body over the limit on /api/signin/verify is refused with 413 PAYLOAD_TOO_LARGE, and a malformed one with 400, never reaching the core', async () => {
    nextWindow();
    const c = new ApiClient(gw.origin);
    const head = (await auditEntries(gw.runtime.store)).length;
    problem(await c.post('/api/signin/verify', JSON.stringify({ response: fakeAssertion('x'.repeat(gw.runtime.config.bodyLimitBytes)) })), 413, 'PAYLOAD_TOO_LARGE');
    const malformed = await c.post('/api/signin/verify', '{"response":');
    assert.equal(malformed.status, 400, JSON.stringify(malformed.body));
    assert.match(malformed.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.equal((await auditEntries(gw.runtime.store)).length, head, 'a refused body reached the audit trail');
  });

  it('NSIS 3.3.1 / issue 7: the per-account limit answers 429 RATE_LIMITED with Retry-After on /api/signin/verify, one budget for every spelling of the path', async () => {
    nextWindow();
    const c = new ApiClient(gw.origin);
    const body = { response: fakeAssertion(b64(32)) };
    const [exact = '', ...others] = SPELLINGS('/api/signin/verify');
    for (const path of [exact, ...others].slice(0, ACCOUNT_LIMIT)) {
      const res = await c.post(path, body);
      problem(res, 401, res.code ?? '');
    }
    for (const path of [exact, ...others]) {
      const over = await c.post(path, body);
      problem(over, 429, 'RATE_LIMITED');
      assert.match(over.headers.get('retry-after') ?? '', /^\d+$/);
    }
    // Another account from the same browser is not affected.
    assert.equal((await c.post(exact, { response: fakeAssertion(b64(32)) })).status, 401);
  });

  it('NSIS 3.3.1 / issue 7: the per-IP limit counts every ceremony request, answered from the table or by the walk, and refuses the one over it with 429 RATE_LIMITED', async () => {
    nextWindow();
    const c = new ApiClient(gw.origin);
    const paths = SPELLINGS('/api/signin/options');
    for (let i = 0; i < IP_LIMIT; i++) {
      const res = await c.post(paths[i % paths.length] ?? '', {});
      assert.equal(res.status, 200, `request ${i + 1}: ${JSON.stringify(res.body)}`);
    }
    problem(await c.post('/api/signin/options', {}), 429, 'RATE_LIMITED');
    problem(await c.post('/api/activation/options', { email: 'someone@demo.example' }), 429, 'RATE_LIMITED');
    // Not a ceremony path: no IP limit there.
    assert.notEqual((await c.post('/api/signout', {})).status, 429);
  });

  it('NSIS 4.1.6 (Low) 4 / operability: /metrics labels the requests answered from the table with their route path, for every spelling, never with the raw path', async () => {
    nextWindow();
    const c = new ApiClient(gw.origin);
    const count = async (labels: string): Promise<number> => {
      const scrape = await c.get('/metrics');
      assert.equal(scrape.status, 200);
      const m = new RegExp(`^gateway_http_request_duration_seconds_count\\{${labels.replace(/[/.]/g, '\\$&')}\\} (\\d+)$`, 'm').exec(String(scrape.body));
      return m ? Number(m[1]) : 0;
    };
    const options = 'method="POST",route="/api/signin/options",status="200"';
    const verify = 'method="POST",route="/api/signin/verify",status="401"';
    const [optionsBefore, verifyBefore] = [await count(options), await count(verify)];
    for (const path of SPELLINGS('/api/signin/options')) assert.equal((await c.post(path, {})).status, 200);
    assert.equal((await c.post('/api/signin/verify', { response: fakeAssertion(b64(32)) })).status, 401);
    assert.equal(await count(options), optionsBefore + 3);
    assert.equal(await count(verify), verifyBefore + 1);
    const text = String((await c.get('/metrics')).body);
    assert.ok(!/route="[^"]*(SignIn|options\/)"/.test(text), 'a raw path became a metric label');
  });

  it('NSIS 3.1.2 / issue 17: a path of the table that needs a session is refused without one (401 UNAUTHENTICATED) and answered with one; a role path refuses a session without the role (403 ROLE_REQUIRED) and audits the refusal', async () => {
    nextWindow();
    problem(await new ApiClient(gw.origin).get('/api/me'), 401, 'UNAUTHENTICATED');
    const admin = await activeAdmin(gw);
    assert.equal((await admin.client.get('/api/me')).status, 200);
    nextWindow();
    const employee = await activeEmployee(gw, admin.client, 'dispatch.employee@demo.example');
    const refusals = async (): Promise<number> =>
      (await auditEntries(gw.runtime.store)).filter((e) => e.type === 'oidc.client-refused' && e.data['code'] === 'ROLE_REQUIRED').length;
    const before = await refusals();
    problem(await employee.client.post('/api/admin/oidc-clients', { clientId: 'x' }), 403, 'ROLE_REQUIRED');
    assert.equal(await refusals(), before + 1, 'the refusal was not audited');
  });
});
