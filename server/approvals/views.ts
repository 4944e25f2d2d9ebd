/**
 * What the consoles are shown of the approvals: each request a staff member may see (their own,
 * and those they could approve), newest first, with the server's answer to "may I approve
 * this?", and which two-person controls are on. Reads only, in the caller's read transaction.
 */
import type { ApprovalRecord } from '../domain/approvals.js';
import type { Actor, Identity } from '../domain/types.js';
import {
  APPROVAL_REFUSAL_TEXT,
  DUTY_TABLE,
  STAFF_ROLES,
  decideApproval,
  dutyRow,
  twoPersonControls,
  type ApprovalDecision,
  type ApprovalKind,
  type ControlStatus,
  type StaffRole,
} from '../duties/index.js';
import type { ReadTx } from '../ports/store.js';
import { DEFAULT_LANGUAGE, type Language } from '../../i18n/index.js';
import { approvalNames, describeApproval } from './describe.js';

export interface ApprovalView extends Omit<ApprovalRecord, 'payload'> {
  /** In `summaryLanguage`: the reader's language where its kind is rendered (describe.ts), else the stored English. */
  summaryLanguage: Language;
  title: string;
  approverRoles: readonly StaffRole[];
  requestedByName: string | null;
  decidedByName: string | null;
  /** Whether the person asking may approve it now, and if not, why (the server decides). */
  canApprove: boolean;
  cannotApprove: string | null;
  /** Pending only: how many people could approve it now. */
  eligibleApprovers: number | null;
}

export interface DutiesStatus {
  orgAdmins: number;
  securityOfficers: number;
  helpdesk: number;
  controls: ControlStatus[];
}

/** The role a person acts in on a request of this kind: an approver role they hold, else any staff role. */
export function roleOf(kind: ApprovalKind, person: Identity | undefined): Actor['role'] {
  const held = (r: StaffRole) => person?.bindingState === 'active' && person.roles.includes(r);
  return dutyRow(kind).approvers.find(held) ?? STAFF_ROLES.find(held) ?? 'holder';
}

/** What decideApproval needs, read now in `tx`. */
export async function decideFor(tx: ReadTx, approval: Pick<ApprovalRecord, 'kind' | 'requestedBy' | 'requestedRole' | 'subjects'>, approver: Identity | undefined, approverId: string): Promise<ApprovalDecision> {
  const requester = await tx.identities.get(approval.requestedBy);
  return decideApproval(approval.kind, {
    requesterId: approval.requestedBy,
    requesterBound: requester?.bindingState === 'active',
    requesterHoldsRole: requester?.roles.includes(approval.requestedRole) ?? false,
    approverId,
    approverBound: approver?.bindingState === 'active',
    approverRoles: approver?.roles ?? [],
    subjectIds: approval.subjects,
    approverSetUpByRequester: await tx.setups.setUpBy(approverId, approval.requestedBy),
  });
}

export async function listApprovals(tx: ReadTx, viewer: Identity, kinds?: readonly ApprovalKind[], language: Language = DEFAULT_LANGUAGE): Promise<ApprovalView[]> {
  const names = new Map<string, string | null>();
  const nameOf = async (id: string | null): Promise<string | null> => {
    if (!id) return null;
    if (!names.has(id)) names.set(id, (await tx.identities.get(id))?.name ?? null);
    return names.get(id) ?? null;
  };
  const candidates = async (roles: readonly StaffRole[]) => {
    const seen = new Map<string, Identity>();
    for (const r of roles) for (const i of await tx.identities.listActiveWithRole(r)) seen.set(i.id, i);
    return [...seen.values()];
  };
  const out: ApprovalView[] = [];
  for (const { payload, ...a } of await tx.approvals.list(kinds)) {
    const row = dutyRow(a.kind);
    if (a.requestedBy !== viewer.id && !row.approvers.some((r) => viewer.roles.includes(r))) continue;
    const pending = a.state === 'pending';
    const mine = pending ? await decideFor(tx, a, viewer, viewer.id) : undefined;
    let eligible: number | null = null;
    if (pending) {
      eligible = 0;
      for (const c of await candidates(row.approvers)) if ((await decideFor(tx, a, c, c.id)).ok) eligible++;
    }
    const summary = describeApproval({ ...a, payload }, await approvalNames(a.subjects, (id) => tx.identities.get(id)), language);
    out.push({
      ...a,
      summary,
      summaryLanguage: summary === a.summary ? 'en' : language,
      title: row.title,
      approverRoles: row.approvers,
      requestedByName: await nameOf(a.requestedBy),
      decidedByName: await nameOf(a.decidedBy),
      canApprove: mine?.ok === true,
      cannotApprove: mine && !mine.ok ? APPROVAL_REFUSAL_TEXT[mine.refusal] : null,
      eligibleApprovers: eligible,
    });
  }
  return out;
}

export async function dutiesStatus(tx: ReadTx): Promise<DutiesStatus> {
  const keyOf = (roles: readonly StaffRole[]) => [...roles].sort().join(',');
  const counts = new Map<string, number>();
  // Every approver set the table names, counted once, in this snapshot.
  for (const roles of [['org-admin'], ['security-officer'], ['helpdesk'], ...DUTY_TABLE.map((r) => r.approvers)] as (readonly StaffRole[])[]) {
    if (!counts.has(keyOf(roles))) counts.set(keyOf(roles), await tx.identities.countActiveWithAnyRole(roles));
  }
  const pool = (roles: readonly StaffRole[]) => counts.get(keyOf(roles)) ?? 0;
  return { orgAdmins: pool(['org-admin']), securityOfficers: pool(['security-officer']), helpdesk: pool(['helpdesk']), controls: twoPersonControls(pool) };
}
