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
export { HsmConnection, DEFAULT_SESSIONS, type HsmConnectionOptions, type HsmHealth, type HsmStatus } from './HsmConnection.js';
export { type EcP256PublicJwk, type RsaPublicJwk, ecPointToJwk, uncompressedPointFromEcPoint, rsaPublicJwk, jwkThumbprint } from './jwk.js';
export {
  P256_EC_PARAMS,
  RULE_NO_CLEAR_TEXT,
  RULE_BROKER_KEY_PROTECTED,
  RULE_ES256_KEY,
  RULE_PS256_KEY,
  MIN_RSA_MODULUS_BITS,
  type SigningAlgorithm,
  type SigningKeyRef,
  type HsmKeyPair,
  type GenerateSigningKeyOptions,
  type GenerateRsaSigningKeyOptions,
  type KeyPolicyViolation,
  findKeyPair,
  checkKeyPolicy,
  assertKeyPolicy,
  exportPublicJwk,
  exportRsaPublicJwk,
  generateSigningKeyPair,
  generateRsaSigningKeyPair,
  destroyKeyPair,
  checkSigningKeyPolicy,
} from './keys.js';
export { type Es256Signer, type Ps256Signer, type HsmSigner, createEs256Signer, createPs256Signer } from './signer.js';
