/**
 * The messages separation of duties sends: a notice to the people a row of the duties table names
 * (NSIS 4.1.7: what was done is told to those who can object), the enrolment link delivered to
 * the bound address, and the notice that a link was handed over in person (NSIS 3.2.2 (High) 3).
 */
import { enrolmentLinkRef, when, type Mail } from '../lifecycle/mails.js';
import { SECRET_PLACEHOLDER } from '../outbox/types.js';
import type { Identity } from '../domain/types.js';

export interface DutyNotice {
  to: string;
  /** The addressee's name, when they are a person of the organisation. */
  name: string | null;
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
  const who = `${n.requesterName} (${n.requesterRole})`;
  const what =
    n.phase === 'requested'
      ? `${who} asked for the following. It happens only if a second person approves it.`
      : n.approverName
        ? `The following was carried out: asked for by ${who} and approved by ${n.approverName}.`
        : n.bootstrap
          ? `The following was carried out by ${who} alone: the organisation does not yet have two people who could approve it, so two-person control is off for it.`
          : `The following was carried out by ${who}.`;
  const object = n.aboutYou
    ? n.phase === 'requested'
      ? 'If you did not ask for this, object at once: call or visit the helpdesk or another administrator (not by replying to this mail), and quote the reference below. Until someone approves it, nothing changes.'
      : 'If you did not ask for this, contact the helpdesk or another administrator at once (not by replying to this mail), and quote the reference below.'
    : 'If this looks wrong to you, contact another administrator or the security officers, and quote the reference below.';
  return {
    to: n.to,
    kind: n.phase === 'requested' ? 'duty-requested' : 'duty-executed',
    subject: `${n.phase === 'requested' ? 'Requested' : 'Done'}: ${n.title}`,
    text: [
      `Hello${n.name ? ` ${n.name}` : ''},`,
      '',
      what,
      '',
      n.summary,
      ...n.items.map((i) => `  - ${i}`),
      '',
      object,
      ...(n.reference ? ['', `Reference: ${n.reference}`] : []),
    ].join('\n'),
  };
}

/** NSIS 3.2.2 (Substantial) 2: the link goes to the person, at the address bound to them. */
/**
 * The enrolment-link mail. Like an activation code, the link's token is minted when the mail is
 * delivered (its keyed hash committed first), so the clear link is never stored (issue 13, 5):
 * the text holds a placeholder. A mail delivered twice carries two links; the newest works.
 */
export function enrolmentLinkMail(holder: Identity, enrolmentId: string, expiresAt: string, issuerName: string | null, zone: string): Mail {
  return {
    to: holder.email,
    secretRef: enrolmentLinkRef(enrolmentId),
    kind: 'enrolment-link',
    subject: 'Register your security key',
    text: [
      `Hello ${holder.name},`,
      '',
      `${issuerName ?? 'Your organisation'} issued a one-time link for you to register a security key:`,
      '',
      `    ${SECRET_PLACEHOLDER}`,
      '',
      `Open it in your browser and touch your key. It can be used once and expires on ${when(expiresAt, zone)}. If this message reaches you more than once, only the newest link works.`,
      'After registering, an activation code comes to this address; with the key and the code you activate it.',
      'Nobody will ever ask you for this link or the code. If you did not expect this message, contact the helpdesk at once.',
    ].join('\n'),
  };
}

/** NSIS 3.2.2 (High) 3: a link handed over in person is told to the bound address, so a wrong hand is noticed. */
export function enrolmentHandoverMail(holder: Identity, issuerName: string | null, at: string, expiresAt: string, zone: string): Mail {
  return {
    to: holder.email,
    kind: 'enrolment-handover',
    subject: 'A link to register a security key was handed over for you',
    text: [
      `Hello ${holder.name},`,
      '',
      `On ${when(at, zone)}, ${issuerName ?? 'an administrator'} issued a one-time link for you to register a security key, and chose to hand it to you in person. It expires on ${when(expiresAt, zone)}.`,
      '',
      'If you did not receive that link in person from them, contact the helpdesk or another administrator at once: someone else may be trying to register a key in your name.',
      'The activation code for any key registered with it comes only to this address.',
    ].join('\n'),
  };
}
