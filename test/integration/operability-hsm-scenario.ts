/**
 * Child process of test/integration/operability.test.ts (not a test file itself): a real gateway
 * whose HSM is a COPY of the SoftHSM token (SoftHSM reads SOFTHSM2_CONF once per process, so the
 * copy needs a process of its own, as in hsm-outage-http-scenario.ts). The token's directory is
 * renamed away and back while the probes are sampled; nothing is asserted here, the samples go to
 * one JSON file for the parent test. Refuses to run against the real var/ token.
 *
 * Environment: SOFTHSM2_CONF (the copy's conf), OUTAGE_TOKEN_DIR (the copy's token directory),
 * OUTAGE_PARKED_DIR (where it is moved during the outage), OUTAGE_RESULT_FILE (the JSON).
 */
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { activeAdmin } from '../support/journeys.js';
import { repoRoot, startTestGateway } from '../support/testGateway.js';

const AUDIENCE = 'urn:demo:intranet';

export interface ProbeSample {
  status: number;
  contentType: string | null;
  /** The body as text (the parent parses and checks it). */
  body: string;
}

export interface ReadinessOutageResult {
  readyBefore: ProbeSample;
  /** The first /health/ready answer that was not 200 after the token went away (null: none within 10 s). */
  readyDuring: ProbeSample | null;
  liveDuring: ProbeSample;
  /** POST /api/tokens during the outage (the signing attempt the HSM error counter must record). */
  tokenDuring: ProbeSample;
  metricsDuring: ProbeSample;
  /** The first 200 from /health/ready after the token returned (null: none within 20 s). */
  readyAfter: ProbeSample | null;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function sample(res: Promise<Response>): Promise<ProbeSample> {
  const r = await res;
  return { status: r.status, contentType: r.headers.get('content-type'), body: await r.text() };
}

async function main(): Promise<ReadinessOutageResult> {
  const conf = process.env['SOFTHSM2_CONF'];
  const tokenDir = process.env['OUTAGE_TOKEN_DIR'];
  const parkedDir = process.env['OUTAGE_PARKED_DIR'];
  const resultFile = process.env['OUTAGE_RESULT_FILE'];
  if (!conf || !tokenDir || !parkedDir || !resultFile) throw new Error('SOFTHSM2_CONF, OUTAGE_TOKEN_DIR, OUTAGE_PARKED_DIR and OUTAGE_RESULT_FILE are required');
  const realVar = path.resolve(repoRoot, 'var');
  for (const candidate of [conf, tokenDir, parkedDir]) {
    const resolved = path.resolve(candidate);
    if (resolved === realVar || resolved.startsWith(`${realVar}${path.sep}`)) throw new Error(`refusing to run against the real token (${resolved})`);
  }
  if (!existsSync(tokenDir) || existsSync(parkedDir)) throw new Error(`expected ${tokenDir} to exist and ${parkedDir} not to`);

  const gw = await startTestGateway({ env: { GATEWAY_TOKEN_AUDIENCES: AUDIENCE } });
  let parked = false;
  try {
    const admin = await activeAdmin(gw);
    const ready = () => sample(fetch(`${gw.origin}/health/ready`));
    const readyBefore = await ready();

    renameSync(tokenDir, parkedDir);
    parked = true;
    let readyDuring: ProbeSample | null = null;
    for (const deadline = performance.now() + 10_000; performance.now() < deadline; await sleep(100)) {
      const s = await ready();
      if (s.status !== 200) {
        readyDuring = s;
        break;
      }
    }
    const liveDuring = await sample(fetch(`${gw.origin}/health/live`));
    const t = await admin.client.post('/api/tokens', { audience: AUDIENCE });
    const tokenDuring: ProbeSample = { status: t.status, contentType: t.headers.get('content-type'), body: JSON.stringify(t.body) };
    const metricsDuring = await sample(fetch(`${gw.origin}/metrics`));

    renameSync(parkedDir, tokenDir);
    parked = false;
    let readyAfter: ProbeSample | null = null;
    for (const deadline = performance.now() + 20_000; performance.now() < deadline; await sleep(200)) {
      const s = await ready();
      if (s.status === 200) {
        readyAfter = s;
        break;
      }
    }
    return { readyBefore, readyDuring, liveDuring, tokenDuring, metricsDuring, readyAfter };
  } finally {
    if (parked && existsSync(parkedDir) && !existsSync(tokenDir)) renameSync(parkedDir, tokenDir);
    await gw.close();
  }
}

main().then(
  (result) => {
    writeFileSync(process.env['OUTAGE_RESULT_FILE'] ?? '', JSON.stringify(result));
    process.exit(0);
  },
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
