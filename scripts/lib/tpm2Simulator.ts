/**
 * The tpm2-pkcs11 simulator of scripts/tpm2-simulator.sh, from TypeScript: start (or find
 * running), stop, and the variables of its env file. Shared by `npm run bench:hsm` and the HSM
 * test suite.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type HsmConfig, readPinFile } from '../../hsm/index.js';

const script = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'tpm2-simulator.sh');

/** The variables tpm2-pkcs11 reads at C_Initialize. */
export const TPM2_MODULE_ENV = ['TPM2_PKCS11_TCTI', 'TPM2_PKCS11_STORE', 'DBUS_SESSION_BUS_ADDRESS', 'TSS2_LOG', 'TPM2_PKCS11_LOG_LEVEL'] as const;

/** KEY=VALUE lines of the simulator's env file. */
export function parseEnvFile(file: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (match?.[1] && match[2] !== undefined) env[match[1]] = match[2];
  }
  return env;
}

function run(args: string[], timeout: number): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync('bash', [script, ...args], { encoding: 'utf8', timeout });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Starts (or finds running) the simulator in `dir` (default var/tpm2); its env file's variables. */
export function startTpm2Simulator(dir?: string): Record<string, string> {
  const result = run(['start', ...(dir ? ['--dir', dir] : [])], 120_000);
  if (result.status !== 0) throw new Error(`scripts/tpm2-simulator.sh start failed (exit ${result.status}):\n${result.stderr}\n${result.stdout}`);
  return parseEnvFile(result.stdout.trim().split('\n').pop() ?? '');
}

export function stopTpm2Simulator(dir?: string): void {
  const result = run(['stop', ...(dir ? ['--dir', dir] : [])], 60_000);
  if (result.status !== 0) throw new Error(`scripts/tpm2-simulator.sh stop failed (exit ${result.status}):\n${result.stderr}`);
}

export function tpm2SimulatorRunning(dir?: string): boolean {
  return run(['status', ...(dir ? ['--dir', dir] : [])], 30_000).status === 0;
}

/** The token an env file describes; sets the module's variables for this process (before its C_Initialize). */
export function tpm2ConfigFromEnv(env: Record<string, string>): HsmConfig {
  for (const key of TPM2_MODULE_ENV) {
    const value = env[key];
    if (value !== undefined) process.env[key] = value;
  }
  const modulePath = env['TPM2_TEST_MODULE'];
  const tokenLabel = env['TPM2_TEST_TOKEN_LABEL'];
  const pinFile = env['TPM2_TEST_PIN_FILE'];
  if (!modulePath || !tokenLabel || !pinFile) throw new Error('the simulator env file lacks TPM2_TEST_MODULE, _TOKEN_LABEL or _PIN_FILE');
  return { name: 'tpm2', modulePath, tokenLabel, pin: readPinFile(pinFile, 'TPM2_TEST_PIN_FILE') };
}
