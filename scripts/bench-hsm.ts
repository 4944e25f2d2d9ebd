/**
 * HSM signing benchmark: `npm run bench:hsm [-- --seconds N] [--module softhsm|tpm2|all]`.
 *
 * For each PKCS#11 implementation the gateway is tested on (default: both):
 * - SoftHSM: the token of GATEWAY_HSM_TOKEN_LABEL (SOFTHSM2_CONF defaulting to
 *   var/softhsm2.conf, written by scripts/bootstrap.sh);
 * - tpm2-pkcs11 over the swtpm simulator (scripts/tpm2-simulator.sh, var/tpm2;
 *   started for the run if it is not running, and stopped again after);
 * with a temporary EC P-256 key generated for the run and destroyed at the
 * end (also on error or Ctrl-C), it measures for about 3 s each:
 *   (a) raw pkcs11js C_SignInit + synchronous C_Sign, CKM_ECDSA, one session;
 *   (b) raw pkcs11js C_SignInit + C_Sign callback form (libuv thread pool), one session, one at a time;
 *   (c) the Es256Signer through the HsmConnection session pool at concurrency 1, 4, 16, 64
 *       (signatures/s, p50/p99 latency of sign() including the wait for a session);
 *   (d) the event-loop delay (perf_hooks.monitorEventLoopDelay) while the pool signs at concurrency 64,
 *       next to the idle event loop.
 * Prints a Markdown report and writes it to docs/benchmarks-hsm.md.
 * Seconds per measurement: --seconds N, or BENCH_HSM_SECONDS (default 3).
 */
import type { Identity } from '../server/domain/types.js';
import { identityTokenClaims } from '../server/tokens/identityToken.js';
import { signCompactJws, type SigningPort } from '../server/tokens/jws.js';
import { createHash, createPublicKey, randomBytes, randomUUID, verify } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type IntervalHistogram, monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import pkcs11 from 'pkcs11js';
import { rawSyncSigns } from './bench/hsmCeiling.js';
import {
  DEFAULT_SESSIONS,
  type HsmConfig,
  HsmConnection,
  applySoftHsm2ConfDefault,
  createEs256Signer,
  destroyKeyPair,
  findKeyPair,
  generateSigningKeyPair,
  loadHsmConfig,
} from '../hsm/index.js';
import { startTpm2Simulator, stopTpm2Simulator, tpm2ConfigFromEnv, tpm2SimulatorRunning } from './lib/tpm2Simulator.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const varDir = path.join(repoRoot, 'var');
const reportFile = path.join(repoRoot, 'docs', 'benchmarks-hsm.md');

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
if (process.argv.includes('--help')) {
  process.stdout.write('npm run bench:hsm [-- --seconds N] [--module softhsm|tpm2|all]\n');
  process.exit(0);
}
const seconds = Number(option('seconds') ?? process.env.BENCH_HSM_SECONDS ?? '3');
const durationMs = Math.max(0.2, Number.isFinite(seconds) ? seconds : 3) * 1000;
const moduleChoice = option('module') ?? 'all';
if (!['softhsm', 'tpm2', 'all'].includes(moduleChoice)) throw new Error(`--module must be softhsm, tpm2 or all, got ${moduleChoice}`);
const CONCURRENCY = [1, 4, 16, 64] as const;

let interrupted = false;
process.once('SIGINT', () => {
  interrupted = true;
  process.stderr.write('bench:hsm: interrupted, cleaning up\n');
});

