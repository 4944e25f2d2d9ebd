/**
 * HsmGroup.open with no token available at start (hsm/HsmGroup.ts `startWaitMs`): the tokens'
 * background reconnections get that long before the start fails. A token that is briefly
 * unreadable at start (SoftHSM read by several processes while one of them writes the token:
 * "Token integrity check failed", softhsm/SoftHSMv2#757; a cluster worker died of it at start in
 * a full test run) or an HSM appliance finishing its own start then does not fail the gateway's
 * start; a token that never comes still fails it, with the token's own error.
 *
 * Real SoftHSM 2 on a token directory of this test's own (SOFTHSM2_CONF set before the module is
 * loaded in this process): the token is created while open() waits.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HsmGroup, isHsmError } from '../../hsm/index.js';

const MODULE = process.env['GATEWAY_HSM_MODULE'] ?? '/usr/lib/softhsm/libsofthsm2.so';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('NSIS 6 (High) 14 / availability: an HSM group started while its token is not yet readable', () => {
  let dir: string;
  const pin = randomBytes(6).toString('hex');
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gw-hsm-start-'));
    fs.mkdirSync(path.join(dir, 'tokens'), { mode: 0o700 });
    fs.writeFileSync(path.join(dir, 'softhsm2.conf'), `directories.tokendir = ${path.join(dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`);
    // This process's SoftHSM reads its configuration at C_Initialize: nothing has loaded it yet.
    process.env['SOFTHSM2_CONF'] = path.join(dir, 'softhsm2.conf');
  });
  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const initToken = (label: string, userPin = pin): void => {
    const r = spawnSync('softhsm2-util', ['--init-token', '--free', '--label', label, '--pin', userPin, '--so-pin', `so-${pin}`], {
      env: { ...process.env, SOFTHSM2_CONF: path.join(dir, 'softhsm2.conf') },
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
  };
  const fast = { reconnect: { initialDelayMs: 100, maxDelayMs: 400 } };

  it('the start waits for a token that becomes readable within startWaitMs, and the group then signs', async () => {
    const label = `late-${randomBytes(3).toString('hex')}`;
    const states: string[] = [];
    const opening = HsmGroup.open([{ modulePath: MODULE, tokenLabel: label, pin }], {
      startWaitMs: 30_000,
      connection: fast,
      onStateChange: (e) => states.push(e.status),
    });
    // Not there at first: the open is waiting, not failed.
    await sleep(300);
    initToken(label);
    const group = await opening;
    try {
      assert.equal(group.status, 'ok');
      assert.deepEqual(states.slice(-1), ['ok'], 'the token reported itself available');
      const health = await group.health();
      assert.equal(health.status, 'ok', JSON.stringify(health));
    } finally {
      await group.close();
    }
  });

  it('a token that does not come within startWaitMs fails the start with its own error (HSM_TOKEN_NOT_FOUND, the label named)', async () => {
    const label = `never-${randomBytes(3).toString('hex')}`;
    await assert.rejects(HsmGroup.open([{ modulePath: MODULE, tokenLabel: label, pin }], { startWaitMs: 600, connection: fast }), (err: unknown) => {
      assert.ok(isHsmError(err, 'HSM_TOKEN_NOT_FOUND'), `got ${String(err)}`);
      assert.match(err.message, new RegExp(label));
      return true;
    });
  });

  it('a token that comes during the wait but refuses the PIN fails the start at once with HSM_LOGIN_FAILED naming the token, not after the wait with the first error', async () => {
    const label = `wrong-pin-${randomBytes(3).toString('hex')}`;
    const started = Date.now();
    const opening = HsmGroup.open([{ name: 'primary', modulePath: MODULE, tokenLabel: label, pin }], { startWaitMs: 60_000, connection: fast });
    await sleep(300);
    initToken(label, `other-${pin}`);
    await assert.rejects(opening, (err: unknown) => {
      assert.ok(isHsmError(err, 'HSM_LOGIN_FAILED'), `got ${String(err)}`);
      assert.equal(err.token, 'primary');
      return true;
    });
    // Retrying a refused PIN would lock it, so nothing was left to wait for: the start did not sit out its 60 s.
    assert.ok(Date.now() - started < 30_000, `the start failed after ${Date.now() - started} ms`);
  });

  it('without startWaitMs the start fails at once, as before', async () => {
    const label = `absent-${randomBytes(3).toString('hex')}`;
    await assert.rejects(HsmGroup.open([{ modulePath: MODULE, tokenLabel: label, pin }], { connection: fast }), (err: unknown) => isHsmError(err, 'HSM_TOKEN_NOT_FOUND'));
  });
});
