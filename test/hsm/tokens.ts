/**
 * The PKCS#11 implementations the HSM conformance suite runs against, so that nothing in hsm/
 * leans on one module's habits:
 * - SoftHSM 2, the development token scripts/bootstrap.sh initialises in var/;
 * - tpm2-pkcs11 over the swtpm TPM simulator, with tpm2-abrmd on a private D-Bus
 *   (scripts/tpm2-simulator.sh, which scripts/run-tests.sh starts for the whole run). A test
 *   file run on its own starts it here and stops it again when the process exits.
 * Assertions on return codes accept every value PKCS#11 2.40 allows for the call.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { describe } from 'node:test';
import { type HsmConfig, applySoftHsm2ConfDefault, loadHsmConfig } from '../../hsm/index.js';
import { startTpm2Simulator, stopTpm2Simulator, tpm2ConfigFromEnv, tpm2SimulatorRunning } from '../../scripts/lib/tpm2Simulator.js';
import { repoRoot, varDir } from './helpers.js';

export { startTpm2Simulator, stopTpm2Simulator };

export type TokenKind = 'softhsm' | 'tpm2';

export interface TestToken {
  /** Shown as the describe() name: which implementation the tests below ran on. */
  name: string;
  kind: TokenKind;
  config: HsmConfig;
}

let tpm2: TestToken | undefined;

/**
 * The tpm2-pkcs11 token of var/tpm2 (simulator started if needed). tpm2-pkcs11 reads its TCTI
 * and store from the environment once per process, so a process uses either this token or a
 * {@link freshTpm2TestToken}, not both.
 */
export function tpm2TestToken(): TestToken {
  if (tpm2) return tpm2;
  const startedHere = !tpm2SimulatorRunning();
  const env = startTpm2Simulator();
  if (startedHere) {
    // Nobody else started it (scripts/run-tests.sh does for a whole run): stop it with this process.
    process.on('exit', () => {
      spawnSync('bash', [path.join(repoRoot, 'scripts', 'tpm2-simulator.sh'), 'stop'], { timeout: 30_000 });
    });
  }
  tpm2 = { name: 'tpm2-pkcs11 (swtpm)', kind: 'tpm2', config: tpm2ConfigFromEnv(env) };
  return tpm2;
}

/**
 * A directory of its own for another simulator, under var/tpm2-fresh/ (not /tmp): should a test
 * process die before it stops its simulator, scripts/run-tests.sh stops what is left there, and
 * only this worktree's.
 */
export function freshSimulatorDir(): string {
  const parent = path.join(varDir, 'tpm2-fresh');
  mkdirSync(parent, { recursive: true, mode: 0o700 });
  return mkdtempSync(path.join(parent, 'sim-'));
}

/**
 * A simulator and token of their own, made for this process in a temporary directory and
 * removed when it exits: an empty token, whose first key gets the first object handles.
 */
export function freshTpm2TestToken(): TestToken & { dir: string } {
  const dir = freshSimulatorDir();
  process.on('exit', () => {
    spawnSync('bash', [path.join(repoRoot, 'scripts', 'tpm2-simulator.sh'), 'stop', '--dir', dir], { timeout: 30_000 });
    rmSync(dir, { recursive: true, force: true });
  });
  return { name: 'tpm2-pkcs11 (swtpm, fresh token)', kind: 'tpm2', config: tpm2ConfigFromEnv(startTpm2Simulator(dir)), dir };
}

/** The SoftHSM development token. */
export function softHsmTestToken(): TestToken {
  if (!applySoftHsm2ConfDefault(process.env, varDir)) {
    throw new Error('SOFTHSM2_CONF is not set and var/softhsm2.conf is missing: run bash scripts/bootstrap.sh');
  }
  return { name: 'SoftHSM 2', kind: 'softhsm', config: { ...loadHsmConfig({ ...process.env, GATEWAY_HSM_MODULE: '' }, varDir), name: 'softhsm' } };
}

/** Both implementations; `fresh`: the tpm2 token is an empty one of this process's own. */
export function testTokens(options: { tpm2?: 'shared' | 'fresh' } = {}): TestToken[] {
  return [softHsmTestToken(), options.tpm2 === 'fresh' ? freshTpm2TestToken() : tpm2TestToken()];
}

/** Registers `body`'s tests once per implementation, each inside a describe() named after it. */
export function forEachTestToken(body: (token: TestToken) => void, options: { tpm2?: 'shared' | 'fresh' } = {}): void {
  for (const token of testTokens(options)) describe(token.name, () => body(token));
}
