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
  /**
   * An object handle did not read back as the object it was meant to be (a module whose handle
   * table went wrong, e.g. tpm2-pkcs11 #931). Nothing is done through such a handle.
   */
  | 'HSM_OBJECT_MISMATCH'
  /** Any other failure of a PKCS#11 operation. */
  | 'HSM_OPERATION_FAILED';

export interface HsmErrorOptions {
  cause?: unknown;
  /** PKCS#11 return value name, e.g. "CKR_PIN_INCORRECT". */
  ckr?: string;
  /** Name of the token it concerns, in a group of several (hsm/HsmGroup.ts). */
  token?: string;
}

export class HsmError extends Error {
  override readonly name = 'HsmError';
  readonly code: HsmErrorCode;
  readonly ckr: string | undefined;
  readonly token: string | undefined;

  constructor(code: HsmErrorCode, message: string, options: HsmErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.ckr = options.ckr;
    this.token = options.token;
  }

  /** The same error, saying which token of a group it concerns. */
  forToken(token: string): HsmError {
    if (this.token === token) return this;
    return new HsmError(this.code, this.message, { cause: this.cause ?? this, token, ...(this.ckr === undefined ? {} : { ckr: this.ckr }) });
  }

  /** What the failure means for the connection (see {@link HsmFailureKind}). */
  get kind(): HsmFailureKind {
    return failureKind(this.code);
  }
}

export function isHsmError(err: unknown, code?: HsmErrorCode): err is HsmError {
  return err instanceof HsmError && (code === undefined || err.code === code);
}

/**
 * What a failure means for the connection, in three kinds that decide what happens next:
 * - `device-lost`: the device, the token, the session or the login state is gone. The whole
 *   session pool is retired and the connection reconnects with backoff, failing closed meanwhile
 *   (HSM_UNAVAILABLE);
 * - `refused`: the token answered and refused this one operation (a template it does not accept,
 *   a missing object, a mechanism it lacks...). That request fails, the pool stays; the session it
 *   ran on is replaced, and the token is asked whether it still answers (a module that reports a
 *   lost device as a generic error is caught there, see HsmConnection);
 * - `login`: the PIN was refused. Never retried automatically (HSM PINs lock after a few tries).
 */
export type HsmFailureKind = 'device-lost' | 'refused' | 'login';

interface CkrMeaning {
  kind: HsmFailureKind;
  code: HsmErrorCode;
}

const lost: CkrMeaning = { kind: 'device-lost', code: 'HSM_UNAVAILABLE' };
const login: CkrMeaning = { kind: 'login', code: 'HSM_LOGIN_FAILED' };
const refused: CkrMeaning = { kind: 'refused', code: 'HSM_OPERATION_FAILED' };
const noKey: CkrMeaning = { kind: 'refused', code: 'HSM_KEY_NOT_FOUND' };
const notPermitted: CkrMeaning = { kind: 'refused', code: 'HSM_KEY_POLICY_VIOLATION' };

/**
 * The one table from PKCS#11 2.40 return values to their meaning here. A return value not in
 * the table is a refusal of that operation (HSM_OPERATION_FAILED): a module may answer any
 * CKR_* the standard allows for a function, and only those listed as `device-lost` tear the
 * pool down.
 */
export const CKR_MEANINGS: Readonly<Record<string, CkrMeaning>> = Object.freeze({
  // The device, token or session is gone.
  CKR_DEVICE_REMOVED: lost,
  CKR_DEVICE_ERROR: lost,
  CKR_TOKEN_NOT_PRESENT: lost,
  CKR_TOKEN_NOT_RECOGNIZED: lost,
  CKR_SLOT_ID_INVALID: lost,
  CKR_SESSION_HANDLE_INVALID: lost,
  CKR_SESSION_CLOSED: lost,
  CKR_CRYPTOKI_NOT_INITIALIZED: lost,
  // The login state is per application and token; it is lost when the token is reset or the
  // HSM restarts. Reconnecting logs in again.
  CKR_USER_NOT_LOGGED_IN: lost,
  // The PIN was refused.
  CKR_PIN_INCORRECT: login,
  CKR_PIN_INVALID: login,
  CKR_PIN_LEN_RANGE: login,
  CKR_PIN_EXPIRED: login,
  CKR_PIN_LOCKED: login,
  CKR_USER_PIN_NOT_INITIALIZED: login,
  CKR_USER_TYPE_INVALID: login,
  CKR_USER_ANOTHER_ALREADY_LOGGED_IN: login,
  CKR_USER_TOO_MANY_TYPES: login,
  // The object named by a handle does not exist (any more).
  CKR_KEY_HANDLE_INVALID: noKey,
  CKR_OBJECT_HANDLE_INVALID: noKey,
  // The key may not be used that way.
  CKR_KEY_FUNCTION_NOT_PERMITTED: notPermitted,
  CKR_KEY_TYPE_INCONSISTENT: notPermitted,
  CKR_KEY_UNEXTRACTABLE: notPermitted,
  CKR_ATTRIBUTE_SENSITIVE: notPermitted,
  // The operation was refused; the token is still there. CKR_GENERAL_ERROR is among them: PKCS#11
  // lets a module answer it for almost anything (tpm2-pkcs11 answers it for a key template it
  // will not honour), so it fails the request, not the pool.
  CKR_GENERAL_ERROR: refused,
  CKR_FUNCTION_FAILED: refused,
  CKR_FUNCTION_CANCELED: refused,
  CKR_DEVICE_MEMORY: refused,
  CKR_HOST_MEMORY: refused,
  CKR_SESSION_COUNT: refused,
  CKR_SESSION_READ_ONLY: refused,
  CKR_TOKEN_WRITE_PROTECTED: refused,
  CKR_MECHANISM_INVALID: refused,
  CKR_MECHANISM_PARAM_INVALID: refused,
  CKR_TEMPLATE_INCOMPLETE: refused,
  CKR_TEMPLATE_INCONSISTENT: refused,
  CKR_ATTRIBUTE_TYPE_INVALID: refused,
  CKR_ATTRIBUTE_VALUE_INVALID: refused,
  CKR_ATTRIBUTE_READ_ONLY: refused,
  CKR_DOMAIN_PARAMS_INVALID: refused,
  CKR_CURVE_NOT_SUPPORTED: refused,
  CKR_KEY_SIZE_RANGE: refused,
  CKR_DATA_INVALID: refused,
  CKR_DATA_LEN_RANGE: refused,
  CKR_OPERATION_ACTIVE: refused,
  CKR_OPERATION_NOT_INITIALIZED: refused,
  CKR_BUFFER_TOO_SMALL: refused,
  CKR_ARGUMENTS_BAD: refused,
  CKR_FUNCTION_NOT_SUPPORTED: refused,
  CKR_RANDOM_NO_RNG: refused,
});

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

/** The {@link HsmErrorCode} for a PKCS#11 return value name, or undefined if it is not in {@link CKR_MEANINGS}. */
export function codeForCkr(ckr: string): HsmErrorCode | undefined {
  return CKR_MEANINGS[ckr]?.code;
}

/** The kind of failure an error code stands for (see {@link HsmFailureKind}). */
export function failureKind(code: HsmErrorCode): HsmFailureKind {
  if (code === 'HSM_UNAVAILABLE' || code === 'HSM_TOKEN_NOT_FOUND') return 'device-lost';
  if (code === 'HSM_LOGIN_FAILED') return 'login';
  return 'refused';
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
