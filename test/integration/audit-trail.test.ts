/**
 * Issue 16, the audit trail readable, over real HTTP on a real gateway (real store, real SoftHSM
 * token): filters and paging with people and keys by name, refusals audited, the CSV export
 * (RFC 4180, formula-safe) and the signed JSON export checked by the real `npm run audit:verify
 * -- --export` CLI, tampered copies refused.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { field } from '../support/apiClient.js';
import { activeAdmin, activeEmployee, signIn } from '../support/journeys.js';
import { startTestGateway, type TestGateway } from '../support/testGateway.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

interface Entry {
  seq: number;
  type: string;
  actorId: string | null;
  subjectId: string | null;
  actor: { id: string; kind: string; name: string | null } | null;
  subject: { id: string; kind: string; name: string | null; detail: string | null } | null;
}

/** The real CLI as a child process (async: the in-process gateway keeps serving meanwhile). */
function verifyCli(gw: TestGateway, file: string): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'scripts', 'verify-audit.ts'), '--export', file], {
      cwd: repoRoot,
      env: { ...process.env, GATEWAY_VAR_DIR: gw.varDir, GATEWAY_ORIGIN: gw.origin, GATEWAY_PORT: new URL(gw.origin).port, GATEWAY_HSM_PIN_FILE: path.join(repoRoot, 'var', 'hsm-user.pin'), GATEWAY_DATABASE_URL: '' },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, out }));
  });
}

