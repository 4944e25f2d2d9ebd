/**
 * Child process of test/hsm/outage.test.ts (not a test file itself): runs an
 * HSM outage and prints one line `OUTAGE_RESULT <json>` for the parent test
 * to check. OUTAGE_KIND says which module's service goes away:
 * - `tpm2`: a tpm2-pkcs11 token on a simulator of its own (the parent starts
 *   it with scripts/tpm2-simulator.sh --dir OUTAGE_TPM2_DIR and passes its
 *   env); the outage stops the simulator and tpm2-abrmd, and starts them
 *   again (the D-Bus stays, as a system bus does: a process keeps its GLib
 *   connection to the bus it first used). tpm2-pkcs11 then answers C_GetSessionInfo and
 *   C_GetTokenInfo from memory and reports the lost TPM as CKR_GENERAL_ERROR
 *   (C_Sign, C_GenerateRandom): a refusal by the CKR table, which the
 *   liveness probe's C_GenerateRandom turns into an outage. Coming back
 *   takes a C_Finalize + C_Initialize (its TPM context is broken), which the
 *   reconnection does.
 * - `softhsm` (below): a COPY of the SoftHSM token.
 *
 * SoftHSM reads SOFTHSM2_CONF once, at C_Initialize, so the copy needs a
 * process of its own: the parent copies var/softhsm/tokens/* into a temporary
 * directory, writes a softhsm2.conf pointing there and starts this script
 * with SOFTHSM2_CONF set to it. The script refuses to run against the real
 * var/ token.
 *
 * How the outage is made, and what SoftHSM 2.6 does (found by trying it):
 * the token's directory (<tokendir>/<uuid>) is renamed away while signatures
 * run concurrently, which is as close as SoftHSM gets to pulling a USB token
 * or losing a network HSM. SoftHSM does NOT keep serving from memory:
 * - at once, every token object handle becomes invalid: C_SignInit and
 *   C_GetAttributeValue answer CKR_OBJECT_HANDLE_INVALID, C_FindObjects finds
 *   nothing;
 * - C_GetTokenInfo answers CKR_GENERAL_ERROR;
 * - but the sessions stay open and "logged in" (C_GetSessionInfo is fine), new
 *   sessions can be opened, C_GetMechanismList and C_GetSlotInfo still work;
 * - a C_Sign whose C_SignInit ran before the rename still returns a (valid)
 *   signature: the operation holds the key in memory;
 * - after the directory comes back, the loaded module does not see the token
 *   again (same errors as above) until C_Finalize + C_Initialize, after which
 *   the token and its keys are found as before.
 * A real device removal is reported with CKR_DEVICE_REMOVED,
 * CKR_TOKEN_NOT_PRESENT, CKR_SESSION_HANDLE_INVALID... which hsm/ maps to
 * HSM_UNAVAILABLE directly. SoftHSM's CKR_OBJECT_HANDLE_INVALID alone would
 * read as HSM_KEY_NOT_FOUND; hsm/ does not special-case SoftHSM: whenever an
 * operation fails with anything but HSM_UNAVAILABLE, HsmConnection asks the
 * token whether it is still there (C_GetSessionInfo, C_GetTokenInfo), and if
 * not, the failure is an outage (HSM_UNAVAILABLE) and the pool is rebuilt;
 * health() makes the same two calls. Reconnecting finalises the module when
 * the connection is its last user, so the next attempt starts with a fresh
 * C_Initialize and finds the token once its directory is back. Nothing else is
 * done to force the outage (no sessions are closed behind the connection).
 *
 * Environment: SOFTHSM2_CONF (the copy's conf), OUTAGE_TOKEN_DIR (the copy's
 * token directory), OUTAGE_PARKED_DIR (where it is moved during the outage).
 */
import { createPublicKey, randomBytes, verify } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  type EcP256PublicJwk,
  type HsmHealth,
  type HsmStatus,
  HsmConnection,
  createEs256Signer,
  destroyKeyPair,
  generateSigningKeyPair,
  isHsmError,
} from '../../hsm/index.js';
import type { HsmConfig } from '../../hsm/index.js';
import { repoRoot, testHsmConfig, varDir } from './helpers.js';

type Phase = 'before' | 'outage' | 'after';

interface PhaseStats {
  calls: number;
  signatures: number;
  /** Rejections by HsmError code (or 'other: <name>'). */
  errors: Record<string, number>;
  /** A few distinct error messages, for diagnosis. */
  sampleErrors: string[];
}

