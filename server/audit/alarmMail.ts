/**
 * The audit alarm's mail to a security officer (NSIS 4.1.6 (Low) 4, NSIS 6 (Low) 7), in the
 * officer's language (issue 16: their stored language, else the organisation's). The finding's
 * code stays in the mail beside its words, so it matches the log line and the metric.
 */
import { text } from '../../i18n/index.js';
import type { Identity } from '../domain/types.js';
import { hello, mailLanguage, when, type Mail, type MailContext } from '../lifecycle/mails.js';
import type { AuditAlarm } from './alarm.js';

export function auditAlarmMail(officer: Pick<Identity, 'name' | 'email' | 'language'>, alarm: AuditAlarm, at: string, ctx: MailContext): Mail {
  const l = mailLanguage(officer, ctx);
  const finding = text(l, 'mail.auditAlarm.finding');
  const detail = text(l, 'mail.auditAlarm.detail');
  const width = Math.max(finding.length, detail.length) + 2;
  return {
    to: officer.email,
    kind: 'audit-alarm',
    subject: text(l, 'mail.auditAlarm.subject'),
    text: [
      hello(l, officer.name),
      '',
      text(l, 'mail.auditAlarm.refused', { at: when(at, ctx.timeZone, l) }),
      '',
      `  ${finding.padEnd(width)}${alarm.reason} (${text(l, `mail.auditAlarm.reason.${alarm.reason}`)})`,
      `  ${detail.padEnd(width)}${alarm.detail}`,
      '',
      text(l, 'mail.auditAlarm.next'),
    ].join('\n'),
  };
}
