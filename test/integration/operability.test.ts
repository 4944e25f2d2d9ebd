/**
 * Operability (issue 7): health probes, Prometheus metrics and structured request logs.
 *
 * Real gateways in-process (real SQLite, real SoftHSM token, real HTTP); the HSM outage runs in a
 * child process against a COPY of the token (test/integration/operability-hsm-scenario.ts, the
 * approach of hsm-outage-http.test.ts); the cluster aggregation runs in a real node:cluster
 * primary with two workers (test/support/metricsClusterScenario.ts).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DEFAULT_TOKEN_LABEL } from '../../hsm/index.js';
import { cookieNames } from '../../server/http/cookies.js';
import { createLogger } from '../../server/logger.js';
import { ApiClient, field, obj } from '../support/apiClient.js';
import { activeAdmin, signIn, tokenOf } from '../support/journeys.js';
import { repoRoot, startTestGateway, type TestGateway } from '../support/testGateway.js';
// Types only: importing the scenario's values would run it in this process.
import type { ProbeSample, ReadinessOutageResult } from './operability-hsm-scenario.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const AUDIENCE = 'urn:demo:intranet';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Samples of a text exposition, keyed `name{labels}` exactly as printed. */
function parseExposition(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

/** The sample with these labels (in any order) or undefined. */
function sampleOf(samples: Map<string, number>, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const [key, value] of samples) {
    const brace = key.indexOf('{');
    const metric = brace < 0 ? key : key.slice(0, brace);
    if (metric !== name) continue;
    const have = brace < 0 ? [] : key.slice(brace + 1, -1).split(',');
    if (wanted.length === have.length && wanted.every((w) => have.includes(w))) return value;
  }
  return undefined;
}

