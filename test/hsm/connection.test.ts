/**
 * HsmConnection against real tokens of both PKCS#11 implementations (SoftHSM 2 and
 * tpm2-pkcs11 over swtpm, test/hsm/tokens.ts).
 *
 * The login state is per process and token, so the wrong-PIN test runs first for each token,
 * before any connection of this process has logged in to it (test files run in separate
 * processes, tests within a file one after the other).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import pkcs11 from 'pkcs11js';
import { DEFAULT_SESSIONS, type HsmStatus, HsmConnection, HsmError, isHsmError } from '../../hsm/index.js';
import { waitFor } from './helpers.js';
import { forEachTestToken } from './tokens.js';

/** PKCS#11 session state "R/W user functions". */
const CKS_RW_USER_FUNCTIONS = 3;

forEachTestToken((t) => {
  test('wrong PIN gives HSM_LOGIN_FAILED', async () => {
    const config = t.config;
    const wrongPin = `wrong-${randomBytes(8).toString('hex')}`;
    await assert.rejects(HsmConnection.open({ ...config, pin: wrongPin }), (err: unknown) => {
      assert.ok(isHsmError(err, 'HSM_LOGIN_FAILED'), `got ${String(err)}`);
      // PKCS#11 2.40 C_Login: a wrong PIN is CKR_PIN_INCORRECT, one the token cannot take CKR_PIN_INVALID or CKR_PIN_LEN_RANGE.
      assert.ok(['CKR_PIN_INCORRECT', 'CKR_PIN_INVALID', 'CKR_PIN_LEN_RANGE'].includes(err.ckr ?? ''), `got ${err.ckr}`);
      assert.ok(!err.message.includes(wrongPin), 'the PIN must not appear in the message');
      assert.ok(!err.message.includes(config.pin), 'the PIN must not appear in the message');
      return true;
    });
  });

  test('unknown token label gives HSM_TOKEN_NOT_FOUND', async () => {
    const label = `no-such-token-${randomBytes(4).toString('hex')}`;
    await assert.rejects(HsmConnection.open({ ...t.config, tokenLabel: label }), (err: unknown) => {
      assert.ok(isHsmError(err, 'HSM_TOKEN_NOT_FOUND'), `got ${String(err)}`);
      assert.match(err.message, new RegExp(label));
      return true;
    });
  });

  test('a token is found by label and, when given, serial number (tokens of one module may share a label); another serial number is not found', async () => {
    const probe = await HsmConnection.open(t.config, { sessions: 1 });
    const serial = await probe.withSession('test: serial number', (session) => session.slot.getToken().serialNumber);
    await probe.close();
    assert.ok(serial.length > 0);
    const bySerial = await HsmConnection.open({ ...t.config, tokenSerial: serial }, { sessions: 1 });
    assert.equal(bySerial.status, 'ok');
    await bySerial.close();
    assert.notEqual(serial, 'no-such-serial');
    await assert.rejects(HsmConnection.open({ ...t.config, tokenSerial: 'no-such-serial' }), (err: unknown) => {
      assert.ok(isHsmError(err, 'HSM_TOKEN_NOT_FOUND'), String(err));
      assert.match(err.message, /serial number/);
      return true;
    });
  });

  test('a PKCS#11 module that cannot be loaded gives HSM_UNAVAILABLE', async () => {
    await assert.rejects(HsmConnection.open({ ...t.config, modulePath: '/nonexistent/libpkcs11.so' }), (err: unknown) => {
      assert.ok(isHsmError(err, 'HSM_UNAVAILABLE'), `got ${String(err)}`);
      assert.ok(err.cause instanceof Error, 'the original error is chained as cause');
      return true;
    });
  });

  test('health reports ok', async () => {
    const connection = await HsmConnection.open(t.config);
    try {
      assert.equal(connection.status, 'ok');
      assert.deepEqual(await connection.health(), { status: 'ok', tokenLabel: t.config.tokenLabel });
    } finally {
      await connection.close();
    }
  });

  test('close() is safe to call twice and health then reports unavailable', async () => {
    const connection = await HsmConnection.open(t.config);
    await connection.close();
    await connection.close();
    const health = await connection.health();
    assert.equal(health.status, 'unavailable');
    await assert.rejects(
      connection.withSession('after close', () => 1),
      (err: unknown) => isHsmError(err, 'HSM_UNAVAILABLE'),
    );
  });

  test('a lost session makes the HSM unavailable and is re-established with backoff', async () => {
    const events: HsmStatus[] = [];
    const connection = await HsmConnection.open(t.config, {
      reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
      onStateChange: (event) => events.push(event.status),
    });
    try {
      const firstGeneration = connection.generation;
      // Pull every session of the pool out from under the connection, as a device reset would.
      await connection.withSession('test: closing all sessions behind the connection', (session) => {
        session.slot.closeAll();
      });
      const health = await connection.health();
      assert.equal(health.status, 'unavailable');
      assert.match(health.detail ?? '', /CKR_SESSION_HANDLE_INVALID|CKR_SESSION_CLOSED/);

      await waitFor(() => connection.status === 'ok');
      assert.deepEqual(await connection.health(), { status: 'ok', tokenLabel: connection.tokenLabel });
      assert.ok(connection.generation > firstGeneration, 'a new pool was opened');
      assert.deepEqual(events, ['unavailable', 'ok']);
    } finally {
      await connection.close();
    }
  });

  test('the sessions option is validated', async () => {
    for (const sessions of [0, -1, 1.5, 257, Number.NaN]) {
      await assert.rejects(HsmConnection.open(t.config, { sessions }), RangeError, String(sessions));
    }
  });

  test(`the pool holds ${DEFAULT_SESSIONS} distinct logged-in sessions by default`, async () => {
    const connection = await HsmConnection.open(t.config);
    try {
      assert.equal(connection.sessions, DEFAULT_SESSIONS);
      const seen = new Set<string>();
      let release: () => void = () => undefined;
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      // Hold every session at once so that each one is seen.
      const held = Array.from({ length: DEFAULT_SESSIONS }, (_, i) =>
        connection.withSession(`hold ${i}`, async (session) => {
          assert.equal(session.lib.C_GetSessionInfo(session.handle).state, CKS_RW_USER_FUNCTIONS, 'logged in');
          seen.add(session.handle.toString('hex'));
          await gate;
        }),
      );
      await waitFor(() => seen.size === DEFAULT_SESSIONS);
      release();
      await Promise.all(held);
      assert.equal(seen.size, DEFAULT_SESSIONS);
    } finally {
      await connection.close();
    }
  });

  test('operations run in parallel up to the pool size, the rest wait in order', async () => {
    for (const sessions of [1, 3]) {
      const connection = await HsmConnection.open(t.config, { sessions });
      try {
        let active = 0;
        let maxActive = 0;
        const started: number[] = [];
        await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            connection.withSession(`op ${i}`, async () => {
              started.push(i);
              active += 1;
              maxActive = Math.max(maxActive, active);
              await new Promise((resolve) => setTimeout(resolve, 10));
              active -= 1;
            }),
          ),
        );
        assert.equal(maxActive, sessions);
        assert.deepEqual(started, [0, 1, 2, 3, 4, 5, 6, 7], 'callers are served in order');
        // A failing operation does not break the pool (its session is replaced).
        await assert.rejects(
          connection.withSession('failing op', () => {
            throw new HsmError('HSM_OPERATION_FAILED', 'boom');
          }),
          (err: unknown) => isHsmError(err, 'HSM_OPERATION_FAILED') && err.message === 'boom',
        );
        assert.equal(await connection.withSession('after failure', () => 42), 42);
        assert.equal(connection.status, 'ok');
      } finally {
        await connection.close();
      }
    }
  });

  test('a session on which an operation failed is replaced, not reused', async () => {
    const connection = await HsmConnection.open(t.config, { sessions: 1 });
    try {
      const first = await connection.withSession('first', (session) => session);
      assert.equal(await connection.withSession('same', (session) => session), first, 'an idle session is reused');
      await assert.rejects(
        connection.withSession('failing', () => {
          throw new Error('boom');
        }),
      );
      const next = await connection.withSession('after failure', (session) => {
        assert.equal(session.lib.C_GetSessionInfo(session.handle).state, CKS_RW_USER_FUNCTIONS, 'still logged in');
        return session;
      });
      assert.notEqual(next, first);
      assert.throws(() => first.lib.C_GetSessionInfo(first.handle), /CKR_SESSION_HANDLE_INVALID|CKR_SESSION_CLOSED/, 'the old session is closed');
    } finally {
      await connection.close();
    }
  });

  test('callers waiting for a session fail with HSM_UNAVAILABLE when the pool goes down', async () => {
    const connection = await HsmConnection.open(t.config, { sessions: 1, reconnect: { initialDelayMs: 20, maxDelayMs: 200 } });
    try {
      let letGo: () => void = () => undefined;
      const gate = new Promise<void>((resolve) => {
        letGo = resolve;
      });
      const holder = connection.withSession('holder', async (session) => {
        await gate;
        session.slot.closeAll();
        session.lib.C_GetSessionInfo(session.handle); // CKR_SESSION_HANDLE_INVALID
      });
      const waiters = Array.from({ length: 3 }, (_, i) => connection.withSession(`waiter ${i}`, () => i));
      letGo();
      await assert.rejects(holder, (err: unknown) => isHsmError(err, 'HSM_UNAVAILABLE'));
      for (const waiter of waiters) await assert.rejects(waiter, (err: unknown) => isHsmError(err, 'HSM_UNAVAILABLE'));
      await waitFor(() => connection.status === 'ok');
      assert.equal(await connection.withSession('after recovery', () => 'fine'), 'fine');
    } finally {
      await connection.close();
    }
  });

  test('close() lets running and queued operations finish and refuses new ones', async () => {
    const connection = await HsmConnection.open(t.config, { sessions: 2 });
    const results = Array.from({ length: 5 }, (_, i) =>
      connection.withSession(`op ${i}`, async () => {
        await new Promise((resolve) => setTimeout(resolve, 10));
        return i;
      }),
    );
    const closing = Promise.all([connection.close(), connection.close()]);
    await assert.rejects(connection.withSession('too late', () => 1), (err: unknown) => isHsmError(err, 'HSM_UNAVAILABLE'));
    assert.deepEqual(await Promise.all(results), [0, 1, 2, 3, 4]);
    await closing;
    assert.equal(connection.status, 'unavailable');
  });

  test('supportsMechanism reads the mechanism list and flags of the slot', async () => {
    const connection = await HsmConnection.open(t.config);
    try {
      assert.equal(await connection.supportsMechanism(pkcs11.CKM_ECDSA, { flags: pkcs11.CKF_SIGN }), true);
      assert.equal(await connection.supportsMechanism(pkcs11.CKM_EC_KEY_PAIR_GEN, { flags: pkcs11.CKF_GENERATE_KEY_PAIR, keyBits: 256 }), true);
      assert.equal(await connection.supportsMechanism(pkcs11.CKM_ECDSA, { flags: pkcs11.CKF_ENCRYPT }), false, 'ECDSA does not encrypt');
      assert.equal(await connection.supportsMechanism(pkcs11.CKM_EC_KEY_PAIR_GEN, { keyBits: 100_000 }), false, 'key size out of range');
      // Vendor-defined range (CKM_VENDOR_DEFINED | 0x7ffff00), surely not offered.
      assert.equal(await connection.supportsMechanism(0x87ffff00), false);
    } finally {
      await connection.close();
    }
  });
});
