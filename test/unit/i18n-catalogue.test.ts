/**
 * Issue 16: all the words of the pages in one place per language (i18n/en/, i18n/da/), and a test
 * that fails when a key is missing in either language (the compiler fails first: every other
 * language is typed as a Translation of the English modules). Each message has the same
 * placeholders, tags and plural forms in both languages, no area defines a key twice, and a
 * Danish message that reads as the English one is on a short list of words that are the same in
 * both languages.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as daAreas from '../../i18n/da/index.js';
import { CATALOGUES, LANGUAGES, REASON_LABELS, formatPlain, namesIn, negotiateLanguage, parseAcceptLanguage, parseMessage, pluralKey, languageFromCookieHeader } from '../../i18n/index.js';
import { en } from '../../i18n/en/index.js';
import { admin } from '../../i18n/en/admin.js';
import { auditEvents } from '../../i18n/en/auditEvents.js';
import { auditTrail } from '../../i18n/en/auditTrail.js';
import { common } from '../../i18n/en/common.js';
import { consoleWords } from '../../i18n/en/console.js';
import { helpdesk } from '../../i18n/en/helpdesk.js';
import { keys } from '../../i18n/en/keys.js';
import { problems } from '../../i18n/en/problems.js';
import { reasons } from '../../i18n/en/reasons.js';
import { security } from '../../i18n/en/security.js';
import { server } from '../../i18n/en/server.js';
import { provisioning } from '../../i18n/en/provisioning.js';
import { clients } from '../../i18n/en/clients.js';
import { samlKeys } from '../../i18n/en/samlKeys.js';
import { validation } from '../../i18n/en/validation.js';
import { signin } from '../../i18n/en/signin.js';
import { mails } from '../../i18n/en/mails.js';
import { answers } from '../../i18n/en/answers.js';
import { REASON_CODES } from '../../server/domain/types.js';

/** Messages that read the same in Danish and English: names, punctuation, and words both languages use. */
const SAME_IN_BOTH = new Set([
  'common.nav.helpdesk',
  'common.nav.admin',
  'common.error.withContext',
  'common.error.field',
  'common.none',
  'keys.col.model',
  'keys.countAndGone',
  'lists.col.id',
  'lists.col.model',
  'lists.col.person',
  'lists.stateWithReason',
  'provisioning.idm.reconcile.item',
  'role.helpdesk',
  'role.org-admin',
  'actor.helpdesk',
  // A name and a role in brackets; the role names that are the same word in Danish (helpdesk).
  'mail.actor.staff',
  'mail.role.helpdesk',
  'actor.org-admin',
  'console.listSeparator',
  'duties.approve.item',
  'admin.roles.done',
  'helpdesk.col.model',
  'helpdesk.history.transition',
  'helpdesk.actor.named',
  'helpdesk.replacement.option',
  'helpdesk.audit.entry',
  'helpdesk.approvals.summary',
  'security.fleet.col.model',
  'security.check.partsSeparator',
  'security.target.option',
  'errorPage.requestId',
]);

