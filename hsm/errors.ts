/**
 * Errors raised by the hsm/ module.
 *
 * Every failure leaving hsm/ is an {@link HsmError} with a stable `code`, so
 * callers (HTTP layer, health endpoint, audit log) can react without parsing
 * PKCS#11 messages. The original error is kept in `cause`, and the PKCS#11
 * return value name (e.g. "CKR_DEVICE_REMOVED") in `ckr` when there is one.
 * Messages never contain a PIN.
 */

export type HsmErrorCode =
  /** Module cannot be loaded, device removed, token gone, session lost: retrying may help. */
  | 'HSM_UNAVAILABLE'
  /** The user PIN was refused (wrong, locked, expired...). Never retried automatically. */
  | 'HSM_LOGIN_FAILED'
  /** No token with the configured label is present. */
  | 'HSM_TOKEN_NOT_FOUND'
  /** The requested key object does not exist on the token. */
  | 'HSM_KEY_NOT_FOUND'
  /** The key does not satisfy the key-protection policy (sensitive, non-extractable, ...). */
  | 'HSM_KEY_POLICY_VIOLATION'
  /** Any other failure of a PKCS#11 operation. */
  | 'HSM_OPERATION_FAILED';

export interface HsmErrorOptions {
  cause?: unknown;
  /** PKCS#11 return value name, e.g. "CKR_PIN_INCORRECT". */
  ckr?: string;
}

export class HsmError extends Error {
  override readonly name = 'HsmError';
  readonly code: HsmErrorCode;
  readonly ckr: string | undefined;

  constructor(code: HsmErrorCode, message: string, options: HsmErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.ckr = options.ckr;
  }
}

export function isHsmError(err: unknown, code?: HsmErrorCode): err is HsmError {
  return err instanceof HsmError && (code === undefined || err.code === code);
}

const UNAVAILABLE = new Set([
  'CKR_DEVICE_REMOVED',
  'CKR_DEVICE_ERROR',
  'CKR_DEVICE_MEMORY',
  'CKR_TOKEN_NOT_PRESENT',
  'CKR_TOKEN_NOT_RECOGNIZED',
  'CKR_SLOT_ID_INVALID',
  'CKR_SESSION_HANDLE_INVALID',
  'CKR_SESSION_CLOSED',
  'CKR_SESSION_COUNT',
  'CKR_CRYPTOKI_NOT_INITIALIZED',
  'CKR_GENERAL_ERROR',
  // The login state is per application and token; it is lost when the token
  // is reset or the HSM restarts. Reconnecting logs in again.
  'CKR_USER_NOT_LOGGED_IN',
]);

const LOGIN_FAILED = new Set([
  'CKR_PIN_INCORRECT',
  'CKR_PIN_INVALID',
  'CKR_PIN_LEN_RANGE',
  'CKR_PIN_EXPIRED',
  'CKR_PIN_LOCKED',
  'CKR_USER_PIN_NOT_INITIALIZED',
  'CKR_USER_TYPE_INVALID',
  'CKR_USER_ANOTHER_ALREADY_LOGGED_IN',
  'CKR_USER_TOO_MANY_TYPES',
]);

const KEY_NOT_FOUND = new Set(['CKR_KEY_HANDLE_INVALID', 'CKR_OBJECT_HANDLE_INVALID']);

const KEY_POLICY = new Set(['CKR_KEY_FUNCTION_NOT_PERMITTED', 'CKR_KEY_TYPE_INCONSISTENT']);

const CKR_PATTERN = /\b(CKR_[A-Z0-9_]+)(?::(\d+))?/;

/**
 * The PKCS#11 return value name carried by a pkcs11js error: its message is
 * either "CKR_DEVICE_REMOVED" (Pkcs11Error, numeric value in `code`) or the
 * raw native form "CKR_DEVICE_REMOVED:50".
 */
export function ckrName(err: unknown): string | undefined {
  if (!(err instanceof Error)) return undefined;
  const fromMessage = CKR_PATTERN.exec(err.message);
  if (fromMessage?.[1]) return fromMessage[1];
  const fromStack = err.stack === undefined ? null : CKR_PATTERN.exec(err.stack);
  return fromStack?.[1] ?? undefined;
}

/** The {@link HsmErrorCode} for a PKCS#11 return value name, or undefined if it has no specific meaning. */
export function codeForCkr(ckr: string): HsmErrorCode | undefined {
  if (UNAVAILABLE.has(ckr)) return 'HSM_UNAVAILABLE';
  if (LOGIN_FAILED.has(ckr)) return 'HSM_LOGIN_FAILED';
  if (KEY_NOT_FOUND.has(ckr)) return 'HSM_KEY_NOT_FOUND';
  if (KEY_POLICY.has(ckr)) return 'HSM_KEY_POLICY_VIOLATION';
  return undefined;
}

/**
 * Maps anything thrown by graphene-pk11 / pkcs11js to an {@link HsmError}.
 * An HsmError passes through unchanged. `context` says what was being done
 * ("C_Login", "signing with key abc"...); `fallback` is the code used when the
 * error carries no CKR value with a specific meaning.
 */
export function toHsmError(
  err: unknown,
  context: string,
  fallback: HsmErrorCode = 'HSM_OPERATION_FAILED',
): HsmError {
  if (err instanceof HsmError) return err;
  const ckr = ckrName(err);
  const code = (ckr && codeForCkr(ckr)) || fallback;
  const detail = ckr ?? (err instanceof Error ? err.message : String(err));
  return new HsmError(code, `${context}: ${detail}`, ckr === undefined ? { cause: err } : { cause: err, ckr });
}
