/**
 * The mail every staff member gets when an administrator's access was recovered on the server
 * (NSIS 4.1.5 (Substantial) 7: trusted access is monitored), in the recipient's language (issue 16:
 * their stored language, else the organisation's).
 */
import { text } from '../../i18n/index.js';
import type { Identity } from '../domain/types.js';
import { hello, mailLanguage, when, type Mail, type MailContext } from '../lifecycle/mails.js';
import type { Operator } from './recoverAdmin.js';

export function adminRecoveredMail(to: Identity, admin: Identity, operator: Operator, at: string, expiresAt: string, ctx: MailContext): Mail {
  const l = mailLanguage(to, ctx);
  const facts: Array<[string, string]> = [
    [text(l, 'mail.adminRecovered.server'), operator.host],
    [text(l, 'mail.adminRecovered.osUser'), operator.osUser],
    [text(l, 'mail.adminRecovered.token'), operator.tokenLabel],
    [text(l, 'mail.adminRecovered.valid'), text(l, 'mail.adminRecovered.validUntil', { expires: when(expiresAt, ctx.timeZone, l) })],
  ];
  const width = Math.max(...facts.map(([label]) => label.length)) + 2;
  return {
    to: to.email,
    kind: 'admin-recovered',
    subject: text(l, 'mail.adminRecovered.subject', { name: admin.name }),
    text: [
      hello(l, to.name),
      '',
      text(l, 'mail.adminRecovered.what', { at: when(at, ctx.timeZone, l), name: admin.name, email: admin.email }),
      '',
      ...facts.map(([label, value]) => `  ${label.padEnd(width)}${value}`),
      '',
      text(l, 'mail.adminRecovered.issued', { name: admin.name, email: admin.email }),
      '',
      text(l, 'mail.adminRecovered.unexpected'),
    ].join('\n'),
  };
}
