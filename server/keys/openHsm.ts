/**
 * Opens the configured HSM tokens as one failover group (hsm/HsmGroup.ts). Every error names
 * the setting to look at (GATEWAY_HSM_MODULE, GATEWAY_HSM_TOKEN_LABEL, GATEWAY_HSM_PIN_FILE, or
 * the entry of GATEWAY_HSM_TOKENS_FILE), never a PIN.
 */
import { type HsmConfig, HsmError, HsmGroup, type HsmGroupOptions, type HsmTokenSpec, readPinFile } from '../../hsm/index.js';
import type { HsmSettings } from '../config.js';
import type { Logger } from '../logger.js';

/** Which setting an HSM error points at. */
function settingFor(spec: HsmTokenSpec, error: HsmError): string {
  if (error.code === 'HSM_LOGIN_FAILED') return spec.source.pin;
  if (error.code === 'HSM_TOKEN_NOT_FOUND') return spec.source.tokenLabel;
  if (/cannot load PKCS#11 module|C_Initialize/.test(error.message)) return spec.source.module;
  return `${spec.source.module} / ${spec.source.tokenLabel}`;
}

/** The error with the setting to check in front. */
export function explainHsmError(settings: HsmSettings, error: HsmError): HsmError {
  const spec = settings.tokens.find((t) => t.name === error.token) ?? (settings.tokens.length === 1 ? settings.tokens[0] : undefined);
  if (!spec) return error;
  const message = `${settingFor(spec, error)}: ${error.message}`;
  return new HsmError(error.code, message, { cause: error, ...(error.ckr ? { ckr: error.ckr } : {}), ...(error.token ? { token: error.token } : {}) });
}

/** The PIN of each token (GATEWAY_HSM_PIN, else its PIN file), with the setting in any error. */
export function tokenConfigs(settings: HsmSettings): HsmConfig[] {
  return settings.tokens.map((spec) => ({
    name: spec.name,
    modulePath: spec.modulePath,
    tokenLabel: spec.tokenLabel,
    ...(spec.tokenSerial === undefined ? {} : { tokenSerial: spec.tokenSerial }),
    pin: spec.pinFromEnv ?? readPinFile(spec.pinFile, spec.source.pin),
  }));
}

export async function openHsm(settings: HsmSettings, log: Logger, options: Omit<HsmGroupOptions, 'onStateChange'> = {}): Promise<HsmGroup> {
  const configs = tokenConfigs(settings);
  try {
    return await HsmGroup.open(
      configs,
      {
        ...options,
        onStateChange: (e) => log.warn({ hsm: e.status, token: e.token, tokenLabel: e.tokenLabel, detail: e.detail }, 'HSM token state changed'),
      },
      (config, error) => log.warn({ token: config.name, detail: explainHsmError(settings, error).message }, 'HSM token not available at start; retrying in the background'),
    );
  } catch (err) {
    throw err instanceof HsmError ? explainHsmError(settings, err) : err;
  }
}
