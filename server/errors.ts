/**
 * Typed errors with stable codes (model: jose's util/errors.ts).
 *
 * Every failure that outside input can cause is a GatewayError subclass with a stable `code`
 * callers can switch on. The HTTP error boundary turns them into RFC 9457 problem+json; anything
 * that is not a GatewayError is answered with a generic 500 and logged in detail.
 */
import type { MessageKey } from '../i18n/index.js';

export type ErrorCode =
  | 'VALIDATION_FAILED'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'PAYLOAD_TOO_LARGE'
  | 'MALFORMED_JSON'
  | 'MALFORMED_PATH'
  | 'NOT_FOUND'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'ROLE_REQUIRED'
  | 'CSRF_CHECK_FAILED'
  | 'LIFECYCLE_TRANSITION_REFUSED'
  | 'LIFECYCLE_ROLE_REFUSED'
  | 'LIFECYCLE_REASON_REFUSED'
  | 'LIFECYCLE_REACTIVATION_FORBIDDEN'
  | 'LIFECYCLE_BINDING_SUSPENDED'
  | 'LIFECYCLE_CONFLICT'
  | 'ENROLMENT_INVALID'
  | 'ENROLMENT_LOCKED'
  | 'CEREMONY_FAILED'
  | 'CHALLENGE_INVALID'
  | 'ACTIVATION_CODE_INVALID'
  | 'ACTIVATION_CODE_LOCKED'
  | 'ACTIVATION_NOT_PENDING'
  | 'SIGNIN_FAILED'
  | 'BINDING_ENDED'
  | 'CONFLICT'
  | 'SERVICE_UNAVAILABLE'
  | 'INTERNAL_ERROR'
  | 'AUDIENCE_NOT_ALLOWED'
  | 'STEP_UP_REQUIRED'
  | 'SEGREGATION_OF_DUTIES'
  | 'APPROVAL_WITHDRAWN'
  | 'RATE_LIMITED'
  | 'IMPORT_INVALID'
  | 'AUTHENTICATOR_REFUSED'
  | 'KEY_LIMIT_REACHED'
  | 'OIDC_REQUEST_REFUSED'
  | 'OIDC_REQUEST_UNKNOWN'
  | 'OIDC_BROWSER_MISMATCH'
  | 'OIDC_LOGOUT_NOT_CONFIRMED'
  | 'SAML_REQUEST_REFUSED'
  | 'SAML_REQUEST_UNKNOWN'
  | 'SAML_BROWSER_MISMATCH'
  | 'SAML_NOT_CONFIGURED'
  | 'SAML_METADATA_REFUSED'
  | 'SAML_KEY_STATE'
  | 'SAML_SP_READ_ONLY'
  | 'X509_MALFORMED'
  | 'X509_KEY_MISMATCH'
  | 'X509_NOT_VALID_NOW'
  | 'X509_WRONG_USAGE'
  | 'OIDC_CLIENT_READ_ONLY'
  | 'OIDC_CLIENT_NO_SECRET'
  | 'OIDC_CLIENT_STATE'
  | 'IDM_SYNC_OFF'
  | 'IDM_RECONCILIATION_RUNNING';

/** Issue 16: a field message as a catalogue key and its placeholders, rendered in the answer's language. */
export interface FieldWords {
  key: MessageKey;
  params: Readonly<Record<string, string | number>>;
}

export interface FieldProblem {
  path: string;
  /** English words (the log, the English detail, and the answer in English). */
  message: string;
  /** Machine-readable: the schema check that failed (zod's issue code), the same in every language. */
  code?: string;
  /** The same message from the catalogues, for an answer in another language. */
  words?: FieldWords;
}

/** Base class: `status` is the HTTP status, `title` the public text for the code. */
export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Public detail, safe to show to the client. */
  readonly detail: string;
  readonly errors?: FieldProblem[];
  readonly headers?: Record<string, string>;

  constructor(
    code: ErrorCode,
    status: number,
    detail: string,
    options?: { cause?: unknown; errors?: FieldProblem[]; headers?: Record<string, string> },
  ) {
    super(detail, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = status;
    this.detail = detail;
    if (options?.errors) this.errors = options.errors;
    if (options?.headers) this.headers = options.headers;
  }
}

export class ValidationError extends GatewayError {
  constructor(detail: string, errors: FieldProblem[] = []) {
    super('VALIDATION_FAILED', 400, detail, { errors });
  }
}

export class NotFoundError extends GatewayError {
  constructor(detail = 'The requested resource does not exist.') {
    super('NOT_FOUND', 404, detail);
  }
}

export class UnauthenticatedError extends GatewayError {
  constructor(detail = 'Sign in with your security key first.') {
    super('UNAUTHENTICATED', 401, detail);
  }
}

export class ForbiddenError extends GatewayError {
  constructor(code: 'FORBIDDEN' | 'ROLE_REQUIRED' | 'CSRF_CHECK_FAILED' | 'BINDING_ENDED', detail: string) {
    super(code, 403, detail);
  }
}

/** A lifecycle action the table does not allow (state, role, reason or a guard). */
export class LifecycleError extends GatewayError {
  constructor(
    code:
      | 'LIFECYCLE_TRANSITION_REFUSED'
      | 'LIFECYCLE_ROLE_REFUSED'
      | 'LIFECYCLE_REASON_REFUSED'
      | 'LIFECYCLE_REACTIVATION_FORBIDDEN'
      | 'LIFECYCLE_BINDING_SUSPENDED'
      | 'LIFECYCLE_CONFLICT',
    detail: string,
  ) {
    super(code, code === 'LIFECYCLE_ROLE_REFUSED' ? 403 : 409, detail);
  }
}

