/**
 * `npm run import` (scripts/import-csv.ts) against a running gateway: the whole file is checked
 * before anything is sent, large files go in chunks that are each all or nothing, progress goes to
 * stderr, a run stopped midway says how far it got, and running it again finishes the job
 * without creating anyone twice (NSIS 5.2 (Substantial) 8: the organisation binds its people).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { num } from '../../server/store/sqlite/rows.js';
import { activeAdmin } from '../support/journeys.js';
import { repoRoot, startTestGateway, type TestGateway } from '../support/testGateway.js';
import { dbGet } from '../support/dbInspection.js';
import { auditEntries, read } from '../support/storeReads.js';

describe('CSV import command (npm run import)', () => {
  let gw: TestGateway;
  let env: Record<string, string>;
  let sessionFile: string;
  before(async () => {
    gw = await startTestGateway();
    env = {
      ...Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined)),
      GATEWAY_VAR_DIR: gw.varDir, ...gw.storeEnv,
      GATEWAY_ORIGIN: gw.origin,
      GATEWAY_PORT: new URL(gw.origin).port,
    };
    const admin = await activeAdmin(gw);
    sessionFile = path.join(gw.varDir, 'admin.session');
    fs.writeFileSync(sessionFile, admin.client.cookie('gw_session') ?? '', { mode: 0o600 });
  });
  after(async () => {
    await gw.close();
  });

  // Asynchronous: the gateway under test runs in this process and must keep answering.
  const cli = (args: string[], extraEnv: Record<string, string> = {}) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'scripts', 'import-csv.ts'), ...args], { cwd: repoRoot, env: { ...env, ...extraEnv } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (status) => resolve({ status, stdout, stderr }));
    });

  const writeCsv = (name: string, lines: string[]) => {
    const file = path.join(gw.varDir, name);
    fs.writeFileSync(file, `${['name,email,ial,proofing_method,roles', ...lines].join('\n')}\n`);
    return file;
  };
  const person = (tag: string, i: number, proofing = 'ID document checked in person by HR') => `"Person ${i}, ${tag}",${tag}${i}@import.example,substantial,${proofing},`;
  const bound = async (tag: string) => ({ n: Number((await dbGet(gw, "SELECT COUNT(*) AS n FROM identities WHERE email LIKE ? AND binding_state = 'active'", [`${tag}%`]))?.['n']) });
  const imports = async () => (await auditEntries(gw.runtime.store)).filter((e) => e.type === 'identities.imported').length;

  it('NSIS 5.2 (Substantial) 8: a file with a bad row anywhere imports nothing and names the row; a dry run sends nothing', async () => {
    const lines = Array.from({ length: 300 }, (_, i) => person('bad', i));
    lines[250] = '"Person 250",not-an-email,substantial,ID document checked,';
    const file = writeCsv('bad.csv', lines);
    const before = (await imports());
    const res = await cli([file, '--session-file', sessionFile]);
    assert.equal(res.status, 1, res.stderr);
    assert.match(res.stderr, /1 problem\(s\) in .*bad\.csv; nothing was imported/);
    assert.match(res.stderr, /row 252 email: not an email address/);
    assert.equal((await bound('bad')).n, 0);
    assert.equal((await imports()), before, 'nothing reached the gateway');

    const good = writeCsv('dry.csv', Array.from({ length: 40 }, (_, i) => person('dry', i)));
    const dry = await cli([good, '--dry-run']);
    assert.equal(dry.status, 0, dry.stderr);
    assert.match(dry.stdout, /^40 rows would be imported/);
    assert.equal((await bound('dry')).n, 0);
    const usage = await cli([good]);
    assert.equal(usage.status, 2, 'an import without a session file is a usage error');
  });

  it('NSIS 5.2 (Substantial) 8: a large file goes in all-or-nothing chunks with progress; a second run skips everyone', async () => {
    const file = writeCsv('staff.csv', Array.from({ length: 1200 }, (_, i) => person('big', i)));
    const before = (await imports());
    const res = await cli([file, '--session-file', sessionFile, '--chunk-rows', '250']);
    assert.equal(res.status, 0, res.stderr);
    assert.match(res.stderr, /1200 rows checked .*sending in 5 chunk\(s\) of at most 250 rows, each all or nothing/);
    assert.match(res.stderr, /^import: 1,200 rows in [\d.]+ s \(/m, 'the final progress line');
    assert.match(res.stdout, /^1200 created, 0 skipped/);
    assert.equal((await bound('big')).n, 1200);
    assert.equal((await imports()) - before, 5, 'one import transaction per chunk');
    const identity = (await read(gw.runtime.store, (tx) => tx.identities.findActiveByEmail('big7@import.example')));
    assert.equal(identity?.name, 'Person 7, big', 'quoted fields survive the chunking');

    const again = await cli([file, '--session-file', sessionFile, '--chunk-rows', '250']);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /^0 created, 1200 skipped/);
    assert.match(again.stdout, /row 2 big0@import\.example: already bound to the organisation/, 'skipped rows are named by their row in the file');
    assert.equal((await bound('big')).n, 1200);
  });

  it('a run stopped midway says how far it got, and the same command run again finishes it', async () => {
    // Rows 2-101 are short; later rows carry long proofing notes, so the second chunk of 100 rows
    // exceeds the gateway's body limit (64 KiB) while the command believes it may send 1 MiB.
    const long = 'Passport checked in person; '.repeat(30).trim();
    const lines = Array.from({ length: 200 }, (_, i) => person('mid', i, i < 100 ? 'ID document checked in person by HR' : long));
    const file = writeCsv('mid.csv', lines);
    const stopped = await cli([file, '--session-file', sessionFile, '--chunk-rows', '100'], { GATEWAY_BODY_LIMIT_BYTES: String(1024 * 1024) });
    assert.equal(stopped.status, 1);
    assert.match(stopped.stderr, /refused the chunk starting at row 102: 413 PAYLOAD_TOO_LARGE/);
    assert.match(stopped.stderr, /rows up to 101 are imported \(100 created, 0 skipped\); the rest are not\. Run the same command again to finish/);
    assert.equal((await bound('mid')).n, 100, 'the first chunk committed, the refused one did not');

    const finished = await cli([file, '--session-file', sessionFile, '--chunk-rows', '100']);
    assert.equal(finished.status, 0, finished.stderr);
    assert.match(finished.stdout, /^100 created, 100 skipped/);
    assert.equal((await bound('mid')).n, 200);
  });
});
