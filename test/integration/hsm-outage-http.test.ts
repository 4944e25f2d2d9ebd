/**
 * NSIS 6 (Low) 4 over HTTP: with the HSM gone under load, POST /api/tokens fails closed (503
 * problem+json with Retry-After, no token, nothing audited), /api/health says the HSM is
 * unavailable, and tokens are issued again by themselves when the HSM returns.
 *
 * The gateway runs in a child process (test/integration/hsm-outage-http-scenario.ts) against a
 * COPY of the SoftHSM token with its own softhsm2.conf: SoftHSM reads SOFTHSM2_CONF once per
 * process, and the real var/ token must never be renamed. The child records every response with
 * its times; the assertions are made here, verifying each token independently (jose) against the
 * JWKS the gateway published before the outage.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { DEFAULT_TOKEN_LABEL } from '../../hsm/index.js';
import { repoRoot } from '../support/testGateway.js';
// Types only: importing the scenario's values would run it in this process.
import type { HttpOutageResult, TokenResponse } from './hsm-outage-http-scenario.js';

const scenario = path.join(path.dirname(fileURLToPath(import.meta.url)), 'hsm-outage-http-scenario.ts');

/** The token directory (<tokendir>/<uuid>) holding the token with this label (SoftHSM keeps the padded label in token.object). */
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

