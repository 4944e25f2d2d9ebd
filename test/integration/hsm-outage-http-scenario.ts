/**
 * Child process of test/integration/hsm-outage-http.test.ts (not a test file itself): a real
 * gateway on 127.0.0.1 whose HSM is a COPY of the SoftHSM token, token requests under load while
 * the token's directory is renamed away and back, and one JSON result file for the parent test
 * to check.
 *
 * SoftHSM reads SOFTHSM2_CONF once per process, at C_Initialize, so the copy needs a process of
 * its own (see test/hsm/outage-scenario.ts for what SoftHSM does when the directory goes away).
 * The script refuses to run against the real var/ token.
 *
 * Nothing here asserts: every response is recorded with the times its request was sent and
 * answered (ms since the script started, performance.now()), together with the outage's times,
 * the JWKS fetched before the outage, /api/health samples and the token.issued audit events.
 *
 * Environment: SOFTHSM2_CONF (the copy's conf), OUTAGE_TOKEN_DIR (the copy's token directory),
 * OUTAGE_PARKED_DIR (where it is moved during the outage), OUTAGE_RESULT_FILE (where the JSON
 * goes), OUTAGE_MS (how long the token stays away; default 1500).
 */
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { ApiClient } from '../support/apiClient.js';
import { activeAdmin, activeEmployee } from '../support/journeys.js';
import { repoRoot, startTestGateway } from '../support/testGateway.js';
import { auditEntries } from '../support/storeReads.js';

const AUDIENCE = 'urn:demo:intranet';

export interface TokenResponse {
  /** Which of the concurrent loops sent it. */
  loop: number;
  /** ms since the script started: just before fetch, and when the body was read. */
  sentAt: number;
  answeredAt: number;
  status: number;
  contentType: string | null;
  retryAfter: string | null;
  /** `code` of a problem+json body. */
  code: string | null;
  /** The compact JWS of a 200 answer. */
  token: string | null;
  /** The body of anything but a 200 or a 503 problem (for diagnosis), cut short. */
  other: string | null;
}

export interface HealthSample {
  sentAt: number;
  answeredAt: number;
  status: number;
  /** body.hsm.status and body.hsm.detail */
  hsmStatus: string | null;
  hsmDetail: string | null;
}

export interface HttpOutageResult {
  origin: string;
  /** The one audience tokens are requested for. */
  audience: string;
  loops: number;
  /** The JSON Web Key Set fetched before the outage. */
  jwksBefore: unknown;
  /** renameSync(token -> parked) returned at renamedAt (so requests sent after it cannot have been signed before). */
  renamedAt: number;
  /** renameSync(parked -> token) was called at restoringAt and had returned at restoredAt. */
  restoringAt: number;
  restoredAt: number;
  /** answeredAt of the first 200 for a request sent after restoredAt (null: none within the deadline). */
  recoveredAt: number | null;
  responses: TokenResponse[];
  health: HealthSample[];
  healthAfter: HealthSample;
  /** jti of every token.issued audit event, in order. */
  auditedJtis: string[];
  /** The gateway's runtime.hsm.status sampled with the health checks (diagnosis only). */
  connectionStatus: Array<{ at: number; status: string }>;
}

const started = performance.now();
const now = (): number => Math.round((performance.now() - started) * 10) / 10;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringField(v: unknown, key: string): string | null {
  if (!isRecord(v)) return null;
  const value = v[key];
  return typeof value === 'string' ? value : null;
}