export interface OutageResult {
  workers: number;
  sessions: number;
  phases: Record<Phase, PhaseStats>;
  /** Signatures returned for calls made during the outage (must be none), base64url with their message. */
  outageSignatures: Array<{ message: string; signature: string }>;
  /** Every signature returned at any time, checked against the signer's key and an unrelated key on the same token. */
  verification: { total: number; verifiedBySigner: number; verifiedByOtherKey: number };
  publicJwk: EcP256PublicJwk;
  otherJwk: EcP256PublicJwk;
  /** health() sampled during the outage (while signing runs). */
  healthDuringOutage: HsmHealth[];
  statusDuringOutage: HsmStatus[];
  /** ms from the rename back to the first signature of a call made after it. */
  recoveryMs: number | null;
  /** Calls made after the 'ok' event that follows the restore: all must succeed. */
  afterReconnect: { calls: number; signatures: number };
  healthAfter: HsmHealth;
  /** Second, shorter outage with no signing at all: does health() alone notice it? */
  healthOnly: { during: HsmHealth; after: HsmHealth; recoveredWithinMs: number | null };
  events: Array<{ status: HsmStatus; at: number; detail?: string }>;
  outageMs: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function verifies(jwk: EcP256PublicJwk, message: Uint8Array, signature: Uint8Array): boolean {
  const key = createPublicKey({ key: { ...jwk }, format: 'jwk' });
  return verify('sha256', message, { key, dsaEncoding: 'ieee-p1363' }, signature);
}

interface Service {
  config: HsmConfig;
  takeDown(): void;
  bringBack(): void;
  /** Puts things back if the run failed half-way. */
  restore(): void;
}

/** Refuses anything under `shared` (the real var/, or the shared simulator var/tpm2), whose tokens other tests use. */
function notUnder(shared: string, ...paths: string[]): void {
  const root = path.resolve(shared);
  for (const candidate of paths) {
    const resolved = path.resolve(candidate);
    if (resolved === root || resolved.startsWith(`${root}${path.sep}`)) {
      throw new Error(`refusing to run the outage against a shared token (${resolved} is under ${root})`);
    }
  }
}

function softHsmService(): Service {
  const conf = process.env.SOFTHSM2_CONF;
  const tokenDir = process.env.OUTAGE_TOKEN_DIR;
  const parkedDir = process.env.OUTAGE_PARKED_DIR;
  if (!conf || !tokenDir || !parkedDir) throw new Error('SOFTHSM2_CONF, OUTAGE_TOKEN_DIR and OUTAGE_PARKED_DIR are required');
  notUnder(varDir, conf, tokenDir, parkedDir);
  if (!existsSync(tokenDir) || existsSync(parkedDir)) throw new Error(`expected ${tokenDir} to exist and ${parkedDir} not to`);
  return {
    config: testHsmConfig(),
    takeDown: () => renameSync(tokenDir, parkedDir),
    bringBack: () => renameSync(parkedDir, tokenDir),
    restore: () => {
      if (existsSync(parkedDir) && !existsSync(tokenDir)) renameSync(parkedDir, tokenDir);
    },
  };
}

function tpm2Service(): Service {
  const dir = process.env.OUTAGE_TPM2_DIR;
  const modulePath = process.env.TPM2_TEST_MODULE;
  const tokenLabel = process.env.TPM2_TEST_TOKEN_LABEL;
  const pinFile = process.env.TPM2_TEST_PIN_FILE;
  if (!dir || !modulePath || !tokenLabel || !pinFile) throw new Error('OUTAGE_TPM2_DIR and the simulator env (TPM2_TEST_*) are required');
  notUnder(path.join(varDir, 'tpm2'), dir);
  const script = path.join(repoRoot, 'scripts', 'tpm2-simulator.sh');
  const run = (action: 'start' | 'stop-tpm'): void => {
    const result = spawnSync('bash', [script, action, '--dir', dir], { encoding: 'utf8', timeout: 60_000 });
    if (result.status !== 0) throw new Error(`tpm2-simulator.sh ${action} failed: ${result.stderr}`);
  };
  let down = false;
  return {
    config: { name: 'tpm2', modulePath, tokenLabel, pin: readFileSync(pinFile, 'utf8').trim() },
    takeDown: () => {
      run('stop-tpm');
      down = true;
    },
    bringBack: () => {
      run('start');
      down = false;
    },
    restore: () => {
      if (down) run('start');
    },
  };
}

async function main(): Promise<OutageResult> {
  const service = process.env.OUTAGE_KIND === 'tpm2' ? tpm2Service() : softHsmService();

  const start = performance.now();
  const now = (): number => Math.round(performance.now() - start);
  const events: OutageResult['events'] = [];
  let phase: Phase = 'before';
  /** When the connection said 'ok' again after the token came back. */
  let reconnectedAt: number | null = null;
  const sessions = 4;
  const connection = await HsmConnection.open(service.config, {
    sessions,
    reconnect: { initialDelayMs: 50, maxDelayMs: 250 },
    healthTimeoutMs: 2000,
    onStateChange: (event) => {
      events.push(event.detail === undefined ? { status: event.status, at: now() } : { status: event.status, at: now(), detail: event.detail });
      if (event.status === 'ok' && phase === 'after' && reconnectedAt === null) reconnectedAt = now();
    },
  });
  const keys: string[] = [];
  try {
    const main = await generateSigningKeyPair(connection, { label: 'outage-test' });
    keys.push(main.ckaId);
    const other = await generateSigningKeyPair(connection, { label: 'outage-test-other' });
    keys.push(other.ckaId);
    const signer = await createEs256Signer(connection, main.ckaId);
    const otherSigner = await createEs256Signer(connection, other.ckaId);

    const phases: Record<Phase, PhaseStats> = {
      before: { calls: 0, signatures: 0, errors: {}, sampleErrors: [] },
      outage: { calls: 0, signatures: 0, errors: {}, sampleErrors: [] },
      after: { calls: 0, signatures: 0, errors: {}, sampleErrors: [] },
    };
    const produced: Array<{ message: Uint8Array; signature: Uint8Array }> = [];
    const outageSignatures: OutageResult['outageSignatures'] = [];
    let restoredAt = 0;
    let firstSuccessAfterRestore: number | null = null;
    const afterReconnect = { calls: 0, signatures: 0 };
    let stop = false;

    const worker = async (): Promise<void> => {
      while (!stop) {
        const calledIn = phase;
        const calledAt = now();
        const afterOk = calledIn === 'after' && reconnectedAt !== null;
        const stats = phases[calledIn];
        stats.calls += 1;
        if (afterOk) afterReconnect.calls += 1;
        const message = randomBytes(48);
        try {
          const signature = await signer.sign(message);
          stats.signatures += 1;
          if (afterOk) afterReconnect.signatures += 1;
          produced.push({ message, signature });
          if (calledIn === 'outage') {
            outageSignatures.push({ message: message.toString('base64url'), signature: Buffer.from(signature).toString('base64url') });
          }
          if (calledIn === 'after' && calledAt >= restoredAt && firstSuccessAfterRestore === null) firstSuccessAfterRestore = now();
          await yieldToLoop();
        } catch (err) {
          const code = isHsmError(err) ? err.code : `other: ${err instanceof Error ? err.name : typeof err}`;
          stats.errors[code] = (stats.errors[code] ?? 0) + 1;
          const text = err instanceof Error ? err.message : String(err);
          if (stats.sampleErrors.length < 5 && !stats.sampleErrors.includes(text)) stats.sampleErrors.push(text);
          // Failing fast must not starve the event loop (timers, health checks).
          await sleep(2);
        }
      }
    };

    const workers = 16;
    const running = Array.from({ length: workers }, () => worker());
    await sleep(300);

    // ---- the outage: the token (or the service behind it) goes away while signing runs
    service.takeDown();
    phase = 'outage';
    const outageStart = now();
    const healthDuringOutage: HsmHealth[] = [];
    const statusDuringOutage: HsmStatus[] = [];
    for (let i = 0; i < 10; i++) {
      await sleep(100);
      healthDuringOutage.push(await connection.health());
      statusDuringOutage.push(connection.status);
    }

    // ---- the token returns
    service.bringBack();
    restoredAt = now();
    phase = 'after';
    const outageMs = restoredAt - outageStart;
    const deadline = Date.now() + 10_000;
    while (firstSuccessAfterRestore === null && Date.now() < deadline) await sleep(10);
    await sleep(300);
    stop = true;
    await Promise.all(running);
    const healthAfter = await connection.health();

    // ---- health() alone, without any signing, notices a missing token
    service.takeDown();
    const during = await connection.health();
    service.bringBack();
    const healthOnlyRestored = performance.now();
    let recoveredWithinMs: number | null = null;
    let after = await connection.health();
    while (after.status !== 'ok' && performance.now() - healthOnlyRestored < 10_000) {
      await sleep(20);
      after = await connection.health();
    }
    if (after.status === 'ok') recoveredWithinMs = Math.round(performance.now() - healthOnlyRestored);

    let verifiedBySigner = 0;
    let verifiedByOtherKey = 0;
    for (const { message, signature } of produced) {
      if (verifies(signer.publicJwk, message, signature)) verifiedBySigner += 1;
      if (verifies(otherSigner.publicJwk, message, signature)) verifiedByOtherKey += 1;
    }

    return {
      workers,
      sessions,
      phases,
      outageSignatures,
      verification: { total: produced.length, verifiedBySigner, verifiedByOtherKey },
      publicJwk: signer.publicJwk,
      otherJwk: otherSigner.publicJwk,
      healthDuringOutage,
      statusDuringOutage,
      recoveryMs: firstSuccessAfterRestore === null ? null : firstSuccessAfterRestore - restoredAt,
      afterReconnect,
      healthAfter,
      healthOnly: { during, after, recoveredWithinMs },
      events,
      outageMs,
    };
  } finally {
    // Best effort: the copy is thrown away by the parent anyway.
    service.restore();
    for (const ckaId of keys) {
      try {
        await destroyKeyPair(connection, ckaId);
      } catch {
        // the token copy may be unavailable; it is deleted by the parent
      }
    }
    await connection.close();
  }
}

main().then(
  (result) => {
    process.stdout.write(`OUTAGE_RESULT ${JSON.stringify(result)}\n`);
  },
  (err: unknown) => {
    process.stderr.write(`outage scenario failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
