/**
 * Typed refusals of SAML input (jose-style: one class, a stable `code` union
 * callers switch on, `cause` chained). Each code maps to the SAML status the
 * IdP answers with and to whether an answer may go to the SP at all: only a
 * message whose signature verified, from a known SP, to an ACS of its
 * metadata is answered at that ACS (saml-core 3.2.2, saml-profiles 4.1.3.5);
 * everything else gets an error page and the audit event only.
 */
import { STATUS, type StatusUri } from './constants.js';

export type SamlErrorCode =
  | 'SAML_MESSAGE_TOO_LARGE'
  | 'SAML_MALFORMED'
  | 'SAML_XML_FORBIDDEN_CONSTRUCT'
  | 'SAML_WRONG_MESSAGE_TYPE'
  | 'SAML_UNSUPPORTED_VERSION'
  | 'SAML_UNKNOWN_ISSUER'
  | 'SAML_UNSIGNED'
  | 'SAML_SIGNATURE_ALGORITHM_REFUSED'
  | 'SAML_SIGNATURE_INVALID'
  | 'SAML_SIGNATURE_WRAPPED'
  | 'SAML_DESTINATION_MISMATCH'
  | 'SAML_REQUEST_EXPIRED'
  | 'SAML_REQUEST_FROM_FUTURE'
  | 'SAML_REPLAYED'
  | 'SAML_ACS_NOT_IN_METADATA'
  | 'SAML_BINDING_UNSUPPORTED'
  | 'SAML_FORCE_AND_PASSIVE'
  | 'SAML_NO_AUTHN_CONTEXT'
  | 'SAML_NAMEID_POLICY_UNSUPPORTED'
  | 'SAML_METADATA_INVALID'
  | 'SAML_METADATA_SIGNATURE_INVALID';

export interface SamlStatus {
  top: StatusUri;
  second?: StatusUri;
}

interface CodeRule {
  status: SamlStatus;
  /** May the refusal be sent to the SP's ACS once the request is otherwise authentic? */
  answerable: boolean;
}

/** The refusal table: code -> SAML status and whether the SP can be answered. */
export const SAML_ERROR_RULES: Readonly<Record<SamlErrorCode, CodeRule>> = {
  SAML_MESSAGE_TOO_LARGE: { status: { top: STATUS.requester }, answerable: false },
  SAML_MALFORMED: { status: { top: STATUS.requester }, answerable: false },
  SAML_XML_FORBIDDEN_CONSTRUCT: { status: { top: STATUS.requester }, answerable: false },
  SAML_WRONG_MESSAGE_TYPE: { status: { top: STATUS.requester }, answerable: false },
  SAML_UNSUPPORTED_VERSION: { status: { top: STATUS.versionMismatch }, answerable: false },
  SAML_UNKNOWN_ISSUER: { status: { top: STATUS.requester, second: STATUS.requestDenied }, answerable: false },
  SAML_UNSIGNED: { status: { top: STATUS.requester, second: STATUS.requestDenied }, answerable: false },
  SAML_SIGNATURE_ALGORITHM_REFUSED: { status: { top: STATUS.requester, second: STATUS.requestDenied }, answerable: false },
  SAML_SIGNATURE_INVALID: { status: { top: STATUS.requester, second: STATUS.requestDenied }, answerable: false },
  SAML_SIGNATURE_WRAPPED: { status: { top: STATUS.requester, second: STATUS.requestDenied }, answerable: false },
  SAML_ACS_NOT_IN_METADATA: { status: { top: STATUS.requester }, answerable: false },
  SAML_DESTINATION_MISMATCH: { status: { top: STATUS.requester }, answerable: true },
  SAML_REQUEST_EXPIRED: { status: { top: STATUS.requester, second: STATUS.requestDenied }, answerable: true },
  SAML_REQUEST_FROM_FUTURE: { status: { top: STATUS.requester, second: STATUS.requestDenied }, answerable: true },
  // A replay is not answered: the first delivery already was.
  SAML_REPLAYED: { status: { top: STATUS.requester, second: STATUS.requestDenied }, answerable: false },
  SAML_BINDING_UNSUPPORTED: { status: { top: STATUS.requester, second: STATUS.unsupportedBinding }, answerable: true },
  SAML_FORCE_AND_PASSIVE: { status: { top: STATUS.requester }, answerable: true },
  SAML_NO_AUTHN_CONTEXT: { status: { top: STATUS.responder, second: STATUS.noAuthnContext }, answerable: true },
  SAML_NAMEID_POLICY_UNSUPPORTED: { status: { top: STATUS.requester, second: STATUS.invalidNameIdPolicy }, answerable: true },
  SAML_METADATA_INVALID: { status: { top: STATUS.requester }, answerable: false },
  SAML_METADATA_SIGNATURE_INVALID: { status: { top: STATUS.requester }, answerable: false },
};

/** What is known of a request that was authentic enough to be answered. */
export interface AnswerableRequest {
  id: string;
  issuer: string;
  /** The ACS (from the SP metadata) the answer goes to. */
  acsUrl: string;
  relayState?: string;
}

export class SamlError extends Error {
  override readonly name = 'SamlError';
  readonly code: SamlErrorCode;
  readonly status: SamlStatus;
  /** Set when the refusal may be sent to the SP (request verified, ACS from metadata). */
  readonly answerTo: AnswerableRequest | undefined;

  constructor(code: SamlErrorCode, message: string, options: { cause?: unknown; answerTo?: AnswerableRequest } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = SAML_ERROR_RULES[code].status;
    this.answerTo = SAML_ERROR_RULES[code].answerable ? options.answerTo : undefined;
  }
}

export function isSamlError(err: unknown, code?: SamlErrorCode): err is SamlError {
  return err instanceof SamlError && (code === undefined || err.code === code);
}
