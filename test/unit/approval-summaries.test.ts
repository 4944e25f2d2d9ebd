/**
 * Issue 16: an approval's summary is shown in the reader's language (server/approvals/describe.ts),
 * from catalogue words and what the approval stores; the stored English summary only for old rows.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LANGUAGES, type Language } from '../../i18n/index.js';
import { describeApproval, type ApprovalNames } from '../../server/approvals/describe.js';
import { APPROVAL_KINDS, type ApprovalKind } from '../../server/duties/table.js';

const NINA = 'id-nina';
const BO = 'id-bo';
const names: ApprovalNames = new Map([
  [NINA, { name: 'Nina Nielsen', email: 'nina@example.dk' }],
  [BO, { name: 'Bo Berg', email: 'bo@example.dk' }],
]);
const STORED = 'THE STORED ENGLISH SUMMARY';

/** A payload of each kind, shaped as the flow that asks for it stores it. */
const PAYLOADS: Record<ApprovalKind, object> = {
  'contact-change': { identityId: NINA, from: 'nina@example.dk', to: 'nn@example.dk', note: 'married', oldAddress: 'nina@example.dk' },
  'role-grant': { identityId: NINA, roles: ['helpdesk', 'org-admin'], via: 'grant' },
  replacement: { identityId: NINA, replacesCredentialId: 'k1', revokeNow: true, note: null, delivery: 'mail' },
  bulk: { action: 'suspend', credentialIds: ['k1', 'k2'], reason: 'lost', note: null },
  'hsm-key-rotation': { targetKid: null, reason: 'yearly' },
  'hsm-key-emergency-rotation': { targetKid: 'kid-1', reason: 'suspected leak' },
  'hsm-key-destroy': { targetKid: 'kid-1', reason: 'retired' },
  'saml-key-activation': { kid: 'saml-2' },
  'saml-key-destroy': { kid: 'saml-1' },
  'saml-key-discard': { kid: 'saml-1' },
};

const render = (kind: ApprovalKind, l: Language, payload: string | undefined = JSON.stringify(PAYLOADS[kind])) => describeApproval({ kind, summary: STORED, payload }, names, l);

describe('approval summaries in the reader’s language', () => {
  it('issue 16: every approval kind of the duties table has words in every language (a new kind without them fails here)', () => {
    for (const kind of APPROVAL_KINDS) {
      const rendered = LANGUAGES.map((l) => render(kind, l));
      for (const [i, words] of rendered.entries()) {
        assert.notEqual(words, STORED, `${kind} in ${LANGUAGES[i] ?? '?'} falls back on the stored summary`);
        assert.doesNotMatch(words, /[{}]/, `${kind}: a placeholder left in "${words}"`);
      }
      assert.equal(new Set(rendered).size, LANGUAGES.length, `${kind}: the languages read the same: ${rendered.join(' | ')}`);
    }
  });

  it('issue 16: the Danish summary names the people and the roles in Danish', () => {
    assert.equal(render('role-grant', 'da'), 'Tildel helpdesk, administrator til Nina Nielsen <nina@example.dk>');
    assert.equal(render('role-grant', 'en'), 'Grant helpdesk, org-admin to Nina Nielsen <nina@example.dk>');
    assert.equal(render('contact-change', 'da'), 'Skift e-mailadressen for Nina Nielsen fra nina@example.dk til nn@example.dk');
    assert.match(describeApproval({ kind: 'bulk', summary: STORED, payload: JSON.stringify(PAYLOADS.bulk) }, names, 'da'), /^Suspendér nøgler \(2\) tilhørende Nina Nielsen, Bo Berg \(årsag: /);
  });

  it('issue 16: an old row (payload of another shape, or a person no longer there) keeps its stored English summary', () => {
    assert.equal(render('role-grant', 'da', JSON.stringify({ who: NINA })), STORED);
    assert.equal(render('saml-key-activation', 'da', 'not json'), STORED);
    assert.equal(describeApproval({ kind: 'replacement', summary: STORED }, names, 'da'), STORED);
    assert.equal(describeApproval({ kind: 'replacement', summary: STORED, payload: JSON.stringify({ identityId: 'gone' }) }, names, 'da'), STORED);
  });
});
