/**
 * One wording per reason and one date format per language, shared by pages and mails (i18n/),
 * and mails that give times in the organisation's zone with the zone named.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LANGUAGES, REASON_LABELS, formatDateTime, formatDatesIn, isTimeZone, languageOf, reasonLabel } from '../../i18n/index.js';
import { activationCodeMail, bindingEndedMail, transitionMail } from '../../server/lifecycle/mails.js';
import { ConfigError, loadConfig } from '../../server/config.js';
import { REASON_CODES, type Credential, type Identity } from '../../server/domain/types.js';
import { LIFECYCLE_TABLE } from '../../server/lifecycle/table.js';

const AT = '2026-01-15T12:00:00.000Z';
const SUMMER = '2026-07-01T10:05:00.000Z';
/** An ISO 8601 instant anywhere in a text: what a person should never have to decode. */
const ISO = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

const holder = { id: 'h1', name: 'Nina Nielsen', email: 'nina@demo.example' } as Identity;
const key = { id: 'k1', label: 'Nina’s key', state: 'revoked' } as Credential;

describe('one wording per reason, for pages and mails', () => {
  it('every reason code has its own words in every language', () => {
    for (const language of LANGUAGES) {
      const labels = REASON_CODES.map((c) => REASON_LABELS[language][c]);
      assert.ok(labels.every((l) => typeof l === 'string' && l.length > 0));
      assert.equal(new Set(labels).size, labels.length, 'no two reasons read the same');
    }
    assert.equal(reasonLabel('damaged', 'en'), 'Damaged or broken');
    assert.equal(reasonLabel('no-such-code', 'en'), 'no-such-code', 'an unknown code is shown, not hidden');
  });

  it('NSIS 3.2.3 (Low) 4: a key may be revoked as damaged, by its holder or by staff, and never suspended as damaged', () => {
    const revoke = LIFECYCLE_TABLE.filter((r) => r.action === 'revoke' && r.reasons.includes('damaged'));
    assert.deepEqual(revoke.flatMap((r) => r.roles).sort(), ['helpdesk', 'holder', 'org-admin', 'security-officer']);
    assert.ok(!LIFECYCLE_TABLE.some((r) => r.action === 'suspend' && r.reasons.includes('damaged')));
  });

  it('a registration is recorded as registered: no lifecycle row accepts that reason from anyone', () => {
    assert.ok(!LIFECYCLE_TABLE.some((r) => r.reasons.includes('registered')));
  });
});

describe('one date format per language; mails in local time with the zone named', () => {
  it('pages: English dates read "15 Jan 2026, 13:00" in the reader’s zone, whatever the page’s lang subtag', () => {
    assert.equal(languageOf('en'), 'en');
    assert.equal(languageOf('en-GB'), 'en');
    assert.equal(languageOf(''), 'en');
    assert.equal(formatDateTime(AT, { language: 'en', timeZone: 'Europe/Copenhagen' }), '15 Jan 2026, 13:00');
    assert.equal(formatDateTime(null, { language: 'en' }), '—');
    assert.equal(formatDateTime('not a date', { language: 'en' }), 'not a date');
  });

  it('pages: a server’s result line gets its ISO instants in the same format', () => {
    const opts = { language: 'en', timeZone: 'Europe/Copenhagen' } as const;
    assert.equal(formatDatesIn(`new key abc published, pending until ${AT}`, opts), 'new key abc published, pending until 15 Jan 2026, 13:00');
    assert.equal(formatDatesIn('enrolment link issued, valid until 2026-07-01T10:05:00Z', opts), 'enrolment link issued, valid until 1 Jul 2026, 12:05');
    assert.equal(formatDatesIn('no dates here, only 2026 and 12:00', opts), 'no dates here, only 2026 and 12:00');
  });

  it('mails: the organisation’s zone, named, summer time included', () => {
    assert.equal(formatDateTime(AT, { language: 'en', timeZone: 'Europe/Copenhagen', nameZone: true }), '15 Jan 2026, 13:00 CET (Europe/Copenhagen)');
    assert.equal(formatDateTime(SUMMER, { language: 'en', timeZone: 'Europe/Copenhagen', nameZone: true }), '1 Jul 2026, 12:05 CEST (Europe/Copenhagen)');
  });

  it('NSIS 3.2.3: the revocation receipt gives reason and time in words, the signed claims keep ISO 8601', () => {
    const mail = transitionMail(
      holder,
      key,
      { action: 'revoke', to: 'revoked', reason: 'damaged', note: null, at: AT, actorName: 'Hanne Helpdesk', actorRole: 'helpdesk', receipt: 'audit #7 abc' },
      { timeZone: 'America/New_York', defaultLanguage: 'en' },
    );
    assert.match(mail.text, /^ {2}Reason: {3}Damaged or broken$/m);
    assert.match(mail.text, /^ {2}Time: {5}15 Jan 2026, 07:00 GMT-5 \(America\/New_York\)$/m);
    assert.doesNotMatch(mail.text, ISO);
    assert.equal(mail.receipt?.['revoked_at'], AT);
    assert.equal(mail.receipt?.['reason'], 'damaged');
  });

  it('activation codes and the end of a binding are dated in the organisation’s zone too', () => {
    const code = activationCodeMail(holder, key, '12345678', AT, 'activate', { timeZone: 'Europe/Copenhagen', defaultLanguage: 'en' });
    assert.match(code.text, /expires on 15 Jan 2026, 13:00 CET \(Europe\/Copenhagen\)\./);
    assert.doesNotMatch(code.text, ISO);
    const ended = bindingEndedMail(holder, 'Demo Organisation ApS', AT, 2, { timeZone: 'Europe/Copenhagen', defaultLanguage: 'en' });
    assert.match(ended.text, /ended on 15 Jan 2026, 13:00 CET \(Europe\/Copenhagen\)\./);
  });

  it('GATEWAY_TIME_ZONE: Europe/Copenhagen by default, any IANA zone, anything else refused with its key', () => {
    assert.equal(loadConfig({}, '/srv/gw').timeZone, 'Europe/Copenhagen');
    assert.equal(loadConfig({ GATEWAY_TIME_ZONE: 'Atlantic/Faroe' }, '/srv/gw').timeZone, 'Atlantic/Faroe');
    assert.equal(isTimeZone('Mars/Olympus_Mons'), false);
    assert.throws(
      () => loadConfig({ GATEWAY_TIME_ZONE: 'Mars/Olympus_Mons' }, '/srv/gw'),
      (err: unknown) => err instanceof ConfigError && err.key === 'GATEWAY_TIME_ZONE',
    );
  });
});
