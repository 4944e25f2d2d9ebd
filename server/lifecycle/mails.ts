/**
 * Texts of the messages the gateway sends to holders and the helpdesk. The words are in the
 * catalogues (i18n/<language>/mails.ts), so the wording an auditor reads is the wording people
 * receive; each mail is written in its recipient's language (issue 16: the person's stored
 * language, else the organisation's, GATEWAY_DEFAULT_LANGUAGE), Danish dates in Danish mails.
 * Times are written in the organisation's time zone (GATEWAY_TIME_ZONE) with the zone named;
 * machine-readable claims (the signed receipt) keep ISO 8601 UTC.
 */
import { formatDateTime, pluralKey, reasonLabel, text, type Language } from '../../i18n/index.js';
import type { Credential, CredentialState, Identity, ReasonCode } from '../domain/types.js';
import { SECRET_PLACEHOLDER } from '../outbox/types.js';

export interface Mail {
  to: string;
  subject: string;
  text: string;
  kind: string;
  /** Claims the HSM key signs into the mail at delivery (a verifiable receipt). */
  receipt?: Record<string, string | number | null>;
  /** The one-time secret minted into the text's placeholder at delivery (never stored). */
  secretRef?: string;
}

/** What names an activation code for the outbox: the code is minted from it at delivery. */
export function activationCodeRef(codeId: string): string {
  return `activation-code:${codeId}`;
}

/** What names a mailed enrolment link for the outbox: its token is minted from it at delivery. */
export function enrolmentLinkRef(enrolmentId: string): string {
  return `enrolment-link:${enrolmentId}`;
}

/** The code as the mail shows it: two groups of four digits. */
export function formatCode(code: string): string {
  return `${code.slice(0, 4)} ${code.slice(4)}`;
}

/** What every mail needs to know of the configuration: the zone of its times, the organisation's language. */
export interface MailContext {
  timeZone: string;
  defaultLanguage: Language;
}

/** The language a mail to `person` is written in: their own choice, else the organisation's. */
export function mailLanguage(person: Pick<Identity, 'language'> | undefined, ctx: Pick<MailContext, 'defaultLanguage'>): Language {
  return person?.language ?? ctx.defaultLanguage;
}

/** The reason in the words every page uses too (one table: i18n/reasons.ts). */
export function reasonInWords(reason: ReasonCode, language: Language): string {
  return reasonLabel(reason, language);
}

/** A time as a person reads it: local to the organisation, the zone named, in the mail's language (i18n/dates.ts). */
export function when(iso: string, zone: string, language: Language): string {
  return formatDateTime(iso, { language, timeZone: zone, nameZone: true });
}

/** "Hello Name," in the mail's language. */
export function hello(language: Language, name: string | null): string {
  return name ? text(language, 'mail.hello', { name }) : text(language, 'mail.helloNobody');
}

function stateWords(language: Language, state: string): string {
  const states: Record<CredentialState, string> = {
    issued: text(language, 'mail.state.issued'),
    active: text(language, 'mail.state.active'),
    suspended: text(language, 'mail.state.suspended'),
    revoked: text(language, 'mail.state.revoked'),
    expired: text(language, 'mail.state.expired'),
  };
  return state in states ? states[state as CredentialState] : state;
}

/** A staff role in the mail's language (an unknown one as it is). */
export function roleWords(language: Language, role: string): string {
  switch (role) {
    case 'helpdesk':
      return text(language, 'mail.role.helpdesk');
    case 'security-officer':
      return text(language, 'mail.role.security-officer');
    case 'org-admin':
      return text(language, 'mail.role.org-admin');
    case 'provisioning':
      return text(language, 'mail.role.provisioning');
    case 'employee':
      return text(language, 'mail.role.employee');
    default:
      return role;
  }
}

function actorWords(language: Language, actorName: string | null, actorRole: string): string {
  if (actorRole === 'system') return text(language, 'mail.actor.system');
  if (actorRole === 'holder') return text(language, 'mail.actor.holder');
  return text(language, 'mail.actor.staff', { name: actorName ?? text(language, 'mail.actor.someone'), role: roleWords(language, actorRole) });
}

/**
 * The code mail. Its text holds a placeholder, not the code: the outbox has the code minted (and
 * its keyed hash committed) at delivery, so the clear code is never stored (issue 13, 5).
 */
export function activationCodeMail(holder: Identity, key: Credential, codeId: string, expiresAt: string, purpose: 'activate' | 'reactivate', ctx: MailContext): Mail {
  const l = mailLanguage(holder, ctx);
  return {
    to: holder.email,
    secretRef: activationCodeRef(codeId),
    kind: purpose === 'activate' ? 'activation-code' : 'reactivation-code',
    subject: purpose === 'activate' ? text(l, 'mail.code.subject.activate') : text(l, 'mail.code.subject.reactivate'),
    text: [
      hello(l, holder.name),
      '',
      purpose === 'activate' ? text(l, 'mail.code.activate', { label: key.label }) : text(l, 'mail.code.reactivate', { label: key.label }),
      '',
      `    ${SECRET_PLACEHOLDER}`,
      '',
      text(l, 'mail.code.expires', { expires: when(expiresAt, ctx.timeZone, l) }),
      text(l, 'mail.code.unexpected'),
    ].join('\n'),
  };
}

