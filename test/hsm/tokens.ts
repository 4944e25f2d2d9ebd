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
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe } from 'node:test';
import { type HsmConfig, applySoftHsm2ConfDefault, loadHsmConfig, readPinFile } from '../../hsm/index.js';
import { repoRoot, varDir } from './helpers.js';

export type TokenKind = 'softhsm' | 'tpm2';

export interface TestToken {
  /** Shown as the describe() name: which implementation the tests below ran on. */
  name: string;
  kind: TokenKind;
  config: HsmConfig;
}

const simulatorScript = path.join(repoRoot, 'scripts', 'tpm2-simulator.sh');

/** KEY=VALUE lines of the simulator's env file. */
function parseEnvFile(file: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (match?.[1] && match[2] !== undefined) env[match[1]] = match[2];
  }
  return env;
}

/**
 * Starts (or finds running) the simulator in `dir` (default var/tpm2) and returns its env file's
 * variables. Throws with the script's output when it cannot start.
 */
export function startTpm2Simulator(dir?: string): Record<string, string> {
  const run = spawnSync('bash', [simulatorScript, 'start', ...(dir ? ['--dir', dir] : [])], { encoding: 'utf8', timeout: 120_000 });
  if (run.status !== 0) throw new Error(`scripts/tpm2-simulator.sh start failed (exit ${run.status}):\n${run.stderr}\n${run.stdout}`);
  const envFile = run.stdout.trim().split('\n').pop() ?? '';
  return parseEnvFile(envFile);
}

export function stopTpm2Simulator(dir?: string): void {
  const run = spawnSync('bash', [simulatorScript, 'stop', ...(dir ? ['--dir', dir] : [])], { encoding: 'utf8', timeout: 60_000 });
  if (run.status !== 0) throw new Error(`scripts/tpm2-simulator.sh stop failed (exit ${run.status}):\n${run.stderr}`);
}

function simulatorRunning(): boolean {
  return spawnSync('bash', [simulatorScript, 'status'], { encoding: 'utf8', timeout: 30_000 }).status === 0;
}

/** The variables tpm2-pkcs11 reads at C_Initialize; set for this process. */
export const TPM2_MODULE_ENV = ['TPM2_PKCS11_TCTI', 'TPM2_PKCS11_STORE', 'DBUS_SESSION_BUS_ADDRESS', 'TSS2_LOG', 'TPM2_PKCS11_LOG_LEVEL'] as const;

let tpm2: TestToken | undefined;

/** The token described by a simulator's env file; sets the module's variables for this process. */
export function tpm2TokenFromEnv(env: Record<string, string>, name = 'tpm2-pkcs11 (swtpm)'): TestToken {
  for (const key of TPM2_MODULE_ENV) {
    const value = env[key];
    if (value !== undefined) process.env[key] = value;
  }
  const modulePath = env['TPM2_TEST_MODULE'];
  const tokenLabel = env['TPM2_TEST_TOKEN_LABEL'];
  const pinFile = env['TPM2_TEST_PIN_FILE'];
  if (!modulePath || !tokenLabel || !pinFile) throw new Error('the simulator env file lacks TPM2_TEST_MODULE, _TOKEN_LABEL or _PIN_FILE');
  return { name, kind: 'tpm2', config: { name: 'tpm2', modulePath, tokenLabel, pin: readPinFile(pinFile, 'TPM2_TEST_PIN_FILE') } };
}

/**
 * The tpm2-pkcs11 token of var/tpm2 (simulator started if needed). tpm2-pkcs11 reads its TCTI
 * and store from the environment once per process, so a process uses either this token or a
 * {@link freshTpm2TestToken}, not both.
 */
export function tpm2TestToken(): TestToken {
  if (tpm2) return tpm2;
  const startedHere = !simulatorRunning();
  const env = startTpm2Simulator();
  if (startedHere) {
    // Nobody else started it (scripts/run-tests.sh does for a whole run): stop it with this process.
    process.on('exit', () => {
      spawnSync('bash', [simulatorScript, 'stop'], { timeout: 30_000 });
    });
  }
  tpm2 = tpm2TokenFromEnv(env);
  return tpm2;
}

/**
 * A simulator and token of their own, made for this process in a temporary directory and
 * removed when it exits: an empty token, whose first key gets the first object handles.
 */
export function freshTpm2TestToken(): TestToken & { dir: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'gw-tpm2-'));
  process.on('exit', () => {
    spawnSync('bash', [simulatorScript, 'stop', '--dir', dir], { timeout: 30_000 });
    rmSync(dir, { recursive: true, force: true });
  });
  return { ...tpm2TokenFromEnv(startTpm2Simulator(dir), 'tpm2-pkcs11 (swtpm, fresh token)'), dir };
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
