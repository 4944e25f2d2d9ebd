/**
 * The messages separation of duties sends: a notice to the people a row of the duties table names
 * (NSIS 4.1.7: what was done is told to those who can object), the enrolment link delivered to
 * the bound address, and the notice that a link was handed over in person (NSIS 3.2.2 (High) 3).
 */
import { text, type Language } from '../../i18n/index.js';
import { enrolmentLinkRef, hello, mailLanguage, roleWords, when, type Mail, type MailContext } from '../lifecycle/mails.js';
import { SECRET_PLACEHOLDER } from '../outbox/types.js';
import type { Identity } from '../domain/types.js';

export interface DutyNotice {
  to: string;
  /** The addressee's name, when they are a person of the organisation. */
  name: string | null;
  /** The addressee's language (their own, else the organisation's: lifecycle/mails.ts mailLanguage). */
  language: Language;
  phase: 'requested' | 'executed';
  title: string;
  summary: string;
  items: readonly string[];
  requesterName: string;
  requesterRole: string;
  approverName: string | null;
  /** The request's id, to quote when objecting. */
  reference: string | null;
  /** Set when the addressee is the person the request is about. */
  aboutYou: boolean;
  /** The approver was not needed because too few people exist yet (bootstrap). */
  bootstrap: boolean;
}

export function dutyNoticeMail(n: DutyNotice): Mail {
  const l = n.language;
  const who = text(l, 'mail.actor.staff', { name: n.requesterName, role: roleWords(l, n.requesterRole) });
  const what =
    n.phase === 'requested'
      ? text(l, 'mail.duty.requested', { who })
      : n.approverName
        ? text(l, 'mail.duty.approved', { who, approver: n.approverName })
        : n.bootstrap
          ? text(l, 'mail.duty.bootstrap', { who })
          : text(l, 'mail.duty.executed', { who });
  const object = n.aboutYou
    ? n.phase === 'requested'
      ? text(l, 'mail.duty.objectRequested')
      : text(l, 'mail.duty.objectExecuted')
    : text(l, 'mail.duty.objectOther');
  return {
    to: n.to,
    kind: n.phase === 'requested' ? 'duty-requested' : 'duty-executed',
    subject: n.phase === 'requested' ? text(l, 'mail.duty.subject.requested', { title: n.title }) : text(l, 'mail.duty.subject.executed', { title: n.title }),
    text: [
      hello(l, n.name),
      '',
      what,
      '',
      n.summary,
      ...n.items.map((i) => `  - ${i}`),
      '',
      object,
      ...(n.reference ? ['', text(l, 'mail.reference', { reference: n.reference })] : []),
    ].join('\n'),
  };
}

/** NSIS 3.2.2 (Substantial) 2: the link goes to the person, at the address bound to them. */
/**
 * The enrolment-link mail. Like an activation code, the link's token is minted when the mail is
 * delivered (its keyed hash committed first), so the clear link is never stored (issue 13, 5):
 * the text holds a placeholder. A mail delivered twice carries two links; the newest works.
 */
export function enrolmentLinkMail(holder: Identity, enrolmentId: string, expiresAt: string, issuerName: string | null, ctx: MailContext): Mail {
  const l = mailLanguage(holder, ctx);
  return {
    to: holder.email,
    secretRef: enrolmentLinkRef(enrolmentId),
    kind: 'enrolment-link',
    subject: text(l, 'mail.link.subject'),
    text: [
      hello(l, holder.name),
      '',
      text(l, 'mail.link.issued', { issuer: issuerName ?? text(l, 'mail.link.yourOrganisation') }),
      '',
      `    ${SECRET_PLACEHOLDER}`,
      '',
      text(l, 'mail.link.open', { expires: when(expiresAt, ctx.timeZone, l) }),
      text(l, 'mail.link.after'),
      text(l, 'mail.link.nobody'),
    ].join('\n'),
  };
}

/** NSIS 3.2.2 (High) 3: a link handed over in person is told to the bound address, so a wrong hand is noticed. */
export function enrolmentHandoverMail(holder: Identity, issuerName: string | null, at: string, expiresAt: string, ctx: MailContext): Mail {
  const l = mailLanguage(holder, ctx);
  return {
    to: holder.email,
    kind: 'enrolment-handover',
    subject: text(l, 'mail.handover.subject'),
    text: [
      hello(l, holder.name),
      '',
      text(l, 'mail.handover.issued', { at: when(at, ctx.timeZone, l), issuer: issuerName ?? text(l, 'mail.handover.anAdministrator'), expires: when(expiresAt, ctx.timeZone, l) }),
      '',
      text(l, 'mail.handover.check'),
      text(l, 'mail.handover.codeHere'),
    ].join('\n'),
  };
}
