/**
 * Typed failures of the MitID Erhverv IdM API client (jose-style: one class, a stable `code`
 * union callers switch on, `cause` chained). `retryable` is the one question a job runner asks:
 * a timeout, a lost connection, a TLS failure, a 5xx, 408 or 429 may go away by itself; any other
 * 4xx will not (401 only after one fresh token was refused too; 404 and 409 the operations read
 * as "already gone" and "already exists").
 */

export type IdmErrorCode =
  /** No answer within the deadline: the call may or may not have taken effect. */
  | 'IDM_TIMEOUT'
  /** The connection could not be made or broke (refused, reset, DNS). */
  | 'IDM_CONNECTION'
  /** TLS failed: the server's certificate is not trusted, or ours was refused. */
  | 'IDM_TLS'
  | 'IDM_SERVER_ERROR'
  | 'IDM_RATE_LIMITED'
  /** 401 even with a fresh token: the system certificate lacks the IdM right. */
  | 'IDM_UNAUTHORIZED'
  | 'IDM_NOT_FOUND'
  | 'IDM_CONFLICT'
  /** Any other 4xx: the request is wrong and repeating it will not help. */
  | 'IDM_REJECTED'
  /** An answer whose shape is not the documented one. */
  | 'IDM_BAD_RESPONSE'
  /** Our data does not fit the request's shape (e.g. an empty surname): not sent. */
  | 'IDM_INVALID_REQUEST';

const RETRYABLE: ReadonlySet<IdmErrorCode> = new Set<IdmErrorCode>(['IDM_TIMEOUT', 'IDM_CONNECTION', 'IDM_TLS', 'IDM_SERVER_ERROR', 'IDM_RATE_LIMITED']);

export class IdmError extends Error {
  override readonly name = 'IdmError';
  readonly code: IdmErrorCode;
  readonly retryable: boolean;
  /** HTTP status, when there was an answer. */
  readonly status: number | undefined;
  /** Seconds the server asked us to wait (Retry-After on 429/503). */
  readonly retryAfterSeconds: number | undefined;

  constructor(code: IdmErrorCode, message: string, options: { cause?: unknown; status?: number; retryAfterSeconds?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = RETRYABLE.has(code);
    this.status = options.status;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

export function isIdmError(err: unknown, code?: IdmErrorCode): err is IdmError {
  return err instanceof IdmError && (code === undefined || err.code === code);
}

/** The error for an HTTP status that is not 2xx. */
export function errorForStatus(status: number, what: string, detail: string, retryAfterSeconds?: number): IdmError {
  const opts = { status, ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}) };
  const msg = `${what}: HTTP ${status}${detail ? ` (${detail})` : ''}`;
  if (status === 401) return new IdmError('IDM_UNAUTHORIZED', msg, opts);
  if (status === 404) return new IdmError('IDM_NOT_FOUND', msg, opts);
  if (status === 409) return new IdmError('IDM_CONFLICT', msg, opts);
  if (status === 429) return new IdmError('IDM_RATE_LIMITED', msg, opts);
  // 408 Request Timeout: the server gave up waiting for us; like a timeout, worth another try.
  if (status === 408) return new IdmError('IDM_TIMEOUT', msg, opts);
  if (status >= 500) return new IdmError('IDM_SERVER_ERROR', msg, opts);
  return new IdmError('IDM_REJECTED', msg, opts);
}

const TLS_CODES = /^(ERR_SSL_|ERR_TLS_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_)/;

/** A transport-level failure (no HTTP status) as an IdmError. */
export function errorForTransport(err: unknown, what: string): IdmError {
  if (err instanceof IdmError) return err;
  const code = typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : '';
  const text = err instanceof Error ? err.message : String(err);
  if (TLS_CODES.test(code)) return new IdmError('IDM_TLS', `${what}: TLS failed (${code})`, { cause: err });
  return new IdmError('IDM_CONNECTION', `${what}: ${code || 'connection failed'}${text && !text.includes(code) ? ` (${text})` : ''}`, { cause: err });
}
