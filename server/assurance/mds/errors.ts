/**
 * Refusals of a FIDO MDS3 BLOB, with stable codes callers can switch on (FIDO MDS 3.0 3.1.8:
 * "the FIDO Server SHOULD ignore the file if ..."). A refused BLOB never replaces the one in force.
 */
export type MdsErrorCode =
  /** The JWS signature does not verify with the leaf certificate of the x5c header. */
  | 'MDS_SIGNATURE_INVALID'
  /** The x5c chain is broken or does not reach one of the configured trust anchors. */
  | 'MDS_CHAIN_INVALID'
  /** nextUpdate has passed, or a certificate of the chain is outside its validity at `now`. */
  | 'MDS_EXPIRED'
  /** Not a JWS, an unreadable header/certificate, or a payload that is not an MDS3 BLOB. */
  | 'MDS_MALFORMED';

export class MdsError extends Error {
  readonly code: MdsErrorCode;

  constructor(code: MdsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MdsError';
    this.code = code;
  }
}

export function isMdsError(err: unknown): err is MdsError {
  return err instanceof MdsError;
}
