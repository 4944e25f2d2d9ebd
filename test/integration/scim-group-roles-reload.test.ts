/**
 * Issue 18: the table of directory groups to staff roles (GATEWAY_SCIM_GROUP_ROLES_FILE) changes
 * while the gateway runs. The gateway looks at the file every GATEWAY_SCIM_GROUP_ROLES_POLL_SECONDS
 * (as main.ts starts it on worker 0) and on SIGHUP; a changed, valid table is applied by the start's
 * reconciliation without a restart: a role only a removed row asked for is withdrawn at once,
 * audited, the person and the org-admins told (NSIS 4.1.5 (Substantial) 7); a row added asks for
 * its role and grants nothing (NSIS 5.2 (Substantial) 8); the SCIM router and the org-admin's list
 * see the new table. A file that cannot be used is refused whole, the table in force stays, and
 * each refusal is audited (NSIS 6 (Low) 7).
 *
 * Real store (SQLite file or PostgreSQL), real SoftHSM, real WebAuthn ceremonies for the staff,
 * SCIM over real HTTP, the real file on disk and the real poller.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { field, obj } from '../support/apiClient.js';
import { activeAdmin } from '../support/journeys.js';
import { bindAndEnrol, grantByTwo, registerDirectory, type Person } from '../support/staff.js';
import { auditEntries, read } from '../support/storeReads.js';
import { startTestGateway, type TestGateway } from '../support/testGateway.js';

const SCIM = 'application/scim+json';
const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
type Row = { displayName: string; role: string };
const ALL_ROWS: Row[] = [
  { displayName: 'GW Helpdesk', role: 'helpdesk' },
  { displayName: 'GW Helpdesk East', role: 'helpdesk' },
  { displayName: 'GW Security Officers', role: 'security-officer' },
];
type Who = 'ann' | 'bo' | 'dan';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('issue 18: a changed group-role file takes effect while the gateway runs (poll and SIGHUP), a bad one is refused and audited', { timeout: 300_000 }, () => {
  let gw: TestGateway;
  let admin: Awaited<ReturnType<typeof activeAdmin>>;
  let second: Person;
  let token = '';
  let dir = '';
  let file = '';
  const ids: Record<Who, string> = { ann: '', bo: '', dan: '' };

  /** As an operator should: a finished file renamed over the old one (a poll never sees half of it). */
  const writeFile = (text: string) => {
    const tmp = `${file}.tmp`;
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, file);
  };
  const writeTable = (rows: readonly Row[]) => writeFile(JSON.stringify(rows));
  const rolesOf = async (who: Who) => (await read(gw.runtime.store, (tx) => tx.identities.get(ids[who])))?.roles ?? [];
  const events = async (type: string) => (await auditEntries(gw.runtime.store)).filter((e) => e.type === type);
  const waitForEvents = async (type: string, count: number) => {
    const until = Date.now() + 20_000;
    for (;;) {
      const found = await events(type);
      if (found.length >= count) return found;
      if (Date.now() > until) throw new Error(`no ${count}th ${type} within 20 s (${found.length})`);
      await sleep(100);
    }
  };
  const told = async (email: string) => (await gw.mailsTo(email)).filter((m) => m.kind === 'duty-executed').length;
  const scim = async (p: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> => {
    const res = await fetch(`${gw.origin}/scim/v2${p}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, accept: SCIM, 'content-type': SCIM }, body: JSON.stringify(body) });
    return { status: res.status, body: obj(JSON.parse(await res.text())) };
  };
  const directoryList = async () => {
    const res = await admin.client.get('/api/admin/lists/directory?sort=name');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return field<{ identityId: string; role: string; groups: string[] }[]>(res.body, 'items').map((r) => [r.identityId, r.role, r.groups]);
  };
  const grant = (who: Who, role: string) => grantByTwo(second.client, admin.client, ids[who], role);

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scim-group-roles-reload-'));
    file = path.join(dir, 'group-roles.json');
    writeTable(ALL_ROWS);
    gw = await startTestGateway({
      env: { GATEWAY_SESSION_IDLE_MINUTES: '600', GATEWAY_SESSION_ABSOLUTE_MINUTES: '6000', GATEWAY_STEP_UP_MINUTES: '60', GATEWAY_SCIM_GROUP_ROLES_FILE: file, GATEWAY_SCIM_GROUP_ROLES_POLL_SECONDS: '1' },
    });
    assert.ok(gw.runtime.groupRoleFile, 'a configured file is followed');
    // As main.ts does on worker 0 (or the one process).
    gw.runtime.groupRoleFile.start();
    admin = await activeAdmin(gw);
    second = await bindAndEnrol(gw, admin.client, { name: 'Second Admin', email: 'second.admin@demo.example', roles: ['org-admin'] });
    token = await registerDirectory(admin.client);
    const scimIds: Record<Who, string> = { ann: '', bo: '', dan: '' };
    for (const who of ['ann', 'bo', 'dan'] as const) {
      const email = `${who}@demo.example`;
      const created = await scim('/Users', { schemas: [USER_SCHEMA], userName: email, externalId: who, active: true, name: { givenName: who, familyName: 'Directory' }, emails: [{ primary: true, type: 'work', value: email }] });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      scimIds[who] = String(created.body['id']);
      ids[who] = (await read(gw.runtime.store, async (tx) => (await tx.identities.findActiveByEmail(email))?.id)) ?? assert.fail('bound');
    }
    const group = async (displayName: string, members: Who[]) => assert.equal((await scim('/Groups', { schemas: [GROUP_SCHEMA], displayName, members: members.map((w) => ({ value: scimIds[w] })) })).status, 201);
    await group('GW Helpdesk', ['ann']);
    await group('GW Helpdesk East', ['ann', 'dan']);
    await group('GW Security Officers', ['bo']);
    await grant('ann', 'helpdesk');
    await grant('dan', 'helpdesk');
    await grant('bo', 'security-officer');
  });
  after(async () => {
    await gw?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('NSIS 4.1.5 (Substantial) 7 / issue 18: a row removed from the file while the gateway runs withdraws at the next poll the roles only it asked for (audited, the person and the org-admins told), without a restart; a row re-mapped asks for its new role and grants nothing (NSIS 5.2 (Substantial) 8); SCIM and the org-admin\'s list see the new table', async () => {
    const changedBefore = (await events('scim.group-roles-changed')).length;
    const revokedBefore = (await events('role.revoked')).length;
    const askedBefore = (await events('scim.group-role-asked')).length;
    const toldBefore = { dan: await told('dan@demo.example'), bo: await told('bo@demo.example'), ann: await told('ann@demo.example') };
    // Before: a group the table does not map is refused.
    const unmapped = await scim('/Groups', { schemas: [GROUP_SCHEMA], displayName: 'GW Org Admins', members: [] });
    assert.deepEqual([unmapped.status, unmapped.body['scimType']], [400, 'invalidValue']);

    // East removed; the security officers' group now asks for helpdesk; a new row for org-admins.
    writeTable([
      { displayName: 'GW Helpdesk', role: 'helpdesk' },
      { displayName: 'GW Security Officers', role: 'helpdesk' },
      { displayName: 'GW Org Admins', role: 'org-admin' },
    ]);
    const changed = (await waitForEvents('scim.group-roles-changed', changedBefore + 1)).slice(changedBefore);
    assert.equal(changed.length, 1);
    assert.deepEqual([changed[0]?.data['baseline'], changed[0]?.data['revoked'], changed[0]?.data['asked']], [false, 2, 1]);

    assert.deepEqual(await rolesOf('dan'), ['employee'], 'only the removed row asked for Dan’s helpdesk');
    assert.deepEqual(await rolesOf('bo'), ['employee'], 'the re-mapped row no longer asks for Bo’s security-officer');
    assert.ok((await rolesOf('ann')).includes('helpdesk'), 'GW Helpdesk still asks for Ann’s helpdesk');
    const revoked = (await events('role.revoked')).slice(revokedBefore);
    assert.deepEqual(
      revoked.map((e) => [e.subjectId, e.data['role'], e.data['via'], e.data['cause'], e.data['groups'], e.actorRole]).sort(),
      [
        [ids.bo, 'security-officer', 'directory', 'role-table', ['GW Security Officers'], 'system'],
        [ids.dan, 'helpdesk', 'directory', 'role-table', ['GW Helpdesk East'], 'system'],
      ].sort(),
    );
    const asked = (await events('scim.group-role-asked')).slice(askedBefore);
    assert.deepEqual(asked.map((e) => [e.subjectId, e.data['role'], e.data['cause'], e.data['groups']]), [[ids.bo, 'helpdesk', 'role-table', ['GW Security Officers']]]);
    assert.equal(await told('dan@demo.example'), toldBefore.dan + 1, 'the person is told (duties table, role-revoke)');
    assert.equal(await told('bo@demo.example'), toldBefore.bo + 1);
    assert.equal(await told('ann@demo.example'), toldBefore.ann, 'nothing to tell Ann');

    // Read at request time: the org-admin's list and the SCIM router follow the new table.
    assert.deepEqual(await directoryList(), [[ids.bo, 'helpdesk', ['GW Security Officers']]], 'asking grants nothing: Bo’s helpdesk is a request');
    const mapped = await scim('/Groups', { schemas: [GROUP_SCHEMA], displayName: 'GW Org Admins', members: [] });
    assert.equal(mapped.status, 201, JSON.stringify(mapped.body));
    assert.equal(gw.runtime.flows.groupRoles.current().length, 3);

    // The same rows in another order are the same table: nothing reconciled again.
    writeTable([
      { displayName: 'GW Org Admins', role: 'org-admin' },
      { displayName: 'GW Security Officers', role: 'helpdesk' },
      { displayName: 'GW Helpdesk', role: 'helpdesk' },
    ]);
    await gw.runtime.groupRoleFile?.reload('signal');
    assert.equal((await events('scim.group-roles-changed')).length, changedBefore + 1);
  });

  it('NSIS 4.1.5 (Substantial) 7 / NSIS 6 (Low) 7 / issue 18: a file that is not JSON, not a valid table, or gone is refused whole: the table in force stays (no role withdrawn, nothing half-applied), each refusal audited once (SIGHUP asks again); a valid file is then applied', async () => {
    const inForce = gw.runtime.flows.groupRoles.current();
    const listBefore = await directoryList();
    const roles = { ann: await rolesOf('ann'), bo: await rolesOf('bo'), dan: await rolesOf('dan') };
    const changedBefore = (await events('scim.group-roles-changed')).length;
    const revokedBefore = (await events('role.revoked')).length;
    const refusedBefore = (await events('scim.group-roles-refused')).length;
    const unchanged = async () => {
      assert.equal(gw.runtime.flows.groupRoles.current(), inForce, 'the table in force stays');
      assert.deepEqual(await directoryList(), listBefore);
      assert.deepEqual({ ann: await rolesOf('ann'), bo: await rolesOf('bo'), dan: await rolesOf('dan') }, roles);
      assert.equal((await events('scim.group-roles-changed')).length, changedBefore);
      assert.equal((await events('role.revoked')).length, revokedBefore, 'no role withdrawn');
    };

    writeFile('[{"displayName": "GW Helpdesk", "role": "helpdesk"},');
    let refused = (await waitForEvents('scim.group-roles-refused', refusedBefore + 1)).slice(refusedBefore);
    assert.deepEqual([refused[0]?.data['reason'], refused[0]?.data['trigger'], refused[0]?.data['file'], refused[0]?.data['rowsInForce'], refused[0]?.actorRole], ['not-json', 'poll', file, 3, 'system']);
    await unchanged();

    // Valid rows that would withdraw Ann's helpdesk, beside one invalid row: refused whole.
    writeTable([
      { displayName: 'GW Org Admins', role: 'org-admin' },
      { displayName: 'GW Staff', role: 'employee' },
    ]);
    refused = (await waitForEvents('scim.group-roles-refused', refusedBefore + 2)).slice(refusedBefore);
    assert.equal(refused[1]?.data['reason'], 'invalid');
    assert.match(String(refused[1]?.data['detail']), /role/);
    await unchanged();

    fs.rmSync(file);
    refused = (await waitForEvents('scim.group-roles-refused', refusedBefore + 3)).slice(refusedBefore);
    assert.equal(refused[2]?.data['reason'], 'removed');
    // Polls of the same removed file say nothing more; the operator's SIGHUP asks (and is told) again.
    await sleep(2_500);
    assert.equal((await events('scim.group-roles-refused')).length, refusedBefore + 3, 'one refusal per state of the file');
    await gw.runtime.groupRoleFile?.reload('signal');
    refused = (await events('scim.group-roles-refused')).slice(refusedBefore);
    assert.deepEqual([refused.length, refused[3]?.data['reason'], refused[3]?.data['trigger']], [4, 'removed', 'signal']);
    await unchanged();

    // A valid file again: applied like every other change (East back: it asks for Dan's helpdesk again).
    writeTable([...ALL_ROWS, { displayName: 'GW Org Admins', role: 'org-admin' }]);
    await waitForEvents('scim.group-roles-changed', changedBefore + 1);
    assert.equal(gw.runtime.flows.groupRoles.current().length, 4);
    assert.deepEqual(
      (await directoryList()).map((r) => [r[0], r[1]]),
      [
        [ids.bo, 'security-officer'],
        [ids.dan, 'helpdesk'],
      ],
      'the rows back ask again (Bo’s helpdesk request ended with them)',
    );
  });

  it('issue 18: the poller stops with the gateway (no reload after close, no handle left open)', async () => {
    const watcher = gw.runtime.groupRoleFile;
    assert.ok(watcher);
    await watcher.stop();
    const changedBefore = (await events('scim.group-roles-changed')).length;
    writeTable(ALL_ROWS);
    await sleep(2_500);
    await watcher.reload('signal');
    assert.equal((await events('scim.group-roles-changed')).length, changedBefore, 'a stopped watcher reads nothing');
  });
});
