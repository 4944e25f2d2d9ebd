import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { canonicalJson, verifyChain } from '../../server/audit/index.js';
import { Store } from '../../server/store/index.js';
import { repoRoot } from '../support/testGateway.js';

function storeWithEvents(n: number): { store: Store; file: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gw-audit-'));
  const file = path.join(dir, 'gateway.db');
  const store = Store.open(file);
  store.transaction(() => {
    for (let i = 0; i < n; i++) {
      store.appendAudit({ at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(), type: 'test.event', actorId: null, actorRole: 'system', subjectId: `s${i}`, data: { i, text: 'æøå ✓' } });
    }
  });
  return { store, file };
}

describe('audit hash chain (NSIS 6 (Low) 7: integrity-protected log)', () => {
  it('canonical JSON sorts keys and drops whitespace', () => {
    assert.equal(canonicalJson({ b: 1, a: [true, null, 'x'], c: { z: 1, y: 2 } }), '{"a":[true,null,"x"],"b":1,"c":{"y":2,"z":1}}');
  });

  it('an intact chain verifies', () => {
    const { store } = storeWithEvents(50);
    const verdict = verifyChain(store.iterateAudit());
    assert.deepEqual(verdict.ok && verdict.entries, 50);
    store.close();
  });

  it('the audit table is append-only: UPDATE and DELETE are refused by the database', () => {
    const { store } = storeWithEvents(3);
    assert.throws(() => store.db.prepare("UPDATE audit_events SET type = 'x' WHERE seq = 2").run(), /append-only/);
    assert.throws(() => store.db.prepare('DELETE FROM audit_events WHERE seq = 3').run(), /append-only/);
    store.close();
  });

  it('an altered, a removed and a reordered entry are each named as the first broken entry', () => {
    const cases: [string, (s: Store) => void, number][] = [
      ['altered', (s) => s.db.prepare(`UPDATE audit_events SET data = '{"i":99}' WHERE seq = 7`).run(), 7],
      ['removed', (s) => s.db.prepare('DELETE FROM audit_events WHERE seq = 4').run(), 4],
      ['hash rewritten', (s) => s.db.prepare(`UPDATE audit_events SET hash = '${'a'.repeat(64)}' WHERE seq = 9`).run(), 9],
    ];
    for (const [name, tamper, seq] of cases) {
      const { store } = storeWithEvents(12);
      // An attacker with write access to the file can drop the triggers; the chain still tells.
      store.db.exec('DROP TRIGGER audit_events_no_update; DROP TRIGGER audit_events_no_delete;');
      tamper(store);
      const verdict = verifyChain(store.iterateAudit());
      assert.equal(verdict.ok, false, name);
      assert.equal(!verdict.ok && verdict.firstBrokenSeq, seq, name);
      store.close();
    }
  });

  it('the audit:verify command reports an intact chain (exit 0) and names the broken entry (exit 1)', () => {
    const { store, file } = storeWithEvents(20);
    store.close();
    // Its own (empty) witness directory: the repository's var/ may hold a development gateway's.
    const cmd = [path.join(repoRoot, 'scripts', 'verify-audit.ts'), '--witness', path.join(path.dirname(file), 'audit-witness'), file];
    const ok = execFileSync(process.execPath, ['--import', 'tsx', ...cmd], { cwd: repoRoot, encoding: 'utf8' });
    assert.match(ok, /chain intact: 20 entries/);
    const s2 = Store.open(file);
    s2.db.exec('DROP TRIGGER audit_events_no_update;');
    s2.db.prepare(`UPDATE audit_events SET type = 'forged' WHERE seq = 13`).run();
    s2.close();
    const broken = spawnSync(process.execPath, ['--import', 'tsx', ...cmd], { cwd: repoRoot, encoding: 'utf8' });
    assert.equal(broken.status, 1);
    assert.match(broken.stdout, /BROKEN at entry 13/);
  });
});
