/**
 * Issue 17: a bench phase that overruns names where each load generator waits. A generator whose
 * event loop is blocked cannot say so itself (its own watchdog is a timer), so the bench asks the
 * kernel (state, wait channel) and gdb (the main thread's native backtrace).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { test } from 'node:test';
import { nativeStack, processState } from '../../scripts/bench/phaseGuard.js';

test('issue 17: a process blocked on its main thread is named by its state and its native backtrace (the wait it is in)', async (t) => {
  // Blocked for ever in Atomics.wait: no timer, no I/O, nothing on stderr.
  const child = spawn(process.execPath, ['-e', "process.stdout.write('blocked\\n'); Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0)"], { stdio: ['ignore', 'pipe', 'ignore'] });
  t.after(() => child.kill('SIGKILL'));
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  // Give it a moment to enter the wait.
  await new Promise((r) => setTimeout(r, 300));
  assert.match(processState(child.pid), /^state S \(sleeping\), waiting in futex\w*, [\d.]+ s of CPU, \d+ threads$/);
  const stack = nativeStack(child.pid);
  assert.match(stack, /^main thread:\n/);
  assert.match(stack, /Atomics|Futex/i, stack);
  const file = /every thread: (\S+)$/.exec(stack)?.[1];
  assert.ok(file && fs.existsSync(file), 'the full backtrace is kept in a file');
  fs.rmSync(file);
  assert.equal(processState(999_999_999), 'gone from /proc');
});
