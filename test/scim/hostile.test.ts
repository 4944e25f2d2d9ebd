/**
 * Hostile and broken SCIM input against the router on a real server: missing and wrong tokens,
 * bad filters, wrong types, unknown attributes, bad PATCH operations, huge and malformed bodies,
 * wrong media types and endpoints. Each is answered with the SCIM Error message, its status and
 * scimType, as application/scim+json, audited, never a 5xx, and nothing is written.
 */
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import type { ScimType } from '../../server/scim/index.js';
import { type ScimAnswer, type ScimHarness, entraUser, startScim } from '../support/scimHarness.js';

let h: ScimHarness;
let userId: string;
before(async () => {
  h = await startScim();
  const r = await h.request('POST', '/Users', { body: entraUser('target') });
  userId = String(r.body?.['id']);
});
after(async () => h.close());

const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/** Asserts a SCIM error answer, that it was audited, and that nothing was written. */
async function refused(call: () => Promise<ScimAnswer>, status: number, scimType: ScimType | null): Promise<ScimAnswer & { body: Record<string, unknown> }> {
  const writes = h.directory.writes.length;
  const audited = h.refusals.length;
  const r = await call();
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.match(r.contentType ?? '', /^application\/scim\+json/);
  const body = r.body ?? {};
  assert.deepEqual(body['schemas'], ['urn:ietf:params:scim:api:messages:2.0:Error']);
  assert.equal(body['status'], String(status));
  assert.equal(body['scimType'], scimType ?? undefined, String(body['detail']));
  assert.equal(typeof body['detail'], 'string');
  assert.equal(h.directory.writes.length, writes, 'nothing written');
  assert.equal(h.refusals.length, audited + 1, 'refusal audited');
  assert.equal(h.refusals.at(-1)?.status, status);
  return { ...r, body };
}

const patch = (Operations: unknown, extra: Record<string, unknown> = {}) => h.request('PATCH', `/Users/${userId}`, { body: { schemas: [PATCH], Operations, ...extra } });

