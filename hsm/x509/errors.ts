/**
 * Errors of certificate and request handling for keys on the token: a stable
 * `code` per failure, the detail in `message`.
 */
export type X509ErrorCode =
  /** The input is not a DER or PEM X.509 certificate. */
  | 'X509_MALFORMED'
  /** The certificate's public key is not the key on the token. */
  | 'X509_KEY_MISMATCH'
  /** The certificate is outside its validity period at import. */
  | 'X509_NOT_VALID_NOW'
  /** The certificate does not allow digital signatures (keyUsage) or is a CA certificate. */
  | 'X509_WRONG_USAGE'
  /** A wrong argument from our own code (empty subject, inverted validity...). */
  | 'X509_BAD_REQUEST';

export class X509Error extends Error {
  override readonly name = 'X509Error';
  readonly code: X509ErrorCode;

  constructor(code: X509ErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}

export function isX509Error(err: unknown, code?: X509ErrorCode): err is X509Error {
  return err instanceof X509Error && (code === undefined || err.code === code);
}
