/**
 * HSM failover over HTTP: two SoftHSM tokens hold the same signing key (imported into both: the
 * `replicated` key policy profile); the primary disappears while token requests run; every
 * answer is a token that verifies with the published key or a 503 problem+json, and signing
 * goes on on the secondary. /health/ready and the metrics report each token.
 *
 * The gateway runs in a child process (test/integration/hsm-failover-scenario.ts) on a
 * temporary SoftHSM token directory; the assertions are made here. The failover time is measured
 * and printed; the assertion on it is deliberately generous (a shared machine), the behaviour
 * (no other answers, every token verifies, the secondary signs) is asserted exactly.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { repoRoot } from '../support/testGateway.js';
// Types only: importing the scenario's values would run it in this process.
import type { FailoverResponse, FailoverResult } from './hsm-failover-scenario.js';

const scenario = path.join(path.dirname(fileURLToPath(import.meta.url)), 'hsm-failover-scenario.ts');

function runScenario(env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', scenario], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
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

/** The SoftHSM token directory whose token.object carries this (padded) label. */
function tokenDirOf(tokensDir: string, label: string): string {
  const padded = Buffer.from(label.padEnd(32, ' '), 'utf8');
  const dirs = readdirSync(tokensDir).filter((d) => {
    const object = path.join(tokensDir, d, 'token.object');
    return existsSync(object) && readFileSync(object).includes(padded);
  });
  assert.equal(dirs.length, 1, `one token directory labelled ${label}`);
  return path.join(tokensDir, dirs[0] ?? '');
}

