/**
 * Another process logging in to the same SoftHSM token is not an outage.
 *
 * SoftHSM's file store rewrites the token's token.object at every C_Login (the "user PIN count
 * low" flag), in whichever process logs in; a C_GetTokenInfo or C_OpenSession in another process
 * that reads the file meanwhile fails with CKR_GENERAL_ERROR or CKR_TOKEN_NOT_RECOGNIZED. With
 * GATEWAY_WORKERS=2, or two instances on one token, that happens whenever a worker starts: the
 * other worker's health probe used to report the token lost, retire its sessions and fail the
 * sign-ins of the next half second (seen in CI: /api/health "degraded" right after a worker was
 * replaced). HsmConnection now tries a failed check again after short pauses before it counts.
 *
 * This file works on a token of its own (SoftHSM reads SOFTHSM2_CONF once per process, and node
 * --test runs each file in a process of its own), so the hammering never reaches the shared
 * var/ token other tests use. The other process is a real one: a child that logs in and out.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_MODULE_PATH, type HsmConfig, HsmConnection } from '../../hsm/index.js';
import { repoRoot } from './helpers.js';

const LABEL = 'concurrent-login';
// A throwaway token in a temp dir, made and removed by this file.
const PIN = '31415926';

/** Logs in and out of the token every `pauseMs` until killed; prints "ready" after the first login. */
const HAMMER = `
const graphene = require(${JSON.stringify(path.join(repoRoot, 'node_modules', 'graphene-pk11'))});
const mod = graphene.Module.load(${JSON.stringify(DEFAULT_MODULE_PATH)}, 'SoftHSM');
mod.initialize();
const slots = mod.getSlots(true);
let session;
for (let i = 0; i < slots.length; i++) if (slots.items(i).getToken().label === ${JSON.stringify(LABEL)}) session = slots.items(i).open(6);
const pauseMs = Number(process.argv[1]);
const sleep = new Int32Array(new SharedArrayBuffer(4));
let logins = 0;
process.on('SIGTERM', () => { process.stdout.write('logins ' + logins + '\\n'); process.exit(0); });
const round = () => {
  for (let i = 0; i < 20; i++) {
    try { session.login(${JSON.stringify(PIN)}); logins++; session.logout(); } catch {}
    if (logins === 1 && i === 0) process.stdout.write('ready\\n');
    Atomics.wait(sleep, 0, 0, pauseMs);
  }
  setImmediate(round);
};
round();
`;

let dir = '';
let config: HsmConfig;

function startHammer(pauseMs: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', HAMMER, String(pauseMs)], { env: { ...process.env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      if (chunk.includes('ready')) resolve(child);
    });
    child.on('exit', (code) => reject(new Error(`the login loop exited (${code}) before its first login`)));
  });
}

/** Stops the hammer and returns how many logins it made. */
function stopHammer(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    let out = '';
    child.stdout?.on('data', (chunk: string) => {
      out += chunk;
    });
    child.on('exit', () => resolve(Number(/logins (\d+)/.exec(out)?.[1] ?? 0)));
    child.kill('SIGTERM');
  });
}

describe('SoftHSM: another process logging in to the token', () => {
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'hsm-concurrent-login-'));
    const conf = path.join(dir, 'softhsm2.conf');
    writeFileSync(conf, `directories.tokendir = ${path.join(dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`, { mode: 0o600 });
    mkdirSync(path.join(dir, 'tokens'), { mode: 0o700 });
    process.env.SOFTHSM2_CONF = conf;
    const init = spawnSync('softhsm2-util', ['--init-token', '--free', '--label', LABEL, '--pin', PIN, '--so-pin', '27182818'], { encoding: 'utf8' });
    assert.equal(init.status, 0, init.stderr);
    config = { modulePath: DEFAULT_MODULE_PATH, tokenLabel: LABEL, pin: PIN };
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('NSIS 6 (Low) 4: the module really does fail C_GetTokenInfo now and then while another process logs in (what the retries are for)', async () => {
    const connection = await HsmConnection.open(config, { sessions: 1 });
    const hammer = await startHammer(0);
    let failures = 0;
    let calls = 0;
    try {
      const until = Date.now() + 3000;
      while (Date.now() < until && failures === 0) {
        await connection.withSession('C_GetTokenInfo', (session) => {
          for (let i = 0; i < 200; i++) {
            calls++;
            try {
              session.slot.getToken();
            } catch {
              failures++;
            }
          }
        });
      }
    } finally {
      await stopHammer(hammer);
      await connection.close();
    }
    assert.ok(failures > 0, `C_GetTokenInfo never failed in ${calls} calls: if SoftHSM no longer has the race, TOKEN_RECHECK_PAUSES_MS may go`);
  });

  test('NSIS 6 (Low) 4: health stays ok and no sign of an outage is given while another process logs in 200 times a second; signing goes on', async () => {
    const events: string[] = [];
    const connection = await HsmConnection.open(config, {
      sessions: 2,
      onStateChange: (e) => events.push(`${e.status}: ${e.detail ?? ''}`),
    });
    const hammer = await startHammer(5);
    const reports: string[] = [];
    let logins = 0;
    try {
      const until = Date.now() + 4000;
      while (Date.now() < until) {
        const health = await connection.health();
        if (health.status !== 'ok') reports.push(health.detail ?? health.status);
        // A refused operation makes the connection check the token too (#classifyFailure).
        await assert.rejects(
          connection.withSession('a refused operation', (session) => {
            session.lib.C_SignInit(session.handle, { mechanism: 0x1041 }, Buffer.from('ffffff7f00000000', 'hex'));
          }),
          (err: Error & { code?: string }) => err.code !== 'HSM_UNAVAILABLE' || assert.fail(`a refusal was taken for an outage: ${err.message}`),
        );
      }
    } finally {
      logins = await stopHammer(hammer);
      await connection.close();
    }
    assert.ok(logins > 100, `the other process logged in ${logins} times`);
    assert.deepEqual(reports, [], 'health reported the token unavailable');
    assert.deepEqual(events, [], 'the connection reported a state change');
  });

  test('NSIS 6 (Low) 4: a token that is really gone still counts as lost (every retry fails)', async () => {
    const connection = await HsmConnection.open(config, { sessions: 1, reconnect: { initialDelayMs: 60_000 } });
    try {
      // C_CloseAllSessions from outside the pool: the session the probe gets is no longer valid.
      await connection.withSession('closing every session', (session) => {
        session.lib.C_CloseAllSessions(session.slot.handle);
      });
      const health = await connection.health();
      assert.equal(health.status, 'unavailable');
      assert.match(health.detail ?? '', /CKR_SESSION_HANDLE_INVALID|CKR_SESSION_CLOSED|not logged in/);
      assert.equal(connection.status, 'unavailable');
    } finally {
      await connection.close();
    }
  });
});
