/**
 * The pure parts of server/scim: filter parsing and evaluation, PATCH, the mapping to identity
 * fields, tokens and the group-to-role table.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FixedClock } from '../../server/clock.js';
import { ConfigError } from '../../server/config.js';
import {
  type ScimUser,
  ScimError,
  applyPatch,
  canonicaliseResource,
  createTokenVerifier,
  identityChange,
  identityFieldsOf,
  loadScimConfig,
  issueScimToken,
  lookupKeys,
  matchesFilter,
  parseFilter,
  parseGroupRoleTable,
  parsePatchRequest,
  parseScimToken,
  roleForGroup,
  userFromJson,
  userToJson,
} from '../../server/scim/index.js';

const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const SOURCE = { ial: 'substantial' as const, proofingMethod: 'HR onboarding: passport checked' };

function user(extra: Record<string, unknown> = {}): ScimUser {
  return userFromJson(
    canonicaliseResource('User', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: 'Alice@Contoso.example',
      externalId: 'Ext-1',
      name: { givenName: 'Alice', familyName: 'Andersen' },
      emails: [{ value: 'alice@contoso.example', type: 'work', primary: true }],
      ...extra,
    }),
  );
}

const patched = (u: ScimUser, Operations: unknown[]) => userFromJson(applyPatch('User', userToJson(u), parsePatchRequest('User', { schemas: [PATCH], Operations })));

test('RFC 7644 §3.4.2.2: and binds tighter than or; not() and grouping; names and operators in any case', () => {
  const f = parseFilter('User', 'userName EQ "a" Or displayName eq "b" AND not (active eq false)');
  assert.equal(f.kind, 'or');
  assert.ok(f.kind === 'or' && f.right.kind === 'and' && f.right.right.kind === 'not');
  assert.deepEqual(parseFilter('User', 'NAME.GIVENNAME sw "Al"'), { kind: 'compare', op: 'sw', path: { attribute: 'name', subAttribute: 'givenName' }, value: 'Al' });
});

test("Microsoft Entra: emails[type eq \"work\"].value eq \"x\" means emails[type eq \"work\" and value eq \"x\"], and both are index lookups", () => {
  const entra = parseFilter('User', 'emails[type eq "work"].value eq "a@b.dk"');
  const rfc = parseFilter('User', 'emails[type eq "work" and value eq "a@b.dk"]');
  assert.deepEqual(entra, rfc);
  assert.deepEqual(lookupKeys(entra), { workEmail: 'a@b.dk' });
  assert.deepEqual(lookupKeys(parseFilter('User', 'userName eq "u" and externalId eq "e"')), { userName: 'u', externalId: 'e' });
  assert.equal(lookupKeys(parseFilter('User', 'userName eq "u" or externalId eq "e"')), null);
  assert.equal(lookupKeys(parseFilter('User', 'userName co "u"')), null);
  assert.equal(lookupKeys(parseFilter('User', 'userName eq "u" and userName eq "v"')), null);
});

test('RFC 7644 §3.4.2.2: comparisons follow caseExact; multi-valued attributes match on any value; pr, ne, co, sw, ew, gt on dateTime', () => {
  const json = { id: 'x1', ...userToJson(user({ emails: [{ value: 'a@home.dk', type: 'home' }, { value: 'alice@contoso.example', type: 'work' }] })), meta: { lastModified: '2026-01-05T08:00:00Z' } };
  const m = (f: string) => matchesFilter('User', parseFilter('User', f), json);
  assert.ok(m('userName eq "alice@contoso.example"'));
  assert.ok(!m('externalId eq "ext-1"'));
  assert.ok(m('externalId eq "Ext-1"'));
  assert.ok(m('emails.value co "HOME"'));
  assert.ok(m('emails co "contoso"'));
  assert.ok(m('emails[type eq "home"]'));
  assert.ok(!m('emails[type eq "home" and value ew "contoso.example"]'));
  assert.ok(m('name.givenName sw "al" and name.familyName ew "SEN"'));
  assert.ok(m('displayName ne "x"'));
  assert.ok(!m('displayName pr'));
  assert.ok(m('name pr'));
  assert.ok(m('meta.lastModified gt "2026-01-01T00:00:00Z"'));
  assert.ok(!m('meta.lastModified lt "2026-01-01T00:00:00+01:00"'));
  assert.ok(m('active eq true and not (active eq false)'));
});

test('RFC 7644 §3.5.2: PATCH add appends and de-duplicates; a new primary demotes the old; removing the work email value removes the address', () => {
  const u = user();
  const added = patched(u, [{ op: 'add', path: 'emails', value: [{ value: 'ALICE@contoso.example', type: 'work' }, { value: 'a@home.dk', type: 'home', primary: 'True' }] }]);
  assert.deepEqual(added.emails, [
    { value: 'ALICE@contoso.example', type: 'work', primary: false },
    { value: 'a@home.dk', type: 'home', primary: true },
  ]);
  const removed = patched(added, [{ op: 'Remove', path: 'emails[type eq "work"].value' }]);
  assert.deepEqual(removed.emails, [{ value: 'a@home.dk', type: 'home', primary: true }]);
  const cleared = patched(u, [{ op: 'remove', path: 'name.givenName' }, { op: 'remove', path: 'externalId' }]);
  assert.equal(cleared.name.givenName, null);
  assert.equal(cleared.externalId, null);
  assert.equal(cleared.name.familyName, 'Andersen');
  const replacedAll = patched(u, [{ op: 'replace', path: 'emails', value: [{ value: 'new@x.dk', type: 'work' }] }]);
  assert.deepEqual(replacedAll.emails, [{ value: 'new@x.dk', type: 'work', primary: false }]);
  // A complex attribute by replace keeps the sub-attributes not named (RFC 7644 §3.5.2.3).
  assert.deepEqual(patched(u, [{ op: 'replace', path: 'name', value: { givenName: 'Al' } }]).name, { formatted: null, givenName: 'Al', middleName: null, familyName: 'Andersen' });
});

test('RFC 7644 §3.5.2: PATCH is pure: the input is not changed, and a failing operation leaves no partial result', () => {
  const u = user();
  const json = userToJson(u);
  const before = JSON.stringify(json);
  applyPatch('User', json, parsePatchRequest('User', { schemas: [PATCH], Operations: [{ op: 'replace', path: 'userName', value: 'bob@x.dk' }] }));
  assert.equal(JSON.stringify(json), before);
  assert.throws(
    () => applyPatch('User', json, parsePatchRequest('User', { schemas: [PATCH], Operations: [{ op: 'replace', path: 'userName', value: 'bob@x.dk' }, { op: 'replace', path: 'meta.version', value: 'x' }] })),
    (e: unknown) => e instanceof ScimError && e.scimType === 'mutability',
  );
  assert.equal(JSON.stringify(json), before);
});

test('Fuzz: filters, resources and PATCH requests of any shape either parse or throw a ScimError (never another error)', () => {
  const onlyScim = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      assert.ok(e instanceof ScimError, String(e));
      assert.ok(e.status >= 400 && e.status < 500);
    }
  };
  fc.assert(fc.property(fc.string({ maxLength: 120 }), (s) => onlyScim(() => parseFilter('User', s))), { numRuns: 2000 });
  fc.assert(fc.property(fc.jsonValue({ maxDepth: 4 }), (v) => onlyScim(() => userFromJson(canonicaliseResource('User', v)))), { numRuns: 1000 });
  fc.assert(
    fc.property(fc.jsonValue({ maxDepth: 4 }), fc.constantFrom('add', 'replace', 'remove', 'Replace'), fc.option(fc.string({ maxLength: 40 })), (value, op, path) =>
      onlyScim(() => userFromJson(applyPatch('User', userToJson(user()), parsePatchRequest('User', { schemas: [PATCH], Operations: [{ op, path, value }] })))),
    ),
    { numRuns: 1000 },
  );
});

test('NSIS 3.1.2: identity fields carry the assurance and proofing the organisation declared for the source; name and email fall back in order', () => {
  const f = identityFieldsOf(user(), SOURCE);
  assert.deepEqual(f, {
    name: 'Alice Andersen',
    givenName: 'Alice',
    familyName: 'Andersen',
    email: 'alice@contoso.example',
    userName: 'Alice@Contoso.example',
    externalId: 'Ext-1',
    employeeNumber: null,
    active: true,
    ial: 'substantial',
    proofingMethod: 'HR onboarding: passport checked',
    language: null,
  });
  assert.equal(identityFieldsOf(user({ name: { formatted: '  Alice   B. Andersen ' } }), SOURCE).name, 'Alice B. Andersen');
  assert.equal(identityFieldsOf(user({ name: null, displayName: 'Ali' }), SOURCE).name, 'Ali');
  const mails = [{ value: 'p@x.dk', primary: true }, { value: 'w@x.dk', type: 'work' }];
  assert.equal(identityFieldsOf(user({ emails: mails }), SOURCE).email, 'w@x.dk');
  assert.equal(identityFieldsOf(user({ emails: [{ value: 'o@x.dk' }, { value: 'p@x.dk', primary: true }] }), SOURCE).email, 'p@x.dk');
});

test('NSIS 3.2.3 and 5.2: a change from the directory says whether it suspends, reactivates, corrects identifying data or changes contact data', () => {
  const a = identityFieldsOf(user(), SOURCE);
  assert.deepEqual(identityChange(a, identityFieldsOf(user({ active: false }), SOURCE)), { activity: 'suspend', identifying: false, contact: false, keys: false });
  assert.deepEqual(identityChange(identityFieldsOf(user({ active: 'False' }), SOURCE), a).activity, 'reactivate');
  assert.deepEqual(identityChange(a, identityFieldsOf(user({ name: { givenName: 'Alicia', familyName: 'Andersen' } }), SOURCE)), { activity: null, identifying: true, contact: false, keys: false });
  assert.deepEqual(identityChange(a, identityFieldsOf(user({ emails: [{ value: 'ALICE@contoso.example', type: 'work' }] }), SOURCE)).contact, false);
  assert.deepEqual(identityChange(a, identityFieldsOf(user({ emails: [{ value: 'new@contoso.example', type: 'work' }] }), SOURCE)).contact, true);
  assert.deepEqual(identityChange(a, identityFieldsOf(user({ userName: 'alice2@contoso.example' }), SOURCE)).keys, true);
});

test('Provisioning tokens: gwscim.<id>.<secret>; only an HMAC of the secret is stored; a verifier checks secret, revocation and expiry', async () => {
  const key = Buffer.alloc(32, 7);
  const issued = issueScimToken(key);
  assert.match(issued.token, /^gwscim\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{43}$/);
  const parts = parseScimToken(issued.token);
  assert.ok(parts && parts.tokenId === issued.tokenId);
  assert.ok(!issued.secretHash.includes(parts.secret));
  assert.equal(parseScimToken(`${issued.token}x`), null);
  const principal = { clientId: 'c', organisationId: 'o', label: 'l', source: SOURCE };
  const clock = new FixedClock('2026-01-05T08:00:00Z');
  const row = { tokenId: issued.tokenId, secretHash: issued.secretHash, principal, notAfter: '2026-02-01T00:00:00Z', revokedAt: null };
  const verifier = createTokenVerifier(async (id) => (id === row.tokenId ? row : null), key, clock);
  assert.deepEqual(await verifier.verify(issued.token), { ok: true, principal });
  assert.deepEqual(await createTokenVerifier(async () => row, Buffer.alloc(32, 8), clock).verify(issued.token), { ok: false, reason: 'mismatch' });
  clock.set('2026-02-01T00:00:00Z');
  assert.deepEqual(await verifier.verify(issued.token), { ok: false, reason: 'expired' });
  // Rotation: a second token for the same client is independent of the first.
  const second = issueScimToken(key);
  assert.notEqual(second.tokenId, issued.tokenId);
});

test('NSIS 5.2 (Low) 2: the group-to-role table maps displayNames case-insensitively and refuses employee and duplicates', () => {
  const table = parseGroupRoleTable([
    { displayName: 'NSIS Helpdesk', role: 'helpdesk' },
    { displayName: 'NSIS Admins', role: 'org-admin' },
  ]);
  assert.equal(roleForGroup(table, ' nsis helpdesk '), 'helpdesk');
  assert.equal(roleForGroup(table, 'Everyone'), null);
  assert.throws(() => parseGroupRoleTable([{ displayName: 'Staff', role: 'employee' }]));
  assert.throws(() => parseGroupRoleTable([{ displayName: 'A', role: 'helpdesk' }, { displayName: 'a', role: 'org-admin' }]));
});

test('SCIM configuration: the group table file is read and checked at start; a bad one names the key (a cluster worker is told why instead); limits have bounds', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gw-scim-cfg-'));
  try {
    fs.writeFileSync(path.join(dir, 'roles.json'), JSON.stringify([{ displayName: 'NSIS Helpdesk', role: 'helpdesk' }]));
    fs.writeFileSync(path.join(dir, 'bad.json'), JSON.stringify([{ displayName: 'Staff', role: 'employee' }]));
    assert.deepEqual(loadScimConfig({ GATEWAY_SCIM_GROUP_ROLES_FILE: 'roles.json' }, dir).groupRoles, [{ displayName: 'NSIS Helpdesk', role: 'helpdesk' }]);
    assert.deepEqual(loadScimConfig({}, dir), { groupRoles: [], groupRolesFile: undefined, groupRolesRefused: undefined, groupRolesPollSeconds: 5, limits: { bodyBytes: 256 * 1024, maxResults: 200 } });
    const keyOf = (env: Record<string, string>) => {
      try {
        loadScimConfig(env, dir);
        return 'no error';
      } catch (err) {
        return err instanceof ConfigError ? err.key : String(err);
      }
    };
    assert.equal(keyOf({ GATEWAY_SCIM_GROUP_ROLES_FILE: 'bad.json' }), 'GATEWAY_SCIM_GROUP_ROLES_FILE');
    assert.equal(keyOf({ GATEWAY_SCIM_GROUP_ROLES_FILE: 'missing.json' }), 'GATEWAY_SCIM_GROUP_ROLES_FILE');
    assert.equal(keyOf({ GATEWAY_SCIM_MAX_RESULTS: '0' }), 'GATEWAY_SCIM_MAX_RESULTS');
    assert.equal(keyOf({ GATEWAY_SCIM_GROUP_ROLES_POLL_SECONDS: '-1' }), 'GATEWAY_SCIM_GROUP_ROLES_POLL_SECONDS');
    // A cluster worker (started after the primary checked the file) is told why instead, and takes
    // the recorded table (runtime.ts; test/integration/scim-group-roles-cluster.test.ts).
    const worker = loadScimConfig({ GATEWAY_SCIM_GROUP_ROLES_FILE: 'bad.json', GATEWAY_WORKER_INDEX: '1' }, dir);
    assert.deepEqual(worker.groupRoles, []);
    assert.match(worker.groupRolesRefused ?? '', /bad\.json/);
    assert.equal(loadScimConfig({ GATEWAY_SCIM_GROUP_ROLES_FILE: 'roles.json', GATEWAY_WORKER_INDEX: '1' }, dir).groupRolesRefused, undefined);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
