/**
 * SCIM errors (RFC 7644 §3.12): one class with the HTTP status and, for 400/409, the `scimType`
 * callers switch on. The router turns it into the SCIM Error message; anything that is not a
 * ScimError is a generic 500 with the detail only in the log.
 */
import { SCIM_ERROR } from './constants.js';

/** RFC 7644 §3.12, Table 9. */
export const SCIM_TYPES = [
  'invalidFilter',
  'tooMany',
  'uniqueness',
  'mutability',
  'invalidSyntax',
  'invalidPath',
  'noTarget',
  'invalidValue',
  'invalidVers',
  'sensitive',
] as const;
export type ScimType = (typeof SCIM_TYPES)[number];

/** The HTTP status each scimType goes with (Table 9): 409 for uniqueness, 403 for sensitive. */
const STATUS_OF: Readonly<Record<ScimType, number>> = {
  invalidFilter: 400,
  tooMany: 400,
  uniqueness: 409,
  mutability: 400,
  invalidSyntax: 400,
  invalidPath: 400,
  noTarget: 400,
  invalidValue: 400,
  invalidVers: 400,
  sensitive: 403,
};

export class ScimError extends Error {
  override readonly name = 'ScimError';
  readonly status: number;
  readonly scimType: ScimType | undefined;
  /** Public detail, safe to send to the provisioning client. */
  readonly detail: string;
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: number, scimType: ScimType | undefined, detail: string, options: { cause?: unknown; headers?: Record<string, string> } = {}) {
    super(detail, options.cause === undefined ? undefined : { cause: options.cause });
    if (scimType !== undefined && STATUS_OF[scimType] !== status) {
      throw new TypeError(`scimType ${scimType} goes with status ${STATUS_OF[scimType]}, not ${status}`);
    }
    this.status = status;
    this.scimType = scimType;
    this.detail = detail;
    this.headers = options.headers ?? {};
  }

  /** A 400/409/403 with its scimType (the status follows from the type). */
  static of(scimType: ScimType, detail: string, cause?: unknown): ScimError {
    return new ScimError(STATUS_OF[scimType], scimType, detail, { cause });
  }
}

export function isScimError(err: unknown, scimType?: ScimType): err is ScimError {
  return err instanceof ScimError && (scimType === undefined || err.scimType === scimType);
}

/** The RFC 7644 §3.12 Error message body (status is a string there). */
export function scimErrorBody(err: ScimError): Record<string, unknown> {
  return {
    schemas: [SCIM_ERROR],
    status: String(err.status),
    ...(err.scimType ? { scimType: err.scimType } : {}),
    detail: err.detail,
  };
}
