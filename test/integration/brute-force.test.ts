/**
 * Brute force (issue 7, "Hostile input"): per-IP and per-account rate limits on the ceremony
 * endpoints (429 problem+json RATE_LIMITED with Retry-After, nothing reaching the core), the
 * window resetting (the limiter runs on the gateway's Clock, so the test advances it instead of
 * sleeping), the limits holding across node:cluster workers, and the one-time secrets locking for
 * good: enrolment links after failed registrations, activation codes after wrong codes, both
 * audited. Real gateway, real SQLite, real SoftHSM, real WebAuthn responses; real small limits.
 */
import type { PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { FixedClock } from '../../server/clock.js';
import { MAX_CODE_ATTEMPTS } from '../../server/flows/activation/completeActivation.js';
import { MAX_ENROLMENT_FAILURES } from '../../server/flows/enrolment/completeEnrolment.js';
import { issueEnrolment } from '../../server/flows/enrolment/issueEnrolment.js';
import { createIdentity } from '../../server/flows/identities/createIdentity.js';
import { accountKeyOf, softDelayMs } from '../../server/http/rateLimit.js';
import { ApiClient, field, type ApiResponse } from '../support/apiClient.js';
import { enrol, handedOver } from '../support/journeys.js';
import { SoftAuthenticator, type RegistrationOverrides } from '../support/softAuthenticator.js';
import { repoRoot, startTestGateway, type TestGateway } from '../support/testGateway.js';
// Types only: importing the scenario's values would run it in this process.
import type { ClusterScenarioResult } from './rate-limit-cluster-scenario.js';
import { dbGet } from '../support/dbInspection.js';
import { auditEntries, read } from '../support/storeReads.js';

const b64 = (n: number): string => randomBytes(n).toString('base64url');
const EVIL_ORIGIN = 'https://evil.example';

function assertRateLimited(res: ApiResponse, windowSeconds = 60): void {
  assert.equal(res.status, 429, `expected 429, got ${res.status}: ${JSON.stringify(res.body)}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
  assert.equal(res.code, 'RATE_LIMITED');
  assert.equal(field(res.body, 'status'), 429);
  assert.equal(typeof field(res.body, 'detail'), 'string');
  const retryAfter = res.headers.get('retry-after');
  assert.ok(retryAfter && /^\d+$/.test(retryAfter), `Retry-After missing or not seconds: ${retryAfter}`);
  const seconds = Number(retryAfter);
  assert.ok(seconds >= 1 && seconds <= windowSeconds, `Retry-After ${seconds} outside 1..${windowSeconds}`);
}

function notRateLimited(res: ApiResponse, what: string): void {
  assert.notEqual(res.status, 429, `${what} was rate limited: ${JSON.stringify(res.body)}`);
  assert.ok(res.status < 500, `${what}: ${res.status} ${JSON.stringify(res.body)}`);
}

/** Challenges live in the ephemeral store (docs/architecture.md). */
async function countChallenges(gw: TestGateway): Promise<number> {
  return Number(field(await dbGet(gw, 'SELECT count(*) AS n FROM challenges', [], { ephemeral: true }), 'n'));
}

/** A well-formed assertion for a credential id the gateway does not know. */
function fakeAssertion(id: string) {
  return {
    id,
    rawId: id,
    type: 'public-key',
    response: { clientDataJSON: b64(60), authenticatorData: b64(37), signature: b64(70) },
    clientExtensionResults: {},
  };
}

// =================================================================================================

describe('rate limits on the ceremony endpoints: per IP and per account, 429 with Retry-After (issue 7)', () => {
  const IP_LIMIT = 12;
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

  it('per account: the request over the limit for one email is refused with 429 RATE_LIMITED and Retry-After, before the core sees it', async () => {
    nextWindow();
    const c = new ApiClient(gw.origin);
    // Sign-in and activation options share the account's budget; the address is normalised.
    const spellings = ['victim@demo.example', 'Victim@Demo.Example', 'VICTIM@demo.example'];
    for (const [i, email] of spellings.entries()) {
      const res = await c.post(i === 1 ? '/api/activation/options' : '/api/signin/options', { email });
      assert.equal(res.status, 200, JSON.stringify(res.body));
    }
    const challenges = await countChallenges(gw);
    const head = (await read(gw.runtime.store, (tx) => tx.audit.head()));
    const over = await c.post('/api/signin/options', { email: 'victim@DEMO.example' });
    assertRateLimited(over);
    assertRateLimited(await new ApiClient(gw.origin).post('/api/activation/options', { email: 'victim@demo.example' }));
    assert.equal(await countChallenges(gw), challenges, 'a refused request created a challenge');
    assert.deepEqual((await read(gw.runtime.store, (tx) => tx.audit.head())), head, 'a refused request reached the audit trail');
    // Another account from the same IP is not affected.
    assert.equal((await c.post('/api/signin/options', { email: 'colleague@demo.example' })).status, 200);
  });

  it('per account: the window resets after a minute (the limiter runs on the gateway clock)', async () => {
    nextWindow();
    const c = new ApiClient(gw.origin);
    for (let i = 0; i < ACCOUNT_LIMIT; i++) assert.equal((await c.post('/api/signin/options', { email: 'reset@demo.example' })).status, 200);
    assertRateLimited(await c.post('/api/signin/options', { email: 'reset@demo.example' }));
    clock.advance(30_000);
    const half = await c.post('/api/signin/options', { email: 'reset@demo.example' });
    assertRateLimited(half, 30);
    clock.advance(30_001);
    assert.equal((await c.post('/api/signin/options', { email: 'reset@demo.example' })).status, 200, 'the window did not reset');
  });

  it('per account: an enrolment link is limited (options and verify share its budget), whatever the outcome', async () => {
    nextWindow();
    const token = b64(32);
    const c = new ApiClient(gw.origin);
    for (let i = 0; i < ACCOUNT_LIMIT; i++) {
      const res = await c.post('/api/enrolment/options', { token });
      assert.equal(res.code, 'ENROLMENT_INVALID');
    }
    assertRateLimited(await c.post('/api/enrolment/options', { token }));
    const response = { id: b64(32), rawId: b64(32), type: 'public-key', response: { clientDataJSON: b64(80), attestationObject: b64(200) }, clientExtensionResults: {} };
    assertRateLimited(await c.post('/api/enrolment/verify', { token, label: 'x', response }));
    assert.equal((await c.post('/api/enrolment/options', { token: b64(32) })).code, 'ENROLMENT_INVALID', 'another link is not affected');
  });

  it('per account: a credential id is limited on sign-in and activation verify', async () => {
    nextWindow();
    const id = b64(32);
    const c = new ApiClient(gw.origin);
    for (let i = 0; i < ACCOUNT_LIMIT; i++) {
      const res = await c.post(i === 0 ? '/api/activation/verify' : '/api/signin/verify', i === 0 ? { code: '12345678', response: fakeAssertion(id) } : { response: fakeAssertion(id) });
      assert.ok(res.status === 400 || res.status === 401, JSON.stringify(res.body));
    }
    const head = (await read(gw.runtime.store, (tx) => tx.audit.head()));
    assertRateLimited(await c.post('/api/signin/verify', { response: fakeAssertion(id) }));
    assert.deepEqual((await read(gw.runtime.store, (tx) => tx.audit.head())), head, 'a refused request reached the audit trail');
    assert.equal((await c.post('/api/signin/verify', { response: fakeAssertion(b64(32)) })).status, 401, 'another credential is not affected');
  });

  it('per IP: ceremony requests from one IP beyond the limit are refused on every ceremony path; other endpoints still answer', async () => {
    nextWindow();
    const c = new ApiClient(gw.origin);
    // Distinct accounts, so only the IP limit can bite.
    const paths = ['/api/signin/options', '/api/activation/options', '/api/enrolment/options'];
    for (let i = 0; i < IP_LIMIT; i++) {
      const p = paths[i % paths.length] ?? '/api/signin/options';
      const res = await c.post(p, p === '/api/enrolment/options' ? { token: b64(32) } : { email: `ip-${i}@demo.example` });
      notRateLimited(res, `request ${i + 1}`);
    }
    for (const p of paths) {
      assertRateLimited(await c.post(p, p === '/api/enrolment/options' ? { token: b64(32) } : { email: `fresh-${p.length}@demo.example` }));
    }
    // A request without an account (a discoverable sign-in) and a body that is not even JSON count too.
    assertRateLimited(await c.post('/api/signin/options', {}));
    assertRateLimited(await c.post('/api/signin/verify', 'not json'));
    // Outside the ceremonies nothing is limited.
    assert.equal((await c.get('/api/openapi.json')).status, 200);
    assert.notEqual((await c.get('/api/health')).status, 429);
    assert.equal((await c.get('/api/me')).code, 'UNAUTHENTICATED');
    clock.advance(60_001);
    notRateLimited(await c.post('/api/signin/options', {}), 'after the window');
  });

  it('per IP: OIDC authorize and token are limited too (429 problem+json with Retry-After)', async () => {
    nextWindow();
    const c = new ApiClient(gw.origin);
    for (let i = 0; i < IP_LIMIT; i++) {
      const res = await c.get(`/oidc/authorize?client_id=nobody&response_type=code&state=${i}`);
      notRateLimited(res, `authorize ${i + 1}`);
    }
    assertRateLimited(await c.get('/oidc/authorize?client_id=nobody&response_type=code'));
    assertRateLimited(await c.get('/oidc/authorize/continue?request=x'));
    assertRateLimited(await c.request('POST', '/oidc/token', 'grant_type=authorization_code&code=x', { 'content-type': 'application/x-www-form-urlencoded' }));
    // The /api ceremonies have their own per-IP budget.
    notRateLimited(await c.post('/api/signin/options', {}), 'api sign-in options');
    assert.equal((await c.get('/.well-known/openid-configuration')).status, 200, 'discovery is not limited');
  });

  it('the per-account key is a hash: no raw link, address or credential id is held by the limiter', () => {
    const token = b64(32);
    const key = accountKeyOf({ token, label: 'x' });
    assert.ok(key?.startsWith('enrolment:') && !key.includes(token));
    assert.equal(accountKeyOf({ email: ' Someone@Example.DK ' }), accountKeyOf({ email: 'someone@example.dk' }));
    assert.ok(!(accountKeyOf({ email: 'someone@example.dk' }) ?? '').includes('someone'));
    const id = b64(32);
    const cred = accountKeyOf({ code: '1', response: { id } });
    assert.ok(cred?.startsWith('credential:') && !cred.includes(id));
    // The enrolment link, not the attacker-chosen new credential id, keys a registration.
    assert.equal(accountKeyOf({ token, response: { id } }), key);
    assert.equal(accountKeyOf({}), undefined);
    assert.equal(accountKeyOf([]), undefined);
    assert.equal(accountKeyOf({ email: 42, response: 'x' }), undefined);
  });
});

// =================================================================================================

const scenario = path.join(path.dirname(fileURLToPath(import.meta.url)), 'rate-limit-cluster-scenario.ts');

function runClusterScenario(shared: boolean): Promise<ClusterScenarioResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', scenario], {
      cwd: repoRoot,
      env: { ...process.env, SCENARIO_SHARED: shared ? '1' : '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
      if (code !== 0 || !line) {
        reject(new Error(`cluster scenario exited ${code}\n${stdout}\n${stderr}`));
        return;
      }
      resolve(JSON.parse(line.slice('RESULT '.length)) as ClusterScenarioResult);
    });
  });
}

describe('rate limits hold across node:cluster workers (GATEWAY_WORKERS)', () => {
  it('with the counters in the store, two workers share one count per account and per IP', async () => {
    const r = await runClusterScenario(true);
    assert.equal(r.servedBy.length, 2, `requests were not spread over both workers: ${JSON.stringify(r)}`);
    assert.deepEqual(r.accountStatuses.filter((s) => s === 200).length, r.accountLimit, JSON.stringify(r));
    assert.deepEqual(r.accountStatuses.slice(r.accountLimit), r.accountStatuses.slice(r.accountLimit).map(() => 429), JSON.stringify(r));
    assert.deepEqual(r.ipStatuses.filter((s) => s === 200).length, r.ipLimit, JSON.stringify(r));
    assert.ok(r.retryAfter.every((v) => /^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 60), JSON.stringify(r.retryAfter));
    assert.ok(r.problemCodes.every((c) => c === 'RATE_LIMITED'), JSON.stringify(r.problemCodes));
    // The soft limit counts the failures of every worker: past it, each waits longer (issue 13, 1).
    assert.deepEqual(r.softDelays, [0, 0, softDelayMs(1), softDelayMs(2), softDelayMs(3)], JSON.stringify(r));
  });

  it('without them each worker counts alone (and says so in the log): the shared store is what makes the limit hold', async () => {
    const r = await runClusterScenario(false);
    assert.equal(r.servedBy.length, 2, JSON.stringify(r));
    assert.ok(r.accountStatuses.filter((s) => s === 200).length > r.accountLimit, JSON.stringify(r));
    assert.ok(r.loggedUnshared, 'the worker did not log that its counters are not shared');
  });
});

// =================================================================================================

/** Binds an employee and issues a link through the core (the admin console is tested elsewhere). */
async function bindWithLink(gw: TestGateway, email: string): Promise<{ identityId: string; token: string }> {
  const adminId = gw.seed.admin.id;
  const org = (await read(gw.runtime.store, (tx) => tx.identities.get(adminId)))?.organisationId;
  assert.ok(org);
  const identity = await createIdentity(
    gw.runtime.flows,
    { identityId: adminId, role: 'org-admin' },
    { organisationId: org, name: email, email, ial: 'substantial', proofingMethod: 'ID document checked in person by HR', roles: [] },
  );
  const e = handedOver(await issueEnrolment(gw.runtime.flows, { identityId: adminId, role: 'org-admin' }, identity.id, undefined, 'handover'));
  return { identityId: identity.id, token: e.token };
}

async function registration(gw: TestGateway, c: ApiClient, token: string, overrides: RegistrationOverrides = {}): Promise<RegistrationResponseJSON> {
  const opt = await c.post('/api/enrolment/options', { token });
  assert.equal(opt.status, 200, JSON.stringify(opt.body));
  const options = field<PublicKeyCredentialCreationOptionsJSON>(opt.body, 'options');
  return new SoftAuthenticator().createCredential({ ...options, origin: gw.origin }, overrides);
}

async function enrolmentRow(gw: TestGateway, identityId: string): Promise<{ failed: number; locked: boolean }> {
  // Ties of creation time: SQLite by insertion order (rowid), PostgreSQL has none (ids are random; the test issues one link at a time).
  const order = gw.storeRef.engine === 'sqlite' ? 'created_at DESC, rowid DESC' : 'created_at DESC';
  const r = await dbGet(gw, `SELECT failed_attempts, locked_at FROM enrolments WHERE identity_id = ? ORDER BY ${order} LIMIT 1`, [identityId]);
  return { failed: field<number>(r, 'failed_attempts'), locked: field(r, 'locked_at') !== null };
}

async function auditTypesSince(gw: TestGateway, seq: number): Promise<{ type: string; data: Record<string, unknown> }[]> {
  return (await auditEntries(gw.runtime.store, seq + 1)).map((e) => ({ type: e.type, data: e.data }));
}

describe('one-time secrets lock after the attempt limit, audited (NSIS 3.2.2)', () => {
  const clock = new FixedClock(new Date());
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway({ clock });
  });
  after(async () => {
    await gw.close();
  });

  it(`NSIS 3.2.2: an enrolment link locks after ${MAX_ENROLMENT_FAILURES} failed registrations (403 ENROLMENT_LOCKED, audited enrolment.locked); a new link works`, async () => {
    const emp = (await bindWithLink(gw, 'lock@demo.example'));
    const failures: RegistrationOverrides[] = [{ origin: EVIL_ORIGIN }, { rpId: 'evil.example' }, { userVerified: false }, { type: 'webauthn.get' }, { userPresent: false }];
    assert.equal(failures.length, MAX_ENROLMENT_FAILURES);
    // A registration started while the link was live, kept for after the lock.
    const waiting = new ApiClient(gw.origin);
    const valid = await registration(gw, waiting, emp.token);
    const head = (await read(gw.runtime.store, (tx) => tx.audit.head())).seq;
    for (const [i, overrides] of failures.entries()) {
      const c = new ApiClient(gw.origin);
      const response = await registration(gw, c, emp.token, overrides);
      const res = await c.post('/api/enrolment/verify', { token: emp.token, label: 'k', response });
      const last: boolean = i === failures.length - 1;
      assert.equal(res.status, last ? 403 : 400, JSON.stringify(res.body));
      assert.equal(res.code, last ? 'ENROLMENT_LOCKED' : 'CEREMONY_FAILED');
      assert.deepEqual(await enrolmentRow(gw, emp.identityId), { failed: i + 1, locked: last });
    }
    const events = (await auditTypesSince(gw, head));
    const locked = events.filter((e) => e.type === 'enrolment.locked');
    assert.equal(locked.length, 1);
    assert.equal(locked[0]?.data['attempts'], MAX_ENROLMENT_FAILURES);
    assert.equal(events.filter((e) => e.type === 'enrolment.refused' && e.data['reason'] === 'registration-not-verified').length, MAX_ENROLMENT_FAILURES);

    // Locked for good: options, and even the valid registration started earlier.
    const mark = (await read(gw.runtime.store, (tx) => tx.audit.head())).seq;
    const opt = await new ApiClient(gw.origin).post('/api/enrolment/options', { token: emp.token });
    assert.equal(opt.status, 403);
    assert.equal(opt.code, 'ENROLMENT_LOCKED');
    const late = await waiting.post('/api/enrolment/verify', { token: emp.token, label: 'k', response: valid });
    assert.equal(late.code, 'ENROLMENT_LOCKED');
    assert.deepEqual(
      (await auditTypesSince(gw, mark)).map((e) => [e.type, e.data['reason']]),
      [
        ['enrolment.refused', 'locked'],
        ['enrolment.refused', 'locked'],
      ],
    );
    assert.equal((await read(gw.runtime.store, (tx) => tx.credentials.listOfIdentity(emp.identityId))).length, 0);

    // The administrator issues a new link; it works.
    const fresh = handedOver(await issueEnrolment(gw.runtime.flows, { identityId: gw.seed.admin.id, role: 'org-admin' }, emp.identityId, undefined, 'handover'));
    await enrol(gw, new ApiClient(gw.origin), new SoftAuthenticator(), `${gw.origin}/enrol.html#token=${fresh.token}`);
    assert.equal((await read(gw.runtime.store, (tx) => tx.credentials.listOfIdentity(emp.identityId))).length, 1);
  });

  it('NSIS 3.2.2: challenge tampering counts (another browser, a replayed challenge); a challenge that merely expired does not', async () => {
    const emp = (await bindWithLink(gw, 'slow@demo.example'));
    // Expired: the holder was slow. Refused, not counted.
    const slow = new ApiClient(gw.origin);
    const late = await registration(gw, slow, emp.token);
    clock.advance(gw.runtime.config.challengeTtlSeconds * 1000 + 1000);
    const r1 = await slow.post('/api/enrolment/verify', { token: emp.token, label: 'k', response: late });
    assert.equal(r1.code, 'CHALLENGE_INVALID');
    assert.deepEqual(await enrolmentRow(gw, emp.identityId), { failed: 0, locked: false });
    // Another browser presenting this browser's response: counted.
    const victim = new ApiClient(gw.origin);
    const stolen = await registration(gw, victim, emp.token);
    const r2 = await new ApiClient(gw.origin).post('/api/enrolment/verify', { token: emp.token, label: 'k', response: stolen });
    assert.equal(r2.code, 'CHALLENGE_INVALID');
    // The same response again (its challenge is now spent): counted.
    const r3 = await victim.post('/api/enrolment/verify', { token: emp.token, label: 'k', response: stolen });
    assert.equal(r3.code, 'CHALLENGE_INVALID');
    assert.deepEqual(await enrolmentRow(gw, emp.identityId), { failed: 2, locked: false });
    // The link still works for the holder.
    await enrol(gw, new ApiClient(gw.origin), new SoftAuthenticator(), `${gw.origin}/enrol.html#token=${emp.token}`);
  });

  it('NSIS 3.2.2: concurrent failed registrations are all counted and lock the link exactly once', async () => {
    const emp = (await bindWithLink(gw, 'storm@demo.example'));
    const n = MAX_ENROLMENT_FAILURES + 4;
    const prepared = await Promise.all(
      Array.from({ length: n }, async () => {
        const c = new ApiClient(gw.origin);
        return { c, response: await registration(gw, c, emp.token, { origin: EVIL_ORIGIN }) };
      }),
    );
    const head = (await read(gw.runtime.store, (tx) => tx.audit.head())).seq;
    const results = await Promise.all(prepared.map(({ c, response }) => c.post('/api/enrolment/verify', { token: emp.token, label: 'k', response })));
    for (const r of results) assert.ok(r.code === 'CEREMONY_FAILED' || r.code === 'ENROLMENT_LOCKED', JSON.stringify(r.body));
    assert.ok(results.some((r) => r.code === 'ENROLMENT_LOCKED'));
    assert.deepEqual(await enrolmentRow(gw, emp.identityId), { failed: MAX_ENROLMENT_FAILURES, locked: true });
    assert.equal((await auditTypesSince(gw, head)).filter((e) => e.type === 'enrolment.locked').length, 1);
  });

  it(`NSIS 3.2.2: an activation code locks after ${MAX_CODE_ATTEMPTS} wrong codes (403 ACTIVATION_CODE_LOCKED), audited with the attempt count; the right code no longer works`, async () => {
    const emp = (await bindWithLink(gw, 'guess@demo.example'));
    const auth = new SoftAuthenticator();
    const keyId = await enrol(gw, new ApiClient(gw.origin), auth, `${gw.origin}/enrol.html#token=${emp.token}`);
    const code = await gw.latestCode('guess@demo.example');
    const wrong = (n: number): string => [...code].map((d) => String((Number(d) + n) % 10)).join('');
    const c = new ApiClient(gw.origin);
    const attempt = async (presented: string): Promise<ApiResponse> => {
      const opt = await c.post('/api/activation/options', { email: 'guess@demo.example' });
      const response = await auth.getAssertion(field<PublicKeyCredentialRequestOptionsJSON>(opt.body, 'options'), gw.origin);
      return c.post('/api/activation/verify', { code: presented, response });
    };
    const head = (await read(gw.runtime.store, (tx) => tx.audit.head())).seq;
    for (let i = 1; i <= MAX_CODE_ATTEMPTS; i++) {
      const res = await attempt(wrong(i));
      assert.equal(res.code, i === MAX_CODE_ATTEMPTS ? 'ACTIVATION_CODE_LOCKED' : 'ACTIVATION_CODE_INVALID', JSON.stringify(res.body));
    }
    const refusals = (await auditTypesSince(gw, head)).filter((e) => e.type === 'activation.refused');
    assert.deepEqual(
      refusals.map((e) => [e.data['attempts'], e.data['locked']]),
      Array.from({ length: MAX_CODE_ATTEMPTS }, (_, i) => [i + 1, i + 1 === MAX_CODE_ATTEMPTS]),
    );
    const right = await attempt(code);
    assert.equal(right.status, 403);
    assert.equal(right.code, 'ACTIVATION_CODE_LOCKED');
    assert.equal(c.cookie('gw_session'), undefined, 'a session cookie was set');
    assert.equal((await read(gw.runtime.store, (tx) => tx.credentials.get(keyId)))?.state, 'issued');
  });
});