describe('issue 16: one catalogue per language, the same keys in each', () => {
  it('every English key is in the Danish catalogue and the Danish one has no other', () => {
    const enKeys = Object.keys(CATALOGUES.en).sort();
    const daKeys = Object.keys(CATALOGUES.da).sort();
    assert.deepEqual(
      enKeys.filter((k) => !daKeys.includes(k)),
      [],
      'missing in Danish',
    );
    assert.deepEqual(
      daKeys.filter((k) => !enKeys.includes(k)),
      [],
      'only in Danish',
    );
    assert.ok(enKeys.length > 600, `${enKeys.length} messages`);
  });

  it('no area module defines a key another one defines too (a later one would silently win)', () => {
    const areas = [common, problems, reasons, signin, keys, consoleWords, admin, helpdesk, security, server, provisioning, auditEvents, auditTrail, mails, answers, clients, samlKeys, validation];
    const total = areas.reduce((n, a) => n + Object.keys(a).length, 0);
    assert.equal(Object.keys(en).length, total);
    assert.equal(Object.keys(daAreas.da).length, total);
  });

  it('no message is empty, every tag is closed, and each language has the same placeholders and tags', () => {
    for (const language of LANGUAGES) {
      for (const [key, message] of Object.entries(CATALOGUES[language])) {
        assert.ok(message.trim().length > 0, `${language} ${key} is empty`);
        assert.doesNotThrow(() => parseMessage(message), `${language} ${key}`);
      }
    }
    for (const [key, message] of Object.entries(CATALOGUES.en)) {
      assert.deepEqual(namesIn(CATALOGUES.da[key as keyof typeof CATALOGUES.da]), namesIn(message), `${key}: placeholders and tags`);
    }
  });

  it('counted messages have their one and other forms in both languages, and pick them by CLDR rules', () => {
    // (reason.other is the reason "other", not a plural form.)
    for (const key of Object.keys(CATALOGUES.en).filter((k) => !k.startsWith('reason.'))) {
      if (key.endsWith('.one')) assert.ok(`${key.slice(0, -4)}.other` in CATALOGUES.en, `${key} has an .other`);
      if (key.endsWith('.other')) assert.ok(`${key.slice(0, -6)}.one` in CATALOGUES.en, `${key} has a .one`);
    }
    assert.equal(formatPlain(CATALOGUES.da[pluralKey('da', 'keys.count', 1)], { count: 1 }), 'Du har 1 sikkerhedsnøgle.');
    assert.equal(formatPlain(CATALOGUES.da[pluralKey('da', 'keys.count', 3)], { count: 3 }), 'Du har 3 sikkerhedsnøgler.');
    assert.equal(formatPlain(CATALOGUES.en[pluralKey('en', 'keys.count', 3)], { count: 3 }), 'You have 3 security keys.');
  });

  it('a Danish message reads as the English one only where both languages use the same words', () => {
    const same = Object.keys(CATALOGUES.en).filter((k) => CATALOGUES.da[k as keyof typeof CATALOGUES.da] === CATALOGUES.en[k as keyof typeof CATALOGUES.en]);
    assert.deepEqual(same.sort(), [...SAME_IN_BOTH].sort());
  });

  it('the Danish words are the NSIS and public-sector terms', () => {
    const da = CATALOGUES.da;
    assert.equal(da['common.state.suspended'], 'Spærret');
    assert.equal(da['common.state.revoked'], 'Tilbagekaldt');
    assert.equal(da['common.nav.signin'], 'Log ind');
    assert.equal(da['common.header.signOut'], 'Log ud');
    assert.deepEqual([da['ial.low'], da['ial.substantial'], da['ial.high']], ['Lav', 'Betydelig', 'Høj'], 'NSIS sikringsniveauer');
    assert.match(da['signin.button'], /sikkerhedsnøgle/);
    assert.match(da['activate.code.label'], /Aktiveringskode/);
  });

  it('every reason code and every stable error code has its words in both languages', () => {
    for (const language of LANGUAGES) {
      for (const code of REASON_CODES) assert.ok(REASON_LABELS[language][code], `${language} reason ${code}`);
      assert.ok(Object.keys(CATALOGUES[language]).filter((k) => k.startsWith('problem.')).length >= 38);
    }
    assert.equal(REASON_LABELS.da.lost, 'Bortkommet');
  });
});

describe('issue 16: the language is the person’s choice, else the browser’s', () => {
  it('the browser’s preferences, best first, decide between Danish and English; anything else is English', () => {
    assert.deepEqual(parseAcceptLanguage('en-GB;q=0.8, da-DK, da;q=0.9, *;q=0.1'), ['da-DK', 'da', 'en-GB', '*']);
    assert.deepEqual(parseAcceptLanguage('da;q=0, en'), ['en'], 'q=0 means not this one');
    assert.deepEqual(parseAcceptLanguage('not a tag;;, da'), ['da']);
    assert.equal(negotiateLanguage(parseAcceptLanguage('da-DK,da;q=0.9,en-US;q=0.8')), 'da');
    assert.equal(negotiateLanguage(parseAcceptLanguage('de-DE,en;q=0.5,da;q=0.4')), 'en');
    assert.equal(negotiateLanguage(parseAcceptLanguage('sv-SE,de')), 'en', 'neither language: English');
    assert.equal(negotiateLanguage([]), 'en');
    assert.equal(negotiateLanguage(['nb-NO', 'da']), 'da');
  });

  it('the switch’s choice is kept in the gw_lang cookie; a value that is not a language is ignored', () => {
    assert.equal(languageFromCookieHeader('gw_session=abc; gw_lang=da'), 'da');
    assert.equal(languageFromCookieHeader('gw_lang=en'), 'en');
    assert.equal(languageFromCookieHeader('gw_lang=de'), undefined);
    assert.equal(languageFromCookieHeader('gw_lang=da<script>'), undefined);
    assert.equal(languageFromCookieHeader(undefined), undefined);
  });
});
