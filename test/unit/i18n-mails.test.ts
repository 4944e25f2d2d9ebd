/**
 * Issue 16, "mails in the person's language": every mail the outbox sends is written in its
 * recipient's language (their stored one, else GATEWAY_DEFAULT_LANGUAGE), Danish dates in Danish
 * mails; every stable error code has its words in both languages; the organisation's language
 * is configuration.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { CATALOGUES, LANGUAGES, reasonLabel, type Language } from '../../i18n/index.js';
import { adminRecoveredMail } from '../../server/admin/recoveryMail.js';
import { approvalWaitingMail } from '../../server/approvals/askApprovers.js';
import { ALARM_REASONS } from '../../server/audit/alarm.js';
import { auditAlarmMail } from '../../server/audit/alarmMail.js';
import { ConfigError, loadConfig } from '../../server/config.js';
import type { ApprovalRecord } from '../../server/domain/approvals.js';
import type { Credential, Identity } from '../../server/domain/types.js';
import { dutyNoticeMail, enrolmentHandoverMail, enrolmentLinkMail } from '../../server/duties/mails.js';
import { languageOfUser } from '../../server/scim/mapping.js';
import { userFromJson } from '../../server/scim/model.js';
import { activationCodeMail, bindingEndedMail, cloneAlertMail, compromiseAlertMail, mailLanguage, transitionMail, type Mail } from '../../server/lifecycle/mails.js';
import { repoRoot } from '../support/testGateway.js';

const AT = '2026-01-15T12:00:00.000Z';
const LATER = '2026-01-22T12:00:00.000Z';
const ctx = { timeZone: 'Europe/Copenhagen', defaultLanguage: 'en' as Language, origin: 'https://gw.example.dk' };
const person = (language: Language | null, name = 'Nina Nielsen'): Identity => ({ id: `p-${name}`, name, email: `${name.split(' ')[0]?.toLowerCase()}@demo.example`, language }) as Identity;
const key = { id: 'k1', label: 'Ninas nøgle', state: 'suspended' } as Credential;
const operator = { host: 'gw-1.demo.example', osUser: 'gateway', tokenLabel: 'gateway-token' };
const approval = { id: 'ap-1', summary: 'Replace the key of Nina Nielsen', items: ['k1'], requestedRole: 'helpdesk' } as ApprovalRecord;

/** Every mail the outbox sends about a person or to a staff member, addressed to `to`. */
function everyMail(to: Identity): Mail[] {
  const change = { action: 'suspend', to: 'suspended', reason: 'lost' as const, note: 'left on the train', at: AT, actorName: 'Hanne Helpdesk', actorRole: 'helpdesk', receipt: 'audit #7 abc' };
  return [
    activationCodeMail(to, key, 'c1', LATER, 'activate', ctx),
    activationCodeMail(to, key, 'c1', LATER, 'reactivate', ctx),
    transitionMail(to, key, change, ctx),
    transitionMail(to, { ...key, state: 'revoked' }, { ...change, action: 'revoke', to: 'revoked' }, ctx),
    transitionMail(to, key, { ...change, reason: 'suspected-clone', actorRole: 'system', actorName: null }, ctx),
    cloneAlertMail(to, person('en', 'Bo Berg'), key, AT, ctx),
    bindingEndedMail(to, 'Demo ApS', AT, 1, ctx),
    bindingEndedMail(to, null, AT, 2, ctx),
    compromiseAlertMail(to, '00000000-0000-0000-0000-000000000001', 'REVOKED', 3, 1, ctx),
    enrolmentLinkMail(to, 'e1', LATER, 'Demo ApS', ctx),
    enrolmentHandoverMail(to, 'Anne Admin', AT, LATER, ctx),
    approvalWaitingMail(to, approval, 'Hanne Helpdesk', ctx),
    ...ALARM_REASONS.map((reason) => auditAlarmMail(to, { reason, detail: 'checkpoint 7 at seq 120' }, AT, ctx)),
    adminRecoveredMail(to, person('en', 'Anne Admin'), operator, AT, LATER, ctx),
    ...(['requested', 'executed'] as const).map((phase) =>
      dutyNoticeMail({
        to: to.email,
        name: to.name,
        language: mailLanguage(to, ctx),
        phase,
        title: approval.summary,
        summary: approval.summary,
        items: approval.items,
        requesterName: 'Hanne Helpdesk',
        requesterRole: 'helpdesk',
        approverName: phase === 'executed' ? 'Anne Admin' : null,
        reference: 'ap-1',
        aboutYou: true,
        bootstrap: false,
      }),
    ),
  ];
}

/** Sentences only the English mails say (and no Danish one may). */
const ENGLISH = /\b(Hello|Your|security key|expires on|contact the helpdesk|was revoked|The gateway|asked for|If you did not)\b/;
const DANISH = /\b(Kære|Din|sikkerhedsnøgle|udløber|kontakt|tilbagekaldt|Gatewayen|bedt om|Hvis du)\b/;

