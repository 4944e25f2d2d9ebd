/**
 * The subject name id rule (one value per person, the persistent NameID and the
 * LocalIdentityProvider id at MitID Erhverv) and the name split for MitID Erhverv's profile.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_SUBJECT_NAME_ID_RULE, SubjectNameIdError, deriveSubjectNameId, employeeProfileOf, parseSubjectNameIdRule, sameSubjectNameId } from '../../server/idm/index.js';

const person = { identityId: '7f1c2a9e-3d4b-4c5d-8e6f-0a1b2c3d4e5f', userName: 'Alice.Andersen@contoso.example', externalId: 'aandersen', employeeNumber: '4711' };

test('MitID Erhverv Local IdP subject name id: the first configured source with a value wins; the default is externalId, else the identity id', () => {
  assert.equal(deriveSubjectNameId(DEFAULT_SUBJECT_NAME_ID_RULE, person), 'aandersen');
  assert.equal(deriveSubjectNameId(DEFAULT_SUBJECT_NAME_ID_RULE, { ...person, externalId: null }), person.identityId);
  assert.equal(deriveSubjectNameId(DEFAULT_SUBJECT_NAME_ID_RULE, { ...person, externalId: '  ' }), person.identityId);
  assert.equal(deriveSubjectNameId(parseSubjectNameIdRule('userName', undefined, false), person), 'Alice.Andersen@contoso.example');
  assert.equal(deriveSubjectNameId(parseSubjectNameIdRule('userName', undefined, true), person), 'alice.andersen@contoso.example');
  assert.equal(deriveSubjectNameId(parseSubjectNameIdRule('employeeNumber, identityId', undefined, false), person), '4711');
});

test('MitID Erhverv Local IdP subject name id: a suffix makes account@domain as OS2faktor does (sAMAccountName + domain)', () => {
  assert.equal(deriveSubjectNameId(parseSubjectNameIdRule('externalId', '@kommune.dk', false), person), 'aandersen@kommune.dk');
});

test('MitID Erhverv Local IdP subject name id: a value that is not printable ASCII without spaces, or no value at all, is refused; rules are checked', () => {
  assert.throws(() => deriveSubjectNameId(DEFAULT_SUBJECT_NAME_ID_RULE, { ...person, externalId: 'anne marie' }), SubjectNameIdError);
  assert.throws(() => deriveSubjectNameId(DEFAULT_SUBJECT_NAME_ID_RULE, { ...person, externalId: 'søren' }), SubjectNameIdError);
  assert.throws(() => deriveSubjectNameId(parseSubjectNameIdRule('userName', undefined, false), { ...person, userName: null }), SubjectNameIdError);
  assert.throws(() => parseSubjectNameIdRule('cpr', undefined, false), SubjectNameIdError);
  assert.throws(() => parseSubjectNameIdRule('userName', '@ with space', false), SubjectNameIdError);
  assert.deepEqual(parseSubjectNameIdRule('', undefined, false), DEFAULT_SUBJECT_NAME_ID_RULE);
  assert.ok(sameSubjectNameId('AAndersen', 'aandersen'));
  assert.ok(!sameSubjectNameId('aandersen', null));
});

test('MitID Erhverv profile: given name and surname from the directory when given, else the whole name split before its last word', () => {
  assert.deepEqual(employeeProfileOf({ name: 'x', givenName: 'Anne Marie', familyName: 'Holm Hansen', email: 'a@x.dk', ial: 'high' }), { givenName: 'Anne Marie', surname: 'Holm Hansen', email: 'a@x.dk', ial: 'high' });
  assert.deepEqual(employeeProfileOf({ name: ' Anne  Marie Holm ', email: 'a@x.dk', ial: 'substantial' }), { givenName: 'Anne Marie', surname: 'Holm', email: 'a@x.dk', ial: 'substantial' });
  assert.deepEqual(employeeProfileOf({ name: 'Madonna', email: 'm@x.dk', ial: 'low' }), { givenName: 'Madonna', surname: 'Madonna', email: 'm@x.dk', ial: 'low' });
});
