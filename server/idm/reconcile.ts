/**
 * Reconciliation of the gateway's people with MitID Erhverv's employees, as a pure function: a
 * report of every difference, and the repairs where the rule is clear. The rules are ONE table
 * (an auditor reads it): the gateway is the source for whom it binds, their contact data and its
 * own suspensions and ends (NSIS 5.2, 3.2.3); anything MitID Erhverv did on its own (a suspension
 * there, an account carrying a subject name id we do not know, a different subject name id on a
 * linked account) is reported for a person to decide, never undone automatically.
 */
import { sameSubjectNameId } from './subjectNameId.js';
import type { EmployeeProfile } from './client.js';
import type { IdmJob } from './jobs.js';
import type { TheirEmployee } from './operations.js';

export interface OurPerson {
  personId: string;
  subjectNameId: string;
  /** The employee uuid the gateway holds for the person, if any. */
  employeeUuid: string | null;
  /** active: bound and not suspended; suspended: the person is suspended; ended: the binding ended. */
  state: 'active' | 'suspended' | 'ended';
  profile: EmployeeProfile;
  rid: string | null;
}

export const FINDING_KINDS = [
  'here-not-there',
  'ended-here-still-there',
  'suspended-here-only',
  'suspended-there-only',
  'subject-name-id-mismatch',
  'duplicate-subject-name-id',
  'link-missing',
  'email-differs',
  'there-not-here',
] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];

type RepairKind = 'bind' | 'end-binding' | 'suspend-person' | 'link' | 'contact-change' | null;

/** The rules: each difference, its repair (null: report only) and why. */
export const RECONCILIATION_RULES: Readonly<Record<FindingKind, { repair: RepairKind; why: string }>> = {
  'here-not-there': { repair: 'bind', why: 'NSIS 5.2: a person bound here must exist there with the Local IdP as authenticator' },
  'ended-here-still-there': { repair: 'end-binding', why: 'NSIS 5.2 (Low) 3: an ended binding is removed there too' },
  'suspended-here-only': { repair: 'suspend-person', why: 'NSIS 3.2.3: a suspension here takes effect there (the safe direction)' },
  'suspended-there-only': { repair: null, why: 'NSIS 3.2.3: reactivation needs the assurance of the first activation; someone suspended the person at MitID Erhverv' },
  'subject-name-id-mismatch': { repair: null, why: 'the linked account carries another subject name id: rewriting it could hand a login to someone else' },
  'duplicate-subject-name-id': { repair: null, why: 'two accounts carry one subject name id: a person must choose' },
  'link-missing': { repair: 'link', why: 'the account carrying the person\'s subject name id is theirs: the gateway records the link' },
  'email-differs': { repair: 'contact-change', why: 'the gateway holds the contact data the directory gave' },
  'there-not-here': { repair: null, why: 'an account with a Local IdP subject name id no person here has: removed only by a person' },
};

export interface Finding {
  kind: FindingKind;
  personId: string | null;
  employeeUuid: string | null;
  subjectNameId: string | null;
  detail: string;
  /** A repair for it is in `repairs`. */
  repaired: boolean;
}

type WithoutKey<T> = T extends unknown ? Omit<T, 'key'> : never;
/** A job to queue (the caller gives it its key). */
export type IdmJobSpec = WithoutKey<IdmJob>;

export type Repair = { kind: 'link'; personId: string; employeeUuid: string } | { kind: 'job'; job: IdmJobSpec };

export interface ReconciliationReport {
  findings: Finding[];
  repairs: Repair[];
  summary: { ours: number; theirs: number; matched: number; unmanaged: number };
}

export function reconcile(ours: readonly OurPerson[], theirs: readonly TheirEmployee[]): ReconciliationReport {
  const findings: Finding[] = [];
  const repairs: Repair[] = [];
  const byUuid = new Map(theirs.map((t) => [t.uuid, t]));
  const claimed = new Set<string>();
  let matched = 0;

  const note = (kind: FindingKind, p: OurPerson | null, t: TheirEmployee | null, detail: string, repair?: Repair[]) => {
    findings.push({ kind, personId: p?.personId ?? null, employeeUuid: t?.uuid ?? p?.employeeUuid ?? null, subjectNameId: p?.subjectNameId ?? t?.subjectNameIds[0] ?? null, detail, repaired: !!repair?.length });
    if (repair) repairs.push(...repair);
  };
  const job = (p: OurPerson, uuid: string | null, kind: 'suspend-person' | 'end-binding'): Repair => ({
    kind: 'job',
    job: { kind, personId: p.personId, subjectNameId: p.subjectNameId, employeeUuid: uuid, email: p.profile.email },
  });

  for (const p of ours) {
    const carrying = theirs.filter((t) => t.subjectNameIds.some((id) => sameSubjectNameId(id, p.subjectNameId)));
    for (const t of carrying) claimed.add(t.uuid);
    const linked = p.employeeUuid ? byUuid.get(p.employeeUuid) : undefined;
    if (linked) claimed.add(linked.uuid);
    if (carrying.length > 1) {
      note('duplicate-subject-name-id', p, null, `${carrying.length} accounts carry ${p.subjectNameId}: ${carrying.map((t) => t.uuid).join(', ')}`);
      continue;
    }
    const match = linked ?? carrying[0];
    if (p.state === 'ended') {
      if (match) note('ended-here-still-there', p, match, 'the binding ended here, the account exists there', [job(p, match.uuid, 'end-binding')]);
      continue;
    }
    if (!match) {
      const bind: Repair = { kind: 'job', job: { kind: 'bind', personId: p.personId, subjectNameId: p.subjectNameId, employeeUuid: null, email: p.profile.email, profile: p.profile, rid: p.rid } };
      note('here-not-there', p, null, 'bound here, no account there', p.state === 'suspended' ? [bind, job(p, null, 'suspend-person')] : [bind]);
      continue;
    }
    matched++;
    if (!linked) note('link-missing', p, match, `the account ${match.uuid} carries the subject name id`, [{ kind: 'link', personId: p.personId, employeeUuid: match.uuid }]);
    else if (!linked.subjectNameIds.some((id) => sameSubjectNameId(id, p.subjectNameId))) {
      // Perhaps the wrong account is linked: nothing more is pushed to it until a person decides.
      note('subject-name-id-mismatch', p, linked, `ours ${p.subjectNameId}, theirs ${linked.subjectNameIds.join(', ') || '(no Local IdP authenticator)'}`);
      continue;
    }
    if (p.state === 'suspended' && match.status === 'Active') note('suspended-here-only', p, match, 'suspended here, active there', [job(p, match.uuid, 'suspend-person')]);
    if (p.state === 'active' && match.status === 'Suspended') note('suspended-there-only', p, match, 'active here, suspended there');
    if (match.email !== null && match.email.toLowerCase() !== p.profile.email.toLowerCase()) {
      note('email-differs', p, match, 'the email differs', [
        { kind: 'job', job: { kind: 'contact-change', personId: p.personId, subjectNameId: p.subjectNameId, employeeUuid: match.uuid, email: p.profile.email, profile: p.profile, identifying: false } },
      ]);
    }
  }

  let unmanaged = 0;
  for (const t of theirs) {
    if (claimed.has(t.uuid)) continue;
    if (t.subjectNameIds.length === 0) {
      unmanaged++;
      continue;
    }
    note('there-not-here', null, t, `the account carries ${t.subjectNameIds.join(', ')}, which no person here has`);
  }
  return { findings, repairs, summary: { ours: ours.length, theirs: theirs.length, matched, unmanaged } };
}
