/**
 * Tells the second people that something waits for them (issue 16; NSIS 3.2.2 (High) 3, 5.2: a
 * two-person control only works if the second person learns of the request). Queued in the
 * outbox inside the transaction that records the request, to every bound person who may approve
 * it by the duties rules (an approver role, not the requester, not a person it is about, not
 * someone the requester set up): exactly those the inbox offers "Approve" to.
 */
import type { ApprovalRecord } from '../domain/approvals.js';
import type { Identity } from '../domain/types.js';
import { dutyRow } from '../duties/index.js';
import { queueMail } from '../flows/shared/mail.js';
import type { Mail } from '../lifecycle/mails.js';
import type { WriteTx } from '../ports/store.js';
import { decideFor } from './views.js';

/** The page where every request waiting for a second person is listed. */
export const INBOX_PATH = '/approvals.html';

/** Who may approve `approval` now, each once. */
export async function eligibleApprovers(tx: WriteTx, approval: ApprovalRecord): Promise<Identity[]> {
  const seen = new Map<string, Identity>();
  for (const role of dutyRow(approval.kind).approvers) for (const i of await tx.identities.listActiveWithRole(role)) seen.set(i.id, i);
  const out: Identity[] = [];
  for (const candidate of seen.values()) if ((await decideFor(tx, approval, candidate, candidate.id)).ok) out.push(candidate);
  return out;
}

export function approvalWaitingMail(to: Identity, approval: ApprovalRecord, requesterName: string, origin: string): Mail {
  return {
    to: to.email,
    kind: 'approval-waiting',
    subject: `Waiting for your approval: ${approval.summary}`,
    text: [
      `Hello ${to.name},`,
      '',
      `${requesterName} (${approval.requestedRole}) asked for the following. It happens only when a second person approves it, and you are one of those who may:`,
      '',
      approval.summary,
      ...approval.items.map((i) => `  - ${i}`),
      '',
      `Open your approvals inbox to approve or reject it: ${origin}${INBOX_PATH}`,
      'If it looks wrong, reject it there, or tell another administrator or the security officers.',
      '',
      `Reference: ${approval.id}`,
    ].join('\n'),
  };
}

/** Queues the mail to each eligible approver; returns their addresses (lower case). */
export async function askApprovers(tx: WriteTx, approval: ApprovalRecord, origin: string, at: string): Promise<Set<string>> {
  const requester = await tx.identities.get(approval.requestedBy);
  const told = new Set<string>();
  for (const person of await eligibleApprovers(tx, approval)) {
    await queueMail(tx, approvalWaitingMail(person, approval, requester?.name ?? 'A staff member', origin), at);
    told.add(person.email.toLowerCase());
  }
  return told;
}
