export { HsmError, type HsmErrorCode, type HsmErrorOptions, isHsmError, ckrName, codeForCkr, toHsmError } from './errors.js';
export {
  type HsmConfig,
  DEFAULT_MODULE_PATH,
  DEFAULT_TOKEN_LABEL,
  DEFAULT_PIN_FILE_NAME,
  readPin,
  loadHsmConfig,
  applySoftHsm2ConfDefault,
} from './config.js';
export { HsmConnection, type HsmConnectionOptions, type HsmHealth, type HsmStatus } from './HsmConnection.js';
export { type EcP256PublicJwk, ecPointToJwk, uncompressedPointFromEcPoint, jwkThumbprint } from './jwk.js';
export {
  P256_EC_PARAMS,
  RULE_NO_CLEAR_TEXT,
  RULE_BROKER_KEY_PROTECTED,
  RULE_ES256_KEY,
  type SigningKeyRef,
  type HsmKeyPair,
  type GenerateSigningKeyOptions,
  type KeyPolicyViolation,
  findKeyPair,
  checkKeyPolicy,
  assertKeyPolicy,
  exportPublicJwk,
  generateSigningKeyPair,
  destroyKeyPair,
  checkSigningKeyPolicy,
} from './keys.js';
export { type Es256Signer, createEs256Signer } from './signer.js';