export class EnrolmentError extends GatewayError {
  constructor(detail = 'This enrolment link is not valid: it may have been used, replaced or expired. Ask for a new one.') {
    super('ENROLMENT_INVALID', 400, detail);
  }
}

/** NSIS 3.2.2: a link whose registrations kept failing is locked, like an activation code. */
export class EnrolmentLockedError extends GatewayError {
  constructor() {
    super('ENROLMENT_LOCKED', 403, 'Too many failed registrations with this enrolment link: it is locked. Ask your administrator for a new one.');
  }
}

export class CeremonyError extends GatewayError {
  constructor(code: 'CEREMONY_FAILED' | 'CHALLENGE_INVALID', detail: string, cause?: unknown) {
    super(code, 400, detail, { cause });
  }
}

export class ActivationError extends GatewayError {
  constructor(code: 'ACTIVATION_CODE_INVALID' | 'ACTIVATION_CODE_LOCKED' | 'ACTIVATION_NOT_PENDING', detail: string) {
    super(code, code === 'ACTIVATION_CODE_LOCKED' ? 403 : 400, detail);
  }
}

/** Deliberately generic: the client never learns why a sign-in was refused (the audit log does). */
export class SignInFailedError extends GatewayError {
  constructor() {
    super('SIGNIN_FAILED', 401, 'Sign-in failed. Check that you use a registered, active security key, or contact the helpdesk.');
  }
}

/** NSIS 3.1.2 (Substantial) 8: acting on another's means needs a recent Substantial sign-in. */
export class StepUpRequiredError extends GatewayError {
  constructor(minutes: number) {
    super('STEP_UP_REQUIRED', 401, `Touch your security key again: this action needs a security-key sign-in within the last ${minutes} minutes.`);
  }
}

export class SegregationError extends GatewayError {
  constructor(detail: string) {
    super('SEGREGATION_OF_DUTIES', 403, detail);
  }
}

export class RateLimitedError extends GatewayError {
  constructor(detail: string, retryAfterSeconds: number) {
    super('RATE_LIMITED', 429, detail, { headers: { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))) } });
  }
}

export class ServiceUnavailableError extends GatewayError {
  constructor(detail: string, retryAfterSeconds = 1, cause?: unknown) {
    super('SERVICE_UNAVAILABLE', 503, detail, { cause, headers: { 'Retry-After': String(retryAfterSeconds) } });
  }
}

/**
 * A request a browser brought to the OpenID Provider that cannot be answered at the relying party
 * (RFC 6749 §4.1.2.1: never redirect to an unverified redirect URI), or a continuation or logout
 * confirmation that does not hold. Shown as a page naming the application that asked; API
 * clients get problem+json with the OAuth `error` as well.
 */
export class OidcRequestError extends GatewayError {
  constructor(
    code: 'OIDC_REQUEST_REFUSED' | 'OIDC_REQUEST_UNKNOWN' | 'OIDC_BROWSER_MISMATCH' | 'OIDC_LOGOUT_NOT_CONFIRMED',
    detail: string,
    /** The OAuth 2.0 / OpenID Connect error code (RFC 6749 §4.1.2.1, OIDC Core §3.1.2.6). */
    readonly oauthError: string,
    /** The registered name of the relying party that sent the person, when it is known. */
    readonly application?: string,
  ) {
    super(code, code === 'OIDC_BROWSER_MISMATCH' ? 403 : 400, detail);
  }
}

/**
 * A SAML message (issue 15) refused where it cannot be answered at the SP's ACS: shown to the
 * person on a page; `samlCode` is the protocol module's stable refusal code (server/saml/errors.ts),
 * the same one the broker log records.
 */
export class SamlRequestError extends GatewayError {
  constructor(
    code: 'SAML_REQUEST_REFUSED' | 'SAML_REQUEST_UNKNOWN' | 'SAML_BROWSER_MISMATCH' | 'SAML_NOT_CONFIGURED',
    detail: string,
    readonly samlCode?: string,
  ) {
    super(code, code === 'SAML_BROWSER_MISMATCH' ? 403 : code === 'SAML_NOT_CONFIGURED' ? 404 : 400, detail);
  }
}

/** An administrator's SAML change refused: metadata that does not validate, a key not in the state the step needs. */
export class SamlAdminError extends GatewayError {
  constructor(code: 'SAML_METADATA_REFUSED' | 'SAML_KEY_STATE' | 'SAML_SP_READ_ONLY', detail: string, readonly samlCode?: string) {
    super(code, code === 'SAML_METADATA_REFUSED' ? 400 : 409, detail);
  }
}

/**
 * An org-admin's change to an OpenID Connect client refused (issue 16): a client from the config
 * file is changed only in that file; a private_key_jwt client has no secret; a client already in
 * the state asked for.
 */
export class OidcClientError extends GatewayError {
  constructor(code: 'OIDC_CLIENT_READ_ONLY' | 'OIDC_CLIENT_NO_SECRET' | 'OIDC_CLIENT_STATE', detail: string) {
    super(code, 409, detail);
  }
}
