/**
 * Child process of test/integration/hsm-failover.test.ts (not a test file itself): a real
 * gateway on 127.0.0.1 with two SoftHSM tokens holding the same signing key (a primary and a
 * secondary, GATEWAY_HSM_TOKENS_FILE), token requests under load while the primary's token
 * directory is moved away, and one JSON result file for the parent test to check.
 *
 * The key is made on the host and imported into both tokens (C_CreateObject), as HA partners
 * get a key by cloning or wrap backup: CKA_LOCAL false, so the gateway runs with
 * GATEWAY_HSM_KEY_POLICY=replicated and adopts it as its initial key (GATEWAY_HSM_INITIAL_KEY_ID).
 * Both tokens live in a temporary SoftHSM token directory (SOFTHSM2_CONF is read once per
 * process, hence the child process); the script refuses to run against the real var/ token.
 *
 * Nothing here asserts: every response is recorded with the times it was sent and answered (ms
 * since the script started), with the JWKS fetched before, /health/ready samples, the metrics
 * after and the audit events.
 *
 * Environment: SOFTHSM2_CONF (the temporary conf), FAILOVER_TOKENS_FILE (the tokens file: primary
 * first), FAILOVER_PRIMARY_DIR (the primary's token directory), FAILOVER_PARKED_DIR (where it goes),
 * FAILOVER_KEY_ID (CKA_ID to import), FAILOVER_RESULT_FILE.
 */

import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { generateKeyObjects } from '../../scripts/lib/keyPairs.js';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { HsmConnection, parseHsmTokensFile, readPinFile } from '../../hsm/index.js';
import { importEcKeyPair } from '../hsm/helpers.js';
import { ApiClient } from '../support/apiClient.js';
import { activeAdmin, activeEmployee } from '../support/journeys.js';
import { repoRoot, startTestGateway } from '../support/testGateway.js';
import { auditEntries } from '../support/storeReads.js';

const AUDIENCE = 'urn:demo:intranet';

export interface FailoverResponse {
  sentAt: number;
  answeredAt: number;
  status: number;
  contentType: string | null;
  retryAfter: string | null;
  code: string | null;
  token: string | null;
  other: string | null;
}

export interface ReadySample {
  sentAt: number;
  status: number;
  body: unknown;
}

export interface FailoverResult {
  origin: string;
  audience: string;
  loops: number;
  jwksBefore: unknown;
  /** renameSync(primary -> parked) returned at movedAt. */
  movedAt: number;
  /** answeredAt of the first 200 for a request sent after movedAt. */
  firstTokenAfterMove: number | null;
  responses: FailoverResponse[];
  ready: ReadySample[];
  metricsAfter: string;
  auditTypes: string[];
  hsmConfiguration: unknown;
  /** Token states and which one signs, from the gateway's HSM group at the end. */
  tokensAfter: unknown;
}

const started = performance.now();
const now = (): number => Math.round((performance.now() - started) * 10) / 10;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The same key pair on every token of the file, imported (the replicated profile). */
async function importEverywhere(tokensFile: string, ckaId: string): Promise<void> {
  const { privateKey } = generateKeyObjects('ec', { namedCurve: 'P-256' });
  for (const spec of parseHsmTokensFile(tokensFile)) {
    const connection = await HsmConnection.open({ name: spec.name, modulePath: spec.modulePath, tokenLabel: spec.tokenLabel, pin: readPinFile(spec.pinFile, spec.source.pin) });
    try {
      await connection.withSession('test: importing the replicated key', (session) => {
        importEcKeyPair(session, { privateKey, ckaId, label: 'gateway-replicated' });
      });
    } finally {
      await connection.close();
    }
  }
}