describe('the audit trail a person can read (issue 16; NSIS 6 (Low) 7)', () => {
  let gw: TestGateway;
  let admin: Awaited<ReturnType<typeof activeAdmin>>;
  let emp: Awaited<ReturnType<typeof activeEmployee>>;
  let work: string;

  before(async () => {
    gw = await startTestGateway();
    admin = await activeAdmin(gw);
    // A name a spreadsheet would take for a formula.
    emp = await activeEmployee(gw, admin.client, 'ada@demo.example', '=HYPERLINK("http://evil.example","Ada")');
    for (let i = 0; i < 3; i++) assert.equal((await signIn(gw, emp.client, emp.auth, emp.email)).status, 200);
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'gw-audit-export-'));
  });
  after(async () => {
    await gw?.close();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('NSIS 6 (Low) 7: the trail filters by person, key, actor, event and time, newest first, paged, with people and keys by name and their ids on demand', async () => {
    const byPerson = await admin.client.get(`/api/security/audit/entries?person=${emp.identityId}`);
    assert.equal(byPerson.status, 200, JSON.stringify(byPerson.body));
    const entries = field<Entry[]>(byPerson.body, 'entries');
    assert.ok(entries.length >= 5);
    assert.ok(entries.every((e, i) => i === 0 || (entries[i - 1]?.seq ?? 0) > e.seq), 'newest first');
    const signin = entries.find((e) => e.type === 'signin.succeeded');
    assert.equal(signin?.actor?.name, '=HYPERLINK("http://evil.example","Ada")', 'the actor by name');
    assert.equal(signin?.actor?.id, emp.identityId, 'and the id on demand');
    const created = entries.find((e) => e.type === 'identity.created');
    assert.equal(created?.actor?.kind, 'person');
    assert.equal(created?.subject?.detail, 'ada@demo.example', 'people of the same name are told apart by address');

    const byKey = field<Entry[]>((await admin.client.get(`/api/security/audit/entries?key=${emp.keyId}`)).body, 'entries');
    assert.ok(byKey.length > 0 && byKey.every((e) => e.subjectId === emp.keyId));
    assert.equal(byKey[0]?.subject?.kind, 'key');
    assert.equal(byKey[0]?.subject?.detail, '=HYPERLINK("http://evil.example","Ada")', "a key is named with its holder's name");

    const byActorAndEvent = field<Entry[]>((await admin.client.get(`/api/security/audit/entries?actor=${emp.identityId}&event=signin.succeeded`)).body, 'entries');
    assert.equal(byActorAndEvent.length, 3 + 1, 'three sign-ins and the activation');

    const future = new Date(Date.now() + 3_600_000).toISOString();
    assert.deepEqual(field<Entry[]>((await admin.client.get(`/api/security/audit/entries?from=${future}`)).body, 'entries'), []);
    const past = new Date(Date.now() - 3_600_000).toISOString();
    assert.ok(field<Entry[]>((await admin.client.get(`/api/security/audit/entries?from=${past}&to=${future}`)).body, 'entries').length > 5);

    const first = await admin.client.get(`/api/security/audit/entries?person=${emp.identityId}&limit=2`);
    const next = field<number>(first.body, 'next');
    const second = await admin.client.get(`/api/security/audit/entries?person=${emp.identityId}&limit=2&before=${next}`);
    assert.deepEqual(
      [...field<Entry[]>(first.body, 'entries'), ...field<Entry[]>(second.body, 'entries')].map((e) => e.seq),
      entries.slice(0, 4).map((e) => e.seq),
      'the pages follow on without a gap',
    );
  });

  it('a filter that is not valid is refused with 400 VALIDATION_FAILED naming the parameter, never a 5xx', async () => {
    for (const q of ['from=yesterday', 'limit=100000', 'event=DROP%20TABLE', 'nosuch=1', `from=${new Date().toISOString()}&to=2000-01-01`]) {
      const r = await admin.client.get(`/api/security/audit/entries?${q}`);
      assert.equal(r.status, 400, q);
      assert.equal(r.code, 'VALIDATION_FAILED', q);
    }
  });

  it('NSIS 6 (Low) 7: only a security officer reads or exports the whole trail; an employee is refused 403 ROLE_REQUIRED and the refusal is in the trail', async () => {
    for (const p of ['/api/security/audit/entries', '/api/security/audit/export.csv', '/api/security/audit/export.json']) {
      const r = await emp.client.get(p);
      assert.equal(r.status, 403, p);
      assert.equal(r.code, 'ROLE_REQUIRED', p);
    }
    const refusals = field<Entry[]>((await admin.client.get(`/api/security/audit/entries?event=audit.read-refused&actor=${emp.identityId}`)).body, 'entries');
    assert.equal(refusals.length, 3);
  });

  it('NSIS 6 (Low) 7, 4.1.4: the CSV export is RFC 4180 with a byte order mark, in the language asked for, cells a spreadsheet would run as formulas are defused, and the export is audited', async () => {
    const r = await admin.client.get(`/api/security/audit/export.csv?person=${emp.identityId}&lang=da`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^text\/csv; charset=utf-8/);
    assert.match(r.headers.get('content-disposition') ?? '', /attachment; filename="audit-\d{8}-\d{6}\.csv"/);
    // fetch's text() drops a byte order mark: read the bytes.
    const raw = await fetch(`${gw.origin}/api/security/audit/export.csv?person=${emp.identityId}&lang=da`, { headers: { cookie: `gw_session=${admin.client.cookie('gw_session') ?? ''}` } });
    const bytes = Buffer.from(await raw.arrayBuffer());
    assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'UTF-8 byte order mark');
    const csv = bytes.subarray(3).toString('utf8');
    assert.ok(csv.startsWith('Nr.,Tidspunkt,Hændelse,'), csv.slice(0, 80));
    assert.ok(csv.includes('\r\n'));
    assert.ok(csv.includes('Logget ind,signin.succeeded,'), 'event names in Danish words');
    // The name cell starts with an apostrophe and is quoted with its quotes doubled.
    assert.ok(csv.includes(`"'=HYPERLINK(""http://evil.example"",""Ada"")`), 'formula defused and RFC 4180 quoted');
    assert.ok(!/(^|,)=HYPERLINK/m.test(csv), 'no cell starts with =');
    const exported = field<Entry[]>((await admin.client.get('/api/security/audit/entries?event=audit.exported&limit=1')).body, 'entries');
    assert.equal(exported[0]?.actorId, gw.seed.admin.id, 'who exported is recorded');
    assert.equal(String(r.body).split('\r\n')[0]?.split(',').length, 11, 'the header row');
  });

  it('NSIS 6 (Low) 7, 4.1.4, 4.1.7 (Low) 3: a signed JSON export verifies with npm run audit:verify -- --export (exit 0, what is proven and what not); a changed field, a removed entry, re-ordered entries or a wrong signature are refused (exit 1)', async () => {
    const r = await admin.client.get(`/api/security/audit/export.json?person=${emp.identityId}`);
    assert.equal(r.status, 200);
    const text = JSON.stringify(r.body);
    const file = path.join(work, 'export.json');
    fs.writeFileSync(file, text);
    const ok = await verifyCli(gw, file);
    assert.equal(ok.status, 0, ok.out);
    assert.match(ok.out, /VERIFIED against the HSM token/);
    assert.match(ok.out, /Proven:[\s\S]*contiguous[\s\S]*Not proven:[\s\S]*withheld entries/);

    const doc = JSON.parse(text) as { entries: Record<string, unknown>[]; signature: string };
    const fullIndex = doc.entries.findIndex((e) => !('withheld' in e) && e['type'] === 'signin.succeeded');
    assert.ok(fullIndex > 0 && doc.entries.length > 3);
    const tampers: [string, (d: typeof doc) => void, RegExp][] = [
      ['changed field', (d) => void ((d.entries[fullIndex] as Record<string, unknown>)['type'] = 'signin.refused'), /entries are not the ones signed/],
      ['removed entry', (d) => void d.entries.splice(1, 1), /entries are not the ones signed/],
      ['re-ordered', (d) => void d.entries.reverse(), /entries are not the ones signed/],
      ['wrong signature', (d) => void (d.signature = d.signature.slice(0, -6) + (d.signature.endsWith('AAAAAA') ? 'BBBBBB' : 'AAAAAA')), /wrong signature/],
    ];
    for (const [name, tamper, message] of tampers) {
      const copy = JSON.parse(text) as typeof doc;
      tamper(copy);
      const bad = path.join(work, `${name.replace(/ /g, '-')}.json`);
      fs.writeFileSync(bad, JSON.stringify(copy));
      const run = await verifyCli(gw, bad);
      assert.equal(run.status, 1, `${name}: ${run.out}`);
      assert.match(run.out, /REFUSED/, name);
      assert.match(run.out, message, name);
    }
  });
});
