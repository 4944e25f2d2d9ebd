/**
 * First administrator and recovery (issue 11, attack 7). The first administrator's one-time link
 * is written to a 0600 file under var/ and never into the log stream; a sole administrator who
 * reported their only key lost gets back in with `npm run recover-admin`: only with the HSM user
 * PIN (proven by a token login), audited, every staff member mailed, and it only issues a fresh
 * enrolment link for that administrator.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FIRST_ADMIN_LINK_FILE, RECOVERY_LINK_FILE, readEnrolmentLinkFile } from '../../server/admin/enrolmentLinkFile.js';
import { SYSTEM_ACTOR } from '../../server/domain/types.js';
import { ApiClient } from '../support/apiClient.js';
import { disposeChildVarDir, startChildGateway, type ChildGateway } from '../support/childGateway.js';
import { activate, activeAdmin, activeEmployee, enrol, signIn } from '../support/journeys.js';
import { SoftAuthenticator } from '../support/softAuthenticator.js';
import { repoRoot, startTestGateway, type TestGateway } from '../support/testGateway.js';
import { auditEntries } from '../support/storeReads.js';
import { createIdentity } from '../../server/flows/identities/createIdentity.js';

const PIN = fs.readFileSync(path.join(repoRoot, 'var', 'hsm-user.pin'), 'utf8').trim();

/** Runs `npm run recover-admin` against a gateway's var/, with `stdin` as the typed PIN. */
/**
 * Runs the command as its own process WITHOUT blocking this one: the gateway under test lives in
 * this process, and a blocked event loop would let its keep-alive sockets expire under the client
 * (a spawnSync made the next request fail with "fetch failed", "other side closed").
 */
