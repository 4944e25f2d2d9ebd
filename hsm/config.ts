/**
 * HSM configuration from the environment.
 *
 * Environment variables:
 * - GATEWAY_HSM_MODULE      path of the PKCS#11 module (default: SoftHSM's)
 * - GATEWAY_HSM_TOKEN_LABEL label of the token holding the keys (default "gateway")
 * - GATEWAY_HSM_PIN         the user PIN (takes precedence over the file)
 * - GATEWAY_HSM_PIN_FILE    file holding the user PIN (default <varDir>/hsm-user.pin)
 * - SOFTHSM2_CONF           SoftHSM only; see {@link applySoftHsm2ConfDefault}
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export interface HsmConfig {
  /** Absolute path of the PKCS#11 shared library. */
  modulePath: string;
  /** CKA label of the token (slots are always found by token label, never by index). */
  tokenLabel: string;
  /** User PIN. Never log it. */
  pin: string;
}

export const DEFAULT_MODULE_PATH = '/usr/lib/softhsm/libsofthsm2.so';
export const DEFAULT_TOKEN_LABEL = 'gateway';
export const DEFAULT_PIN_FILE_NAME = 'hsm-user.pin';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * The user PIN: GATEWAY_HSM_PIN if set and non-empty, else the content of the
 * file named by GATEWAY_HSM_PIN_FILE (relative to the cwd), else
 * `<varDir>/hsm-user.pin`. Surrounding whitespace is trimmed. Errors name the
 * file, never its content.
 */
export function readPin(env: Env, varDir: string): string {
  const fromEnv = env.GATEWAY_HSM_PIN?.trim();
  if (fromEnv) return fromEnv;
  const file = path.resolve(env.GATEWAY_HSM_PIN_FILE?.trim() || path.join(varDir, DEFAULT_PIN_FILE_NAME));
  let content: string;
  try {
    content = readFileSync(file, 'utf8');
  } catch (err) {
    const reason = err instanceof Error && 'code' in err ? String(err.code) : 'unreadable';
    throw new Error(`HSM PIN file ${file} cannot be read (${reason}); set GATEWAY_HSM_PIN or GATEWAY_HSM_PIN_FILE`);
  }
  const pin = content.trim();
  if (!pin) throw new Error(`HSM PIN file ${file} is empty`);
  return pin;
}

/** Builds the {@link HsmConfig} from the environment (see the module comment). */
export function loadHsmConfig(env: Env, varDir: string): HsmConfig {
  return {
    modulePath: env.GATEWAY_HSM_MODULE?.trim() || DEFAULT_MODULE_PATH,
    tokenLabel: env.GATEWAY_HSM_TOKEN_LABEL?.trim() || DEFAULT_TOKEN_LABEL,
    pin: readPin(env, varDir),
  };
}

/**
 * SoftHSM reads its configuration file from SOFTHSM2_CONF when the module is
 * initialised. `npm start` runs the bootstrap and the server as separate
 * processes, so the server calls this before opening the HSM: if
 * SOFTHSM2_CONF is unset and `<varDir>/softhsm2.conf` (written by
 * scripts/bootstrap.sh) exists, it sets SOFTHSM2_CONF to it. Returns the value
 * in effect. Harmless for other PKCS#11 modules, which ignore the variable.
 */
export function applySoftHsm2ConfDefault(env: Record<string, string | undefined>, varDir: string): string | undefined {
  if (env.SOFTHSM2_CONF) return env.SOFTHSM2_CONF;
  const candidate = path.resolve(varDir, 'softhsm2.conf');
  if (existsSync(candidate)) env.SOFTHSM2_CONF = candidate;
  return env.SOFTHSM2_CONF;
}
