/**
 * Tampering with a copy of a real gateway database (issue 11, attack 5): a real gateway process
 * (`server/main.ts`) enrols, activates and signs people in, checkpoints its audit trail every few
 * entries (each checkpoint also written to its witness directory) and stops cleanly. Then, on
 * copies of its database, everything someone with write access to the file can do, one case per
 * copy; `npm run audit:verify` against the exported trust anchor and the witness must find each.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { dropTriggers, eraseAndRenumber, fakePrune, forgeKey, insertKeyRecord, insertKeyRow, maxSeq, rechainFrom, resignCheckpoints } from '../support/auditTamper.js';
import { sqliteOnly } from '../support/backend.js';
import { disposeChildVarDir, startChildGateway, type ChildGateway } from '../support/childGateway.js';
import { activeAdmin, activeEmployee, signIn } from '../support/journeys.js';
import { repoRoot } from '../support/testGateway.js';
import { withSqliteFile } from '../../server/store/sqlite/fileReader.js';
import { openSqlFile, type SqlConnection } from '../support/sqliteInspection.js';
import { auditEntry, num } from '../../server/store/sqlite/rows.js';

interface Case {
  name: string;
  tamper: (db: SqlConnection) => void | Promise<void>;
  /** What audit:verify must say about it. */
  expect: RegExp;
}

