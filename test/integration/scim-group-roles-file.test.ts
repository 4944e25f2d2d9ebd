/**
 * Issue 18: the table of directory groups to staff roles (GATEWAY_SCIM_GROUP_ROLES_FILE) changes
 * between two starts. A row removed stops asking for its role at once: when the gateway starts,
 * every person holding a role that only a removed row asked for loses it, audited, with the person
 * and the org-admins told (NSIS 4.1.5 (Substantial) 7, as when the directory takes them out of the
 * group); a role another mapped group still asks for, or one an org-admin granted without any
 * group, stays. Two instances starting together on the same store reconcile once. A row added back
 * asks for its role again and grants nothing (NSIS 5.2 (Substantial) 8). Also the org-admin's list
 * of the directory's requests (GET /api/admin/lists/directory): sorted, paged, refused to others.
 *
 * Real store (SQLite file or PostgreSQL), real SoftHSM, real WebAuthn ceremonies for the staff,
 * SCIM over real HTTP; the later starts are runtimes on the same store, as a restart is.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../server/config.js';
import { createLogger } from '../../server/logger.js';
import { createRuntime, type Runtime } from '../../server/runtime.js';
import { field, obj } from '../support/apiClient.js';
import { activeAdmin } from '../support/journeys.js';
import { bindAndEnrol, grantByTwo, registerDirectory, type Person } from '../support/staff.js';
import { auditEntries, read } from '../support/storeReads.js';
import { repoRoot, startTestGateway, type TestGateway } from '../support/testGateway.js';

const SCIM = 'application/scim+json';
const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const ALL_ROWS = [
  { displayName: 'GW Helpdesk', role: 'helpdesk' },
  { displayName: 'GW Helpdesk East', role: 'helpdesk' },
  { displayName: 'GW Security Officers', role: 'security-officer' },
];
type Who = 'ann' | 'bo' | 'cy' | 'dan';

describe('issue 18: a row removed from the group-role table withdraws the roles only it asked for, at the next start, once across instances', { timeout: 300_000 }, () => {
  let gw: TestGateway;
  let admin: Awaited<ReturnType<typeof activeAdmin>>;
  let second: Person;
  let employee: Person;
  let dir = '';
  let file = '';
  const ids: Record<Who, string> = { ann: '', bo: '', cy: '', dan: '' };
  const runtimes: Runtime[] = [];

  const writeTable = (rows: readonly { displayName: string; role: string }[]) => fs.writeFileSync(file, JSON.stringify(rows));
  /** The same deployment started again (no HTTP, no HSM: the store and the flows), as a restart does. */
  const restart = async (): Promise<Runtime> => {
    const env = {
      GATEWAY_PORT: '0',
      GATEWAY_ORIGIN: gw.origin,
      GATEWAY_VAR_DIR: gw.varDir,
      GATEWAY_HSM_PIN_FILE: path.join(repoRoot, 'var', 'hsm-user.pin'),
      GATEWAY_LOG_LEVEL: 'silent',
      GATEWAY_SCIM_GROUP_ROLES_FILE: file,
      ...gw.storeEnv,
    };
    const runtime = await createRuntime(loadConfig(env, repoRoot), { withHsm: false, log: createLogger('silent') });
    runtimes.push(runtime);
    return runtime;
  };
  const rolesOf = async (who: Who) => (await read(gw.runtime.store, (tx) => tx.identities.get(ids[who])))?.roles ?? [];
  const events = async (type: string) => (await auditEntries(gw.runtime.store)).filter((e) => e.type === type);
  /**
   * Mails of the duties table delivered to `email`. Every restarted runtime has an outbox of its
   * own that may have claimed a message and be writing it: flush them all before reading (their
   * round in flight finishes), not only the test gateway's.
   */
  const told = async (email: string) => {
    await Promise.all(runtimes.map((r) => r.outbox.flush()));
    return (await gw.mailsTo(email)).filter((m) => m.kind === 'duty-executed').length;
  };
  /** The second org-admin asks for the grant; the first approves it (as an independent second person). */
  const grant = (who: Who, role: string) => grantByTwo(second.client, admin.client, ids[who], role);

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scim-group-roles-'));
    file = path.join(dir, 'group-roles.json');
    writeTable(ALL_ROWS);
    gw = await startTestGateway({ env: { GATEWAY_SESSION_IDLE_MINUTES: '600', GATEWAY_SESSION_ABSOLUTE_MINUTES: '6000', GATEWAY_STEP_UP_MINUTES: '60', GATEWAY_SCIM_GROUP_ROLES_FILE: file } });
    admin = await activeAdmin(gw);
    // Bootstrap: the one org-admin grants the second alone; from then on a grant takes two.
    second = await bindAndEnrol(gw, admin.client, { name: 'Second Admin', email: 'second.admin@demo.example', roles: ['org-admin'] });
    employee = await bindAndEnrol(gw, admin.client, { name: 'Plain Employee', email: 'plain@demo.example' });
    const token = await registerDirectory(admin.client);
    const scim = async (p: string, body: unknown): Promise<string> => {
      const res = await fetch(`${gw.origin}/scim/v2${p}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, accept: SCIM, 'content-type': SCIM }, body: JSON.stringify(body) });
      const answer = obj(JSON.parse(await res.text()));
      assert.equal(res.status, 201, JSON.stringify(answer));
      return String(answer['id']);
    };
    const scimIds: Record<Who, string> = { ann: '', bo: '', cy: '', dan: '' };
    for (const who of ['ann', 'bo', 'cy', 'dan'] as const) {
      const email = `${who}@demo.example`;
      scimIds[who] = await scim('/Users', { schemas: [USER_SCHEMA], userName: email, externalId: who, active: true, name: { givenName: who, familyName: 'Directory' }, emails: [{ primary: true, type: 'work', value: email }] });
      ids[who] = (await read(gw.runtime.store, async (tx) => (await tx.identities.findActiveByEmail(email))?.id)) ?? assert.fail('bound');
    }
    await scim('/Groups', { schemas: [GROUP_SCHEMA], displayName: 'GW Helpdesk', members: [{ value: scimIds.ann }] });
    await scim('/Groups', { schemas: [GROUP_SCHEMA], displayName: 'GW Helpdesk East', members: [{ value: scimIds.ann }, { value: scimIds.dan }] });
    await scim('/Groups', { schemas: [GROUP_SCHEMA], displayName: 'GW Security Officers', members: [{ value: scimIds.bo }] });
  });
  after(async () => {
    for (const r of runtimes) await r.close();
    await gw?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('NSIS 5.2 (Substantial) 8 / issue 18: the org-admin lists the directory\'s open requests (person, role, groups, since), sorted and paged; anyone else is refused (403 ROLE_REQUIRED), audited', async () => {
    const page = async (q: string) => {
      const res = await admin.client.get(`/api/admin/lists/directory?${q}`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return field<{ identityId: string; name: string; role: string; groups: string[]; since: string | null; grantWaiting: boolean }[]>(res.body, 'items');
    };
    const all = await page('sort=name');
    assert.deepEqual(
      all.map((r) => [r.identityId, r.role, r.groups]),
      [
        [ids.ann, 'helpdesk', ['GW Helpdesk', 'GW Helpdesk East']],
        [ids.bo, 'security-officer', ['GW Security Officers']],
        [ids.dan, 'helpdesk', ['GW Helpdesk East']],
      ],
    );
    assert.ok(all.every((r) => r.since !== null && r.grantWaiting === false));
    assert.deepEqual((await page('sort=role&direction=desc')).map((r) => r.role), ['security-officer', 'helpdesk', 'helpdesk']);
    const second = await admin.client.get('/api/admin/lists/directory?sort=name&limit=2&offset=2');
    assert.deepEqual([field<number>(second.body, 'total'), field<{ identityId: string }[]>(second.body, 'items').map((r) => r.identityId)], [3, [ids.dan]]);
    const bad = await admin.client.get('/api/admin/lists/directory?sort=email');
    assert.deepEqual([bad.status, bad.code], [400, 'VALIDATION_FAILED']);
    const refusedBefore = (await events('staff.list-refused')).length;
    const refused = await employee.client.get('/api/admin/lists/directory');
    assert.deepEqual([refused.status, refused.code], [403, 'ROLE_REQUIRED']);
    assert.equal((await events('staff.list-refused')).length, refusedBefore + 1);
  });

  it('NSIS 4.1.5 (Substantial) 7 / issue 18: removing rows withdraws at start the roles only they asked for (the person and the org-admins told), once across two instances starting together; another group\'s or an org-admin\'s grant stays; a row added back asks again and grants nothing', async () => {
    // The first start recorded the table as it was (nothing to compare it with).
    const baseline = await events('scim.group-roles-changed');
    assert.equal(baseline.length, 1);
    assert.equal(baseline[0]?.data['baseline'], true);
    await grant('ann', 'helpdesk');
    await grant('dan', 'helpdesk');
    await grant('bo', 'security-officer');
    await grant('cy', 'helpdesk'); // no group asks for this one: an org-admin's own decision
    for (const who of ['ann', 'dan', 'cy'] as const) assert.ok((await rolesOf(who)).includes('helpdesk'), who);
    const toldBefore = { dan: await told('dan@demo.example'), bo: await told('bo@demo.example'), admin: await told(admin.email), ann: await told('ann@demo.example') };
    const revokedBefore = (await events('role.revoked')).length;

    writeTable(ALL_ROWS.filter((r) => r.displayName === 'GW Helpdesk'));
    await Promise.all([restart(), restart()]);

    assert.deepEqual(await rolesOf('dan'), ['employee'], 'only the removed row asked for Dan’s helpdesk');
    assert.deepEqual(await rolesOf('bo'), ['employee'], 'the security officers’ row is gone');
    assert.ok((await rolesOf('ann')).includes('helpdesk'), 'GW Helpdesk still asks for Ann’s helpdesk');
    assert.ok((await rolesOf('cy')).includes('helpdesk'), 'a grant no group asked for is left alone');
    const revoked = (await events('role.revoked')).slice(revokedBefore);
    assert.deepEqual(
      revoked.map((e) => [e.subjectId, e.data['role'], e.data['via'], e.data['cause'], e.data['groups'], e.actorRole]).sort(),
      [
        [ids.bo, 'security-officer', 'directory', 'role-table', ['GW Security Officers'], 'system'],
        [ids.dan, 'helpdesk', 'directory', 'role-table', ['GW Helpdesk East'], 'system'],
      ].sort(),
      'each withdrawn once, by one of the two instances',
    );
    const changed = (await events('scim.group-roles-changed')).slice(1);
    assert.equal(changed.length, 1, 'one instance reconciled');
    assert.deepEqual([changed[0]?.data['baseline'], changed[0]?.data['revoked'], changed[0]?.data['asked']], [false, 2, 0]);
    assert.equal(await told('dan@demo.example'), toldBefore.dan + 1, 'the person is told (duties table, role-revoke)');
    assert.equal(await told('bo@demo.example'), toldBefore.bo + 1);
    assert.equal(await told(admin.email), toldBefore.admin + 2, 'the org-admins are told of each');
    assert.equal(await told('ann@demo.example'), toldBefore.ann, 'nothing to tell Ann');

    await restart();
    assert.equal((await events('scim.group-roles-changed')).length, 2, 'a start with the same table changes nothing');
    assert.equal((await events('role.revoked')).length, revokedBefore + 2);

    const askedBefore = (await events('scim.group-role-asked')).length;
    writeTable([...ALL_ROWS].reverse().filter((r) => r.displayName !== 'GW Security Officers'));
    await restart();
    const asked = (await events('scim.group-role-asked')).slice(askedBefore);
    assert.deepEqual(
      asked.map((e) => [e.subjectId, e.data['role'], e.data['cause'], e.data['groups'], e.actorRole]),
      [[ids.dan, 'helpdesk', 'role-table', ['GW Helpdesk East'], 'system']],
      'the row added back asks for Dan’s helpdesk (Ann still holds hers)',
    );
    assert.deepEqual(await rolesOf('dan'), ['employee'], 'asking grants nothing');
  });
});