function runChild(script: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The token directory holding the token with this label (as in hsm-outage-http.test.ts). */
function findTokenDir(tokensDir: string, label: string): string {
  const padded = Buffer.from(label.padEnd(32, ' '), 'utf8');
  const matches = readdirSync(tokensDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .filter((dir) => {
      const object = path.join(tokensDir, dir.name, 'token.object');
      return existsSync(object) && readFileSync(object).includes(padded);
    });
  const [match] = matches;
  if (!match || matches.length > 1) throw new Error(`expected one token directory labelled "${label}" in ${tokensDir}, found ${matches.length}`);
  return path.join(tokensDir, match.name);
}

function jsonOf(s: ProbeSample): unknown {
  return JSON.parse(s.body) as unknown;
}

describe('operability: health probes and metrics', () => {
  let gw: TestGateway;

  before(async () => {
    // Trust proxy on: the forwarded client counts for the loopback-only scrape rule.
    gw = await startTestGateway({ env: { GATEWAY_TRUST_PROXY: 'loopback', GATEWAY_TOKEN_AUDIENCES: AUDIENCE } });
  });
  after(async () => {
    await gw?.close();
  });

  it('NSIS 4.1.6 (Low) 1 / operability: /health/live is 200 while serving, /health/ready reports database and HSM separately, /api/health still answers, and all are in the OpenAPI document', async () => {
    const live = await fetch(`${gw.origin}/health/live`);
    assert.equal(live.status, 200);
    assert.deepEqual(await live.json(), { status: 'ok' });
    assert.equal(live.headers.get('cache-control'), 'no-store');

    const ready = await fetch(`${gw.origin}/health/ready`);
    assert.equal(ready.status, 200);
    assert.match(ready.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(await ready.json(), { status: 'ready', database: { status: 'ok' }, hsm: { status: 'ok', tokens: [{ name: 'primary', status: 'ok', signing: true }] } });

    const legacy = await fetch(`${gw.origin}/api/health`);
    assert.equal(legacy.status, 200);

    const doc = obj(await (await fetch(`${gw.origin}/api/openapi.json`)).json());
    const paths = obj(doc['paths']);
    for (const p of ['/health/live', '/health/ready', '/metrics', '/api/health']) assert.ok(p in paths, `${p} is in the OpenAPI document`);
    // The 503 of readiness is a plain JSON report, not a problem: the document says so.
    assert.deepEqual(Object.keys(field(paths, '/health/ready', 'get', 'responses', '503', 'content')), ['application/json']);
    assert.match(Object.keys(field(paths, '/metrics', 'get', 'responses', '200', 'content'))[0] ?? '', /^text\/plain; version=0\.0\.4/);
  });

  it('NSIS 4.1.6 (Low) 4 / operability: /metrics counts WebAuthn ceremonies by kind and outcome, refusals by exact reason, lifecycle transitions, HSM signing latency and HTTP durations by route pattern, with event-loop p50/p99', async () => {
    const admin = await activeAdmin(gw);
    const signedIn = await signIn(gw, admin.client, admin.auth, admin.email);
    assert.equal(signedIn.status, 200);
    const token = await admin.client.post('/api/tokens', { audience: AUDIENCE });
    assert.equal(token.status, 200, JSON.stringify(token.body));
    const lost = await admin.client.post(`/api/me/credentials/${admin.keyId}/report-lost`, {});
    assert.equal(lost.status, 200, JSON.stringify(lost.body));
    const refused = await signIn(gw, new ApiClient(gw.origin), admin.auth, admin.email);
    assert.equal(refused.status, 401);

    const res = await fetch(`${gw.origin}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    const m = parseExposition(text);

    assert.equal(sampleOf(m, 'gateway_webauthn_ceremonies_total', { ceremony: 'enrolment', outcome: 'succeeded' }), 1);
    assert.equal(sampleOf(m, 'gateway_webauthn_ceremonies_total', { ceremony: 'activation', outcome: 'succeeded' }), 1);
    assert.equal(sampleOf(m, 'gateway_webauthn_ceremonies_total', { ceremony: 'signin', outcome: 'succeeded' }), 1);
    assert.equal(sampleOf(m, 'gateway_webauthn_ceremonies_total', { ceremony: 'signin', outcome: 'refused' }), 1);
    // The client got the generic refusal; the metric, like the audit trail, has the exact reason.
    assert.equal(sampleOf(m, 'gateway_refusals_total', { event: 'signin.refused', reason: 'key-suspended' }), 1);
    assert.equal(sampleOf(m, 'gateway_lifecycle_transitions_total', { action: 'issue', from: 'none', to: 'issued' }), 1);
    assert.equal(sampleOf(m, 'gateway_lifecycle_transitions_total', { action: 'activate', from: 'issued', to: 'active' }), 1);
    assert.equal(sampleOf(m, 'gateway_lifecycle_transitions_total', { action: 'suspend', from: 'active', to: 'suspended' }), 1);

    assert.ok((sampleOf(m, 'gateway_hsm_sign_duration_seconds_count', { outcome: 'ok' }) ?? 0) >= 1, 'the token signature was timed');
    assert.equal(sampleOf(m, 'gateway_hsm_up'), 1);
    assert.equal(sampleOf(m, 'gateway_hsm_token_up', { token: 'primary' }), 1);
    assert.equal(sampleOf(m, 'gateway_hsm_token_signing', { token: 'primary' }), 1);

    // Route patterns, never raw paths: the key id is not in any label.
    assert.ok((sampleOf(m, 'gateway_http_request_duration_seconds_count', { method: 'POST', route: '/api/signin/verify', status: '200' }) ?? 0) >= 1);
    assert.equal(sampleOf(m, 'gateway_http_request_duration_seconds_count', { method: 'POST', route: '/api/signin/verify', status: '401' }), 1);
    assert.equal(sampleOf(m, 'gateway_http_request_duration_seconds_count', { method: 'POST', route: '/api/me/credentials/:id/report-lost', status: '200' }), 1);
    assert.ok(!text.includes(admin.keyId), 'no key id in the metrics');

    // The event-loop delay figures the benchmark reads (since the previous scrape).
    for (const name of ['nodejs_eventloop_lag_p50_seconds', 'nodejs_eventloop_lag_p99_seconds']) {
      const v = sampleOf(m, name);
      assert.ok(v !== undefined && Number.isFinite(v) && v >= 0, `${name} = ${v}`);
    }
  });

  it('operability: without GATEWAY_METRICS_TOKEN /metrics answers loopback clients only (a forwarded outside client gets 403 problem+json)', async () => {
    const outside = await fetch(`${gw.origin}/metrics`, { headers: { 'x-forwarded-for': '203.0.113.7' } });
    assert.equal(outside.status, 403);
    assert.match(outside.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.equal(field((await outside.json()) as unknown, 'code'), 'FORBIDDEN');
    const local = await fetch(`${gw.origin}/metrics`);
    assert.equal(local.status, 200);
  });
});

describe('operability: request ids and logs', () => {
  let gw: TestGateway;
  const lines: string[] = [];
  const metricsToken = randomBytes(32).toString('hex');

  before(async () => {
    const capture = { write: (s: string) => void lines.push(s) };
    gw = await startTestGateway({ log: createLogger('debug', capture), env: { GATEWAY_METRICS_TOKEN: metricsToken, GATEWAY_SESSION_IDLE_MINUTES: '60' } });
  });
  after(async () => {
    await gw?.close();
  });

  it('operability: with GATEWAY_METRICS_TOKEN, /metrics needs it as a Bearer token (401 with WWW-Authenticate otherwise)', async () => {
    const none = await fetch(`${gw.origin}/metrics`);
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer /);
    assert.match(none.headers.get('content-type') ?? '', /^application\/problem\+json/);
    const wrong = await fetch(`${gw.origin}/metrics`, { headers: { authorization: `Bearer ${randomBytes(32).toString('hex')}` } });
    assert.equal(wrong.status, 401);
    const right = await fetch(`${gw.origin}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } });
    assert.equal(right.status, 200);
  });

  it('operability: a plain incoming X-Request-Id is kept, anything else replaced; the id is in the response header and in problem+json bodies', async () => {
    const kept = await fetch(`${gw.origin}/api/no-such-route`, { headers: { 'x-request-id': 'trace-me.123' } });
    assert.equal(kept.headers.get('x-request-id'), 'trace-me.123');
    assert.equal(field((await kept.json()) as unknown, 'requestId'), 'trace-me.123');
    for (const bad of ['has space', 'x'.repeat(65), '<script>', 'a,b']) {
      const res = await fetch(`${gw.origin}/health/live`, { headers: { 'x-request-id': bad } });
      assert.match(res.headers.get('x-request-id') ?? '', UUID, `${JSON.stringify(bad)} is replaced`);
    }
    const generated = await fetch(`${gw.origin}/health/live`);
    assert.match(generated.headers.get('x-request-id') ?? '', UUID);
  });

  it('NSIS 4.1.4 / operability: after enrolment, activation, sign-in and an OpenID Connect code flow, every request has one JSON log line with its request id and route pattern, and the log holds no session cookie, enrolment token, activation code, OIDC code, client secret, access token or Authorization value', async () => {
    const link = gw.seed.enrolmentLink;
    assert.ok(link);
    const secrets: Record<string, string> = { enrolmentToken: tokenOf(link), metricsToken };
    const admin = await activeAdmin(gw);
    const code = await gw.latestCode(admin.email);
    secrets['activationCode'] = code;
    secrets['activationCodeAsMailed'] = `${code.slice(0, 4)} ${code.slice(4)}`;
    const names = cookieNames(false);
    secrets['sessionAfterActivation'] = admin.client.cookie(names.session) ?? '';
    secrets['flowCookie'] = admin.client.cookie(names.flow) ?? '';
    const signedIn = await signIn(gw, admin.client, admin.auth, admin.email);
    assert.equal(signedIn.status, 200);
    secrets['sessionAfterSignIn'] = admin.client.cookie(names.session) ?? '';

    // An OpenID Connect relying party, the browser's authorization, the back-channel exchange.
    const redirectUri = 'http://127.0.0.1:8799/callback';
    const registered = await admin.client.post('/api/admin/oidc-clients', {
      clientId: 'ops-rp',
      name: 'Operations RP',
      redirectUris: [redirectUri],
      postLogoutRedirectUris: [],
      authMethod: 'client_secret_basic',
      scopes: ['openid'],
      minLoa: 'substantial',
    });
    assert.equal(registered.status, 201, JSON.stringify(registered.body));
    secrets['clientSecret'] = field<string>(registered.body, 'clientSecret');
    const verifier = randomBytes(32).toString('base64url');
    secrets['pkceVerifier'] = verifier;
    secrets['state'] = randomBytes(16).toString('base64url');
    secrets['nonce'] = randomBytes(16).toString('base64url');
    const authorize = new URLSearchParams({
      response_type: 'code',
      client_id: 'ops-rp',
      redirect_uri: redirectUri,
      scope: 'openid',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      state: secrets['state'],
      nonce: secrets['nonce'],
    });
    const authorized = await admin.client.get(`/oidc/authorize?${authorize.toString()}`);
    assert.equal(authorized.status, 303, JSON.stringify(authorized.body));
    const callback = new URL(authorized.headers.get('location') ?? '');
    const oidcCode = callback.searchParams.get('code');
    assert.ok(oidcCode, callback.href);
    secrets['oidcCode'] = oidcCode;
    const basic = Buffer.from(`ops-rp:${secrets['clientSecret']}`).toString('base64');
    secrets['basicAuthorization'] = basic;
    const tokenRes = await fetch(`${gw.origin}/oidc/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: oidcCode, redirect_uri: redirectUri, code_verifier: verifier }).toString(),
    });
    assert.equal(tokenRes.status, 200);
    const tokens = (await tokenRes.json()) as unknown;
    secrets['accessToken'] = field<string>(tokens, 'access_token');
    secrets['idToken'] = field<string>(tokens, 'id_token');
    const userinfo = await fetch(`${gw.origin}/oidc/userinfo`, { headers: { authorization: `Bearer ${secrets['accessToken']}` } });
    assert.equal(userinfo.status, 200);
    const scrape = await fetch(`${gw.origin}/metrics`, { headers: { authorization: `Bearer ${metricsToken}`, 'x-request-id': 'scrape.1' } });
    assert.equal(scrape.status, 200);

    // A 5xx: the problem body and the error log line carry the request id.
    await gw.runtime.hsm?.close();
    const failed = await admin.client.post('/api/tokens', { audience: AUDIENCE }, { 'x-request-id': 'hsm-gone.1' });
    assert.equal(failed.status, 503);
    assert.equal(field(failed.body, 'requestId'), 'hsm-gone.1');
    // And readiness reports the HSM without its error text while the database is fine.
    const notReady = await fetch(`${gw.origin}/health/ready`);
    assert.equal(notReady.status, 503);
    assert.deepEqual(await notReady.json(), { status: 'not-ready', database: { status: 'ok' }, hsm: { status: 'unavailable', tokens: [{ name: 'primary', status: 'unavailable', signing: false }] } });

    for (const [name, value] of Object.entries(secrets)) assert.ok(value.length >= 8, `${name} was captured`);
    const log = lines.join('');
    for (const [name, value] of Object.entries(secrets)) {
      const escaped = value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      assert.doesNotMatch(log, new RegExp(`(?<![0-9A-Za-z_-])${escaped}(?![0-9A-Za-z_-])`), `the log holds the ${name}`);
    }
    assert.ok(!log.includes('?'), 'no query string (or anything with a question mark) in the log');

    const entries = lines.map((l) => obj(JSON.parse(l) as unknown));
    const requests = entries.filter((e) => e['msg'] === 'request');
    assert.ok(requests.length >= 15, `one line per request (${requests.length})`);
    for (const r of requests) {
      assert.equal(typeof r['reqId'], 'string');
      assert.equal(typeof r['method'], 'string');
      assert.equal(typeof r['status'], 'number');
      assert.equal(typeof r['ms'], 'number');
      assert.ok(typeof r['route'] === 'string' && !/[0-9a-f]{8}-[0-9a-f]{4}-/.test(r['route']), `a route pattern: ${String(r['route'])}`);
    }
    const routes = new Set(requests.map((r) => `${String(r['method'])} ${String(r['route'])}`));
    for (const expected of ['POST /api/enrolment/verify', 'POST /api/activation/verify', 'POST /api/signin/verify', 'GET /oidc/authorize', 'POST /oidc/token', 'GET /oidc/userinfo', 'GET /metrics']) {
      assert.ok(routes.has(expected), `${expected} was logged: ${[...routes].join(', ')}`);
    }
    // Ids are unique per request, except a client's own.
    const generatedIds = requests.map((r) => String(r['reqId'])).filter((id) => UUID.test(id));
    assert.equal(new Set(generatedIds).size, generatedIds.length);
    assert.ok(requests.some((r) => r['reqId'] === 'scrape.1' && r['route'] === '/metrics' && r['status'] === 200));
    const failure = entries.filter((e) => e['reqId'] === 'hsm-gone.1');
    assert.ok(failure.some((e) => e['msg'] === 'request failed' && e['level'] === 40), JSON.stringify(failure));
    assert.ok(failure.some((e) => e['msg'] === 'request' && e['status'] === 503 && e['route'] === '/api/tokens'), JSON.stringify(failure));
  });
});

describe('operability: the HSM gone and back', () => {
  it('NSIS 4.1.6 (Low) 1 / operability: with the HSM gone, /health/ready answers 503 reporting the database ok and the HSM unavailable (no HSM error text), /health/live stays 200, the HSM error is counted, and readiness returns by itself', async () => {
    const label = process.env['GATEWAY_HSM_TOKEN_LABEL']?.trim() || DEFAULT_TOKEN_LABEL;
    const realConf = process.env['SOFTHSM2_CONF'] ?? path.join(repoRoot, 'var', 'softhsm2.conf');
    const realTokens = /^\s*directories\.tokendir\s*=\s*(.+?)\s*$/m.exec(readFileSync(realConf, 'utf8'))?.[1];
    assert.ok(realTokens, `no directories.tokendir in ${realConf}`);
    const temp = mkdtempSync(path.join(tmpdir(), 'operability-hsm-'));
    try {
      const tokens = path.join(temp, 'tokens');
      cpSync(realTokens, tokens, { recursive: true });
      const conf = path.join(temp, 'softhsm2.conf');
      writeFileSync(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`);
      const resultFile = path.join(temp, 'result.json');
      const run = await runChild(
        path.join(here, 'operability-hsm-scenario.ts'),
        { ...process.env, SOFTHSM2_CONF: conf, OUTAGE_TOKEN_DIR: findTokenDir(tokens, label), OUTAGE_PARKED_DIR: path.join(temp, 'parked-token'), OUTAGE_RESULT_FILE: resultFile },
        60_000,
      );
      assert.ok(run.code === 0 && existsSync(resultFile), `the scenario failed (exit ${run.code}):\n${run.stderr}\n${run.stdout.slice(-2000)}`);
      const r = JSON.parse(readFileSync(resultFile, 'utf8')) as ReadinessOutageResult;

      assert.equal(r.readyBefore.status, 200);
      assert.ok(r.readyDuring, 'readiness never failed while the HSM was gone');
      assert.equal(r.readyDuring.status, 503);
      assert.match(r.readyDuring.contentType ?? '', /^application\/json/);
      // Exactly the two statuses: nothing of the HSM's own error (CKR codes, labels, paths).
      assert.deepEqual(jsonOf(r.readyDuring), { status: 'not-ready', database: { status: 'ok' }, hsm: { status: 'unavailable', tokens: [{ name: 'primary', status: 'unavailable', signing: false }] } });
      assert.equal(r.liveDuring.status, 200);
      assert.equal(r.tokenDuring.status, 503, r.tokenDuring.body);

      assert.equal(r.metricsDuring.status, 200);
      const m = parseExposition(r.metricsDuring.body);
      assert.ok((sampleOf(m, 'gateway_hsm_errors_total', { code: 'HSM_UNAVAILABLE' }) ?? 0) >= 1, r.metricsDuring.body.slice(0, 200));
      assert.ok((sampleOf(m, 'gateway_hsm_sign_duration_seconds_count', { outcome: 'error' }) ?? 0) >= 1);
      assert.equal(sampleOf(m, 'gateway_hsm_up'), 0);

      assert.ok(r.readyAfter, 'readiness did not return after the HSM came back');
      assert.deepEqual(jsonOf(r.readyAfter), { status: 'ready', database: { status: 'ok' }, hsm: { status: 'ok', tokens: [{ name: 'primary', status: 'ok', signing: true }] } });
    } finally {
      rmSync(temp, { recursive: true, force: true });
    }
  });
});

