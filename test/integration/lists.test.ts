/**
 * Staff lists over the real API (issue 16): people, keys, pending activations and open
 * approvals, filtered, sorted and paged on the server; the page cap, bad filters and a caller
 * without the role refused with problem+json, the refusal audited.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FixedClock } from '../../server/clock.js';
import { ApiClient, field, type ApiResponse } from '../support/apiClient.js';
import { activeAdmin, activeEmployee, enrol } from '../support/journeys.js';
import { SoftAuthenticator } from '../support/softAuthenticator.js';
import { read } from '../support/storeReads.js';
import { startTestGateway, type TestGateway } from '../support/testGateway.js';

interface Row {
  id: string;
  name?: string;
  email?: string;
  holderName?: string;
  state?: string;
  stateReason?: string | null;
}

function rows(res: ApiResponse): Row[] {
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return field<Row[]>(res.body, 'items');
}

describe('staff lists: filters, sort, paging, cap and refusals (issue 16)', () => {
  let gw: TestGateway;
  let admin: Awaited<ReturnType<typeof activeAdmin>>;
  let berg1: Awaited<ReturnType<typeof activeEmployee>>;
  let berg2: Awaited<ReturnType<typeof activeEmployee>>;
  let third: Awaited<ReturnType<typeof activeEmployee>>;
  let pendingId: string;
  let noKeyId: string;

  before(async () => {
    gw = await startTestGateway({
      clock: new FixedClock(new Date()),
      env: { GATEWAY_BULK_APPROVAL_THRESHOLD: '2', GATEWAY_SESSION_IDLE_MINUTES: '600', GATEWAY_SESSION_ABSOLUTE_MINUTES: '6000' },
    });
    admin = await activeAdmin(gw);
    berg1 = await activeEmployee(gw, admin.client, 'anna.berg@demo.example', 'Anna Berg');
    berg2 = await activeEmployee(gw, admin.client, 'anna.b@demo.example', 'Anna Berg');
    third = await activeEmployee(gw, admin.client, 'bo.dahl@demo.example', 'Bo Dahl');
    // A person enrolled but not yet activated: a pending activation.
    const created = await admin.client.post('/api/admin/identities', { name: 'Cai Pending', email: 'cai@demo.example', ial: 'substantial', proofingMethod: 'ID checked by HR' });
    pendingId = field<string>(created.body, 'identity', 'id');
    assert.equal((await admin.client.post(`/api/admin/identities/${pendingId}/enrolments`, {})).status, 201);
    await enrol(gw, new ApiClient(gw.origin), new SoftAuthenticator(), await gw.latestEnrolmentLink('cai@demo.example'));
    // A person with no key at all, and a second helpdesk member (so that bulk waits for a second person).
    const nokey = await admin.client.post('/api/admin/identities', { name: 'Dan Nokey', email: 'dan@demo.example', ial: 'substantial', proofingMethod: 'ID checked by HR' });
    noKeyId = field<string>(nokey.body, 'identity', 'id');
    assert.equal((await admin.client.post('/api/admin/identities', { name: 'Eva Desk', email: 'eva@demo.example', ial: 'substantial', proofingMethod: 'ID checked by HR', roles: ['helpdesk'] })).status, 201);
    assert.equal((await admin.client.post(`/api/helpdesk/credentials/${berg2.keyId}/suspend`, { reason: 'lost' })).status, 200);
  });
  after(async () => {
    await gw.close();
  });

  it('issue 16: the people list filters by binding state, role and "no active key", and tells people with the same name apart by email and id', async () => {
    const all = rows(await admin.client.get('/api/helpdesk/lists/people?q=anna%20berg'));
    assert.equal(all.length, 2);
    assert.deepEqual(all.map((p) => p.email).sort(), ['anna.b@demo.example', 'anna.berg@demo.example']);
    assert.notEqual(all[0]?.id, all[1]?.id);
    const noActive = rows(await admin.client.get('/api/helpdesk/lists/people?noActiveKey=true&limit=100')).map((p) => p.id);
    assert.ok(noActive.includes(noKeyId) && noActive.includes(pendingId) && noActive.includes(berg2.identityId));
    assert.ok(!noActive.includes(berg1.identityId) && !noActive.includes(third.identityId));
    const desk = rows(await admin.client.get('/api/admin/lists/people?role=helpdesk')).map((p) => p.name);
    assert.ok(desk.includes('Eva Desk') && !desk.includes('Bo Dahl'));
    assert.deepEqual(rows(await admin.client.get('/api/helpdesk/lists/people?binding=ended')), []);
  });

  it('issue 16: people sort by a whitelisted column in both directions with stable paging (offset, limit, total)', async () => {
    const asc = rows(await admin.client.get('/api/helpdesk/lists/people?sort=name&limit=100')).map((p) => p.id);
    const desc = rows(await admin.client.get('/api/helpdesk/lists/people?sort=name&direction=desc&limit=100')).map((p) => p.id);
    assert.deepEqual(desc, [...asc].reverse());
    const paged: string[] = [];
    for (let offset = 0; offset < asc.length; offset += 2) {
      const res = await admin.client.get(`/api/helpdesk/lists/people?sort=name&limit=2&offset=${offset}`);
      assert.equal(field(res.body, 'total'), asc.length);
      assert.equal(field(res.body, 'offset'), offset);
      paged.push(...rows(res).map((p) => p.id));
    }
    assert.deepEqual(paged, asc);
  });

  it('issue 16 / NSIS 3.2.3: the key list filters by state and suspension reason, model and level; pending activations are the issued keys', async () => {
    const lost = rows(await admin.client.get('/api/helpdesk/lists/keys?state=suspended&reason=lost'));
    assert.deepEqual(lost.map((k) => k.id), [berg2.keyId]);
    assert.equal(lost[0]?.holderName, 'Anna Berg');
    const active = rows(await admin.client.get('/api/helpdesk/lists/keys?state=active,issued&sort=holder&limit=100')).map((k) => k.id);
    assert.ok(active.includes(berg1.keyId) && active.includes(third.keyId) && !active.includes(berg2.keyId));
    assert.deepEqual(rows(await admin.client.get('/api/helpdesk/lists/keys?model=no-such-model')), []);
    assert.deepEqual(rows(await admin.client.get('/api/helpdesk/lists/keys?expiringWithinDays=1')), [], 'no key of these expires tomorrow');
    const used = rows(await admin.client.get(`/api/helpdesk/lists/keys?lastUsedBefore=${encodeURIComponent('2000-01-01')}&limit=100`)).map((k) => k.id);
    assert.ok(used.length > 0, 'keys never used count as not used since');
    const pending = rows(await admin.client.get('/api/helpdesk/lists/activations'));
    assert.deepEqual(pending.map((k) => [k.holderName, k.state]), [['Cai Pending', 'issued']]);
  });

  it('issue 16 / NSIS 3.2.3 (Low) 2: open approvals list the requests waiting for a second person that the console may decide', async () => {
    const res = await admin.client.post('/api/helpdesk/bulk', { action: 'suspend', credentialIds: [berg1.keyId, third.keyId, berg2.keyId], reason: 'suspected-compromise' });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const id = field<string>(res.body, 'approval', 'id');
    const open = await admin.client.get('/api/helpdesk/lists/approvals?sort=requestedAt&direction=desc');
    assert.deepEqual(rows(open).map((a) => a.id), [id]);
    assert.equal(field(open.body, 'items', '0', 'kind'), 'bulk');
    assert.equal(field(open.body, 'items', '0', 'payload'), undefined);
  });

  it('issue 16: a page holds at most 100 rows; a bigger page, an unknown sort column or parameter and a bad date are refused with 400 VALIDATION_FAILED', async () => {
    for (const query of ['limit=101', 'sort=email_norm;DROP', 'sort=password', 'color=red', 'lastUsedBefore=yesterday', 'state=active,lost', 'offset=-1', 'expiringWithinDays=x']) {
      const res = await admin.client.get(`/api/helpdesk/lists/keys?${query}`);
      assert.equal(res.status, 400, query);
      assert.equal(res.code, 'VALIDATION_FAILED', query);
      assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
    }
    assert.equal((await admin.client.get('/api/helpdesk/lists/people?limit=100')).status, 200);
  });

  it('NSIS 3.2.3 / issue 16: an employee asking for a staff list is refused with 403 ROLE_REQUIRED, and each refusal is audited with its code', async () => {
    const before = (await read(gw.runtime.store, (tx) => tx.audit.forPerson(third.identityId, 500))).filter((e) => e.type === 'staff.list-refused').length;
    for (const path of ['/api/helpdesk/lists/people', '/api/helpdesk/lists/keys', '/api/helpdesk/lists/activations', '/api/helpdesk/lists/approvals', '/api/admin/lists/people', '/api/admin/lists/approvals']) {
      const res = await third.client.get(path);
      assert.equal(res.status, 403, path);
      assert.equal(res.code, 'ROLE_REQUIRED', path);
    }
    const refusals = (await read(gw.runtime.store, (tx) => tx.audit.forPerson(third.identityId, 500))).filter((e) => e.type === 'staff.list-refused');
    assert.equal(refusals.length - before, 6);
    assert.ok(refusals.every((e) => e.data['code'] === 'ROLE_REQUIRED'));
  });

  it('issue 16: the OpenAPI document carries the list filters from the same zod schemas that validate them', async () => {
    const doc = await admin.client.get('/api/openapi.json');
    const params = field<{ name: string; in: string; schema: { maximum?: number } }[]>(doc.body, 'paths', '/api/helpdesk/lists/keys', 'get', 'parameters');
    const names = params.map((p) => p.name);
    for (const n of ['state', 'model', 'aal', 'reason', 'lastUsedBefore', 'lastUsedAfter', 'expiringWithinDays', 'sort', 'direction', 'limit', 'offset']) assert.ok(names.includes(n), n);
    assert.equal(params.find((p) => p.name === 'limit')?.schema.maximum, 100);
  });
});