interface Row {
  measurement: string;
  concurrency: string;
  perSecond: number;
  p50Ms?: number;
  p99Ms?: number;
  loopP99Ms?: number;
  loopMaxMs?: number;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

const fmt = (value: number | undefined, digits = 2): string => (value === undefined || Number.isNaN(value) ? '–' : value.toFixed(digits));
const rate = (count: number, ms: number): number => (count * 1000) / ms;
const nsToMs = (ns: number): number => ns / 1e6;

function loopDelay(histogram: IntervalHistogram): { p99: number; max: number } {
  return { p99: nsToMs(histogram.percentile(99)), max: nsToMs(histogram.max) };
}

interface Measured {
  name: string;
  config: HsmConfig;
  sessions: number;
  rows: Row[];
  idle: { p99: number; max: number };
}

async function measure(name: string, config: HsmConfig): Promise<Measured> {
  const connection = await HsmConnection.open(config);
  let ckaId: string | undefined;
  const rows: Row[] = [];
  try {
    const ref = await generateSigningKeyPair(connection, { label: `bench-hsm-${randomBytes(4).toString('hex')}` });
    ckaId = ref.ckaId;
    const keyId = ref.ckaId;
    const digest = createHash('sha256').update('bench').digest();
    const mechanism = { mechanism: pkcs11.CKM_ECDSA };

    // (a) raw synchronous C_Sign on one session: blocks the event loop for the whole run.
    const syncCount = (await rawSyncSigns(connection, keyId, durationMs, () => interrupted)).count;
    rows.push({ measurement: '(a) raw pkcs11js C_Sign, sync', concurrency: '1 session', perSecond: rate(syncCount, durationMs) });

    // (b) raw C_Sign callback form on one session, one signature at a time.
    const asyncResult = await connection.withSession('bench: raw async C_Sign', async (session) => {
      const key = findKeyPair(session, keyId).privateKey.handle;
      const latencies: number[] = [];
      const start = performance.now();
      const end = start + durationMs;
      while (performance.now() < end && !interrupted) {
        const output = Buffer.alloc(64);
        const t0 = performance.now();
        session.lib.C_SignInit(session.handle, mechanism, key);
        await new Promise<void>((resolve, reject) => {
          session.lib.C_Sign(session.handle, digest, output, (err) => {
            if (err) reject(err);
            else if (output.length !== 64 || digest.length !== 32) reject(new Error('unexpected output'));
            else resolve();
          });
        });
        latencies.push(performance.now() - t0);
      }
      return { latencies: latencies.sort((x, y) => x - y), elapsed: performance.now() - start };
    });
    rows.push({
      measurement: '(b) raw pkcs11js C_Sign, callback',
      concurrency: '1 session',
      perSecond: rate(asyncResult.latencies.length, asyncResult.elapsed),
      p50Ms: percentile(asyncResult.latencies, 50),
      p99Ms: percentile(asyncResult.latencies, 99),
    });

    // (c) + (d) the Es256Signer through the pool.
    const signer = await createEs256Signer(connection, keyId);
    const check = randomBytes(32);
    const checkSignature = await signer.sign(check);
    const publicKey = createPublicKey({ key: { ...signer.publicJwk }, format: 'jwk' });
    if (!verify('sha256', check, { key: publicKey, dsaEncoding: 'ieee-p1363' }, checkSignature)) {
      throw new Error('a signature from the pool does not verify');
    }

    const runLoad = async (concurrency: number, work: () => Promise<unknown>): Promise<{ latencies: number[]; elapsed: number }> => {
      const latencies: number[] = [];
      const start = performance.now();
      const end = start + durationMs;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (performance.now() < end && !interrupted) {
            const t0 = performance.now();
            await work();
            latencies.push(performance.now() - t0);
          }
        }),
      );
      return { latencies: latencies.sort((x, y) => x - y), elapsed: performance.now() - start };
    };
    const data = randomBytes(200);
    const runPool = (concurrency: number) => runLoad(concurrency, () => signer.sign(data));
    // (e) What a sign-in pays for its token: claims built and a compact JWS assembled over the
    // gateway's signing port (the same code path as flows/tokens/issueToken, without the audit append).
    const port: SigningPort = { kid: signer.kid, alg: 'ES256', publicJwk: { ...signer.publicJwk }, sign: (d) => signer.sign(d) };
    const identity: Identity = {
      id: randomUUID(), organisationId: randomUUID(), name: 'Bench', email: 'bench@example.dk', ial: 'substantial', proofingMethod: 'bench',
      proofedBy: null, bindingState: 'active', roles: ['employee'], createdAt: new Date().toISOString(), bindingEndedAt: null, language: null,
    };
    const organisation = { id: identity.organisationId, cvr: '12345674', name: 'Bench ApS', createdAt: identity.createdAt };
    const runTokens = (concurrency: number) =>
      runLoad(concurrency, () =>
        signCompactJws(
          port,
          identityTokenClaims({
            issuer: 'https://idp.example.dk', audience: 'urn:bench:rp', identity, organisation, authTime: new Date(), aal: 'substantial',
            amr: ['hwk', 'pin'], fal: 'substantial', now: new Date(), ttlSeconds: 300,
          }),
        ),
      );

    const idle = monitorEventLoopDelay({ resolution: 1 });
    idle.enable();
    await new Promise((resolve) => setTimeout(resolve, Math.min(1000, durationMs)));
    idle.disable();
    const idleDelay = loopDelay(idle);

    for (const concurrency of CONCURRENCY) {
      if (interrupted) break;
      const histogram = concurrency === 64 ? monitorEventLoopDelay({ resolution: 1 }) : undefined;
      histogram?.enable();
      const result = await runPool(concurrency);
      histogram?.disable();
      const delay = histogram ? loopDelay(histogram) : undefined;
      rows.push({
        measurement: '(c) Es256Signer via the pool',
        concurrency: String(concurrency),
        perSecond: rate(result.latencies.length, result.elapsed),
        p50Ms: percentile(result.latencies, 50),
        p99Ms: percentile(result.latencies, 99),
        ...(delay ? { loopP99Ms: delay.p99, loopMaxMs: delay.max } : {}),
      });
    }
    for (const concurrency of [16, 64]) {
      if (interrupted) break;
      const histogram = monitorEventLoopDelay({ resolution: 1 });
      histogram.enable();
      const result = await runTokens(concurrency);
      histogram.disable();
      const delay = loopDelay(histogram);
      rows.push({
        measurement: '(e) identity tokens (claims + JWS) via the gateway signing port',
        concurrency: String(concurrency),
        perSecond: rate(result.latencies.length, result.elapsed),
        p50Ms: percentile(result.latencies, 50),
        p99Ms: percentile(result.latencies, 99),
        loopP99Ms: delay.p99,
        loopMaxMs: delay.max,
      });
    }
    if (interrupted) throw new Error('interrupted');
    return { name, config, sessions: connection.sessions, rows, idle: idleDelay };
  } finally {
    if (ckaId) {
      try {
        await destroyKeyPair(connection, ckaId);
      } catch (err) {
        process.stderr.write(`bench:hsm: could not destroy the temporary key ${ckaId}: ${err instanceof Error ? err.message : String(err)}\n`);
      }
    }
    await connection.close();
  }
}

