/**
 * The broker log (NSIS 6 (Low) 7: the broker logs the authentication
 * transactions it brokers): for each SAML message in or out, the fields that
 * go into the audit chain: IDs, issuer, destination, status, attributes
 * released and the SHA-256 of the signed assertion, never the decrypted
 * assertion itself.
 */
import type { SamlError, SamlStatus } from './errors.js';

export type BrokerMessageKind = 'AuthnRequest' | 'Response' | 'LogoutRequest' | 'LogoutResponse';

export interface BrokerLogEntry {
  kind: BrokerMessageKind;
  direction: 'in' | 'out';
  /** The message ID (absent for a message refused before its ID could be read). */
  id?: string;
  inResponseTo?: string;
  /** entityID of the sender. */
  issuer?: string;
  /** Destination URL (ACS or SLO endpoint for messages out). */
  destination?: string;
  binding?: 'redirect' | 'post';
  /** Status URIs (top-level and second-level) of a Response/LogoutResponse. */
  status?: SamlStatus | { top: string; second?: string };
  /** Stable refusal code of a refused message (SamlError.code). */
  refusal?: string;
  /** SHA-256 of the SP certificate that verified an incoming signature. */
  signatureCertificateSha256?: string;
  /** Issued assertion: its ID, the subject's NameID, the level and every attribute released. */
  assertionId?: string;
  nameId?: string;
  sessionIndex?: string;
  attributes?: { name: string; values: string[] }[];
  /** Lower-case hex SHA-256 of the signed Assertion XML, before encryption. */
  assertionSha256?: string;
  /** Encryption algorithms used for the assertion. */
  encryption?: { content: string; keyTransport: string };
}

/** The entry for a refused incoming message (with what is known of it when it was authentic). */
export function refusalLogEntry(kind: BrokerMessageKind, err: SamlError, binding?: 'redirect' | 'post'): BrokerLogEntry {
  const entry: BrokerLogEntry = { kind, direction: 'in', refusal: err.code, status: err.status };
  if (binding) entry.binding = binding;
  if (err.answerTo) {
    entry.id = err.answerTo.id;
    entry.issuer = err.answerTo.issuer;
  }
  return entry;
}