function cli(args: string[], env: Record<string, string>): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, ['--import', 'tsx', ...args], { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, ...env } });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('audit tampering on copies of a real gateway database (NSIS 6 (Low) 7, 4.1.7 (Low) 3; issue 11 attack 5)', sqliteOnly('it tampers with copies of the SQLite file; verification of a tampered PostgreSQL database is test/store-postgres/verify-audit.test.ts'), () => {
  let gw: ChildGateway;
  let work: string;
  let anchorFile: string;
  let env: Record<string, string>;

  before(async () => {
    gw = await startChildGateway({ env: { GATEWAY_AUDIT_CHECKPOINT_EVERY: '4', GATEWAY_AUDIT_CHECKPOINT_SECONDS: '1' } });
    const checkpointCount = () => {
      const db = openSqlFile(gw.dbFile, { readonly: true });
      try {
        return num(db.prepare('SELECT count(*) AS n FROM audit_checkpoints').get(), 'n');
      } finally {
        db.close();
      }
    };
    /** Waits for the checkpointer (every 4 entries, checked every second) to sign the new entries. */
    const checkpointed = async (atLeast: number) => {
      const until = Date.now() + 30_000;
      while (checkpointCount() < atLeast) {
        if (Date.now() > until) throw new Error(`the gateway made fewer than ${atLeast} checkpoints`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    const admin = await activeAdmin(gw);
    await checkpointed(1);
    const emp = await activeEmployee(gw, admin.client, 'tamper@demo.example', 'Tamper Test');
    await checkpointed(2);
    for (let round = 3; round <= 5; round++) {
      for (let i = 0; i < 2; i++) assert.equal((await signIn(gw, emp.client, emp.auth, emp.email)).status, 200);
      await checkpointed(round);
    }
    assert.equal((await signIn(gw, emp.client, emp.auth, emp.email)).status, 200);
    // A clean stop signs a last checkpoint: every entry is covered.
    await gw.stop();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'gw-tamper-'));
    env = {
      GATEWAY_VAR_DIR: gw.varDir,
      GATEWAY_HSM_PIN_FILE: path.join(repoRoot, 'var', 'hsm-user.pin'),
      GATEWAY_ORIGIN: gw.origin,
      GATEWAY_PORT: String(gw.port),
    };
    anchorFile = path.join(work, 'anchor.json');
    const exported = cli([path.join('scripts', 'audit-anchor.ts'), anchorFile], env);
    assert.equal(exported.status, 0, exported.stderr);
  });

  after(async () => {
    if (work) fs.rmSync(work, { recursive: true, force: true });
    if (gw) await disposeChildVarDir(gw.varDir);
  });

  /** A fresh copy of the stopped gateway's database and witness directory. */
  function copy(name: string): { dir: string; db: string; witness: string } {
    const dir = path.join(work, name.replace(/[^a-z0-9]+/gi, '-'));
    fs.mkdirSync(dir);
    for (const suffix of ['', '-wal']) {
      if (fs.existsSync(gw.dbFile + suffix)) fs.copyFileSync(gw.dbFile + suffix, path.join(dir, `gateway.db${suffix}`));
    }
    fs.cpSync(path.join(gw.varDir, 'audit-witness'), path.join(dir, 'audit-witness'), { recursive: true });
    return { dir, db: path.join(dir, 'gateway.db'), witness: path.join(dir, 'audit-witness') };
  }

  function verify(c: { db: string; witness: string }, anchor = true) {
    return cli([path.join('scripts', 'verify-audit.ts'), ...(anchor ? ['--anchor', anchorFile] : []), '--witness', c.witness, c.db], env);
  }

  it('NSIS 6 (Low) 7: the untouched copy verifies against the exported anchor file and the witness, and against the HSM token itself (exit 0)', () => {
    const c = copy('intact');
    for (const anchor of [true, false]) {
      const run = verify(c, anchor);
      assert.equal(run.status, 0, run.stdout + run.stderr);
      assert.match(run.stdout, /RESULT: INTACT/);
      assert.match(run.stdout, anchor ? /trust anchor: the anchor file/ : /trust anchor: the HSM token "gateway"/);
      assert.match(run.stdout, /witness .*: (\d+) checkpoints, \1 of them in the database unchanged/);
      assert.match(run.stdout, /0 entries after the last valid checkpoint/);
    }
  });

  it('NSIS 6 (Low) 7, 4.1.7 (Low) 3: every tampering with the database is detected: edit, delete, reorder, truncate, delete checkpoints, forged key row, re-chain with a forged key, erase + re-chain + drop later checkpoints, fake prune (exit 1, named)', async (t) => {
    const checkpoints = await withSqliteFile(gw.dbFile, (tx) => tx.checkpoints.list());
    const db0 = openSqlFile(gw.dbFile, { readonly: true });
    const head = maxSeq(db0);
    db0.close();
    const [first, second] = checkpoints;
    const last = checkpoints[checkpoints.length - 1];
    const penultimate = checkpoints[checkpoints.length - 2];
    assert.ok(first && second && last && penultimate && last.seq === head, 'checkpoints cover the chain');
    const mid = Math.floor((second.seq + head) / 2);
    const forged = forgeKey();

    const cases: Case[] = [
      {
        name: 'edit an event',
        tamper: (db) => void db.prepare(`UPDATE audit_events SET data = json_set(data, '$.forged', 1) WHERE seq = ?`).run(mid),
        expect: new RegExp(`chain BROKEN at entry ${mid}`),
      },
      { name: 'delete one event', tamper: (db) => void db.prepare('DELETE FROM audit_events WHERE seq = ?').run(mid), expect: new RegExp(`entry ${mid} is missing`) },
      {
        name: 'reorder two events',
        tamper: (db) => {
          const read = db.prepare('SELECT * FROM audit_events WHERE seq = ?');
          const [x, y] = [auditEntry(read.get(mid)), auditEntry(read.get(mid + 1))];
          const put = db.prepare('UPDATE audit_events SET at = ?, type = ?, actor_id = ?, actor_role = ?, subject_id = ?, data = ? WHERE seq = ?');
          put.run(y.at, y.type, y.actorId, y.actorRole, y.subjectId, JSON.stringify(y.data), mid);
          put.run(x.at, x.type, x.actorId, x.actorRole, x.subjectId, JSON.stringify(x.data), mid + 1);
        },
        expect: new RegExp(`chain BROKEN at entry ${mid}`),
      },
      { name: 'truncate the tail', tamper: (db) => void db.prepare('DELETE FROM audit_events WHERE seq > ?').run(head - 3), expect: /TRUNCATED/ },
      {
        name: 'truncate the tail and delete the last checkpoint',
        tamper: (db) => {
          db.prepare('DELETE FROM audit_events WHERE seq > ?').run(penultimate.seq);
          db.prepare('DELETE FROM audit_checkpoints WHERE id = ?').run(last.id);
        },
        expect: new RegExp(`checkpoint ${last.n} \\(entries up to ${last.seq}.*missing from the database`),
      },
      { name: 'delete the last checkpoint', tamper: (db) => void db.prepare('DELETE FROM audit_checkpoints WHERE id = ?').run(last.id), expect: new RegExp(`checkpoint ${last.n} .*missing from the database`) },
      { name: 'delete all checkpoints', tamper: (db) => void db.exec('DELETE FROM audit_checkpoints'), expect: /checkpoint 1 .*missing from the database/ },
      { name: 'insert a forged key row', tamper: (db) => insertKeyRow(db, forged), expect: new RegExp(`key ${forged.kid} exists only in the database`) },
      {
        name: 're-chain with a forged key (edit, re-hash everything, own key row and record, re-sign every checkpoint)',
        tamper: async (db) => {
          db.prepare(`UPDATE audit_events SET data = json_set(data, '$.forged', 1) WHERE seq = ?`).run(mid);
          rechainFrom(db, mid);
          insertKeyRow(db, forged);
          insertKeyRecord(db, forged, mid);
          await resignCheckpoints(db, forged, gw.origin, 4);
        },
        expect: new RegExp(`key ${forged.kid} exists only in the database[\\s\\S]*signed with key ${forged.kid}, which neither the trust anchor`),
      },
      {
        name: 'erase an event, re-chain, and drop the checkpoints after it',
        tamper: (db) => {
          eraseAndRenumber(db, mid);
          db.prepare('DELETE FROM audit_checkpoints WHERE seq >= ?').run(mid);
        },
        expect: /is in the witness but missing from the database/,
      },
      {
        name: 'a fake prune record (unsigned)',
        tamper: (db) => fakePrune(db, undefined, first.seq, first.id),
        expect: new RegExp(`prune record \\d+ \\(entries through ${first.seq}\\): it is not signed`),
      },
      {
        name: 'a fake prune record signed with a forged key',
        tamper: (db) => fakePrune(db, forged, second.seq, second.id),
        expect: new RegExp(`prune record \\d+ \\(entries through ${second.seq}\\): signed with key ${forged.kid}, which is not trusted`),
      },
      {
        name: 'change a key row (publish it longer)',
        tamper: (db) => void db.prepare("UPDATE signing_keys SET published_until = '2999-01-01T00:00:00.000Z'").run(),
        expect: /the database row differs from its newest signed record: publishedUntil/,
      },
    ];

    let detected = 0;
    for (const c of cases) {
      const target = copy(c.name);
      const db = openSqlFile(target.db);
      dropTriggers(db);
      await c.tamper(db);
      db.close();
      const run = verify(target);
      const found = run.status === 1 && c.expect.test(run.stdout);
      if (found) detected++;
      t.diagnostic(`${found ? 'detected' : 'MISSED'}: ${c.name}${found ? '' : `\n${run.stdout}${run.stderr}`}`);
    }
    process.stdout.write(`audit tampering: ${detected} of ${cases.length} cases detected\n`);
    t.diagnostic(`audit tampering: ${detected} of ${cases.length} cases detected`);
    assert.equal(detected, cases.length);
  });

  it('NSIS 6 (Low) 7: a re-chain with a forged key is found with the HSM token as the anchor too, and the witness alone finds removed checkpoints without the anchor file', async () => {
    const c = copy('forged-hsm');
    const db = openSqlFile(c.db);
    dropTriggers(db);
    const forged = forgeKey();
    rechainFrom(db, 1);
    insertKeyRow(db, forged);
    await resignCheckpoints(db, forged, gw.origin, 4);
    db.close();
    const run = verify(c, false);
    assert.equal(run.status, 1, run.stdout);
    assert.match(run.stdout, /trust anchor: the HSM token/);
    assert.match(run.stdout, new RegExp(`PROBLEM: key ${forged.kid} exists only in the database`));
    assert.match(run.stdout, /differs from the one the witness holds: it was replaced/);
    assert.match(run.stdout, /RESULT: TAMPERED OR INCONSISTENT/);
  });
});
