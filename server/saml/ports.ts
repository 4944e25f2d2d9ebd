/**
 * The ports server/saml needs from its caller: the signing key (held in the
 * HSM; hsm/rsaPkcs1Signer.ts fits) and a replay store. Interfaces only.
 */

/** The IdP's SAML signing key: its certificate and an asynchronous RSA-SHA256 signature. */
export interface SamlSigningKey {
  /** PEM of the key's X.509 certificate (published in metadata, put in ds:KeyInfo). */
  readonly certificatePem: string;
  /** RSASSA-PKCS1-v1_5 SHA-256 signature of `data` (XML-DSig rsa-sha256). */
  sign(data: Uint8Array): Promise<Uint8Array>;
}

/**
 * Single use of message IDs (saml-profiles 4.1.4.5 and 4.4.4: a replayed
 * message is refused). Implemented by the caller's store, atomically.
 */
export interface ReplayStore {
  /**
   * Records `key` until `notOnOrAfter`. Resolves true for exactly one caller
   * (the first), false when the key is already recorded.
   */
  consume(key: string, notOnOrAfter: Date): Promise<boolean>;
}
