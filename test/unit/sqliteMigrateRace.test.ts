/**
 * Several processes opening one new SQLite file at the same moment (cluster workers, a CLI beside
 * the gateway) each migrate it: every process must start, and every migration is applied once.
 * Before the fix, the second process re-ran a migration the first had just applied and died with
 * "duplicate column name" (found by the brute-force cluster scenario in a fresh-clone run).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { LATEST_SCHEMA_VERSION } from '../../server/store/sqlite/migrate.js';

const root = path.resolve(import.meta.dirname, '..', '..');
const PROCESSES = 6;

/** One child process that opens (and so migrates) the file; resolves with its exit code and stderr. */
function openIn(file: string, go: string, ready?: string): Promise<{ code: number | null; stderr: string }> {
  const script = [
    "import fs from 'node:fs';",
    "import { SqliteStore } from './server/store/sqlite/SqliteStore.ts';",
    // Loaded: say so (a test that holds the file's lock waits for this before letting go).
    ready === undefined ? '' : `fs.writeFileSync(${JSON.stringify(ready)}, '');`,
    // Wait for the go file so that every process starts migrating at the same moment.
    `while (!fs.existsSync(${JSON.stringify(go)})) await new Promise((r) => setTimeout(r, 5));`,
    `const store = SqliteStore.open(${JSON.stringify(file)});`,
    'await store.close();',
  ].join('\n');
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('SQLite migrations with several processes at once', () => {
  it('six processes opening one new database file together all start, and each migration is applied exactly once', { timeout: 180_000 }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gw-migrate-race-'));
    try {
      const file = path.join(dir, 'gateway.db');
      const go = path.join(dir, 'go');
      const runs = Array.from({ length: PROCESSES }, () => openIn(file, go));
      // Give the children time to load before they are let go together.
      await new Promise((r) => setTimeout(r, 3000));
      fs.writeFileSync(go, '');
      const results = await Promise.all(runs);
      for (const r of results) assert.equal(r.code, 0, r.stderr);
      const db = new Database(file, { readonly: true });
      try {
        const rows = db.prepare('SELECT version, count(*) AS n FROM schema_migrations GROUP BY version ORDER BY version').all() as Array<{ version: number; n: number }>;
        assert.equal(rows.length, LATEST_SCHEMA_VERSION);
        assert.ok(rows.every((r) => r.n === 1));
        assert.equal(rows.at(-1)?.version, LATEST_SCHEMA_VERSION);
      } finally {
        db.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a process opening a new file while another holds its write lock waits for it (the switch to WAL tried again) rather than failing with "database is locked"', { timeout: 60_000 }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gw-open-locked-'));
    try {
      const file = path.join(dir, 'gateway.db');
      const go = path.join(dir, 'go');
      // Another process holds the new file's write lock while this one opens it. SQLite answers
      // the switch to WAL with SQLITE_BUSY at once there (no busy handler: waiting could
      // deadlock), so before the fix the opening process died of "database is locked" (a cluster
      // worker of the brute-force scenario did, one run in five).
      const holder = new Database(file);
      holder.exec('CREATE TABLE held (x)');
      holder.exec('BEGIN IMMEDIATE; INSERT INTO held VALUES (1)');
      const ready = path.join(dir, 'ready');
      const run = openIn(file, go, ready);
      while (!fs.existsSync(ready)) await new Promise((r) => setTimeout(r, 10));
      fs.writeFileSync(go, '');
      // The child is opening the file now; the lock is let go well within its busy timeout (5 s).
      await new Promise((r) => setTimeout(r, 1000));
      holder.exec('COMMIT');
      holder.close();
      const r = await run;
      assert.equal(r.code, 0, r.stderr);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
