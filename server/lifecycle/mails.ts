/**
 * Texts of the messages the gateway sends to holders and the helpdesk. Kept in one place so
 * the wording an auditor reads is the wording people receive. Times are written in the
 * organisation's time zone (`zone`, GATEWAY_TIME_ZONE) with the zone named; machine-readable
 * claims (the signed receipt) keep ISO 8601 UTC.
 */
import { formatDateTime, reasonLabel } from '../../i18n/index.js';
import type { Credential, Identity, ReasonCode } from '../domain/types.js';
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

const LANGUAGE = 'en' as const;

/** The reason in the words every page uses too (one table: i18n/reasons.ts). */
export function reasonInWords(reason: ReasonCode): string {
  return reasonLabel(reason, LANGUAGE);
}

/** A time as a person reads it: local to the organisation, the zone named (i18n/dates.ts). */
export function when(iso: string, zone: string): string {
  return formatDateTime(iso, { language: LANGUAGE, timeZone: zone, nameZone: true });
}

function actorWords(actorName: string | null, actorRole: string): string {
  if (actorRole === 'system') return 'the gateway itself (automatic protection)';
  if (actorRole === 'holder') return 'you';
  return `${actorName ?? 'a staff member'} (${actorRole})`;
}

/**
 * The code mail. Its text holds a placeholder, not the code: the outbox has the code minted (and
 * its keyed hash committed) at delivery, so the clear code is never stored (issue 13, 5).
 */
export function activationCodeMail(holder: Identity, key: Credential, codeId: string, expiresAt: string, purpose: 'activate' | 'reactivate', zone: string): Mail {
  return {
    to: holder.email,
    secretRef: activationCodeRef(codeId),
    kind: purpose === 'activate' ? 'activation-code' : 'reactivation-code',
    subject: purpose === 'activate' ? 'Your security key activation code' : 'Your security key reactivation code',
    text: [
      `Hello ${holder.name},`,
      '',
      purpose === 'activate'
        ? `Your security key "${key.label}" has been registered. To activate it, open the activation page, touch the key and enter this code:`
        : `A reactivation of your security key "${key.label}" was started. To reactivate it, open the activation page, touch the key and enter this code:`,
      '',
      `    ${SECRET_PLACEHOLDER}`,
      '',
      `The code can be used once and expires on ${when(expiresAt, zone)}. If this message reaches you more than once, only the newest code works. Nobody from the helpdesk will ever ask you for it.`,
      'If you did not expect this message, contact the helpdesk at once.',
    ].join('\n'),
  };
}

export function transitionMail(
  holder: Identity,
  key: Credential,
  change: { action: string; to: string; reason: ReasonCode; note: string | null; at: string; actorName: string | null; actorRole: string; receipt: string },
  zone: string,
): Mail {
  const revoked = change.to === 'revoked';
  const lines = [
    `Hello ${holder.name},`,
    '',
    `Your security key "${key.label}" is now ${change.to}.`,
    '',
    `  Reason:   ${reasonInWords(change.reason)}`,
    `  By:       ${actorWords(change.actorName, change.actorRole)}`,
    `  Time:     ${when(change.at, zone)}`,
    `  Key id:   ${key.id}`,
  ];
  if (change.note) lines.push(`  Note:     ${change.note}`);
  lines.push(`  Receipt:  ${change.receipt}`, '');
  if (revoked) lines.push('This is your receipt for the revocation (NSIS 3.2.3). The key can never be used again.');
  else if (change.to === 'suspended' && (change.reason === 'suspected-clone' || change.reason === 'suspected-compromise')) {
    // NSIS 3.2.3 (Low) 4: a key suspected compromised is never reactivated.
    lines.push('Because a compromise is suspected, this key can never be used again. Contact the helpdesk for a new key.');
  } else if (change.to === 'suspended') lines.push('The key cannot be used until it is reactivated through the helpdesk.');
  lines.push('If you did not expect this, contact the helpdesk at once.');
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
    subject: revoked ? `Receipt: your security key "${key.label}" was revoked` : `Your security key "${key.label}" is now ${change.to}`,
    text: lines.join('\n'),
  };
}

export function cloneAlertMail(to: Identity, holder: Identity, key: Credential, at: string, zone: string): Mail {
  return {
    to: to.email,
    kind: 'clone-alert',
    subject: `Security key ${key.state}: possible copy (${holder.name})`,
    text: [
      `The security key "${key.label}" (${key.id}) of ${holder.name} <${holder.email}> presented a signature counter`,
      `that did not increase on ${when(at, zone)}. This suggests a copy of the key exists. The gateway took it out of use`,
      `automatically (reason: ${reasonInWords('suspected-clone')}; it is now ${key.state}). It can only be revoked; the holder needs a new key.`,
    ].join('\n'),
  };
}

export function bindingEndedMail(holder: Identity, org: string, at: string, revokedKeys: number, zone: string): Mail {
  return {
    to: holder.email,
    kind: 'binding-ended',
    subject: `Your binding to ${org} has ended`,
    text: [
      `Hello ${holder.name},`,
      '',
      `Your binding to ${org} ended on ${when(at, zone)}. ${revokedKeys} security key(s) were revoked and all your sessions were ended.`,
      'If you did not expect this, contact your organisation.',
    ].join('\n'),
  };
}

export function compromiseAlertMail(to: Identity, aaguid: string, status: string, suspended: number, revoked: number): Mail {
  return {
    to: to.email,
    kind: 'compromise-alert',
    subject: `Security keys taken out of use: model ${aaguid} reported ${status}`,
    text: [
      `The FIDO Metadata Service now reports the authenticator model ${aaguid} as ${status}.`,
      `The gateway suspended ${suspended} active key(s) and revoked ${revoked} key(s) not yet activated (reason: ${reasonInWords('suspected-compromise')}).`,
      'Their holders were notified. They need replacement keys of another model. The security page lists the affected fleet.',
    ].join('\n'),
  };
}