export function transitionMail(
  holder: Identity,
  key: Credential,
  change: { action: string; to: string; reason: ReasonCode; note: string | null; at: string; actorName: string | null; actorRole: string; receipt: string },
  ctx: MailContext,
): Mail {
  const l = mailLanguage(holder, ctx);
  const revoked = change.to === 'revoked';
  const state = stateWords(l, change.to);
  // Aligned labels: each padded to one width (the longest label of the language, at least 10).
  const labels = (['mail.transition.reason', 'mail.transition.by', 'mail.transition.time', 'mail.transition.keyId', 'mail.transition.note', 'mail.transition.receipt'] as const).map((k) => text(l, k));
  const width = Math.max(10, ...labels.map((w) => w.length + 1));
  const [reasonL = '', byL = '', timeL = '', keyIdL = '', noteL = '', receiptL = ''] = labels;
  const row = (label: string, value: string) => `  ${label.padEnd(width)}${value}`;
  const lines = [
    hello(l, holder.name),
    '',
    text(l, 'mail.transition.now', { label: key.label, state }),
    '',
    row(reasonL, reasonInWords(change.reason, l)),
    row(byL, actorWords(l, change.actorName, change.actorRole)),
    row(timeL, when(change.at, ctx.timeZone, l)),
    row(keyIdL, key.id),
  ];
  if (change.note) lines.push(row(noteL, change.note));
  lines.push(row(receiptL, change.receipt), '');
  if (revoked) lines.push(text(l, 'mail.transition.revoked'));
  else if (change.to === 'suspended' && (change.reason === 'suspected-clone' || change.reason === 'suspected-compromise')) {
    // NSIS 3.2.3 (Low) 4: a key suspected compromised is never reactivated.
    lines.push(text(l, 'mail.transition.compromised'));
  } else if (change.to === 'suspended') lines.push(text(l, 'mail.transition.suspended'));
  lines.push(text(l, 'mail.unexpected'));
  return {
    to: holder.email,
    ...(revoked
      ? {
          receipt: {
            typ: 'revocation-receipt',
            credential: key.id,
            holder: holder.id,
            reason: change.reason,
            revoked_at: change.at,
            by_role: change.actorRole,
            audit: change.receipt,
          },
        }
      : {}),
    kind: revoked ? 'revocation-receipt' : `${change.action}-notice`,
    subject: revoked ? text(l, 'mail.transition.subjectRevoked', { label: key.label }) : text(l, 'mail.transition.subject', { label: key.label, state }),
    text: lines.join('\n'),
  };
}

/** To a staff member (`to`), in their language. */
export function cloneAlertMail(to: Identity, holder: Identity, key: Credential, at: string, ctx: MailContext): Mail {
  const l = mailLanguage(to, ctx);
  const state = stateWords(l, key.state);
  return {
    to: to.email,
    kind: 'clone-alert',
    subject: text(l, 'mail.clone.subject', { state, holder: holder.name }),
    text: text(l, 'mail.clone.text', {
      label: key.label,
      keyId: key.id,
      holder: holder.name,
      email: holder.email,
      at: when(at, ctx.timeZone, l),
      reason: reasonInWords('suspected-clone', l),
      state,
    }),
  };
}

/** `org`: the organisation's name; null when it is not known. */
export function bindingEndedMail(holder: Identity, org: string | null, at: string, revokedKeys: number, ctx: MailContext): Mail {
  const l = mailLanguage(holder, ctx);
  const orgName = org ?? text(l, 'mail.theOrganisation');
  return {
    to: holder.email,
    kind: 'binding-ended',
    subject: text(l, 'mail.bindingEnded.subject', { org: orgName }),
    text: [
      hello(l, holder.name),
      '',
      text(l, pluralKey(l, 'mail.bindingEnded.text', revokedKeys), { org: orgName, at: when(at, ctx.timeZone, l), count: revokedKeys }),
      text(l, 'mail.bindingEnded.unexpected'),
    ].join('\n'),
  };
}

/** To a helpdesk member (`to`), in their language. */
export function compromiseAlertMail(to: Identity, aaguid: string, status: string, suspended: number, revoked: number, ctx: Pick<MailContext, 'defaultLanguage'>): Mail {
  const l = mailLanguage(to, ctx);
  return {
    to: to.email,
    kind: 'compromise-alert',
    subject: text(l, 'mail.compromise.subject', { aaguid, status }),
    text: [
      text(l, 'mail.compromise.reported', { aaguid, status }),
      text(l, 'mail.compromise.done', { suspended, revoked, reason: reasonInWords('suspected-compromise', l) }),
      text(l, 'mail.compromise.next'),
    ].join('\n'),
  };
}