function runScenario(env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', scenario], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const describeResponse = (r: TokenResponse): string => JSON.stringify({ ...r, token: r.token ? `${r.token.slice(0, 24)}...` : null });

test('NSIS 6 (Low) 4: with the HSM gone under load, token requests fail closed with 503 problem+json and Retry-After, no token is issued, /api/health says unavailable, and signing resumes by itself when the HSM returns', async (t) => {
  const label = process.env['GATEWAY_HSM_TOKEN_LABEL']?.trim() || DEFAULT_TOKEN_LABEL;
  const realConf = process.env['SOFTHSM2_CONF'] ?? path.join(repoRoot, 'var', 'softhsm2.conf');
  const realTokens = /^\s*directories\.tokendir\s*=\s*(.+?)\s*$/m.exec(readFileSync(realConf, 'utf8'))?.[1];
  assert.ok(realTokens, `no directories.tokendir in ${realConf}`);
  const temp = mkdtempSync(path.join(tmpdir(), 'hsm-outage-http-'));
  try {
    // A copy of the real token, with a softhsm2.conf of its own.
    const tokens = path.join(temp, 'tokens');
    cpSync(realTokens, tokens, { recursive: true });
    const conf = path.join(temp, 'softhsm2.conf');
    writeFileSync(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`);
    const resultFile = path.join(temp, 'result.json');

    const run = await runScenario(
      {
        ...process.env,
        SOFTHSM2_CONF: conf,
        OUTAGE_TOKEN_DIR: findTokenDir(tokens, label),
        OUTAGE_PARKED_DIR: path.join(temp, 'parked-token'),
        OUTAGE_RESULT_FILE: resultFile,
        OUTAGE_MS: '1500',
      },
      45_000,
    );
    assert.ok(run.code === 0 && existsSync(resultFile), `the scenario failed (exit ${run.code}):\n${run.stderr}\n${run.stdout.slice(-2000)}`);
    const result = JSON.parse(readFileSync(resultFile, 'utf8')) as HttpOutageResult;
    const { responses, renamedAt, restoringAt, restoredAt } = result;

    const ok = responses.filter((r) => r.status === 200);
    const unavailable = responses.filter((r) => r.status === 503);
    const other = responses.filter((r) => r.status !== 200 && r.status !== 503);
    const during = responses.filter((r) => r.answeredAt > renamedAt && r.sentAt < restoredAt);
    const counts = {
      total: responses.length,
      ok: ok.length,
      unavailable: unavailable.length,
      other: other.length,
      before: responses.filter((r) => r.answeredAt <= renamedAt).length,
      duringOk: during.filter((r) => r.status === 200).length,
      during503: during.filter((r) => r.status === 503).length,
      outageMs: Math.round(restoringAt - renamedAt),
      recoveryMs: result.recoveredAt === null ? null : Math.round(result.recoveredAt - restoredAt),
    };
    const summary = JSON.stringify(counts);
    // The counts of this run, for the record (the test runner prints diagnostics).
    t.diagnostic(`counts ${summary}`);

    // No answer other than 200 or 503, ever (no 500, no 502/504...).
    assert.deepEqual(other.map(describeResponse), [], `answers other than 200/503: ${summary}`);

    // Tokens were issued before the outage.
    assert.ok(counts.before > 0 && responses.filter((r) => r.answeredAt <= renamedAt).every((r) => r.status === 200), summary);

    // Every 503 is RFC 9457 problem+json, code SERVICE_UNAVAILABLE, with a Retry-After in seconds, and no token.
    for (const r of unavailable) {
      assert.match(r.contentType ?? '', /^application\/problem\+json\b/, describeResponse(r));
      assert.equal(r.code, 'SERVICE_UNAVAILABLE', describeResponse(r));
      assert.match(r.retryAfter ?? '', /^[1-9]\d*$/, describeResponse(r));
      assert.equal(r.token, null, describeResponse(r));
    }
    // The outage was noticed: requests were refused while the token was away.
    assert.ok(counts.during503 > 0, `no 503 during the outage: ${summary}`);

    // Every 200 carries a token that verifies (jose) with a key the gateway published BEFORE the
    // outage: nothing was signed by anything else.
    const jwks = createLocalJWKSet(result.jwksBefore as JSONWebKeySet);
    const issuedJtis: string[] = [];
    for (const r of ok) {
      assert.ok(r.token, describeResponse(r));
      const { payload, protectedHeader } = await jwtVerify(r.token, jwks, { issuer: result.origin, audience: result.audience, algorithms: ['ES256'] }).catch(
        (err: unknown) => assert.fail(`a 200 whose token does not verify with the published key (${String(err)}): ${describeResponse(r)}`),
      );
      assert.equal(protectedHeader.alg, 'ES256');
      assert.equal(typeof payload.jti, 'string');
      issuedJtis.push(String(payload.jti));
    }

    // Fail closed: no request sent after the token's directory was gone got a token before it
    // was back. (A 200 answered during the outage is a signature that began before the rename.)
    const signedWhileGone = ok.filter((r) => r.sentAt >= renamedAt && r.answeredAt < restoringAt);
    assert.deepEqual(signedWhileGone.map(describeResponse), [], `tokens issued for requests sent while the HSM was gone: ${summary}`);

    // /api/health said 503 with hsm.status 'unavailable' at least once during the outage.
    const healthDuring = result.health.filter((h) => h.sentAt >= renamedAt && h.answeredAt < restoringAt);
    assert.ok(healthDuring.length > 0, `no health check during the outage: ${summary}`);
    assert.ok(
      healthDuring.some((h) => h.status === 503 && h.hsmStatus === 'unavailable'),
      `health never said unavailable during the outage: ${JSON.stringify(healthDuring)}`,
    );
    for (const h of result.health) {
      assert.ok((h.status === 200 && h.hsmStatus === 'ok') || (h.status === 503 && h.hsmStatus === 'unavailable'), JSON.stringify(h));
    }

    // Signing resumed by itself, within a bounded time (the gateway's backoff starts at 500 ms
    // and doubles), with nothing restarted; every request sent after that got a token.
    assert.ok(result.recoveredAt !== null && result.recoveredAt - restoredAt < 10_000, `no token within 10 s of the restore: ${summary}`);
    const recoveredAt = result.recoveredAt;
    const afterRecovery = responses.filter((r) => r.sentAt >= recoveredAt);
    assert.ok(afterRecovery.length > 0, summary);
    assert.deepEqual(afterRecovery.filter((r) => r.status !== 200).map(describeResponse), [], `refusals after the recovery: ${summary}`);
    assert.equal(result.healthAfter.status, 200, JSON.stringify(result.healthAfter));
    assert.equal(result.healthAfter.hsmStatus, 'ok', JSON.stringify(result.healthAfter));

    // No token is issued without being audited, and nothing refused was audited.
    assert.equal(result.auditedJtis.length, ok.length, `token.issued events vs 200 answers: ${summary}`);
    assert.deepEqual([...result.auditedJtis].sort(), [...issuedJtis].sort());
    assert.equal(new Set(issuedJtis).size, issuedJtis.length, 'every token has its own jti');
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
});
