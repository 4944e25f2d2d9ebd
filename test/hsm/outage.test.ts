/**
 * HSM outage, end to end, for both PKCS#11 implementations: the module's service stops and
 * starts again while signatures run.
 *
 * The scenario runs in a child process (test/hsm/outage-scenario.ts; see its header for how
 * each outage is made and what the module does): SoftHSM reads SOFTHSM2_CONF once per process,
 * at C_Initialize, and works on a copy of the token with its own softhsm2.conf so that the real
 * var/ token is never renamed; tpm2-pkcs11 works on a simulator of its own, which the child
 * stops and starts. The child reports JSON; the assertions are made here, the same for both.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createPublicKey, verify } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DEFAULT_TOKEN_LABEL } from '../../hsm/index.js';
import type { OutageResult } from './outage-scenario.js';
import { repoRoot, varDir } from './helpers.js';
import { freshSimulatorDir, startTpm2Simulator, stopTpm2Simulator } from './tokens.js';

const scenario = path.join(path.dirname(fileURLToPath(import.meta.url)), 'outage-scenario.ts');

/** The token directory (<tokendir>/<uuid>) holding the token with this label (SoftHSM keeps the padded label in token.object). */
function findTokenDir(tokensDir: string, label: string): string {
  const dirs = readdirSync(tokensDir, { withFileTypes: true }).filter((entry) => entry.isDirectory());
  const padded = Buffer.from(label.padEnd(32, ' '), 'utf8');
  const matches = dirs.filter((dir) => {
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

/** What every outage must look like, whatever the module. */
function assertOutage(run: { code: number | null; stdout: string; stderr: string }, label: string): void {
    const line = run.stdout.split('\n').find((l) => l.startsWith('OUTAGE_RESULT '));
    assert.ok(run.code === 0 && line, `the scenario failed (exit ${run.code}):\n${run.stderr}\n${run.stdout.slice(-2000)}`);
    const result = JSON.parse(line.slice('OUTAGE_RESULT '.length)) as OutageResult;
    const summary = JSON.stringify({ ...result, healthDuringOutage: result.healthDuringOutage.slice(0, 2) }, null, 1);

    // Signing worked before the outage.
    assert.ok(result.phases.before.signatures > 0, summary);

    // During the outage every call was refused with HSM_UNAVAILABLE; nothing was signed.
    const outage = result.phases.outage;
    assert.ok(outage.calls > 50, `signing kept being attempted during the outage: ${summary}`);
    assert.equal(outage.signatures, 0, summary);
    assert.deepEqual(Object.keys(outage.errors), ['HSM_UNAVAILABLE'], summary);
    assert.equal(outage.errors.HSM_UNAVAILABLE, outage.calls);
    assert.deepEqual(result.outageSignatures, []);

    // Nothing was signed by anything else: every signature returned, at any
    // time, verifies with the signer's key and none with the other key on the token.
    assert.equal(result.verification.verifiedBySigner, result.verification.total, summary);
    assert.equal(result.verification.verifiedByOtherKey, 0, summary);
    // The parent checks the outage signatures itself too (there are none).
    for (const { message, signature } of result.outageSignatures) {
      for (const jwk of [result.publicJwk, result.otherJwk]) {
        const key = createPublicKey({ key: { ...jwk }, format: 'jwk' });
        assert.ok(!verify('sha256', Buffer.from(message, 'base64url'), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature, 'base64url')));
      }
    }

    // health() said unavailable, with a reason, the whole time.
    assert.equal(result.healthDuringOutage.length, 10);
    for (const health of result.healthDuringOutage) {
      assert.equal(health.status, 'unavailable', summary);
      assert.ok(health.detail && health.detail.length > 0, summary);
    }
    assert.ok(result.statusDuringOutage.every((s) => s === 'unavailable'), summary);
    assert.equal(result.events[0]?.status, 'unavailable', summary);

    // Signing resumed by itself, within a bounded time (backoff 50..250 ms in the scenario).
    assert.ok(result.recoveryMs !== null && result.recoveryMs < 5000, `recovery took ${result.recoveryMs} ms: ${summary}`);
    assert.ok(result.phases.after.signatures > 0, summary);
    assert.ok(result.afterReconnect.calls > 0, summary);
    assert.equal(result.afterReconnect.signatures, result.afterReconnect.calls, `every call after the reconnection signed: ${summary}`);
    assert.deepEqual(result.healthAfter, { status: 'ok', tokenLabel: label });
    assert.ok(result.events.some((e) => e.status === 'ok'), summary);

    // health() alone (no signing) notices a missing token, and the connection comes back.
    assert.equal(result.healthOnly.during.status, 'unavailable', summary);
    assert.match(result.healthOnly.during.detail ?? '', /C_GetTokenInfo|CKR_/);
    assert.equal(result.healthOnly.after.status, 'ok', summary);
    assert.ok(result.healthOnly.recoveredWithinMs !== null && result.healthOnly.recoveredWithinMs < 5000, summary);
}

test('NSIS 6 (Low) 4: HSM outage (SoftHSM: the token directory goes away and comes back): signing fails closed with HSM_UNAVAILABLE, health says unavailable, and signing resumes by itself when the token returns', async () => {
  const label = process.env.GATEWAY_HSM_TOKEN_LABEL?.trim() || DEFAULT_TOKEN_LABEL;
  const temp = mkdtempSync(path.join(tmpdir(), 'hsm-outage-'));
  try {
    // A copy of the real token, with a softhsm2.conf of its own.
    const tokens = path.join(temp, 'tokens');
    cpSync(path.join(varDir, 'softhsm', 'tokens'), tokens, { recursive: true });
    const conf = path.join(temp, 'softhsm2.conf');
    writeFileSync(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`);
    const tokenDir = findTokenDir(tokens, label);
    const run = await runScenario(
      { ...process.env, OUTAGE_KIND: 'softhsm', SOFTHSM2_CONF: conf, OUTAGE_TOKEN_DIR: tokenDir, OUTAGE_PARKED_DIR: path.join(temp, 'parked-token') },
      60_000,
    );
    assertOutage(run, label);
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
});

test('NSIS 6 (Low) 4: HSM outage (tpm2-pkcs11: swtpm and tpm2-abrmd stop and start again): signing fails closed with HSM_UNAVAILABLE, health says unavailable, and signing resumes by itself when the service returns', async () => {
  const temp = freshSimulatorDir();
  try {
    const env = startTpm2Simulator(temp);
    const label = env['TPM2_TEST_TOKEN_LABEL'] ?? '';
    const run = await runScenario({ ...process.env, ...env, OUTAGE_KIND: 'tpm2', OUTAGE_TPM2_DIR: temp }, 120_000);
    assertOutage(run, label);
  } finally {
    stopTpm2Simulator(temp);
    rmSync(temp, { recursive: true, force: true });
  }
});
