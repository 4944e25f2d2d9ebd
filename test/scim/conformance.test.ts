/**
 * SCIM conformance in the spirit of Microsoft's SCIM validator: the requests Microsoft Entra ID
 * sends (Microsoft Learn, "Develop and plan provisioning for a SCIM endpoint", and "Known issues
 * ... SCIM 2.0 protocol compliance"), against the router mounted on a real Express server on
 * 127.0.0.1 over an in-memory directory. Every answer is checked for status, scimType and the
 * application/scim+json media type.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type ScimAnswer, type ScimHarness, entraUser, startScim } from '../support/scimHarness.js';

let h: ScimHarness;
before(async () => {
  h = await startScim();
});
after(async () => h.close());

const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

function scim(r: ScimAnswer, status: number): Record<string, unknown> {
  assert.equal(r.status, status, JSON.stringify(r.body));
  if (status !== 204 && status !== 304) assert.match(r.contentType ?? '', /^application\/scim\+json/);
  return r.body ?? {};
}

async function create(n: string, extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  return scim(await h.request('POST', '/Users', { body: entraUser(n, extra) }), 201);
}

const filter = (f: string) => `/Users?filter=${encodeURIComponent(f)}`;
const resources = (body: Record<string, unknown>) => (Array.isArray(body['Resources']) ? (body['Resources'] as Record<string, unknown>[]) : []);

test('RFC 7644 §4: ServiceProviderConfig, ResourceTypes and Schemas describe what is served (PATCH, ETag, filter; no bulk, sort or password)', async () => {
  const spc = scim(await h.request('GET', '/ServiceProviderConfig'), 200);
  assert.deepEqual(spc['patch'], { supported: true });
  assert.deepEqual(spc['etag'], { supported: true });
  assert.deepEqual(spc['bulk'], { supported: false, maxOperations: 0, maxPayloadSize: 0 });
  assert.deepEqual(spc['changePassword'], { supported: false });
  assert.deepEqual(spc['filter'], { supported: true, maxResults: 50 });
  const types = scim(await h.request('GET', '/ResourceTypes'), 200);
  assert.deepEqual(resources(types).map((t) => t['id']), ['User', 'Group']);
  assert.equal(scim(await h.request('GET', '/ResourceTypes/User'), 200)['endpoint'], '/Users');
  const schemas = resources(scim(await h.request('GET', '/Schemas'), 200));
  const user = schemas.find((s) => s['id'] === 'urn:ietf:params:scim:schemas:core:2.0:User');
  const names = (Array.isArray(user?.['attributes']) ? (user['attributes'] as Record<string, unknown>[]) : []).map((a) => a['name']);
  assert.deepEqual(names, ['userName', 'name', 'displayName', 'active', 'emails', 'preferredLanguage', 'locale']);
  // Attributes accepted but not kept are not advertised.
  assert.ok(!names.includes('title') && !names.includes('phoneNumbers'));
  assert.equal(scim(await h.request('GET', `/Schemas/${ENTERPRISE}`), 200)['name'], 'EnterpriseUser');
  scim(await h.request('GET', '/Schemas/urn:nope'), 404);
});

test('NSIS 5.2 (Low) 5: the directory binds a person with POST /Users as Entra sends it: 201, id, meta.version = ETag, Location', async () => {
  const r = await h.request('POST', '/Users', { body: entraUser('create') });
  const body = scim(r, 201);
  assert.equal(typeof body['id'], 'string');
  assert.equal(body['userName'], 'create@contoso.example');
  assert.equal(body['active'], true);
  const meta = body['meta'] as Record<string, unknown>;
  assert.equal(meta['resourceType'], 'User');
  assert.equal(meta['version'], 'W/"1"');
  assert.equal(r.headers.get('etag'), 'W/"1"');
  assert.equal(r.headers.get('location'), `${h.baseUrl}/Users/${String(body['id'])}`);
  assert.equal(meta['location'], r.headers.get('location'));
  // "roles": [] from Entra is accepted and not kept.
  assert.equal(body['roles'], undefined);
});

test('Microsoft Entra test connection: a filter for a random userName answers an empty ListResponse (200)', async () => {
  const body = scim(await h.request('GET', filter('userName eq "0d7d1f4e-8a1c-4f51-9a53-8e0c2bd9a111"')), 200);
  assert.deepEqual(body, { schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'], totalResults: 0, startIndex: 1, itemsPerPage: 0, Resources: [] });
});

test('RFC 7644 §3.4.2.2: get by filter on userName (any case), externalId (exact case), emails[type eq "work"].value and and', async () => {
  const u = await create('filter');
  const id = u['id'];
  const one = async (f: string) => resources(scim(await h.request('GET', filter(f)), 200)).map((x) => x['id']);
  assert.deepEqual(await one('userName eq "FILTER@Contoso.Example"'), [id]);
  assert.deepEqual(await one('USERNAME EQ "filter@contoso.example"'), [id]);
  assert.deepEqual(await one('externalId eq "ext-filter"'), [id]);
  assert.deepEqual(await one('externalId eq "EXT-FILTER"'), [], 'externalId is caseExact (RFC 7643 §3.1)');
  assert.deepEqual(await one('emails[type eq "work"].value eq "Filter@contoso.example"'), [id]);
  assert.deepEqual(await one('emails[type eq "work" and value eq "filter@contoso.example"]'), [id]);
  assert.deepEqual(await one('userName eq "filter@contoso.example" and externalId eq "ext-filter"'), [id]);
  assert.deepEqual(await one('userName eq "filter@contoso.example" and externalId eq "other"'), []);
  assert.deepEqual(await one('urn:ietf:params:scim:schemas:core:2.0:User:userName eq "filter@contoso.example"'), [id]);
});

test('RFC 7644 §3.3: a second User with the same userName in another case is 409 uniqueness, and nothing is written', async () => {
  await create('unique');
  const writes = h.directory.writes.length;
  const r = await h.request('POST', '/Users', { body: entraUser('UNIQUE', { externalId: 'ext-other' }) });
  assert.equal(scim(r, 409)['scimType'], 'uniqueness');
  assert.equal(h.directory.writes.length, writes);
});

test('Microsoft Entra PATCH: "Replace" with paths in any case, a value filter on the work email, a path-less value with dotted and URN keys; unkept attributes ignored', async () => {
  const u = await create('patch');
  const r = await h.request('PATCH', `/Users/${String(u['id'])}`, {
    body: {
      schemas: [PATCH],
      Operations: [
        { op: 'Replace', path: 'emails[type eq "work"].value', value: 'patched@contoso.example' },
        { op: 'Replace', path: 'Name.FamilyName', value: 'Updated' },
        { op: 'Add', path: 'nickName', value: 'Babs' },
        { op: 'replace', value: { displayName: 'Pat Ched', 'name.givenName': 'Pat', [`${ENTERPRISE}:employeeNumber`]: '4711' } },
      ],
    },
  });
  const body = scim(r, 200);
  assert.deepEqual(body['emails'], [{ value: 'patched@contoso.example', type: 'work', primary: true }]);
  assert.deepEqual(body['name'], { formatted: 'Given patch Family', givenName: 'Pat', familyName: 'Updated' });
  assert.equal(body['displayName'], 'Pat Ched');
  assert.deepEqual(body[ENTERPRISE], { employeeNumber: '4711' });
  assert.equal(body['nickName'], undefined);
  assert.equal(r.headers.get('etag'), 'W/"2"');
});

test('Microsoft Entra PATCH: replacing the work email of a person who has none adds it', async () => {
  const u = await create('nowork', { emails: [{ type: 'home', value: 'nowork@home.example' }] });
  const body = scim(
    await h.request('PATCH', `/Users/${String(u['id'])}`, { body: { schemas: [PATCH], Operations: [{ op: 'Replace', path: 'emails[type eq "work"].value', value: 'nowork@contoso.example' }] } }),
    200,
  );
  assert.deepEqual(body['emails'], [
    { value: 'nowork@home.example', type: 'home', primary: false },
    { value: 'nowork@contoso.example', type: 'work', primary: false },
  ]);
});

test('NSIS 3.2.3: soft delete is PATCH active "False" as Entra sends it (and false); "True" lifts it; GET and filters show it', async () => {
  const u = await create('soft');
  const id = String(u['id']);
  const patchActive = (value: unknown) => h.request('PATCH', `/Users/${id}`, { body: { schemas: [PATCH], Operations: [{ op: 'Replace', path: 'active', value }] } });
  assert.equal(scim(await patchActive('False'), 200)['active'], false);
  assert.equal(scim(await h.request('GET', `/Users/${id}`), 200)['active'], false);
  assert.equal(resources(scim(await h.request('GET', filter('userName eq "soft@contoso.example"')), 200))[0]?.['active'], false);
  assert.equal(scim(await patchActive('True'), 200)['active'], true);
  assert.equal(scim(await patchActive(false), 200)['active'], false);
  // aadOptscim062020 form: lower-case op, boolean value.
  const v = await h.request('PATCH', `/Users/${id}?aadOptscim062020`, { body: { schemas: [PATCH], Operations: [{ op: 'replace', value: { active: true } }] } });
  assert.equal(scim(v, 200)['active'], true);
});

test('NSIS 5.2 (Low) 3: DELETE ends the binding: 204, then the User is gone (404 on GET and on a second DELETE)', async () => {
  const u = await create('gone');
  const id = String(u['id']);
  scim(await h.request('DELETE', `/Users/${id}`), 204);
  const got = scim(await h.request('GET', `/Users/${id}`), 404);
  assert.equal(got['status'], '404');
  scim(await h.request('DELETE', `/Users/${id}`), 404);
  assert.deepEqual(resources(scim(await h.request('GET', filter('userName eq "gone@contoso.example"')), 200)), []);
});

test('RFC 7644 §3.14: If-Match with a stale ETag is 412 and writes nothing; the current one succeeds; If-None-Match gives 304', async () => {
  const u = await create('etag');
  const id = String(u['id']);
  const op = { schemas: [PATCH], Operations: [{ op: 'Replace', path: 'displayName', value: 'E1' }] };
  scim(await h.request('PATCH', `/Users/${id}`, { body: op, headers: { 'if-match': 'W/"1"' } }), 200);
  const writes = h.directory.writes.length;
  const stale = await h.request('PATCH', `/Users/${id}`, { body: { ...op, Operations: [{ op: 'Replace', path: 'displayName', value: 'E2' }] }, headers: { 'if-match': 'W/"1"' } });
  assert.equal(scim(stale, 412)['status'], '412');
  scim(await h.request('PUT', `/Users/${id}`, { body: entraUser('etag'), headers: { 'if-match': 'W/"1"' } }), 412);
  scim(await h.request('DELETE', `/Users/${id}`, { headers: { 'if-match': '"7"' } }), 412);
  scim(await h.request('DELETE', `/Users/${id}`, { headers: { 'if-match': 'not-a-tag' } }), 412);
  assert.equal(h.directory.writes.length, writes);
  assert.equal(scim(await h.request('GET', `/Users/${id}`), 200)['displayName'], 'E1');
  const cur = await h.request('GET', `/Users/${id}`, { headers: { 'if-none-match': 'W/"2"' } });
  scim(cur, 304);
  assert.equal(cur.headers.get('etag'), 'W/"2"');
  scim(await h.request('PUT', `/Users/${id}`, { body: entraUser('etag', { displayName: 'E3' }), headers: { 'if-match': 'W/"2"' } }), 200);
  scim(await h.request('DELETE', `/Users/${id}`, { headers: { 'if-match': '*' } }), 204);
});

test('RFC 7644 §3.5.2: a PATCH without If-Match that loses a race to another writer is re-read and re-applied, once', async () => {
  const u = await create('race');
  const id = String(u['id']);
  const users = h.directory.users;
  const original = users.replace.bind(users);
  let raced = false;
  users.replace = async (p, rid, res, expected) => {
    if (!raced) {
      raced = true;
      users.bump(rid); // another request changed it between our read and our write
    }
    return original(p, rid, res, expected);
  };
  try {
    const body = scim(await h.request('PATCH', `/Users/${id}`, { body: { schemas: [PATCH], Operations: [{ op: 'Replace', path: 'displayName', value: 'Raced' }] } }), 200);
    assert.equal(body['displayName'], 'Raced');
    assert.equal((body['meta'] as Record<string, unknown>)['version'], 'W/"3"');
    assert.equal(h.directory.writes.filter((w) => w.id === id && w.op === 'replace').length, 1);
  } finally {
    users.replace = original;
  }
});

test('RFC 7644 §3.4.2.4: list paging with startIndex and count; count above maxResults is capped, negative is 0, startIndex below 1 is 1', async () => {
  for (let i = 0; i < 5; i++) await create(`page${i}`);
  const all = scim(await h.request('GET', filter('userName sw "page"')), 200);
  assert.equal(all['totalResults'], 5);
  const page = scim(await h.request('GET', `${filter('userName sw "page"')}&startIndex=2&count=2`), 200);
  assert.deepEqual([page['totalResults'], page['startIndex'], page['itemsPerPage']], [5, 2, 2]);
  assert.deepEqual(resources(page).map((r) => r['userName']), ['page1@contoso.example', 'page2@contoso.example']);
  const zero = scim(await h.request('GET', `${filter('userName sw "page"')}&count=-3`), 200);
  assert.deepEqual([zero['totalResults'], zero['itemsPerPage']], [5, 0]);
  const low = scim(await h.request('GET', `${filter('userName sw "page"')}&startIndex=0&count=1`), 200);
  assert.equal(low['startIndex'], 1);
  const capped = scim(await h.request('GET', '/Users?count=100000'), 200);
  assert.ok(resources(capped).length <= 50);
});

test('RFC 7644 §3.5.1: PUT replaces the User; readOnly id and meta in the body are ignored; attributes/excludedAttributes select what is returned', async () => {
  const u = await create('put');
  const id = String(u['id']);
  const body = scim(await h.request('PUT', `/Users/${id}`, { body: { ...entraUser('put', { displayName: 'Put Here' }), id: 'forged', meta: { version: 'W/"99"' } } }), 200);
  assert.equal(body['id'], id);
  assert.equal(body['displayName'], 'Put Here');
  assert.equal((body['meta'] as Record<string, unknown>)['version'], 'W/"2"');
  const only = scim(await h.request('GET', `/Users/${id}?attributes=userName`), 200);
  assert.deepEqual(Object.keys(only).sort(), ['id', 'schemas', 'userName']);
  const without = scim(await h.request('GET', `/Users/${id}?excludedAttributes=emails,name`), 200);
  assert.equal(without['emails'], undefined);
  assert.equal(without['userName'], 'put@contoso.example');
});

test('NSIS 5.2 (Low) 2: a group mapped to a role gets members through PATCH as Entra sends it (add, remove in both forms): 204', async () => {
  const a = String((await create('member-a'))['id']);
  const b = String((await create('member-b'))['id']);
  const g = scim(await h.request('POST', '/Groups', { body: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], externalId: 'g-1', displayName: 'nsis helpdesk', meta: { resourceType: 'Group' } } }), 201);
  const gid = String(g['id']);
  assert.deepEqual(g['members'], []);
  const patch = (Operations: unknown[]) => h.request('PATCH', `/Groups/${gid}`, { body: { schemas: [PATCH], Operations } });
  scim(await patch([{ op: 'Add', path: 'members', value: [{ $ref: null, value: a }, { value: b }] }]), 204);
  const members = async () => {
    const got = scim(await h.request('GET', `/Groups/${gid}`), 200);
    return (got['members'] as Record<string, unknown>[]).map((m) => m['value']);
  };
  assert.deepEqual(await members(), [a, b]);
  scim(await patch([{ op: 'Remove', path: 'members', value: [{ value: a }] }]), 204);
  assert.deepEqual(await members(), [b]);
  scim(await patch([{ op: 'remove', path: `members[value eq "${b}"]` }]), 204);
  assert.deepEqual(await members(), []);
  const found = scim(await h.request('GET', `/Groups?excludedAttributes=members&filter=${encodeURIComponent('displayName eq "NSIS Helpdesk"')}`), 200);
  assert.equal(resources(found).length, 1);
  assert.equal(resources(found)[0]?.['members'], undefined);
  scim(await h.request('DELETE', `/Groups/${gid}`), 204);
});

test('NSIS 5.2 (Low) 2: a group the organisation did not map to a role is refused (400 invalidValue), as is a member that is no User', async () => {
  const r = scim(await h.request('POST', '/Groups', { body: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'All Staff' } }), 400);
  assert.equal(r['scimType'], 'invalidValue');
  const g = scim(await h.request('POST', '/Groups', { body: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'NSIS Security Officers' } }), 201);
  const bad = await h.request('PATCH', `/Groups/${String(g['id'])}`, { body: { schemas: [PATCH], Operations: [{ op: 'add', path: 'members', value: [{ value: 'no-such-user' }] }] } });
  assert.equal(scim(bad, 400)['scimType'], 'invalidValue');
});
