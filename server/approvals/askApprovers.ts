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
import { text } from '../../i18n/index.js';
import { hello, mailLanguage, roleWords, type Mail, type MailContext } from '../lifecycle/mails.js';
import type { WriteTx } from '../ports/store.js';
import { approvalNames, describeApproval, type ApprovalNames } from './describe.js';
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

export function approvalWaitingMail(to: Identity, approval: ApprovalRecord, requesterName: string, ctx: Pick<MailContext, 'defaultLanguage'> & { origin: string }, names: ApprovalNames = new Map()): Mail {
  const l = mailLanguage(to, ctx);
  const summary = describeApproval(approval, names, l);
  return {
    to: to.email,
    kind: 'approval-waiting',
    subject: text(l, 'mail.approval.subject', { summary }),
    text: [
      hello(l, to.name),
      '',
      text(l, 'mail.approval.asked', { who: text(l, 'mail.actor.staff', { name: requesterName, role: roleWords(l, approval.requestedRole) }) }),
      '',
      summary,
      ...approval.items.map((i) => `  - ${i}`),
      '',
      text(l, 'mail.approval.open', { url: `${ctx.origin}${INBOX_PATH}` }),
      text(l, 'mail.approval.wrong'),
      '',
      text(l, 'mail.reference', { reference: approval.id }),
    ].join('\n'),
  };
}

/** Queues the mail to each eligible approver, in their language; returns their addresses (lower case). */
export async function askApprovers(tx: WriteTx, approval: ApprovalRecord, ctx: Pick<MailContext, 'defaultLanguage'> & { origin: string }, at: string): Promise<Set<string>> {
  const requester = await tx.identities.get(approval.requestedBy);
  const names = await approvalNames(approval.subjects, (id) => tx.identities.get(id));
  const told = new Set<string>();
  for (const person of await eligibleApprovers(tx, approval)) {
    await queueMail(tx, approvalWaitingMail(person, approval, requester?.name ?? text(mailLanguage(person, ctx), 'mail.actor.someone'), ctx, names), at);
    told.add(person.email.toLowerCase());
  }
  return told;
}
