/**
 * Verifying a large audit chain shows progress (issue 7: long-running commands show progress and
 * the time left); the progress callback never changes what the verification finds.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { measureAuditVerification, verifyStoreAudit } from '../../server/audit/verifyAudit.js';
import type { Store } from '../../server/ports/store.js';
import { SqliteStore, withSqliteFile } from '../../server/store/sqlite/index.js';
import { closeInspection, sql } from '../support/sqliteInspection.js';
import { repoRoot } from '../support/testGateway.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

async function storeWithEvents(n: number): Promise<{ store: Store; file: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gw-audit-progress-'));
  dirs.push(dir);
  const file = path.join(dir, 'gateway.db');
  const store = SqliteStore.open(file);
  await store.write(async (tx) => {
    for (let i = 0; i < n; i++) {
      await tx.audit.append({ at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(), type: 'test.event', actorId: null, actorRole: 'system', subjectId: `s${i}`, data: { i } });
    }
  });
  return { store, file };
}

describe('audit verification progress (NSIS 6 (Low) 7; issue 7 operability)', () => {
  it('is called from 0, rises monotonically in steps of progressEvery and ends at the entry count; the report is unchanged', async () => {
    const { store } = await storeWithEvents(2500);
    const calls: [number, number][] = [];
    const report = await verifyStoreAudit(store, { onProgress: (done, expected) => calls.push([done, expected]), progressEvery: 1000 });
    assert.deepEqual(calls, [
      [0, 2500],
      [1000, 2500],
      [2000, 2500],
      [2500, 2500],
    ]);
    assert.equal(report.chain.ok && report.chain.entries, 2500);
    assert.deepEqual(report, await verifyStoreAudit(store));
    await store.close();
  });

  it('on a broken chain it ends at the entries verified before the break, and the break is still named', async () => {
    const { store, file } = await storeWithEvents(1200);
    sql(file).exec('DROP TRIGGER audit_events_no_update;');
    sql(file).prepare(`UPDATE audit_events SET data = '{"i":-1}' WHERE seq = 777`).run();
    closeInspection(file);
    const calls: number[] = [];
    const report = await verifyStoreAudit(store, { onProgress: (done) => calls.push(done), progressEvery: 100 });
    assert.equal(report.ok, false);
    assert.equal(!report.chain.ok && report.chain.firstBrokenSeq, 777);
    assert.equal(calls.at(-1), 776);
    assert.equal(calls.at(-1), report.chain.entries);
    for (let i = 1; i < calls.length; i++) assert.ok((calls[i] ?? 0) >= (calls[i - 1] ?? 0), 'progress never goes back');
    assert.deepEqual(report, await verifyStoreAudit(store));
    await store.close();
  });

  it('measureAuditVerification reports the entries verified and a rate from the file alone', async () => {
    const { store, file } = await storeWithEvents(300);
    await store.close();
    const figures = await withSqliteFile(file, (tx) => measureAuditVerification(tx));
    assert.equal(figures.ok, true);
    assert.equal(figures.entries, 300);
    assert.ok(figures.seconds > 0 && figures.entriesPerSecond > 0);
  });

  it('npm run audit:verify prints its progress on stderr for a chain of 10,000 entries, the report on stdout', async () => {
    const { store, file } = await storeWithEvents(10_000);
    await store.close();
    const run = spawnSync(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'scripts', 'verify-audit.ts'), '--no-witness', file], { cwd: repoRoot, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /chain intact: 10000 entries, head [0-9a-f]{64} \([\d.]+ s, \d+ entries\/s\)/);
    assert.match(run.stderr, /audit: 10,000 entries in [\d.]+ s/);
  });
});
