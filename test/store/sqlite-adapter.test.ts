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
import { StoreBusy } from '../../server/ports/store.js';
import { SqliteStore, ephemeralFileOf } from '../../server/store/sqlite/index.js';
import { holderWithKey } from './adapters.js';

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

  it('the durable file commits with synchronous=FULL in WAL mode; the ephemeral file beside it with synchronous=OFF; both 0600', async () => {
    await holderWithKey(store);
    const settings = (await store.tools.describe()).settings;
    assert.equal(settings['journal_mode'], 'wal');
    assert.equal(settings['synchronous'], 2, 'FULL');
    const eph = new Database(ephemeralFileOf(file), { readonly: true });
    try {
      assert.equal(eph.pragma('journal_mode', { simple: true }), 'wal');
    } finally {
      eph.close();
    }
    assert.equal(ephemeralFileOf(file), path.join(dir, 'gateway-ephemeral.db'));
    for (const f of [file, ephemeralFileOf(file)]) assert.equal(fs.statSync(f).mode & 0o777, 0o600, f);
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
