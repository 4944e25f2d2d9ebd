/** The HSM tokens and the key policy from the environment (README "Production HSM"; config.ts). */
import path from 'node:path';
import { KEY_POLICY_PROFILES, type HsmTokenSpec, type KeyPolicyProfile, parseHsmTokensFile } from '../hsm/index.js';
import { ConfigError, type Env, oneOf, optional, str } from './configValues.js';

export interface HsmSettings {
  /** The single-token settings (GATEWAY_HSM_MODULE, _TOKEN_LABEL, _PIN_FILE, _PIN). */
  modulePath: string;
  tokenLabel: string;
  pinFile: string;
  pinFromEnv: string | undefined;
  /** GATEWAY_HSM_TOKENS_FILE, when several tokens hold the keys (failover). */
  tokensFile: string | undefined;
  /** The tokens the gateway signs with, in order of preference (one without a tokens file). */
  tokens: HsmTokenSpec[];
  /** GATEWAY_HSM_KEY_POLICY: `strict` (default) or `replicated`. */
  keyPolicy: KeyPolicyProfile;
  /** GATEWAY_HSM_INITIAL_KEY_ID: adopt this key pair (CKA_ID, hex) at installation instead of generating one. */
  initialKeyId: string | undefined;
}

const SINGLE_TOKEN_KEYS = ['GATEWAY_HSM_MODULE', 'GATEWAY_HSM_TOKEN_LABEL', 'GATEWAY_HSM_PIN', 'GATEWAY_HSM_PIN_FILE'] as const;

export function hsmSettings(env: Env, cwd: string, varDir: string): HsmSettings {
  const modulePath = str(env, 'GATEWAY_HSM_MODULE', '/usr/lib/softhsm/libsofthsm2.so');
  const tokenLabel = str(env, 'GATEWAY_HSM_TOKEN_LABEL', 'gateway');
  const pinFile = path.resolve(cwd, str(env, 'GATEWAY_HSM_PIN_FILE', path.join(varDir, 'hsm-user.pin')));
  const pinFromEnv = optional(env, 'GATEWAY_HSM_PIN');
  const tokensFileRaw = optional(env, 'GATEWAY_HSM_TOKENS_FILE');
  const tokensFile = tokensFileRaw ? path.resolve(cwd, tokensFileRaw) : undefined;
  let tokens: HsmTokenSpec[];
  if (tokensFile) {
    const clash = SINGLE_TOKEN_KEYS.filter((key) => optional(env, key) !== undefined);
    if (clash.length > 0) throw new ConfigError('GATEWAY_HSM_TOKENS_FILE', `is set together with ${clash.join(', ')}: configure the tokens in one place`);
    try {
      tokens = parseHsmTokensFile(tokensFile);
    } catch (err) {
      throw new ConfigError('GATEWAY_HSM_TOKENS_FILE', err instanceof Error ? err.message : String(err));
    }
  } else {
    tokens = [
      {
        name: 'primary',
        modulePath,
        tokenLabel,
        pinFile,
        ...(pinFromEnv ? { pinFromEnv } : {}),
        source: { module: 'GATEWAY_HSM_MODULE', tokenLabel: 'GATEWAY_HSM_TOKEN_LABEL', pin: pinFromEnv ? 'GATEWAY_HSM_PIN' : 'GATEWAY_HSM_PIN_FILE' },
      },
    ];
  }
  const initialKeyId = optional(env, 'GATEWAY_HSM_INITIAL_KEY_ID')?.toLowerCase();
  if (initialKeyId !== undefined && !/^(?:[0-9a-f]{2}){1,64}$/.test(initialKeyId)) {
    throw new ConfigError('GATEWAY_HSM_INITIAL_KEY_ID', 'must be the CKA_ID of a key pair on the token, in hex (2 to 128 digits)');
  }
  return {
    modulePath,
    tokenLabel,
    pinFile,
    pinFromEnv,
    tokensFile,
    tokens,
    keyPolicy: oneOf<KeyPolicyProfile>(env, 'GATEWAY_HSM_KEY_POLICY', 'strict', KEY_POLICY_PROFILES),
    initialKeyId,
  };
}
