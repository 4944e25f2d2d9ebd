/**
 * Tells the people a row of the duties table names (NSIS 4.1.7: those who can object learn what
 * was asked for and done): queued in the outbox inside the caller's transaction, never to the
 * requester or the approver themselves.
 */
import type { Language } from '../../i18n/index.js';
import type { Actor, Identity } from '../domain/types.js';
import type { Recipient, StaffRole } from '../duties/index.js';
import { dutyNoticeMail } from '../duties/mails.js';
import { queueMail } from '../flows/shared/mail.js';
import { mailLanguage, type MailContext } from '../lifecycle/mails.js';
import type { WriteTx } from '../ports/store.js';

/** What the notices say: the request, its people, and who asked and approved. */
export interface Told {
  summary: string;
  items: readonly string[];
  subjects: readonly string[];
  oldAddress: string | undefined;
  requester: Actor;
  approver: Actor | null;
  reference: string | null;
  bootstrap: boolean;
}

export async function queueDutyNotices(
  tx: WriteTx,
  at: string,
  recipients: readonly Recipient[],
  t: Told,
  phase: 'requested' | 'executed',
  /** Each mail in its addressee's language, else the organisation's (issue 16). */
  ctx: Pick<MailContext, 'defaultLanguage'>,
  /** Addresses told already in this transaction (the approvers asked to approve, askApprovers.ts). */
  skip: ReadonlySet<string> = new Set(),
): Promise<void> {
  const actors = new Set([t.requester.identityId, t.approver?.identityId].filter((x): x is string => typeof x === 'string'));
  const mails = new Map<string, { name: string | null; aboutYou: boolean; language: Language }>();
  const add = (to: string | undefined, name: string | null, aboutYou: boolean, person: Identity | undefined) => {
    if (to && !skip.has(to.toLowerCase()) && !mails.has(to.toLowerCase())) mails.set(to.toLowerCase(), { name, aboutYou, language: mailLanguage(person, ctx) });
  };
  const subjects: Identity[] = [];
  for (const id of t.subjects) {
    const s = await tx.identities.get(id);
    if (s) subjects.push(s);
  }
  for (const r of recipients) {
    if (r === 'subject') for (const s of subjects) add(s.email, s.name, true, s);
    else if (r === 'subject-old-address') add(t.oldAddress, subjects[0]?.name ?? null, true, subjects[0]);
    else if (r === 'key-holders') continue; // the lifecycle mails each holder itself
    else {
      const role: StaffRole = r === 'org-admins' ? 'org-admin' : r === 'security-officers' ? 'security-officer' : 'helpdesk';
      for (const i of await tx.identities.listActiveWithRole(role)) if (!actors.has(i.id)) add(i.email, i.name, t.subjects.includes(i.id), i);
    }
  }
  const requester = t.requester.identityId ? await tx.identities.get(t.requester.identityId) : undefined;
  const approver = t.approver?.identityId ? await tx.identities.get(t.approver.identityId) : undefined;
  const title = t.summary;
  for (const [to, who] of mails) {
    const mail = dutyNoticeMail({
      to,
      name: who.name,
      language: who.language,
      phase,
      title,
      summary: t.summary,
      items: t.items,
      requesterName: requester?.name ?? 'A staff member',
      requesterRole: t.requester.role,
      approverName: approver?.name ?? null,
      reference: t.reference,
      aboutYou: who.aboutYou,
      bootstrap: t.bootstrap,
    });
    await queueMail(tx, mail, at);
  }
}
