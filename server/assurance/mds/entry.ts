/**
 * One authenticator model of the BLOB, keyed by AAGUID (FIDO2 authenticators). Entries without
 * an AAGUID (U2F: attestationCertificateKeyIdentifiers, UAF: aaid) are counted but not indexed.
 */
import type { RawEntry } from './schema.js';
import { summarizeStatus, type AuthenticatorStatus, type CertificationLevel, type StatusReport } from './status.js';

export interface Entry {
  /** Lower-case, dashed AAGUID. */
  readonly aaguid: string;
  /** The metadata statement's description ("Vendor Model"), trimmed; '' if the entry has no statement. */
  readonly description: string;
  /** Base64 (standard alphabet) DER attestation roots of the model; whitespace removed. Frozen. */
  readonly attestationRootCertificates: string[];
  /** Ordered oldest first (see status.ts). Frozen. */
  readonly statusReports: StatusReport[];
  readonly latestStatus: AuthenticatorStatus | null;
  /** The highest FIDO certification level reported; null when none, or when compromised. */
  readonly certificationStatus: CertificationLevel | null;
  /** The latest relevant status report is a key compromise or REVOKED. */
  readonly compromised: boolean;
  readonly authenticatorVersion: number | null;
  readonly protocolFamily: string | null;
  readonly timeOfLastStatusChange: string | null;
}

const AAGUID_HEX = /^[0-9a-f]{32}$/;

/** 'EE882879721C...' or 'ee882879-721c-...' -> 'ee882879-721c-4913-9775-3dfcce97072a'; null if not an AAGUID. */
export function normalizeAaguid(input: string): string | null {
  const hex = input.trim().toLowerCase().replace(/-/g, '');
  if (!AAGUID_HEX.test(hex)) return null;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function frozen<T>(items: T[]): T[] {
  Object.freeze(items);
  return items;
}

/** The Entry for a payload entry with an AAGUID (validated by the schema). */
export function toEntry(raw: RawEntry & { aaguid: string }): Entry {
  const aaguid = normalizeAaguid(raw.aaguid);
  if (aaguid === null) throw new TypeError(`not an AAGUID: ${raw.aaguid}`);
  const ms = raw.metadataStatement;
  const s = summarizeStatus(raw.statusReports);
  // Arrays are typed mutable (for structural use by callers) but frozen: entries are shared.
  return Object.freeze({
    aaguid,
    description: ms?.description.trim() ?? '',
    attestationRootCertificates: frozen([...(ms?.attestationRootCertificates ?? [])]),
    statusReports: frozen(s.reports.map((r) => Object.freeze(r))),
    latestStatus: s.latestStatus,
    certificationStatus: s.certificationStatus,
    compromised: s.compromised,
    authenticatorVersion: ms?.authenticatorVersion ?? null,
    protocolFamily: ms?.protocolFamily ?? null,
    timeOfLastStatusChange: raw.timeOfLastStatusChange ?? null,
  });
}