describe('issue 16: mails in the person’s language', () => {
  it('issue 16: a Danish person receives every mail in Danish words with Danish dates, an English one in English', () => {
    for (const mail of everyMail(person('da'))) {
      const all = `${mail.subject}\n${mail.text}`;
      assert.match(all, DANISH, `${mail.kind}: Danish words`);
      assert.doesNotMatch(all.replace(/Replace the key of Nina Nielsen/g, ''), ENGLISH, `${mail.kind}: no English sentence`);
      assert.doesNotMatch(all, /\d{1,2} (Jan|Feb|Mar) \d{4}/, `${mail.kind}: no English date`);
    }
    const code = activationCodeMail(person('da'), key, 'c1', LATER, 'activate', ctx);
    assert.match(code.text, /udløber 22\. jan\. 2026, 13\.00 CET \(Europe\/Copenhagen\)\./);
    assert.equal(code.subject, CATALOGUES.da['mail.code.subject.activate']);
    for (const mail of everyMail(person('en'))) {
      const all = `${mail.subject}\n${mail.text}`;
      assert.match(all, ENGLISH, `${mail.kind}: English words`);
      assert.doesNotMatch(all.replace(/Ninas nøgle/g, ''), /\b(Kære|sikkerhedsnøgle|udløber|Gatewayen)\b/, `${mail.kind}: no Danish sentence`);
    }
    assert.match(activationCodeMail(person('en'), key, 'c1', LATER, 'activate', ctx).text, /expires on 22 Jan 2026, 13:00 CET \(Europe\/Copenhagen\)\./);
  });

  it('issue 16: a person who chose no language receives the organisation’s (GATEWAY_DEFAULT_LANGUAGE)', () => {
    const nobody = person(null);
    assert.equal(mailLanguage(nobody, { defaultLanguage: 'da' }), 'da');
    assert.equal(mailLanguage(nobody, { defaultLanguage: 'en' }), 'en');
    assert.equal(mailLanguage(person('en'), { defaultLanguage: 'da' }), 'en', 'the person’s own choice wins');
    const da = enrolmentLinkMail(nobody, 'e1', LATER, null, { ...ctx, defaultLanguage: 'da' });
    assert.equal(da.subject, 'Registrér din sikkerhedsnøgle');
    assert.match(da.text, /^Kære Nina Nielsen$/m);
  });

  it('issue 16: a staff member’s mails (approval waiting, duty notices, clone and compromise alerts) are in the staff member’s language, not the subject’s', () => {
    const staff = person('da', 'Søren Sikkerhed');
    const clone = cloneAlertMail(staff, person('en', 'Bo Berg'), key, AT, ctx);
    assert.match(clone.text, /Sikkerhedsnøglen "Ninas nøgle" \(k1\) tilhørende Bo Berg/);
    assert.match(clone.text, /15\. jan\. 2026, 13\.00 CET/);
    const waiting = approvalWaitingMail(staff, approval, 'Hanne Helpdesk', ctx);
    assert.match(waiting.subject, /^Venter på din godkendelse: /);
    assert.match(waiting.text, /https:\/\/gw\.example\.dk\/approvals\.html/);
    assert.match(approvalWaitingMail(person('en', 'Eve English'), approval, 'Hanne Helpdesk', ctx).subject, /^Waiting for your approval: /);
  });

  it('issue 16, NSIS 6 (Low) 7, 4.1.5 (Substantial) 7: the audit alarm and the administrator-recovery mail are in the recipient’s language; the finding’s code and the commands to run stay as they are', () => {
    const officer = person('da', 'Søren Sikkerhed');
    const alarm = auditAlarmMail(officer, { reason: 'chain-rewritten', detail: 'entry 12 does not follow entry 11' }, AT, ctx);
    assert.equal(alarm.kind, 'audit-alarm');
    assert.equal(alarm.to, officer.email);
    assert.equal(alarm.subject, CATALOGUES.da['mail.auditAlarm.subject']);
    assert.match(alarm.text, /^Kære Søren Sikkerhed$/m);
    assert.match(alarm.text, /^Den 15\. jan\. 2026, 13\.00 CET \(Europe\/Copenhagen\) nægtede gatewayen/m);
    assert.ok(alarm.text.split('\n').includes(`  ${'Fund:'.padEnd(10)}chain-rewritten (${CATALOGUES.da['mail.auditAlarm.reason.chain-rewritten']})`), alarm.text);
    assert.match(alarm.text, /npm run audit:verify/);
    const english = auditAlarmMail(person(null, 'Olga Officer'), { reason: 'witness-conflict', detail: 'n=3' }, AT, ctx);
    assert.equal(english.subject, CATALOGUES.en['mail.auditAlarm.subject'], 'no language chosen: the organisation’s');
    assert.match(english.text, /^ {2}Finding: +witness-conflict \(the witness refused/m);
    for (const reason of ALARM_REASONS) for (const language of LANGUAGES) assert.ok(CATALOGUES[language][`mail.auditAlarm.reason.${reason}`], `${language}: words for ${reason}`);
    const admin = person('en', 'Anne Admin');
    const told = adminRecoveredMail(officer, admin, operator, AT, LATER, ctx);
    assert.equal(told.kind, 'admin-recovered');
    assert.equal(told.subject, 'Administratoradgang genoprettet for Anne Admin');
    assert.match(told.text, /npm run recover-admin/);
    assert.match(told.text, /^ {2}Link gyldigt: +indtil 22\. jan\. 2026, 13\.00 CET \(Europe\/Copenhagen\) \(kan bruges én gang\)$/m);
    assert.match(told.text, /^ {2}Servernavn: +gw-1\.demo\.example$/m);
    assert.ok(!told.text.includes('#token='), 'the staff mail never carries the link');
    assert.equal(adminRecoveredMail(admin, admin, operator, AT, LATER, ctx).subject, 'Administrator access recovered for Anne Admin');
  });

  it('issue 16: the revocation receipt is Danish for a Danish person and its signed claims stay machine-readable (ISO 8601, codes)', () => {
    const mail = transitionMail(person('da'), { ...key, state: 'revoked' }, { action: 'revoke', to: 'revoked', reason: 'damaged', note: null, at: AT, actorName: 'Hanne Helpdesk', actorRole: 'helpdesk', receipt: 'audit #7' }, ctx);
    assert.equal(mail.subject, 'Kvittering: din sikkerhedsnøgle "Ninas nøgle" er tilbagekaldt');
    assert.ok(mail.text.split('\n').includes(`  ${'Årsag:'.padEnd(12)}${reasonLabel('damaged', 'da')}`), mail.text);
    assert.match(mail.text, /^ {2}Tidspunkt: +15\. jan\. 2026, 13\.00 CET \(Europe\/Copenhagen\)$/m);
    assert.equal(mail.receipt?.['revoked_at'], AT);
    assert.equal(mail.receipt?.['reason'], 'damaged');
  });
});

describe('issue 16: problem words in both languages', () => {
  it('issue 16: every stable error code (server/errors.ts) has its own words in Danish and in English, and every status title too', () => {
    const source = fs.readFileSync(path.join(repoRoot, 'server', 'errors.ts'), 'utf8');
    const union = /export type ErrorCode =([^;]+);/.exec(source)?.[1] ?? '';
    const codes = [...union.matchAll(/'([A-Z_]+)'/g)].map((m) => m[1]);
    assert.ok(codes.length >= 40, `${codes.length} codes`);
    for (const code of codes) {
      for (const language of LANGUAGES) {
        const words = (CATALOGUES[language] as Record<string, string>)[`problem.${code}`];
        assert.ok(words && words.trim().length > 0, `${language}: problem.${code}`);
      }
      assert.notEqual(CATALOGUES.da[`problem.${code}` as keyof typeof CATALOGUES.da], CATALOGUES.en[`problem.${code}` as keyof typeof CATALOGUES.en], `problem.${code} is translated`);
    }
    for (const status of [400, 401, 403, 404, 409, 413, 415, 429, 500, 503]) {
      for (const language of LANGUAGES) assert.ok((CATALOGUES[language] as Record<string, string>)[`problemTitle.${status}`], `${language}: problemTitle.${status}`);
    }
  });
});

describe('issue 16: the language a directory names (SCIM)', () => {
  it('issue 16 / RFC 7643 §4.1.1: a SCIM User’s preferredLanguage (best first), else its locale, is the person’s language; one we do not have is none', () => {
    const of = (extra: Record<string, string>) => languageOfUser(userFromJson({ userName: 'a@b.dk', ...extra }));
    assert.equal(of({ preferredLanguage: 'da-DK' }), 'da');
    assert.equal(of({ preferredLanguage: 'de-DE, en;q=0.5, da;q=0.4' }), 'en');
    assert.equal(of({ locale: 'da_DK' }), 'da');
    assert.equal(of({ preferredLanguage: 'de', locale: 'en-GB' }), 'en');
    assert.equal(of({ preferredLanguage: 'fr-FR' }), null);
    assert.equal(of({}), null);
  });
});

describe('issue 16: the organisation’s language', () => {
  it('GATEWAY_DEFAULT_LANGUAGE: English unless configured, da or en, anything else refused with its key', () => {
    assert.equal(loadConfig({}, '/srv/gw').defaultLanguage, 'en');
    assert.equal(loadConfig({ GATEWAY_DEFAULT_LANGUAGE: 'da' }, '/srv/gw').defaultLanguage, 'da');
    assert.throws(
      () => loadConfig({ GATEWAY_DEFAULT_LANGUAGE: 'de' }, '/srv/gw'),
      (err: unknown) => err instanceof ConfigError && err.key === 'GATEWAY_DEFAULT_LANGUAGE',
    );
  });
});