function section(m: Measured): string[] {
  return [
    `## ${m.name}`,
    '',
    `- PKCS#11 module: ${m.config.modulePath}, token "${m.config.tokenLabel}"`,
    `- Pool: ${m.sessions} sessions (default ${DEFAULT_SESSIONS}); UV_THREADPOOL_SIZE ${process.env.UV_THREADPOOL_SIZE ?? '4 (default)'}`,
    '',
    '| Measurement | Concurrency | Signatures/s | p50 ms | p99 ms | Event-loop delay p99 ms | Event-loop delay max ms |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...m.rows.map(
      (row) =>
        `| ${row.measurement} | ${row.concurrency} | ${fmt(row.perSecond, 0)} | ${fmt(row.p50Ms, 3)} | ${fmt(row.p99Ms, 3)} | ${fmt(row.loopP99Ms)} | ${fmt(row.loopMaxMs)} |`,
    ),
    `| (d) idle event loop, for comparison | – | – | – | – | ${fmt(m.idle.p99)} | ${fmt(m.idle.max)} |`,
    '',
  ];
}

async function main(): Promise<void> {
  const measured: Measured[] = [];
  if (moduleChoice !== 'tpm2') {
    applySoftHsm2ConfDefault(process.env, varDir);
    measured.push(await measure('SoftHSM 2', loadHsmConfig({ ...process.env, GATEWAY_HSM_MODULE: '' }, varDir)));
  }
  if (moduleChoice !== 'softhsm' && !interrupted) {
    const startedHere = !tpm2SimulatorRunning();
    try {
      measured.push(await measure('tpm2-pkcs11 over the swtpm simulator (tpm2-abrmd)', tpm2ConfigFromEnv(startTpm2Simulator())));
    } finally {
      if (startedHere) stopTpm2Simulator();
    }
  }
  const cpus = os.cpus();
  const lines = [
    '# HSM signing benchmark',
    '',
    'Generated by `npm run bench:hsm` (scripts/bench-hsm.ts); numbers depend on the machine and the PKCS#11 module.',
    'Both PKCS#11 implementations the gateway is tested on are measured: SoftHSM 2 (software, in process) and',
    'tpm2-pkcs11 over the swtpm TPM simulator (every signature a TPM command through tpm2-abrmd over D-Bus).',
    '',
    `- Date: ${new Date().toISOString()}`,
    `- Node: ${process.version}`,
    `- CPU: ${cpus[0]?.model ?? 'unknown'} (${cpus.length} cores)`,
    `- Key: EC P-256 generated on the token for the run, CKM_ECDSA over a host-side SHA-256 digest; ${durationMs / 1000} s per measurement`,
    '',
    ...measured.flatMap(section),
    '(a) blocks the event loop for the whole run (no latency figures: nothing else can run). (b) and (c) run C_Sign on',
    'the libuv thread pool; C_SignInit is synchronous in pkcs11js. In (c) the latency includes the wait for a free',
    'session; the event-loop delay (perf_hooks.monitorEventLoopDelay, 1 ms resolution) is measured during the',
    'concurrency-64 run.',
    '',
  ];
  const report = lines.join('\n');
  process.stdout.write(`${report}\n`);
  writeFileSync(reportFile, report);
  process.stdout.write(`bench:hsm: written to ${path.relative(process.cwd(), reportFile)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:hsm: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