function recoverAdmin(gw: TestGateway, stdin: string, args: string[] = []): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join('scripts', 'recover-admin.ts'), ...args], {
    cwd: repoRoot,
    // No GATEWAY_HSM_PIN / _FILE: the PIN must come from whoever runs it.
    env: { ...process.env, GATEWAY_VAR_DIR: gw.varDir, ...gw.storeEnv, GATEWAY_ORIGIN: gw.origin, GATEWAY_PORT: new URL(gw.origin).port, GATEWAY_HSM_PIN: '', GATEWAY_HSM_PIN_FILE: '' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdin.end(stdin);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

async function auditOf(gw: TestGateway, type: string) {
  return (await auditEntries(gw.runtime.store)).filter((e) => e.type === type);
}

describe('first administrator link and administrator recovery (NSIS 4.1.5 (Substantial) 7, 4.1.6 (Low) 3, 3.2.2; issue 11 attack 7)', () => {
  it('NSIS 4.1.6 (Low) 3 (attack 7): the first administrator\'s enrolment link is written to a 0600 file under var/ that the start-up line names, never into the log stream', async () => {
    let gw: ChildGateway | undefined;
    try {
      gw = await startChildGateway({ env: { GATEWAY_LOG_LEVEL: 'debug' } });
      const file = path.join(gw.varDir, FIRST_ADMIN_LINK_FILE);
      assert.equal(fs.statSync(file).mode & 0o777, 0o600);
      const link = readEnrolmentLinkFile(file);
      assert.ok(link);
      assert.ok(link.startsWith(`${gw.origin}/enrol.html#token=`), link);
      const token = link.slice(link.indexOf('#token=') + 7);
      const out = gw.output();
      assert.ok(out.includes(file), 'the start-up line says where the link is');
      assert.ok(!out.includes(token) && !out.includes('#token='), 'the link is not in stdout/stderr (the JSON log stream)');
      // The link works: the administrator enrols with it, and a restart issues no new one.
      await activeAdmin(gw);
      await gw.stop();
      gw = await startChildGateway({ varDir: gw.varDir, port: gw.port });
      assert.equal(fs.existsSync(file), false, 'no link file once the administrator has a key');
      assert.match(gw.output(), /has registered a security key/);
    } finally {
      await gw?.stop();
      if (gw) await disposeChildVarDir(gw.varDir);
    }
  });

  describe('npm run recover-admin', () => {
    let gw: TestGateway;
    let admin: Awaited<ReturnType<typeof activeAdmin>>;
    let helpdeskEmail: string;
    before(async () => {
      gw = await startTestGateway();
      admin = await activeAdmin(gw);
      const helpdesk = await createIdentity(gw.runtime.flows, SYSTEM_ACTOR, {
        organisationId: gw.seed.admin.organisationId,
        name: 'Help Desk',
        email: 'helpdesk@demo.example',
        ial: 'substantial',
        proofingMethod: 'test',
        roles: ['helpdesk'],
      });
      helpdeskEmail = helpdesk.email;
    });
    after(async () => {
      await gw.close();
    });

    it('NSIS 4.1.5 (Substantial) 7 (attack 7): refused while the administrator still has an active key, with the reason, and audited', async () => {
      const run = await recoverAdmin(gw, `${PIN}\n`);
      assert.equal(run.status, 1, run.stdout + run.stderr);
      assert.match(run.stderr, /refused \(has-active-key\): .*still has an active security key .*sign in with it/);
      assert.equal((await auditOf(gw, 'admin-recovery.refused')).at(-1)?.data['reason'], 'has-active-key');
      assert.equal(fs.existsSync(path.join(gw.varDir, RECOVERY_LINK_FILE)), false);
    });

    it('NSIS 4.1.5 (Substantial) 7 (attack 7): a sole administrator whose only key is suspended is refused without the HSM user PIN or with a wrong one; nothing is issued; each refusal is audited', async () => {
      const lost = await admin.client.post(`/api/me/credentials/${admin.keyId}/report-lost`, {});
      assert.equal(lost.status, 200, JSON.stringify(lost.body));
      const issued = (await auditOf(gw, 'enrolment.issued')).length;
      for (const [stdin, reason] of [
        ['', 'no-pin'],
        ['not-the-pin\n', 'pin-refused'],
      ] as const) {
        const run = await recoverAdmin(gw, stdin);
        assert.equal(run.status, 1, run.stdout + run.stderr);
        assert.match(run.stderr, new RegExp(`refused \\(${reason}\\)`));
        assert.equal((await auditOf(gw, 'admin-recovery.refused')).at(-1)?.data['reason'], reason);
      }
      assert.equal((await auditOf(gw, 'enrolment.issued')).length, issued, 'no enrolment link was issued');
      assert.equal(fs.existsSync(path.join(gw.varDir, RECOVERY_LINK_FILE)), false);
    });

    it('NSIS 4.1.5 (Substantial) 7, 3.2.2 (attack 7): with the PIN it issues a fresh enrolment link for that administrator only, into a 0600 file, audited and mailed to every staff member; the administrator enrols and activates a new key', async () => {
      const run = await recoverAdmin(gw, `${PIN}\n`);
      assert.equal(run.status, 0, run.stdout + run.stderr);
      const file = path.join(gw.varDir, RECOVERY_LINK_FILE);
      assert.ok(run.stdout.includes(file));
      assert.ok(!run.stdout.includes('#token=') && !run.stderr.includes('#token='), 'the link is never printed');
      assert.equal(fs.statSync(file).mode & 0o777, 0o600);
      const link = readEnrolmentLinkFile(file);
      assert.ok(link);
      const [recovered] = (await auditOf(gw, 'admin.recovered'));
      assert.equal(recovered?.subjectId, gw.seed.admin.id);
      assert.match(String(recovered?.data['proof']), /HSM user PIN/);
      for (const to of [admin.email, helpdeskEmail]) {
        const mail = (await gw.mailsTo(to)).find((m) => m.kind === 'admin-recovered');
        assert.ok(mail, `${to} was told`);
        assert.match(mail.text, /recover-admin/);
        assert.ok(!mail.text.includes('#token='), 'the staff mail does not carry the link');
      }
      // Only an enrolment for the administrator: no key, role or session changed hands.
      assert.deepEqual(
        (await auditOf(gw, 'enrolment.issued')).slice(-1).map((e) => e.subjectId),
        [gw.seed.admin.id],
      );
      const client = new ApiClient(gw.origin);
      const auth = new SoftAuthenticator();
      await enrol(gw, client, auth, link, 'Replacement admin key');
      const act = await activate(gw, client, auth, admin.email);
      assert.equal(act.status, 200, JSON.stringify(act.body));
      assert.equal((await signIn(gw, client, auth, admin.email)).status, 200);
    });
  });

  it('NSIS 4.1.5 (Substantial) 7: refused when another administrator can still act (they issue the link in the console instead)', async () => {
    const gw = await startTestGateway();
    try {
      const admin = await activeAdmin(gw);
      const second = await activeEmployee(gw, admin.client, 'admin2@demo.example', 'Second Admin');
      await gw.runtime.store.write((tx) => tx.identities.grantRole(second.identityId, 'org-admin', gw.seed.admin.id, new Date().toISOString()));
      assert.equal((await admin.client.post(`/api/me/credentials/${admin.keyId}/report-lost`, {})).status, 200);
      const run = await recoverAdmin(gw, `${PIN}\n`, ['--email', admin.email]);
      assert.equal(run.status, 1, run.stdout + run.stderr);
      assert.match(run.stderr, /refused \(another-administrator-can-act\): Another administrator can sign in \(Second Admin/);
      assert.equal((await auditOf(gw, 'admin-recovery.refused')).at(-1)?.data['reason'], 'another-administrator-can-act');
    } finally {
      await gw.close();
    }
  });
});
