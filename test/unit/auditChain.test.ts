import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { canonicalJson, verifyChain } from '../../server/audit/index.js';
import type { Store } from '../../server/ports/store.js';
import { SqliteStore } from '../../server/store/sqlite/index.js';
import { closeInspection, openSqlFile, sql } from '../support/sqliteInspection.js';
import { auditEntries } from '../support/storeReads.js';
import { repoRoot } from '../support/testGateway.js';

const dirs: string[] = [];

async function storeWithEvents(n: number): Promise<{ store: Store; file: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gw-audit-'));
  dirs.push(dir);
  const file = path.join(dir, 'gateway.db');
  const store = SqliteStore.open(file);
  await store.write(async (tx) => {
    for (let i = 0; i < n; i++) {
      await tx.audit.append({ at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(), type: 'test.event', actorId: null, actorRole: 'system', subjectId: `s${i}`, data: { i, text: 'æøå ✓' } });
    }
  });
  return { store, file };
}

async function closeAll(store: Store, file: string): Promise<void> {
  closeInspection(file);
  await store.close();
}

/** Each test's database directory, removed when the file's tests are done. */
after(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

describe('audit hash chain (NSIS 6 (Low) 7: integrity-protected log)', () => {
  it('canonical JSON sorts keys and drops whitespace', () => {
    assert.equal(canonicalJson({ b: 1, a: [true, null, 'x'], c: { z: 1, y: 2 } }), '{"a":[true,null,"x"],"b":1,"c":{"y":2,"z":1}}');
  });

  it('an intact chain verifies', async () => {
    const { store, file } = await storeWithEvents(50);
    const verdict = verifyChain(await auditEntries(store));
    assert.deepEqual(verdict.ok && verdict.entries, 50);
    await closeAll(store, file);
  });

  it('the audit table is append-only: UPDATE and DELETE are refused by the database', async () => {
    const { store, file } = await storeWithEvents(3);
    assert.throws(() => sql(file).prepare("UPDATE audit_events SET type = 'x' WHERE seq = 2").run(), /append-only/);
    assert.throws(() => sql(file).prepare('DELETE FROM audit_events WHERE seq = 3').run(), /append-only/);
    await closeAll(store, file);
  });

  it('an altered, a removed and a reordered entry are each named as the first broken entry', async () => {
    const cases: [string, (file: string) => void, number][] = [
      ['altered', (f) => sql(f).prepare(`UPDATE audit_events SET data = '{"i":99}' WHERE seq = 7`).run(), 7],
      ['removed', (f) => sql(f).prepare('DELETE FROM audit_events WHERE seq = 4').run(), 4],
      ['hash rewritten', (f) => sql(f).prepare(`UPDATE audit_events SET hash = '${'a'.repeat(64)}' WHERE seq = 9`).run(), 9],
    ];
    for (const [name, tamper, seq] of cases) {
      const { store, file } = await storeWithEvents(12);
      // An attacker with write access to the file can drop the triggers; the chain still tells.
      sql(file).exec('DROP TRIGGER audit_events_no_update; DROP TRIGGER audit_events_no_delete;');
      tamper(file);
      const verdict = verifyChain(await auditEntries(store));
      assert.equal(verdict.ok, false, name);
      assert.equal(!verdict.ok && verdict.firstBrokenSeq, seq, name);
      await closeAll(store, file);
    }
  });

  it('the audit:verify command reports an intact chain (exit 0) and names the broken entry (exit 1)', async () => {
    const { store, file } = await storeWithEvents(20);
    await closeAll(store, file);
    // Its own (empty) witness directory: the repository's var/ may hold a development gateway's.
    const cmd = [path.join(repoRoot, 'scripts', 'verify-audit.ts'), '--witness', path.join(path.dirname(file), 'audit-witness'), file];
    const ok = execFileSync(process.execPath, ['--import', 'tsx', ...cmd], { cwd: repoRoot, encoding: 'utf8' });
    assert.match(ok, /chain intact: 20 entries/);
    const s2 = openSqlFile(file);
    s2.exec('DROP TRIGGER audit_events_no_update;');
    s2.prepare(`UPDATE audit_events SET type = 'forged' WHERE seq = 13`).run();
    s2.close();
    const broken = spawnSync(process.execPath, ['--import', 'tsx', ...cmd], { cwd: repoRoot, encoding: 'utf8' });
    assert.equal(broken.status, 1);
    assert.match(broken.stdout, /BROKEN at entry 13/);
  });
});