async function main(): Promise<HttpOutageResult> {
  const conf = process.env['SOFTHSM2_CONF'];
  const tokenDir = process.env['OUTAGE_TOKEN_DIR'];
  const parkedDir = process.env['OUTAGE_PARKED_DIR'];
  const resultFile = process.env['OUTAGE_RESULT_FILE'];
  const outageMs = Number(process.env['OUTAGE_MS'] ?? '1500');
  if (!conf || !tokenDir || !parkedDir || !resultFile) {
    throw new Error('SOFTHSM2_CONF, OUTAGE_TOKEN_DIR, OUTAGE_PARKED_DIR and OUTAGE_RESULT_FILE are required');
  }
  const realVar = path.resolve(repoRoot, 'var');
  for (const candidate of [conf, tokenDir, parkedDir]) {
    const resolved = path.resolve(candidate);
    if (resolved === realVar || resolved.startsWith(`${realVar}${path.sep}`)) {
      throw new Error(`refusing to run the outage against the real token (${resolved} is under ${realVar})`);
    }
  }
  if (!existsSync(tokenDir) || existsSync(parkedDir)) throw new Error(`expected ${tokenDir} to exist and ${parkedDir} not to`);

  // startTestGateway keeps SOFTHSM2_CONF (the copy's) and gives the gateway a temporary var/.
  const gw = await startTestGateway({ env: { GATEWAY_TOKEN_AUDIENCES: AUDIENCE, GATEWAY_SESSION_IDLE_MINUTES: '60' } });
  let parked = false;
  try {
    const admin = await activeAdmin(gw);
    const employee = await activeEmployee(gw, admin.client, 'outage.employee@demo.example', 'Outage Employee');

    const jwksRes = await fetch(`${gw.origin}/.well-known/jwks.json`);
    if (jwksRes.status !== 200) throw new Error(`JWKS answered ${jwksRes.status}`);
    const jwksBefore: unknown = await jwksRes.json();

    const responses: TokenResponse[] = [];
    const health: HealthSample[] = [];
    const connectionStatus: HttpOutageResult['connectionStatus'] = [];
    let stop = false;
    let restoredAt = Number.POSITIVE_INFINITY;
    let recoveredAt: number | null = null;

    const requestToken = async (loop: number): Promise<TokenResponse> => {
      const sentAt = now();
      const res = await employee.client.post('/api/tokens', { audience: AUDIENCE });
      const answeredAt = now();
      const token = res.status === 200 ? stringField(res.body, 'token') : null;
      const problem = res.status === 503 && (res.headers.get('content-type') ?? '').startsWith('application/problem+json');
      return {
        loop,
        sentAt,
        answeredAt,
        status: res.status,
        contentType: res.headers.get('content-type'),
        retryAfter: res.headers.get('retry-after'),
        code: res.code ?? null,
        token,
        other: res.status === 200 || problem ? null : JSON.stringify(res.body).slice(0, 500),
      };
    };

    const loop = async (index: number): Promise<void> => {
      while (!stop) {
        const r = await requestToken(index);
        responses.push(r);
        if (r.status === 200 && r.sentAt >= restoredAt && recoveredAt === null) recoveredAt = r.answeredAt;
        // A client told to come back later does not hammer the gateway in a tight loop.
        if (r.status !== 200) await sleep(10);
      }
    };

    const checkHealth = async (): Promise<HealthSample> => {
      const sentAt = now();
      const res = await new ApiClient(gw.origin).get('/api/health');
      const hsm = isRecord(res.body) ? res.body['hsm'] : undefined;
      const sample = { sentAt, answeredAt: now(), status: res.status, hsmStatus: stringField(hsm, 'status'), hsmDetail: stringField(hsm, 'detail') };
      connectionStatus.push({ at: now(), status: gw.runtime.hsm?.status ?? 'none' });
      return sample;
    };

    const healthLoop = async (): Promise<void> => {
      while (!stop) {
        health.push(await checkHealth());
        await sleep(100);
      }
    };

    const loops = 16;
    const running = [...Array.from({ length: loops }, (_, i) => loop(i)), healthLoop()];
    // Load before the outage: wait for answered tokens (not for a time: a busy machine, or the
    // PostgreSQL run, answers the first ones later).
    while (responses.filter((r) => r.status === 200).length < loops) await sleep(20);

    // ---- the outage: the token's directory goes away while tokens are being requested
    renameSync(tokenDir, parkedDir);
    parked = true;
    const renamedAt = now();
    await sleep(outageMs);

    // ---- the token returns; nothing is restarted
    const restoringAt = now();
    renameSync(parkedDir, tokenDir);
    parked = false;
    restoredAt = now();
    const deadline = performance.now() + 15_000;
    while (recoveredAt === null && performance.now() < deadline) await sleep(20);
    await sleep(500);
    stop = true;
    await Promise.all(running);
    const healthAfter = await checkHealth();

    const auditedJtis: string[] = [];
    for (const event of (await auditEntries(gw.runtime.store))) {
      if (event.type !== 'token.issued') continue;
      const jti = event.data['jti'];
      auditedJtis.push(typeof jti === 'string' ? jti : `<not a string: ${JSON.stringify(jti)}>`);
    }

    return {
      origin: gw.origin,
      audience: AUDIENCE,
      loops,
      jwksBefore,
      renamedAt,
      restoringAt,
      restoredAt,
      recoveredAt,
      responses,
      health,
      healthAfter,
      auditedJtis,
      connectionStatus,
    };
  } finally {
    if (parked && existsSync(parkedDir) && !existsSync(tokenDir)) renameSync(parkedDir, tokenDir);
    await gw.close();
  }
}

main().then(
  (result) => {
    writeFileSync(process.env['OUTAGE_RESULT_FILE'] ?? '', JSON.stringify(result));
    process.stdout.write(`HTTP_OUTAGE_DONE ${result.responses.length} responses\n`);
  },
  (err: unknown) => {
    process.stderr.write(`HTTP outage scenario failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
