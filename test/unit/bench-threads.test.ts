/**
 * The profile's "Other threads" row split by kind of thread (issue 17: the largest row the report
 * did not explain): scripts/bench/threadKinds.ts classifies the threads the probe's census found
 * (threadCensus.ts), and profileCosts.ts's split adds up to the row, a cluster primary apart.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { threadParts } from '../../scripts/bench/profileCosts.js';
import { allThreadsMs, takeCensus } from '../../scripts/bench/threadCensus.js';
import { PRIMARY, THREAD_KINDS, THREAD_REASONS, cpuByKind, kindOf, threadReasonOf, type ThreadCensus } from '../../scripts/bench/threadKinds.js';

const census: ThreadCensus = { pid: 100, pool: new Set([105, 106]), loops: new Set([101]), startup: new Set([100, 101, 102, 103, 105, 106]) };

describe('bench: the other threads of a server process, by kind', () => {
  it("classifies the JavaScript thread, the pool, event loops, V8 threads, the profiler's and threads born later", () => {
    const withProfiler = { ...census, profiler: new Set([108]) };
    assert.deepEqual([100, 101, 102, 105, 107, 108].map((t) => kindOf(t, withProfiler)), ['main', 'loops', 'v8', 'pool', 'later', 'profiler']);
  });

  it('sums each kind over a window, a thread born in it counting from zero, the JavaScript thread left out', () => {
    const before = new Map([[100, 50], [101, 1], [102, 10], [105, 3], [106, 4]]);
    const after = new Map([[100, 90], [101, 1], [102, 14], [105, 8], [106, 6], [107, 2.5]]);
    assert.deepEqual(cpuByKind(before, after, census), { loops: 0, v8: 4, pool: 7, later: 2.5 });
  });

  it('splits the row into kinds that add up to it, the remainder what the live threads do not cover', () => {
    const parts = threadParts({ threadMs: 40, processMs: 55, threads: { pool: 7, v8: 4, later: 2.5, loops: 0 }, role: 'worker' }, 15_000);
    assert.equal(parts.reduce((s, [, us]) => s + us, 0), 15_000);
    assert.deepEqual(new Map(parts).get(THREAD_KINDS.rest), 1500);
    const primary = threadParts({ threadMs: 1, processMs: 2, threads: { v8: 0.5 }, role: 'primary' }, 1000);
    assert.ok(primary.every(([p]) => p.startsWith(PRIMARY)));
    // An old profile without the census: all of it is the remainder.
    assert.deepEqual(threadParts({ threadMs: 1, processMs: 2 }, 1000), [[THREAD_KINDS.rest, 1000]]);
  });

  it('gives every kind a reason', () => {
    for (const kind of Object.values(THREAD_KINDS)) {
      assert.ok(THREAD_REASONS[kind], kind);
      assert.notEqual(threadReasonOf(`${PRIMARY}${kind}`), '–');
    }
  });

  it("finds this process's libuv pool threads by blocking them in the open of FIFOs (Linux)", { skip: process.platform !== 'linux' }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'census-'));
    try {
      const c = await takeCensus(dir);
      assert.ok(c);
      const size = Number.parseInt(process.env['UV_THREADPOOL_SIZE'] ?? '', 10) || 4;
      assert.equal(c.pool.size, size);
      assert.ok(!c.pool.has(process.pid));
      for (const t of c.pool) assert.ok(c.startup.has(t));
      // The pool is released: it still runs jobs, and no FIFO is left behind.
      await fs.promises.stat(dir);
      assert.deepEqual(fs.readdirSync(dir), []);
      assert.ok((allThreadsMs().get(process.pid) ?? 0) > 0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