function metric(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

const describeResponse = (r: FailoverResponse): string => JSON.stringify({ ...r, token: r.token ? `${r.token.slice(0, 24)}...` : null });

test('NSIS 6 (Low) 4: HSM failover: with the primary token gone under load every answer is a verifiable token or a 503, signing resumes on the secondary (measured), and /health/ready and the metrics report each token', async (t) => {
  const temp = mkdtempSync(path.join(tmpdir(), 'hsm-failover-'));
  try {
    const tokens = path.join(temp, 'tokens');
    mkdirSync(tokens);
    const conf = path.join(temp, 'softhsm2.conf');
    writeFileSync(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`);
    const entries = [];
    for (const name of ['primary', 'secondary']) {
      const pin = randomBytes(16).toString('hex');
      const pinFile = path.join(temp, `${name}.pin`);
      writeFileSync(pinFile, pin, { mode: 0o600 });
      const init = spawnSync('softhsm2-util', ['--init-token', '--free', '--label', `gw-${name}`, '--pin', pin, '--so-pin', randomBytes(16).toString('hex')], {
        env: { ...process.env, SOFTHSM2_CONF: conf },
        encoding: 'utf8',
      });
      assert.equal(init.status, 0, init.stderr);
      entries.push({ name, module: '/usr/lib/softhsm/libsofthsm2.so', tokenLabel: `gw-${name}`, pinFile });
    }
    const tokensFile = path.join(temp, 'tokens.json');
    writeFileSync(tokensFile, JSON.stringify(entries));
    const resultFile = path.join(temp, 'result.json');
    const run = await runScenario(
      {
        ...process.env,
        SOFTHSM2_CONF: conf,
        FAILOVER_TOKENS_FILE: tokensFile,
        FAILOVER_PRIMARY_DIR: tokenDirOf(tokens, 'gw-primary'),
        FAILOVER_PARKED_DIR: path.join(temp, 'parked-primary'),
        FAILOVER_KEY_ID: randomBytes(16).toString('hex'),
        FAILOVER_RESULT_FILE: resultFile,
      },
      90_000,
    );
    assert.ok(run.code === 0 && existsSync(resultFile), `the scenario failed (exit ${run.code}):\n${run.stderr}\n${run.stdout.slice(-2000)}`);
    const result = JSON.parse(readFileSync(resultFile, 'utf8')) as FailoverResult;
    const { responses, movedAt } = result;

    const ok = responses.filter((r) => r.status === 200);
    const unavailable = responses.filter((r) => r.status === 503);
    const other = responses.filter((r) => r.status !== 200 && r.status !== 503);
    const failoverMs = result.firstTokenAfterMove === null ? null : Math.round(result.firstTokenAfterMove - movedAt);
    const counts = {
      total: responses.length,
      ok: ok.length,
      unavailable: unavailable.length,
      beforeMove: responses.filter((r) => r.answeredAt <= movedAt).length,
      afterMoveOk: ok.filter((r) => r.sentAt >= movedAt).length,
      failoverMs,
    };
    const summary = JSON.stringify(counts);
    t.diagnostic(`failover: first token signed on the secondary ${failoverMs} ms after the primary disappeared; ${summary}`);

    // Only tokens and 503s, ever.
    assert.deepEqual(other.map(describeResponse), [], `answers other than 200/503: ${summary}`);
    for (const r of unavailable) {
      assert.match(r.contentType ?? '', /^application\/problem\+json\b/, describeResponse(r));
      assert.equal(r.code, 'SERVICE_UNAVAILABLE', describeResponse(r));
      assert.match(r.retryAfter ?? '', /^[1-9]\d*$/, describeResponse(r));
    }
    // Every token verifies with the key published before: the same key signs on both tokens.
    const jwks = createLocalJWKSet(result.jwksBefore as JSONWebKeySet);
    const kids = new Set<string>();
    for (const r of ok) {
      assert.ok(r.token, describeResponse(r));
      await jwtVerify(r.token, jwks, { issuer: result.origin, audience: result.audience, algorithms: ['ES256'] }).catch((err: unknown) =>
        assert.fail(`a token that does not verify (${String(err)}): ${describeResponse(r)}`),
      );
      kids.add(decodeProtectedHeader(r.token).kid ?? '');
    }
    assert.equal(kids.size, 1, 'one key, on both tokens');
    assert.ok(counts.beforeMove > 0, summary);

    // Signing resumed on the secondary, and went on there. The issue asks for 2 s; the bound here
    // is generous for a loaded machine, the measured time is printed above.
    assert.ok(failoverMs !== null && failoverMs < 10_000, `no token within 10 s of the primary's disappearance: ${summary}`);
    const settled = responses.filter((r) => result.firstTokenAfterMove !== null && r.sentAt >= result.firstTokenAfterMove);
    assert.ok(settled.length > 50, summary);
    assert.deepEqual(settled.filter((r) => r.status !== 200).map(describeResponse), [], `refusals once the secondary signed: ${summary}`);

    // /health/ready: ready all along (one token can sign), each token reported.
    const readyAfter = result.ready.filter((s) => s.sentAt > movedAt + 1500);
    assert.ok(readyAfter.length > 0, 'readiness sampled after the failover');
    assert.ok(result.ready.every((s) => s.status === 200), JSON.stringify(result.ready.filter((s) => s.status !== 200)));
    assert.deepEqual(result.ready[0]?.body, {
      status: 'ready',
      database: { status: 'ok' },
      hsm: { status: 'ok', tokens: [{ name: 'primary', status: 'ok', signing: true }, { name: 'secondary', status: 'ok', signing: false }] },
    });
    assert.deepEqual(readyAfter.at(-1)?.body, {
      status: 'ready',
      database: { status: 'ok' },
      hsm: { status: 'ok', tokens: [{ name: 'primary', status: 'unavailable', signing: false }, { name: 'secondary', status: 'ok', signing: true }] },
    });

    // Metrics per token.
    assert.equal(metric(result.metricsAfter, 'gateway_hsm_token_up', 'token="primary"'), 0);
    assert.equal(metric(result.metricsAfter, 'gateway_hsm_token_up', 'token="secondary"'), 1);
    assert.equal(metric(result.metricsAfter, 'gateway_hsm_token_signing', 'token="secondary"'), 1);
    assert.ok((metric(result.metricsAfter, 'gateway_hsm_failovers_total', 'token="secondary"') ?? 0) >= 1, 'the failover was counted');

    // The key was adopted under the replicated profile, and the configuration audited at start.
    assert.ok(result.auditTypes.includes('signing-key.adopted'), JSON.stringify(result.auditTypes.slice(0, 10)));
    assert.deepEqual(result.hsmConfiguration, {
      keyPolicy: 'replicated',
      tokens: [
        { name: 'primary', tokenLabel: 'gw-primary', module: '/usr/lib/softhsm/libsofthsm2.so' },
        { name: 'secondary', tokenLabel: 'gw-secondary', module: '/usr/lib/softhsm/libsofthsm2.so' },
      ],
      clause: 'NSIS 4.1.6 (Low) 3, NSIS 6 (Low) 4',
    });
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
});
