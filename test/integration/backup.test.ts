/**
 * Online backup while serving: the copy made during sign-ins is one self-contained file (no
 * -wal/-shm beside it), private, opens, and its audit chain and signed checkpoints verify (NSIS
 * 4.1.4, 6 (Low) 7).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { activeAdmin, signIn } from '../support/journeys.js';
import { repoRoot, startTestGateway, type TestGateway } from '../support/testGateway.js';
import { openSqlFile } from '../support/sqliteInspection.js';
import { sqliteOnly } from '../support/backend.js';

/** Why this runs on SQLite only (the PostgreSQL run reports it skipped with this reason). */
const SQLITE_ONLY =
  'npm run backup copies the SQLite file (VACUUM INTO); on PostgreSQL it refuses and points at pg_dump/PITR (test/unit/postgres-config.test.ts)';

describe('online backup (npm run backup)', sqliteOnly(SQLITE_ONLY), () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway();
  });
  after(async () => {
    await gw.close();
  });

  it('NSIS 4.1.4: a backup taken while sign-ins run is one file (no -wal or -shm), mode 0600, opens, and its audit trail verifies', async () => {
    const admin = await activeAdmin(gw);
    await gw.runtime.checkpointer?.checkpoint(true);
    const target = path.join(gw.varDir, 'backups', 'copy.db');
    let running = true;
    const load = (async () => {
      let n = 0;
      while (running) {
        assert.equal((await signIn(gw, admin.client, admin.auth, admin.email)).status, 200);
        n++;
      }
      return n;
    })();
    const result = await new Promise<{ status: number | null; out: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'scripts', 'backup.ts'), target], {
        cwd: repoRoot,
        env: { ...process.env, GATEWAY_VAR_DIR: gw.varDir, GATEWAY_ORIGIN: gw.origin, GATEWAY_PORT: new URL(gw.origin).port, GATEWAY_HSM_PIN_FILE: path.join(repoRoot, 'var', 'hsm-user.pin') },
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      child.on('error', reject);
      child.on('close', (status) => resolve({ status, out }));
    });
    running = false;
    const signIns = await load;
    assert.equal(result.status, 0, result.out);
    assert.match(result.out, /audit chain intact \(\d+ entries\); [1-9]\d* signed checkpoints verify/);
    assert.ok(signIns > 0, 'sign-ins kept succeeding during the backup');
    // One file: nothing beside it that a copy of the single file would miss, or leave behind.
    assert.deepEqual(fs.readdirSync(path.dirname(target)), ['copy.db']);
    assert.equal(fs.statSync(target).mode & 0o777, 0o600);
    const copy = openSqlFile(target, { readonly: true });
    try {
      assert.equal(copy.pragma('journal_mode', { simple: true }), 'delete', 'the copy is not in WAL mode');
      assert.equal(copy.pragma('integrity_check', { simple: true }), 'ok');
    } finally {
      copy.close();
    }
    assert.deepEqual(fs.readdirSync(path.dirname(target)), ['copy.db'], 'opening the copy leaves nothing beside it');
  });
});
