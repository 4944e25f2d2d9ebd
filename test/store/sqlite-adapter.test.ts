/**
 * The SQLite adapter's own promises, beyond the port's (test/store/*.test.ts hold every adapter
 * to those): the durability of each file, private files, and a write lock held by another
 * process waited for without blocking the event loop.
 */
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { StoreBusy, StoreUnavailable } from '../../server/ports/store.js';
import { SqliteStore, ephemeralFileOf } from '../../server/store/sqlite/index.js';
import { holderWithKey, organisation } from './adapters.js';

describe('SQLite adapter', () => {
  let dir: string;
  let file: string;
  let store: SqliteStore;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gw-sqlite-'));
    file = path.join(dir, 'gateway.db');
    store = SqliteStore.open(file);
  });
  after(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the durable file is in WAL mode and its writer flushes the WAL (fdatasync) before it acknowledges a commit; the ephemeral file beside it with synchronous=OFF; both 0600', async () => {
    await holderWithKey(store);
    const settings = (await store.tools.describe()).settings;
    assert.equal(settings['journal_mode'], 'wal');
    // NORMAL: SQLite itself does not fsync at COMMIT; the writer flushes the WAL before answering (next tests).
    assert.equal(settings['synchronous'], 1, 'NORMAL');
    assert.match(String(settings['commit_flush']), /fdatasync of the WAL/);
    const eph = new Database(ephemeralFileOf(file), { readonly: true });
    try {
      assert.equal(eph.pragma('journal_mode', { simple: true }), 'wal');
    } finally {
      eph.close();
    }
    assert.equal(ephemeralFileOf(file), path.join(dir, 'gateway-ephemeral.db'));
    for (const f of [file, ephemeralFileOf(file)]) assert.equal(fs.statSync(f).mode & 0o777, 0o600, f);
  });

  it('issue 17: a commit is acknowledged, and its after-commit callbacks run, only once its WAL is flushed to disk; the event loop and the next commit go on meanwhile', async () => {
    const flushFile = path.join(dir, 'flush.db');
    const events: string[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    let calls = 0;
    const flushing = SqliteStore.open(flushFile, {
      flushWal: async (dbFile) => {
        calls += 1;
        assert.equal(dbFile, flushFile);
        events.push(`flush ${calls} begins`);
        // The first group's flush waits for the test; later ones are immediate.
        if (calls === 1) await gate;
        events.push(`flush ${calls} done`);
      },
    });
    try {
      let orgId = '';
      const first = flushing.write(async (tx) => {
        orgId = (await organisation(tx)).id;
        tx.afterCommit(() => events.push('first: after-commit'));
        return 'first';
      });
      let firstSettled = false;
      void first.then(() => (firstSettled = true));
      while (calls < 1) await new Promise((r) => setTimeout(r, 2));
      // The first group is committed (visible to a reader) but not flushed: not acknowledged, no callback.
      assert.equal((await flushing.read((tx) => tx.organisations.get(orgId)))?.id, orgId);
      // This test's own code runs on (a read, a second write) while the first flush is pending: the event loop is free.
      const second = await flushing.write(async (tx) => {
        await tx.leases.acquire('second', 'h', '9999-01-01T00:00:00.000Z', new Date().toISOString());
        return 'second';
      });
      assert.equal(second, 'second', 'the next group committed and was flushed while the first was still flushing');
      assert.equal(firstSettled, false);
      assert.ok(!events.includes('first: after-commit'));
      release();
      assert.equal(await first, 'first');
      assert.ok(events.indexOf('flush 1 done') < events.indexOf('first: after-commit'), events.join(', '));
    } finally {
      release();
      await flushing.close();
    }
  });

  it('issue 17: a WAL flush that fails answers StoreUnavailable (outcome unknown) and runs no after-commit callback', async () => {
    const flushFile = path.join(dir, 'flush-fails.db');
    let hookRan = false;
    const failing = SqliteStore.open(flushFile, {
      flushWal: async () => {
        throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
      },
    });
    try {
      await assert.rejects(
        failing.write(async (tx) => {
          await tx.leases.acquire('x', 'h', '9999-01-01T00:00:00.000Z', new Date().toISOString());
          tx.afterCommit(() => (hookRan = true));
        }),
        (err: unknown) => err instanceof StoreUnavailable && /outcome after a power cut is unknown/.test(err.message),
      );
      assert.equal(hookRan, false);
    } finally {
      await failing.close();
    }
  });

  it('a write inside a write is refused (it would wait for itself), and the outer write still commits', async () => {
    const outer = await store.write(async () => {
      await assert.rejects(store.write(async () => 1), TypeError);
      return 'outer';
    });
    assert.equal(outer, 'outer');
  });

  it('another process holding the write lock is waited for off the event loop; the write then commits', async () => {
    const blocker = new Database(file);
    blocker.prepare('BEGIN IMMEDIATE').run();
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 5);
    const writing = holderWithKey(store);
    await new Promise((r) => setTimeout(r, 300));
    blocker.prepare('COMMIT').run();
    blocker.close();
    const { key } = await writing;
    clearInterval(ticker);
    assert.ok(ticks >= 20, `the event loop ran while waiting (${ticks} ticks)`);
    assert.ok(await store.read((tx) => tx.credentials.get(key.id)));
  });

  it('a write lock held past the bound answers StoreBusy; nothing is half-written; the next write goes through', async () => {
    const blocker = new Database(file);
    blocker.prepare('BEGIN IMMEDIATE').run();
    try {
      await assert.rejects(holderWithKey(store), StoreBusy);
    } finally {
      blocker.prepare('ROLLBACK').run();
      blocker.close();
    }
    const { key } = await holderWithKey(store);
    assert.ok(await store.read((tx) => tx.credentials.get(key.id)));
  });

  it('issue 17: no COMMIT checkpoints the WAL (wal_autocheckpoint 0 on the writer); a thread of the store copies committed pages into the database file itself, and closing leaves no WAL behind', async () => {
    const own = path.join(dir, 'checkpointed.db');
    const s = SqliteStore.open(own);
    let copy: Database.Database | undefined;
    try {
      const { key } = await holderWithKey(s);
      // Past SQLite's threshold (1,000 pages in the WAL not yet copied), with the writer's own autocheckpoint off.
      await s.write(async (tx) => {
        for (let i = 0; i < 1200; i++) await tx.audit.append({ at: new Date().toISOString(), type: 'test.filler', actorId: null, actorRole: 'system', subjectId: null, data: { filler: 'x'.repeat(3000) } });
      });
      const alone = path.join(dir, 'file-alone.db');
      let found: unknown;
      for (let tries = 0; found === undefined && tries < 500; tries++) {
        await new Promise((r) => setTimeout(r, 20));
        // The database file without its WAL: only what a checkpoint copied into it.
        fs.copyFileSync(own, alone);
        copy = new Database(alone, { readonly: true });
        try {
          found = copy.prepare('SELECT id FROM credentials WHERE id = ?').get(key.id);
        } catch {
          // The copy caught the file mid-checkpoint (or before the schema reached it): try again.
        } finally {
          copy.close();
          copy = undefined;
        }
      }
      assert.deepEqual(found, { id: key.id }, 'the committed key is in the database file itself');
      assert.equal((await s.tools.describe()).settings['wal_checkpoint'], 'a thread, past 1000 pages (PASSIVE)');
    } finally {
      copy?.close();
      await s.close();
    }
    assert.equal(fs.existsSync(`${own}-wal`), false, 'the last connection closed checkpointed and removed the WAL');
    const reopened = SqliteStore.open(own, { checkpoint: 'commit' });
    try {
      assert.equal((await reopened.tools.describe()).settings['wal_checkpoint'], 'inside COMMIT, past 1000 pages (SQLite)');
    } finally {
      await reopened.close();
    }
  });

  it('an ephemeral file of another layout is emptied, never migrated', async () => {
    const other = path.join(dir, 'other.db');
    const first = SqliteStore.open(other);
    await first.ephemeral.limits.hit('k', 60_000, 0);
    await first.close();
    const eph = new Database(ephemeralFileOf(other));
    eph.pragma('user_version = 999');
    eph.close();
    const second = SqliteStore.open(other);
    try {
      assert.equal(await second.ephemeral.limits.get('k', 1), undefined);
      assert.equal((await second.ephemeral.limits.hit('k', 60_000, 1)).hits, 1);
    } finally {
      await second.close();
    }
  });
});
