/**
 * What an entry's status reports mean for the gateway (FIDO MDS 3.0 3.1.3 AuthenticatorStatus;
 * NSIS 3.2.1 (High) 5-6 needs a certified, not compromised model).
 *
 * The BLOB does not order statusReports consistently (some entries list the newest first, some
 * the oldest first), so reports are ordered by effectiveDate here. A report without an
 * effectiveDate "is effective while present" and counts as the newest. Reports dated the same day
 * are ordered by weight, so a compromise reported on the day of a certification wins.
 *
 * compromised: the latest *relevant* report is a compromise or REVOKED. Relevant are only the
 * compromise statuses and the FIDO certification levels: an informational report
 * (UPDATE_AVAILABLE, NOT_FIDO_CERTIFIED, SELF_ASSERTION_SUBMITTED, USER_VERIFICATION_BYPASS,
 * unknown) never clears a compromise; only a later-dated certification does.
 */
import type { RawStatusReport } from './schema.js';

/** FIDO certification levels, lowest first. The legacy FIDO_CERTIFIED (functional certification,
 * being phased out for L1) ranks below L1: it is not evidence of an L1 security evaluation. */
export const CERTIFICATION_LEVELS = [
  'FIDO_CERTIFIED',
  'FIDO_CERTIFIED_L1',
  'FIDO_CERTIFIED_L1plus',
  'FIDO_CERTIFIED_L2',
  'FIDO_CERTIFIED_L2plus',
  'FIDO_CERTIFIED_L3',
  'FIDO_CERTIFIED_L3plus',
] as const;
export type CertificationLevel = (typeof CERTIFICATION_LEVELS)[number];

export const COMPROMISE_STATUSES = [
  'USER_KEY_REMOTE_COMPROMISE',
  'USER_KEY_PHYSICAL_COMPROMISE',
  'ATTESTATION_KEY_COMPROMISE',
  'REVOKED',
] as const;
export type CompromiseStatus = (typeof COMPROMISE_STATUSES)[number];

/** The statuses of the MDS 3.0 specification; the BLOB may carry others (kept as strings). */
export type KnownAuthenticatorStatus =
  | CertificationLevel
  | CompromiseStatus
  | 'NOT_FIDO_CERTIFIED'
  | 'USER_VERIFICATION_BYPASS'
  | 'UPDATE_AVAILABLE'
  | 'SELF_ASSERTION_SUBMITTED';
// `string & {}` keeps editor completion for the known names while accepting future ones.
export type AuthenticatorStatus = KnownAuthenticatorStatus | (string & {});

export interface StatusReport {
  status: AuthenticatorStatus;
  effectiveDate?: string;
  authenticatorVersion?: number;
  certificateNumber?: string;
}

export interface StatusSummary {
  /** Reports ordered oldest first (see the ordering rules above). */
  reports: StatusReport[];
  /** Status of the newest report, or null when the entry has none. */
  latestStatus: AuthenticatorStatus | null;
  /** The highest certification level reported, null if none or if the model is compromised. */
  certificationStatus: CertificationLevel | null;
  compromised: boolean;
}

export function isCertificationLevel(s: string): s is CertificationLevel {
  return (CERTIFICATION_LEVELS as readonly string[]).includes(s);
}

export function isCompromiseStatus(s: string): s is CompromiseStatus {
  return (COMPROMISE_STATUSES as readonly string[]).includes(s);
}

/** Tie-break weight for reports of the same day: compromise > UV bypass > certification (by level) > others. */
function weight(status: string): number {
  if (isCompromiseStatus(status)) return 100;
  if (status === 'USER_VERIFICATION_BYPASS') return 50;
  if (isCertificationLevel(status)) return 10 + CERTIFICATION_LEVELS.indexOf(status);
  return 0;
}

function when(r: RawStatusReport): number {
  return r.effectiveDate === undefined ? Number.POSITIVE_INFINITY : Date.parse(r.effectiveDate);
}

export function summarizeStatus(raw: readonly RawStatusReport[]): StatusSummary {
  const ordered = raw
    .map((r, i) => ({ r, i }))
    .sort((a, b) => when(a.r) - when(b.r) || weight(a.r.status) - weight(b.r.status) || a.i - b.i)
    .map(({ r }) => r);

  const reports: StatusReport[] = ordered.map((r) => {
    const out: StatusReport = { status: r.status };
    if (r.effectiveDate !== undefined) out.effectiveDate = r.effectiveDate;
    if (r.authenticatorVersion !== undefined) out.authenticatorVersion = r.authenticatorVersion;
    if (r.certificateNumber !== undefined) out.certificateNumber = r.certificateNumber;
    return out;
  });

  const latestRelevant = [...ordered].reverse().find((r) => isCompromiseStatus(r.status) || isCertificationLevel(r.status));
  const compromised = latestRelevant !== undefined && isCompromiseStatus(latestRelevant.status);

  let certificationStatus: CertificationLevel | null = null;
  if (!compromised) {
    for (const r of ordered) {
      if (isCertificationLevel(r.status) && (certificationStatus === null || CERTIFICATION_LEVELS.indexOf(r.status) > CERTIFICATION_LEVELS.indexOf(certificationStatus))) {
        certificationStatus = r.status;
      }
    }
  }

  return { reports, latestStatus: ordered.at(-1)?.status ?? null, certificationStatus, compromised };
}
