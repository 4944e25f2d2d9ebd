/**
 * HSM configuration from the environment.
 *
 * Environment variables:
 * - GATEWAY_HSM_MODULE      path of the PKCS#11 module (default: SoftHSM's)
 * - GATEWAY_HSM_TOKEN_LABEL label of the token holding the keys (default "gateway")
 * - GATEWAY_HSM_PIN         the user PIN (takes precedence over the file)
 * - GATEWAY_HSM_PIN_FILE    file holding the user PIN (default <varDir>/hsm-user.pin)
 * - SOFTHSM2_CONF           SoftHSM only; see {@link applySoftHsm2ConfDefault}
 *
 * Several tokens holding the same keys (failover, hsm/HsmGroup.ts) are described by a tokens
 * file instead, see {@link parseHsmTokensFile}.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

export interface HsmConfig {
  /** Name of the token in reports (health, metrics, logs); default: its label. */
  name?: string;
  /** Absolute path of the PKCS#11 shared library. */
  modulePath: string;
  /** CKA label of the token (slots are always found by token label, never by index). */
  tokenLabel: string;
  /**
   * CK_TOKEN_INFO serial number, when several tokens of one module carry the same label (two
   * YubiHSM 2 devices behind one connector configuration are both "YubiHSM").
   */
  tokenSerial?: string;
  /** User PIN. Never log it. */
  pin: string;
}

export const DEFAULT_MODULE_PATH = '/usr/lib/softhsm/libsofthsm2.so';

/** Whether a module path is SoftHSM's (the development module the bootstrap manages). */
export function isSoftHsmModule(modulePath: string): boolean {
  return path.resolve(modulePath) === DEFAULT_MODULE_PATH || path.basename(modulePath) === 'libsofthsm2.so';
}

/** One token as configured, before its PIN is read. */
export interface HsmTokenSpec {
  /** Name in reports (health, metrics, logs): lower-case letters, digits and dashes. */
  name: string;
  modulePath: string;
  tokenLabel: string;
  /** Also match the token's serial number (tokens file only). */
  tokenSerial?: string;
  /** File holding the user PIN (absolute). */
  pinFile: string;
  /** The PIN itself, from GATEWAY_HSM_PIN (single-token configuration only). */
  pinFromEnv?: string;
  /** Where this token was configured, for error messages (a setting name, or the file entry). */
  source: { module: string; tokenLabel: string; pin: string };
}
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

/** The PIN in a file (trimmed). Errors name the file and the setting, never the content. */
export function readPinFile(file: string, setting: string): string {
  let content: string;
  try {
    content = readFileSync(file, 'utf8');
  } catch (err) {
    const reason = err instanceof Error && 'code' in err ? String(err.code) : 'unreadable';
    throw new Error(`HSM PIN file ${file} cannot be read (${reason}); check ${setting}`);
  }
  const pin = content.trim();
  if (!pin) throw new Error(`HSM PIN file ${file} is empty; check ${setting}`);
  return pin;
}

const tokenEntry = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'lower-case letters, digits and dashes, at most 32'),
    module: z.string().min(1),
    tokenLabel: z.string().min(1).max(32),
    tokenSerial: z.string().min(1).max(16).optional(),
    pinFile: z.string().min(1),
  })
  .strict();
const tokensFile = z.array(tokenEntry).min(1).max(8);

/**
 * A tokens file (GATEWAY_HSM_TOKENS_FILE): a JSON array, in order of preference, of
 * `{"name": "primary", "module": "/path/to/pkcs11.so", "tokenLabel": "gw", "pinFile": "primary.pin"}`,
 * with `"tokenSerial"` when tokens of one module share a label. `pinFile` is relative to the
 * tokens file; names are unique. Throws an Error naming the entry.
 */
export function parseHsmTokensFile(file: string): HsmTokenSpec[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const result = tokensFile.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new Error(`${file}: entry ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
  }
  const names = new Set<string>();
  return result.data.map((entry, i) => {
    if (names.has(entry.name)) throw new Error(`${file}: entry ${i}: the name "${entry.name}" is used twice`);
    names.add(entry.name);
    const where = `GATEWAY_HSM_TOKENS_FILE entry "${entry.name}"`;
    return {
      name: entry.name,
      modulePath: path.resolve(path.dirname(file), entry.module),
      tokenLabel: entry.tokenLabel,
      ...(entry.tokenSerial === undefined ? {} : { tokenSerial: entry.tokenSerial }),
      pinFile: path.resolve(path.dirname(file), entry.pinFile),
      source: { module: `${where} (module)`, tokenLabel: `${where} (tokenLabel)`, pin: `${where} (pinFile)` },
    };
  });
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
