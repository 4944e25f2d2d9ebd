/**
 * The security team's CLI (scripts/keys.ts) against a running gateway: listing with the HSM
 * attribute check, the JWKS, and a two-person rotation made from the command line with two
 * officers' security-key sessions.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { activeAdmin, activeEmployee } from '../support/journeys.js';
import { repoRoot, startTestGateway, type TestGateway } from '../support/testGateway.js';

describe('keys CLI (NSIS 6 (Substantial) 11)', () => {
  let gw: TestGateway;
  let env: Record<string, string>;
  before(async () => {
    gw = await startTestGateway({ env: { GATEWAY_KEY_PROPAGATION_SECONDS: '0' } });
    env = {
      ...Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined)),
      GATEWAY_VAR_DIR: gw.varDir, ...gw.storeEnv,
      GATEWAY_ORIGIN: gw.origin,
      GATEWAY_PORT: new URL(gw.origin).port,
      GATEWAY_HSM_PIN_FILE: path.join(repoRoot, 'var', 'hsm-user.pin'),
    };
  });
  after(async () => {
    await gw.close();
  });

  // Asynchronous: the gateway under test runs in this process and must keep answering.
  const cli = (...args: string[]) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'scripts', 'keys.ts'), ...args], { cwd: repoRoot, env });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (status) => resolve({ status, stdout, stderr }));
    });

  it('lists the keys with their HSM attribute check and prints the JWKS', async () => {
    const list = await cli('list');
    assert.equal(list.status, 0, list.stderr);
    assert.match(list.stdout, /active\s+ES256\s+[A-Za-z0-9_-]{43}\s.*OK/);
    const jwks = await cli('jwks');
    assert.equal(jwks.status, 0, jwks.stderr);
    const parsed: unknown = JSON.parse(jwks.stdout);
    assert.ok(typeof parsed === 'object' && parsed !== null && 'keys' in parsed && Array.isArray(parsed.keys) && parsed.keys.length === 1);
  });

  it('a rotation requested and approved from the CLI needs two officers signed in with their keys', async () => {
    const admin = await activeAdmin(gw);
    const other = await activeEmployee(gw, admin.client, 'so2@demo.example', 'Officer Two');
    await gw.runtime.store.write((tx) => tx.identities.grantRole(other.identityId, 'security-officer', gw.seed.admin.id, new Date().toISOString()));
    const file1 = path.join(gw.varDir, 'so1.session');
    const file2 = path.join(gw.varDir, 'so2.session');
    fs.writeFileSync(file1, admin.client.cookie('gw_session') ?? '', { mode: 0o600 });
    fs.writeFileSync(file2, other.client.cookie('gw_session') ?? '', { mode: 0o600 });

    const noSession = await cli('request', 'rotation', '--reason', 'yearly');
    assert.equal(noSession.status, 2);
    // Officer Two asks and the first officer approves: Officer Two was set up by the first, so
    // could never be the first officer's second person (separation of duties by identity).
    const req = await cli('request', 'rotation', '--reason', 'yearly rotation', '--session-file', file2);
    assert.equal(req.status, 0, req.stdout + req.stderr);
    const id = /"id":"([0-9a-f-]{36})"/.exec(req.stdout)?.[1];
    assert.ok(id);
    const self = await cli('approve', id, '--session-file', file2);
    assert.equal(self.status, 1);
    assert.match(self.stdout, /^403 .*SEGREGATION_OF_DUTIES/);
    const ok = await cli('approve', id, '--session-file', file1);
    assert.equal(ok.status, 0, ok.stdout);
    const list = await cli('list');
    assert.match(list.stdout, /retired\s+ES256/);
    assert.match(list.stdout, /active\s+ES256/);
    const requests = await cli('requests');
    assert.match(requests.stdout, new RegExp(`${id}\\s+rotation\\s+executed`));
  });
});
