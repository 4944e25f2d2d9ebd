/**
 * Issue 18 under GATEWAY_WORKERS=2: the real gateway (`server/main.ts`, a node:cluster primary and
 * two workers) is told with SIGHUP to read GATEWAY_SCIM_GROUP_ROLES_FILE again (polling off). The
 * primary passes the signal on; worker 0 applies the changed table through the reconciliation and
 * tells its sibling, which takes the recorded table: both workers serve the new table, no process
 * ends on SIGHUP, and a bad file is refused by worker 0 alone while both keep the table in force.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../server/config.js';
import { openStore } from '../../server/store/openStore.js';
import { field } from '../support/apiClient.js';
import { disposeChildVarDir, groupPids, startChildGateway, type ChildGateway } from '../support/childGateway.js';
import { activeAdmin } from '../support/journeys.js';
import { registerDirectory } from '../support/staff.js';
import { auditEntries } from '../support/storeReads.js';
import { repoRoot } from '../support/testGateway.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** GET on a connection of its own (whichever worker accepts it from the shared socket). */
function getScim(gw: ChildGateway, p: string, token: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: gw.port, method: 'GET', path: `/scim/v2${p}`, agent: false, headers: { authorization: `Bearer ${token}`, accept: 'application/scim+json', connection: 'close' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** The gateway's JSON log lines with `msg` (each worker's carry its index). */
function logLines(gw: ChildGateway, msg: string): { worker?: number; trigger?: string; reason?: string; rows?: number }[] {
  return gw
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{') && l.includes(msg))
    .map((l) => JSON.parse(l) as { worker?: number; trigger?: string; reason?: string; rows?: number; msg?: string })
    .filter((l) => l.msg?.startsWith(msg));
}

/** The pid of the gateway's worker `index` (its GATEWAY_WORKER_INDEX, read from /proc). */
function workerPid(gw: ChildGateway, index: number): number {
  const pid = groupPids(gw.pid).find((p) => {
    try {
      return p !== gw.pid && fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('server/main.ts') && fs.readFileSync(`/proc/${p}/environ`, 'utf8').split('\0').includes(`GATEWAY_WORKER_INDEX=${index}`);
    } catch {
      return false; // gone meanwhile
    }
  });
  if (pid === undefined) throw new Error(`no worker ${index} among ${JSON.stringify(groupPids(gw.pid))}`);
  return pid;
}

async function waitFor(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('issue 18: a changed group-role file reaches both workers of a cluster (SIGHUP)', { timeout: 240_000 }, () => {
  let gw: ChildGateway;
  let dir = '';
  let file = '';
  let token = '';
  const writeFile = (text: string) => {
    fs.writeFileSync(`${file}.tmp`, text);
    fs.renameSync(`${file}.tmp`, file);
  };
  /** The audit events of `type` in the cluster's store (read as a tool reads it). */
  const events = async (type: string) => {
    const config = loadConfig({ GATEWAY_PORT: '0', GATEWAY_ORIGIN: gw.origin, GATEWAY_VAR_DIR: gw.varDir, GATEWAY_HSM_PIN_FILE: path.join(repoRoot, 'var', 'hsm-user.pin'), ...gw.storeEnv }, repoRoot);
    const store = await openStore(config, { migrate: false });
    try {
      return (await auditEntries(store)).filter((e) => e.type === type);
    } finally {
      await store.close();
    }
  };
  /** Whether each of `n` requests on fresh connections sees Group announced (both workers answer). */
  const groupsServed = async (n = 6) => {
    const seen: boolean[] = [];
    for (let i = 0; i < n; i++) {
      const res = await getScim(gw, '/ResourceTypes', token);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      seen.push(field<{ id: string }[]>(res.body, 'Resources').some((r) => r.id === 'Group'));
    }
    return seen;
  };

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scim-group-roles-cluster-'));
    file = path.join(dir, 'group-roles.json');
    writeFile('[]');
    gw = await startChildGateway({ env: { GATEWAY_WORKERS: '2', GATEWAY_LOG_LEVEL: 'info', GATEWAY_SCIM_GROUP_ROLES_FILE: file, GATEWAY_SCIM_GROUP_ROLES_POLL_SECONDS: '0' } });
    await waitFor('two workers listening', () => /with 2 worker processes/.test(gw.output()), 60_000);
    const admin = await activeAdmin(gw);
    token = await registerDirectory(admin.client);
  });
  after(async () => {
    if (gw) {
      await gw.stop();
      await disposeChildVarDir(gw.varDir);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('NSIS 4.1.5 (Substantial) 7 / issue 18: on SIGHUP to the primary, worker 0 applies the changed table and both workers serve it; a bad file is refused by worker 0 alone (audited once) and both keep the table in force', async () => {
    assert.deepEqual(await groupsServed(), [false, false, false, false, false, false], 'an empty table: /Groups is not served');
    // No process ends on SIGHUP: the primary lives, and it reports no worker exit (it would replace it).
    const exits = () => (gw.output().match(/gateway worker exited/g) ?? []).length;
    const exitsBefore = exits();
    const alive = () => groupPids(gw.pid).includes(gw.pid) && exits() === exitsBefore;

    writeFile(JSON.stringify([{ displayName: 'GW Helpdesk', role: 'helpdesk' }]));
    await sleep(1_500);
    assert.deepEqual(await groupsServed(), [false, false, false, false, false, false], 'polling is off: nothing until SIGHUP');

    process.kill(gw.pid, 'SIGHUP');
    await waitFor('both workers with the new table', () => new Set(logLines(gw, 'directory group-role table in force').map((l) => l.worker)).size === 2);
    const inForce = logLines(gw, 'directory group-role table in force').map((l) => [l.worker, l.trigger]);
    assert.deepEqual(inForce.sort(), [
      [0, 'signal'],
      [1, 'peer'],
    ]);
    assert.deepEqual(await groupsServed(), [true, true, true, true, true, true], 'every worker serves the table applied');
    assert.ok(alive(), `no process ended on SIGHUP:\n${gw.output().slice(-3000)}`);
    const changed = await events('scim.group-roles-changed');
    assert.deepEqual(changed.map((e) => [e.data['baseline'], e.data['after']]), [[true, [{ displayName: 'GW Helpdesk', role: 'helpdesk' }]]], 'applied once');

    writeFile('{"not": "a table"}');
    process.kill(gw.pid, 'SIGHUP');
    await waitFor('the refusal', () => logLines(gw, 'directory group-role table refused').length > 0);
    await sleep(500);
    const refused = logLines(gw, 'directory group-role table refused');
    assert.deepEqual(refused.map((l) => [l.worker, l.reason, l.trigger]), [[0, 'invalid', 'signal']], 'worker 0 alone reads the file');
    assert.deepEqual(await groupsServed(), [true, true, true, true, true, true], 'the table in force stays on both workers');
    assert.equal(logLines(gw, 'directory group-role table in force').length, 2);
    assert.ok(alive(), `no process ended on SIGHUP:\n${gw.output().slice(-3000)}`);
    assert.deepEqual((await events('scim.group-roles-refused')).map((e) => [e.data['reason'], e.data['trigger'], e.data['rowsInForce']]), [['invalid', 'signal', 1]]);
    assert.equal((await events('scim.group-roles-changed')).length, 1);
  });

  it('issue 18: a worker that starts again while the file is bad (kill -9) serves the table the store recorded, as its sibling does; the gateway stays up and withdraws nothing', async () => {
    // The file is still the bad one of the test above.
    const replaced = () => (gw.output().match(/replacement gateway worker listening/g) ?? []).length;
    for (const index of [1, 0]) {
      const before = replaced();
      const pid = workerPid(gw, index);
      process.kill(pid, 'SIGKILL');
      await waitFor(`worker ${index} replaced`, () => replaced() > before && !groupPids(gw.pid).includes(pid), 60_000);
    }
    const started = logLines(gw, "directory group-role file not usable at this worker's start; serving the table recorded by the last reconciliation (fix the file: it is read again on the next poll or SIGHUP)");
    assert.deepEqual(started.map((l) => [l.worker, l.rows]), [
      [1, 1],
      [0, 1],
    ]);
    assert.doesNotMatch(gw.output(), /keep failing at start|Gateway failed to start/);
    assert.deepEqual(await groupsServed(), [true, true, true, true, true, true], 'both workers serve the recorded table');
    assert.equal((await events('scim.group-roles-changed')).length, 1, 'no reconciliation changed anything');
  });
});