describe('operability: metrics under node:cluster', () => {
  const scenario = path.join(repoRoot, 'test', 'support', 'metricsClusterScenario.ts');

  it('operability: in a cluster, /metrics on one worker returns every worker\'s figures, aggregated by the primary over IPC', async () => {
    const run = await runChild(scenario, { ...process.env, SCENARIO_MODE: 'aggregate' }, 45_000);
    assert.equal(run.code, 0, run.stderr);
    const result = obj(JSON.parse(run.stdout.trim()) as unknown);
    assert.equal(result['ok'], true, run.stdout);
    const m = parseExposition(String(result['text']));
    // Worker 0 counted one sign-in, worker 1 two: the scrape on worker 1 sees three.
    assert.equal(sampleOf(m, 'gateway_webauthn_ceremonies_total', { ceremony: 'signin', outcome: 'succeeded' }), 3);
    assert.equal(sampleOf(m, 'gateway_refusals_total', { event: 'signin.refused', reason: 'reason-of-worker-0' }), 1);
    assert.equal(sampleOf(m, 'gateway_refusals_total', { event: 'signin.refused', reason: 'reason-of-worker-1' }), 1);
    assert.ok(sampleOf(m, 'nodejs_eventloop_lag_p99_seconds') !== undefined);
  });

  it('operability: in a cluster whose primary does not answer, a worker\'s metrics request ends in 503 with Retry-After', async () => {
    const run = await runChild(scenario, { ...process.env, SCENARIO_MODE: 'no-answer' }, 45_000);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout.trim()) as unknown, { ok: false, status: 503, code: 'SERVICE_UNAVAILABLE', retryAfter: '5' });
  });
});
