/**
 * HsmConnection against the real SoftHSM token.
 *
 * The login state is per process, so the wrong-PIN test runs first, before
 * any connection of this process has logged in (test files run in separate
 * processes, tests within a file one after the other).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { type HsmStatus, HsmConnection, HsmError, isHsmError } from '../../hsm/index.js';
import { testHsmConfig, waitFor } from './helpers.js';

test('wrong PIN gives HSM_LOGIN_FAILED', async () => {
  const config = testHsmConfig();
  const wrongPin = `wrong-${randomBytes(8).toString('hex')}`;
  await assert.rejects(HsmConnection.open({ ...config, pin: wrongPin }), (err: unknown) => {
    assert.ok(isHsmError(err, 'HSM_LOGIN_FAILED'), `got ${String(err)}`);
    assert.equal(err.ckr, 'CKR_PIN_INCORRECT');
    assert.ok(!err.message.includes(wrongPin), 'the PIN must not appear in the message');
    assert.ok(!err.message.includes(config.pin), 'the PIN must not appear in the message');
    return true;
  });
});

test('unknown token label gives HSM_TOKEN_NOT_FOUND', async () => {
  const label = `no-such-token-${randomBytes(4).toString('hex')}`;
  await assert.rejects(HsmConnection.open(testHsmConfig({ tokenLabel: label })), (err: unknown) => {
    assert.ok(isHsmError(err, 'HSM_TOKEN_NOT_FOUND'), `got ${String(err)}`);
    assert.match(err.message, new RegExp(label));
    return true;
  });
});

test('a PKCS#11 module that cannot be loaded gives HSM_UNAVAILABLE', async () => {
  await assert.rejects(HsmConnection.open(testHsmConfig({ modulePath: '/nonexistent/libpkcs11.so' })), (err: unknown) => {
    assert.ok(isHsmError(err, 'HSM_UNAVAILABLE'), `got ${String(err)}`);
    assert.ok(err.cause instanceof Error, 'the original error is chained as cause');
    return true;
  });
});

test('health reports ok', async () => {
  const connection = await HsmConnection.open(testHsmConfig());
  try {
    assert.equal(connection.status, 'ok');
    assert.deepEqual(await connection.health(), { status: 'ok', tokenLabel: testHsmConfig().tokenLabel });
  } finally {
    await connection.close();
  }
});

test('close() is safe to call twice and health then reports unavailable', async () => {
  const connection = await HsmConnection.open(testHsmConfig());
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
  const connection = await HsmConnection.open(testHsmConfig(), {
    reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
    onStateChange: (event) => events.push(event.status),
  });
  try {
    const firstGeneration = connection.generation;
    // Pull the session out from under the connection, as a device reset would.
    await connection.withSession('test: closing the session behind the connection', (session) => {
      session.close();
    });
    const health = await connection.health();
    assert.equal(health.status, 'unavailable');
    assert.match(health.detail ?? '', /CKR_SESSION_HANDLE_INVALID|CKR_SESSION_CLOSED/);

    await waitFor(() => connection.status === 'ok');
    assert.deepEqual(await connection.health(), { status: 'ok', tokenLabel: connection.tokenLabel });
    assert.ok(connection.generation > firstGeneration, 'a new session was opened');
    assert.deepEqual(events, ['unavailable', 'ok']);
  } finally {
    await connection.close();
  }
});

test('operations are serialised on the session', async () => {
  const connection = await HsmConnection.open(testHsmConfig());
  try {
    let active = 0;
    let maxActive = 0;
    await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        connection.withSession(`op ${i}`, async () => {
          active += 1;
          maxActive = Math.max(maxActive, active);
          await new Promise((resolve) => setTimeout(resolve, 5));
          active -= 1;
        }),
      ),
    );
    assert.equal(maxActive, 1);
    // A failing operation does not break the queue.
    await assert.rejects(
      connection.withSession('failing op', () => {
        throw new HsmError('HSM_OPERATION_FAILED', 'boom');
      }),
    );
    assert.equal(await connection.withSession('after failure', () => 42), 42);
  } finally {
    await connection.close();
  }
});