async function main(): Promise<FailoverResult> {
  const conf = process.env['SOFTHSM2_CONF'];
  const tokensFile = process.env['FAILOVER_TOKENS_FILE'];
  const primaryDir = process.env['FAILOVER_PRIMARY_DIR'];
  const parkedDir = process.env['FAILOVER_PARKED_DIR'];
  const ckaId = process.env['FAILOVER_KEY_ID'];
  const resultFile = process.env['FAILOVER_RESULT_FILE'];
  if (!conf || !tokensFile || !primaryDir || !parkedDir || !ckaId || !resultFile) throw new Error('the FAILOVER_* variables and SOFTHSM2_CONF are required');
  const realVar = path.resolve(repoRoot, 'var');
  for (const candidate of [conf, primaryDir, parkedDir]) {
    const resolved = path.resolve(candidate);
    if (resolved === realVar || resolved.startsWith(`${realVar}${path.sep}`)) throw new Error(`refusing to run against the real token (${resolved})`);
  }
  await importEverywhere(tokensFile, ckaId);

  const gw = await startTestGateway({
    env: {
      // The tokens come from the file; the single-token PIN file startTestGateway sets is cleared.
      GATEWAY_HSM_PIN_FILE: '',
      GATEWAY_HSM_TOKENS_FILE: tokensFile,
      GATEWAY_HSM_KEY_POLICY: 'replicated',
      GATEWAY_HSM_INITIAL_KEY_ID: ckaId,
      GATEWAY_TOKEN_AUDIENCES: AUDIENCE,
      GATEWAY_SESSION_IDLE_MINUTES: '60',
    },
  });
  let moved = false;
  try {
    const admin = await activeAdmin(gw);
    const employee = await activeEmployee(gw, admin.client, 'failover.employee@demo.example', 'Failover Employee');
    const jwksBefore: unknown = await (await fetch(`${gw.origin}/.well-known/jwks.json`)).json();

    const responses: FailoverResponse[] = [];
    const ready: ReadySample[] = [];
    let stop = false;
    let movedAt = Number.POSITIVE_INFINITY;
    let firstTokenAfterMove: number | null = null;

    const loop = async (): Promise<void> => {
      while (!stop) {
        const sentAt = now();
        const res = await employee.client.post('/api/tokens', { audience: AUDIENCE });
        const answeredAt = now();
        const token = res.status === 200 && isRecord(res.body) && typeof res.body['token'] === 'string' ? res.body['token'] : null;
        const problem = res.status === 503 && (res.headers.get('content-type') ?? '').startsWith('application/problem+json');
        responses.push({
          sentAt,
          answeredAt,
          status: res.status,
          contentType: res.headers.get('content-type'),
          retryAfter: res.headers.get('retry-after'),
          code: res.code ?? null,
          token,
          other: res.status === 200 || problem ? null : JSON.stringify(res.body).slice(0, 500),
        });
        if (res.status === 200 && sentAt >= movedAt && firstTokenAfterMove === null) firstTokenAfterMove = answeredAt;
        if (res.status !== 200) await sleep(10);
      }
    };
    const readyLoop = async (): Promise<void> => {
      const probe = new ApiClient(gw.origin);
      while (!stop) {
        const sentAt = now();
        const res = await probe.get('/health/ready');
        ready.push({ sentAt, status: res.status, body: res.body });
        await sleep(200);
      }
    };

    const loops = 16;
    const running = [...Array.from({ length: loops }, () => loop()), readyLoop()];
    // Load before the move: wait for answered tokens (not for a time: a busy machine, or the
    // PostgreSQL run, answers the first ones later).
    while (responses.filter((r) => r.status === 200).length < loops) await sleep(20);

    // ---- the primary disappears while tokens are being requested
    renameSync(primaryDir, parkedDir);
    moved = true;
    movedAt = now();
    const deadline = performance.now() + 15_000;
    while (firstTokenAfterMove === null && performance.now() < deadline) await sleep(20);
    // Go on a while on the secondary (past the 1 s probe of the primary).
    await sleep(2500);
    stop = true;
    await Promise.all(running);

    const metricsRes = await new ApiClient(gw.origin).get('/metrics');
    const metricsAfter = typeof metricsRes.body === 'string' ? metricsRes.body : '';
    const auditTypes: string[] = [];
    let hsmConfiguration: unknown = null;
    for (const event of (await auditEntries(gw.runtime.store))) {
      auditTypes.push(event.type);
      if (event.type === 'hsm.configuration') hsmConfiguration = event.data;
    }
    return {
      origin: gw.origin,
      audience: AUDIENCE,
      loops,
      jwksBefore,
      movedAt,
      firstTokenAfterMove,
      responses,
      ready,
      metricsAfter,
      auditTypes,
      hsmConfiguration,
      tokensAfter: gw.runtime.hsm?.tokens() ?? null,
    };
  } finally {
    if (moved && existsSync(parkedDir) && !existsSync(primaryDir)) renameSync(parkedDir, primaryDir);
    await gw.close();
  }
}

main().then(
  (result) => {
    writeFileSync(process.env['FAILOVER_RESULT_FILE'] ?? '', JSON.stringify(result));
    process.stdout.write(`FAILOVER_DONE ${result.responses.length} responses\n`);
  },
  (err: unknown) => {
    process.stderr.write(`failover scenario failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