test('RFC 6750 §3: no token is 401 with WWW-Authenticate Bearer; the refusal is audited without a client', async () => {
  const r = await refused(() => h.request('GET', '/Users', { token: null }), 401, null);
  assert.equal(r.headers.get('www-authenticate'), 'Bearer realm="scim"');
  assert.equal(h.refusals.at(-1)?.clientId, null);
  await refused(() => h.request('GET', '/Users', { token: null, headers: { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` } }), 401, null);
});

test('RFC 6750 §3.1: a wrong, malformed, revoked or expired token is 401 invalid_token; the audit says which, the client does not', async () => {
  const [prefix, id] = h.token.split('.');
  const wrongSecret = `${prefix}.${id}.${'A'.repeat(43)}`;
  const cases: [string, string][] = [
    [wrongSecret, 'mismatch'],
    ['gwscim.AAAAAAAAAAAAAAAA.' + 'B'.repeat(43), 'unknown'],
    ['not-a-token', 'malformed'],
  ];
  for (const [token, reason] of cases) {
    const { body } = await refused(() => h.request('GET', '/Users', { token }), 401, null);
    assert.equal(body['detail'], 'The bearer token is not valid.');
    assert.equal(h.refusals.at(-1)?.tokenRefusal, reason);
  }
  const r = await h.request('GET', '/Users', { token: wrongSecret });
  assert.equal(r.headers.get('www-authenticate'), 'Bearer realm="scim", error="invalid_token"');
  // Revoked, then expired: the same token refused for the stored reason.
  const row = h.tokens.get(id ?? '');
  assert.ok(row);
  h.tokens.set(row.tokenId, { ...row, revokedAt: '2026-01-01T00:00:00Z' });
  await refused(() => h.request('GET', '/Users'), 401, null);
  assert.equal(h.refusals.at(-1)?.tokenRefusal, 'revoked');
  h.tokens.set(row.tokenId, { ...row, notAfter: '2026-01-05T07:00:00Z' });
  await refused(() => h.request('GET', '/Users'), 401, null);
  assert.equal(h.refusals.at(-1)?.tokenRefusal, 'expired');
  h.tokens.set(row.tokenId, row);
  assert.equal((await h.request('GET', '/Users', { headers: { authorization: `bEaReR ${h.token}` } })).status, 200, 'the scheme is case-insensitive');
});

test('RFC 7644 §3.4.2.2: bad filters are 400 invalidFilter (syntax, unknown or unkept attribute, wrong type, too long, too deep)', async () => {
  const bad = [
    'userName eq',
    'userName xx "a"',
    '(((userName eq "a"',
    'userName eq "a" and',
    'foo eq "x"',
    'title eq "x"',
    'active eq "yes"',
    'active gt true',
    'emails[type eq "work"',
    'emails[type eq "work"].value',
    'name[givenName eq "a"]',
    'userName eq "unterminated',
    'meta.lastModified gt "yesterday"',
    `userName eq "${'a'.repeat(3000)}"`,
    `${'('.repeat(40)}userName eq "a"${')'.repeat(40)}`,
    'emails[value eq "a" and emails[type eq "b"]]',
  ];
  for (const f of bad) await refused(() => h.request('GET', `/Users?filter=${encodeURIComponent(f)}`), 400, 'invalidFilter');
  await refused(() => h.request('GET', '/Users?filter=a&filter=b'), 400, 'invalidValue');
  await refused(() => h.request('GET', '/Users?count=ten'), 400, 'invalidValue');
});

test('RFC 7643 §2.3: values of the wrong type or breaking a rule of the attribute are 400 invalidValue', async () => {
  const cases: [Record<string, unknown>, ScimType][] = [
    [entraUser('t1', { userName: 5 }), 'invalidValue'],
    [entraUser('t2', { userName: '   ' }), 'invalidValue'],
    [entraUser('t3', { active: 'yes' }), 'invalidValue'],
    [entraUser('t4', { emails: { value: 'x@y.dk' } }), 'invalidValue'],
    [entraUser('t5', { name: 'Alice' }), 'invalidValue'],
    [entraUser('t6', { emails: [{ type: 'work' }] }), 'invalidValue'],
    [entraUser('t7', { emails: [{ value: 'a@b.dk', primary: true }, { value: 'c@d.dk', primary: 'True' }] }), 'invalidValue'],
    [entraUser('t8', { emails: [{ value: 'a@b.dk', type: 'work' }, { value: 'c@d.dk', type: 'Work' }] }), 'invalidValue'],
    [entraUser('t9', { displayName: 'x'.repeat(2000) }), 'invalidValue'],
    [entraUser('t10', { displayName: 'bell\u0007' }), 'invalidValue'],
  ];
  for (const [body, type] of cases) await refused(() => h.request('POST', '/Users', { body }), 400, type);
  // A bad query parameter on a write is refused before anything is written.
  const many = Array.from({ length: 60 }, (_, i) => `a${i}`).join(',');
  await refused(() => h.request('POST', `/Users?attributes=${many}`, { body: entraUser('attrs') }), 400, 'invalidValue');
});

test('RFC 7643 §3: unknown attributes, unknown schemas, a missing schemas list, two spellings of one name and a password are refused', async () => {
  const cases: [unknown, ScimType][] = [
    [entraUser('u1', { foo: 1 }), 'invalidSyntax'],
    [JSON.parse('{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"u3@x.dk","__proto__":{"admin":true}}'), 'invalidSyntax'],
    [entraUser('u4', { name: { givenName: 'a', nickname: 'b' } }), 'invalidSyntax'],
    [entraUser('u5', { 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { shoeSize: 44 } }), 'invalidSyntax'],
    [entraUser('u6', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', 'urn:example:custom'] }), 'invalidValue'],
    [entraUser('u7', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'] }), 'invalidValue'],
    [{ userName: 'u8@x.dk' }, 'invalidSyntax'],
    [entraUser('u9', { UserName: 'u9b@x.dk' }), 'invalidSyntax'],
    [entraUser('u10', { password: 'Secret123!' }), 'invalidValue'],
    [[entraUser('u11')], 'invalidSyntax'],
  ];
  for (const [body, type] of cases) await refused(() => h.request('POST', '/Users', { body }), 400, type);
});

test('Local IdM mapping: a User without an email or with an invalid one is 400 invalidValue (activation codes go there); without any name too', async () => {
  await refused(() => h.request('POST', '/Users', { body: entraUser('m1', { emails: [] }) }), 400, 'invalidValue');
  await refused(() => h.request('POST', '/Users', { body: entraUser('m2', { emails: [{ type: 'work', value: 'not an address' }] }) }), 400, 'invalidValue');
  await refused(() => h.request('POST', '/Users', { body: entraUser('m3', { name: { givenName: ' ' } }) }), 400, 'invalidValue');
});

test('RFC 7644 §3.5.2: bad PATCH operations are refused with noTarget, invalidPath, mutability, invalidSyntax or invalidValue', async () => {
  await refused(() => patch([{ op: 'move', path: 'userName', value: 'x' }]), 400, 'invalidSyntax');
  await refused(() => patch([{ op: 'Remove' }]), 400, 'noTarget');
  await refused(() => patch([{ op: 'Replace', path: 'emails[value eq "nobody@x.dk"].type', value: 'home' }]), 400, 'noTarget');
  await refused(() => patch([{ op: 'Replace', path: 'emails[type eq "work"]', value: 'x' }]), 400, 'invalidValue');
  await refused(() => patch([{ op: 'Replace', path: 'foo', value: 'x' }]), 400, 'invalidPath');
  await refused(() => patch([{ op: 'Replace', path: 'name.nick', value: 'x' }]), 400, 'invalidPath');
  await refused(() => patch([{ op: 'Replace', path: 'emails[type eq "work"]].value', value: 'x' }]), 400, 'invalidPath');
  await refused(() => patch([{ op: 'Replace', path: 'id', value: 'x' }]), 400, 'mutability');
  await refused(() => patch([{ op: 'Replace', path: 'meta.created', value: '2020-01-01T00:00:00Z' }]), 400, 'mutability');
  await refused(() => patch([{ op: 'Add', path: 'groups', value: [{ value: 'g' }] }]), 400, 'mutability');
  await refused(() => patch([{ op: 'Replace', path: 'active', value: 'maybe' }]), 400, 'invalidValue');
  await refused(() => patch([{ op: 'Replace', path: 'userName', value: 7 }]), 400, 'invalidValue');
  await refused(() => patch([{ op: 'Add', path: 'userName' }]), 400, 'invalidValue');
  await refused(() => patch([{ op: 'Replace', value: 'not an object' }]), 400, 'invalidValue');
  await refused(() => patch([]), 400, 'invalidSyntax');
  await refused(() => patch('everything'), 400, 'invalidSyntax');
  await refused(() => patch(Array.from({ length: 101 }, () => ({ op: 'replace', path: 'displayName', value: 'x' }))), 400, 'invalidValue');
  await refused(() => h.request('PATCH', `/Users/${userId}`, { body: { Operations: [{ op: 'replace', path: 'displayName', value: 'x' }] } }), 400, 'invalidSyntax');
  // All or nothing: the first operation is valid, the second not; the first is not applied.
  await refused(() => patch([{ op: 'replace', path: 'displayName', value: 'Half' }, { op: 'replace', path: 'id', value: 'x' }]), 400, 'mutability');
  const now = await h.request('GET', `/Users/${userId}`);
  assert.notEqual(now.body?.['displayName'], 'Half');
  // Removing the last email leaves the person without a contact address: refused by the mapping.
  await refused(() => patch([{ op: 'Remove', path: 'emails' }]), 400, 'invalidValue');
});

test('RFC 7644 §3.1: a body too large is 413, not JSON is invalidSyntax, not SCIM/JSON media type or compressed is 415', async () => {
  await refused(() => h.request('POST', '/Users', { raw: JSON.stringify(entraUser('big', { displayName: 'x'.repeat(70 * 1024) })) }), 413, null);
  await refused(() => h.request('POST', '/Users', { raw: '{"schemas": [' }), 400, 'invalidSyntax');
  await refused(() => h.request('POST', '/Users', { raw: '"just a string"' }), 400, 'invalidSyntax');
  await refused(() => h.request('POST', '/Users', { raw: JSON.stringify(entraUser('txt')), headers: { 'content-type': 'text/plain' } }), 415, null);
  await refused(() => h.request('POST', '/Users', { raw: gzipSync(JSON.stringify(entraUser('gz'))), headers: { 'content-encoding': 'gzip' } }), 415, null);
  await refused(() => h.request('POST', '/Users', { raw: JSON.stringify(entraUser('latin')), headers: { 'content-type': 'application/scim+json; charset=latin1' } }), 415, null);
  await refused(() => h.request('POST', '/Users'), 415, null);
  await refused(() => h.request('POST', '/Users', { raw: '' }), 400, 'invalidSyntax');
  // application/json is accepted too (clients send it).
  assert.equal((await h.request('POST', '/Users', { body: entraUser('plainjson'), headers: { 'content-type': 'application/json' } })).status, 201);
});

test('RFC 7644 §3.12: unknown endpoints are 404, a wrong method 405 with Allow, an unknown id 404; Bulk and /Me are not served', async () => {
  await refused(() => h.request('GET', '/Nope'), 404, null);
  await refused(() => h.request('POST', '/Bulk', { body: {} }), 404, null);
  await refused(() => h.request('GET', '/Me'), 404, null);
  const r = await refused(() => h.request('PUT', '/Users', { body: entraUser('x') }), 405, null);
  assert.equal(r.headers.get('allow'), 'GET, POST');
  await refused(() => h.request('POST', `/Users/${userId}`, { body: {} }), 405, null);
  await refused(() => h.request('GET', '/Users/00000000-0000-4000-8000-000000000000'), 404, null);
  await refused(() => h.request('GET', `/Users/${'x'.repeat(300)}`), 404, null);
});

test('Only a failure of the gateway itself is a 5xx: a directory that throws gives a generic 500 SCIM error with no detail, logged', async () => {
  const failing = await startScim();
  failing.directory.users.list = async () => {
    throw new Error('database on fire: /var/lib/secret/path');
  };
  try {
    const r = await failing.request('GET', '/Users');
    assert.equal(r.status, 500);
    assert.match(r.contentType ?? '', /^application\/scim\+json/);
    assert.equal(r.body?.['detail'], 'The gateway could not handle this request.');
    assert.equal(failing.unexpected.length, 1);
  } finally {
    await failing.close();
  }
});

test('Fuzz: any filter text and any JSON body give a SCIM answer below 500', async () => {
  const word = fc.constantFrom('userName', 'emails', '[', ']', '(', ')', 'eq', 'and', 'or', 'not', 'pr', '"x"', '.value', 'type', 'true', 'null', 'urn:ietf:params:scim:schemas:core:2.0:User:', ' ');
  await fc.assert(
    fc.asyncProperty(fc.oneof(fc.string({ maxLength: 80 }), fc.array(word, { maxLength: 12 }).map((w) => w.join(''))), async (f) => {
      const r = await h.request('GET', `/Users?filter=${encodeURIComponent(f)}`);
      assert.ok(r.status === 200 || r.status === 400, `${r.status} for ${f}`);
      assert.match(r.contentType ?? '', /^application\/scim\+json/);
    }),
    { numRuns: 150 },
  );
  await fc.assert(
    fc.asyncProperty(fc.jsonValue({ maxDepth: 4 }), async (value) => {
      const r = await h.request('PATCH', `/Users/${userId}`, { body: { schemas: [PATCH], Operations: [{ op: 'replace', value }] } });
      assert.ok(r.status < 500, `${r.status} for ${JSON.stringify(value)}`);
      const p = await h.request('POST', '/Users', { body: value });
      assert.ok(p.status < 500, `${p.status} for ${JSON.stringify(value)}`);
    }),
    { numRuns: 100 },
  );
  assert.equal(h.unexpected.length, 0);
});
