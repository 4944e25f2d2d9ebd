/**
 * scripts/bootstrap.sh (what `npm start` runs first) with an HSM that is not SoftHSM: it must
 * install nothing for it, create no token and never write or overwrite a PIN file (an HSM locks
 * a partition after a few wrong PINs), and stop with an error naming the setting when the module,
 * the token or the PIN is missing.
 *
 * Each case runs the real script in a temporary copy of the repository (node_modules linked),
 * with `apt-get` and `softhsm2-util` shadowed by stubs that record any call. The "vendor" HSM is
 * the SoftHSM library copied to another path with a token directory of its own: a real PKCS#11
 * module the script must treat as foreign. The whole copy is compared before and after.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { repoRoot } from '../support/testGateway.js';

const temp = mkdtempSync(path.join(tmpdir(), 'bootstrap-hsm-'));
const copy = path.join(temp, 'repo');
const stubs = path.join(temp, 'stubs');
const stubLog = path.join(temp, 'stub-calls.log');
const vendor = path.join(temp, 'vendor');
const vendorModule = path.join(vendor, 'libvendorpkcs11.so');
const vendorConf = path.join(vendor, 'vendor.conf');
const VENDOR_LABEL = 'vendor-token';
const OPERATOR_PIN = 'operator-pin-0123456789';

before(() => {
  cpSync(repoRoot, copy, {
    recursive: true,
    preserveTimestamps: true,
    filter: (source) => {
      const rel = path.relative(repoRoot, source);
      return !['var', 'node_modules', '.git'].includes(rel.split(path.sep)[0] ?? '');
    },
  });
  symlinkSync(path.join(repoRoot, 'node_modules'), path.join(copy, 'node_modules'));
  mkdirSync(stubs);
  for (const tool of ['apt-get', 'softhsm2-util']) {
    const stub = path.join(stubs, tool);
    writeFileSync(stub, `#!/bin/sh\necho "${tool} $*" >> '${stubLog}'\nexit 1\n`);
    chmodSync(stub, 0o755);
  }
  // A PKCS#11 module at a vendor's path, with one token of its own.
  mkdirSync(path.join(vendor, 'tokens'), { recursive: true });
  copyFileSync('/usr/lib/softhsm/libsofthsm2.so', vendorModule);
  writeFileSync(vendorConf, `directories.tokendir = ${path.join(vendor, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`);
  const init = spawnSync('softhsm2-util', ['--init-token', '--free', '--label', VENDOR_LABEL, '--pin', '12345678', '--so-pin', '87654321'], {
    env: { ...process.env, SOFTHSM2_CONF: vendorConf },
    encoding: 'utf8',
  });
  assert.equal(init.status, 0, init.stderr);
});

after(() => rmSync(temp, { recursive: true, force: true }));

/** Every file and directory under `dir` with size, mode, time and content (the node_modules link as a link). */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (current: string): void => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      const rel = path.relative(dir, full);
      if (entry.isSymbolicLink()) {
        out.set(rel, 'link');
        continue;
      }
      const stat = statSync(full);
      if (entry.isDirectory()) {
        out.set(rel, `dir ${stat.mode.toString(8)}`);
        walk(full);
      } else {
        out.set(rel, `${stat.size} ${stat.mode.toString(8)} ${stat.mtimeMs} ${readFileSync(full).toString('base64').slice(0, 64)}`);
      }
    }
  };
  walk(dir);
  return out;
}

function bootstrap(env: Record<string, string>): { status: number | null; output: string } {
  const base: Record<string, string | undefined> = { ...process.env };
  for (const key of Object.keys(base)) if (key.startsWith('GATEWAY_')) delete base[key];
  const run = spawnSync('bash', [path.join(copy, 'scripts', 'bootstrap.sh')], {
    cwd: copy,
    env: { ...base, PATH: `${stubs}:${process.env['PATH'] ?? ''}`, SOFTHSM2_CONF: vendorConf, ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: run.status, output: `${run.stdout}\n${run.stderr}` };
}

/** Runs the bootstrap and checks that it changed nothing: no file, no token, no call to apt-get or softhsm2-util. */
function bootstrapChangesNothing(env: Record<string, string>): { status: number | null; output: string } {
  const before = snapshot(copy);
  const tokensBefore = readdirSync(path.join(vendor, 'tokens')).sort();
  const run = bootstrap(env);
  assert.deepEqual([...snapshot(copy)].filter(([k, v]) => before.get(k) !== v), [], `changed or created files:\n${run.output}`);
  assert.deepEqual([...before.keys()].filter((k) => !existsSync(path.join(copy, k))), [], 'removed files');
  assert.deepEqual(readdirSync(path.join(vendor, 'tokens')).sort(), tokensBefore, 'no token created');
  assert.equal(existsSync(stubLog) ? readFileSync(stubLog, 'utf8') : '', '', 'neither apt-get nor softhsm2-util was run');
  return run;
}

function resetVar(withPin: boolean): void {
  rmSync(path.join(copy, 'var'), { recursive: true, force: true });
  mkdirSync(path.join(copy, 'var'), { mode: 0o700 });
  if (withPin) {
    const pin = path.join(copy, 'var', 'hsm-user.pin');
    writeFileSync(pin, OPERATOR_PIN, { mode: 0o600 });
    utimesSync(pin, new Date('2024-01-01T00:00:00Z'), new Date('2024-01-01T00:00:00Z'));
  }
}

test('bootstrap with a non-SoftHSM module that does not exist: stops naming GATEWAY_HSM_MODULE; installs nothing, creates and writes nothing', () => {
  resetVar(true);
  const run = bootstrapChangesNothing({ GATEWAY_HSM_MODULE: path.join(vendor, 'missing.so') });
  assert.notEqual(run.status, 0);
  assert.match(run.output, /ERROR: GATEWAY_HSM_MODULE: /);
});

test('bootstrap with a non-SoftHSM module and no PIN: stops naming GATEWAY_HSM_PIN_FILE; writes no PIN file, creates no token', () => {
  resetVar(false);
  const run = bootstrapChangesNothing({ GATEWAY_HSM_MODULE: vendorModule, GATEWAY_HSM_TOKEN_LABEL: VENDOR_LABEL });
  assert.notEqual(run.status, 0);
  assert.match(run.output, /ERROR: GATEWAY_HSM_PIN_FILE: /);
  assert.equal(existsSync(path.join(copy, 'var', 'hsm-user.pin')), false);
});

test('bootstrap with a non-SoftHSM module and a token label it does not have: stops naming GATEWAY_HSM_TOKEN_LABEL; the operator PIN file is left as it was', () => {
  resetVar(true);
  const run = bootstrapChangesNothing({ GATEWAY_HSM_MODULE: vendorModule, GATEWAY_HSM_TOKEN_LABEL: 'no-such-partition' });
  assert.notEqual(run.status, 0);
  assert.match(run.output, /GATEWAY_HSM_TOKEN_LABEL: no token labelled "no-such-partition"/);
  assert.ok(!run.output.includes(OPERATOR_PIN), 'the PIN is never printed');
});

test('bootstrap with a working non-SoftHSM module: succeeds without creating a token or touching the PIN file (no login either)', () => {
  resetVar(true);
  const pinFile = path.join(copy, 'var', 'hsm-user.pin');
  const run = bootstrapChangesNothing({ GATEWAY_HSM_MODULE: vendorModule, GATEWAY_HSM_TOKEN_LABEL: VENDOR_LABEL });
  assert.equal(run.status, 0, run.output);
  assert.match(run.output, /not SoftHSM: no token created, no PIN written/);
  assert.equal(readFileSync(pinFile, 'utf8'), OPERATOR_PIN);
  // Idempotent: a second run is the same.
  assert.equal(bootstrapChangesNothing({ GATEWAY_HSM_MODULE: vendorModule, GATEWAY_HSM_TOKEN_LABEL: VENDOR_LABEL }).status, 0);
});

test('bootstrap with a tokens file (failover): checks every token and creates nothing', () => {
  resetVar(false);
  const pin = path.join(vendor, 'vendor.pin');
  writeFileSync(pin, '12345678', { mode: 0o600 });
  const tokensFile = path.join(vendor, 'tokens.json');
  writeFileSync(tokensFile, JSON.stringify([{ name: 'primary', module: vendorModule, tokenLabel: VENDOR_LABEL, pinFile: pin }, { name: 'secondary', module: vendorModule, tokenLabel: 'gone', pinFile: pin }]));
  const run = bootstrapChangesNothing({ GATEWAY_HSM_TOKENS_FILE: tokensFile });
  assert.notEqual(run.status, 0);
  assert.match(run.output, /GATEWAY_HSM_TOKENS_FILE entry "secondary" \(tokenLabel\): no token labelled "gone"/);
});

test('bootstrap with SoftHSM never overwrites a PIN file: with a PIN file but no token it stops naming GATEWAY_HSM_PIN_FILE, and creates the token only when there is none', () => {
  resetVar(true);
  const pinFile = path.join(copy, 'var', 'hsm-user.pin');
  const base: Record<string, string | undefined> = { ...process.env };
  for (const key of Object.keys(base)) if (key.startsWith('GATEWAY_') || key === 'SOFTHSM2_CONF') delete base[key];
  const run = (): { status: number | null; output: string } => {
    const r = spawnSync('bash', [path.join(copy, 'scripts', 'bootstrap.sh')], { cwd: copy, env: base, encoding: 'utf8', timeout: 120_000 });
    return { status: r.status, output: `${r.stdout}\n${r.stderr}` };
  };
  const refused = run();
  assert.notEqual(refused.status, 0);
  assert.match(refused.output, /GATEWAY_HSM_PIN_FILE: var\/hsm-user.pin exists but SoftHSM has no token 'gateway'; it is not overwritten/);
  assert.equal(readFileSync(pinFile, 'utf8'), OPERATOR_PIN);
  assert.equal(existsSync(path.join(copy, 'var', 'hsm-so.pin')), false);

  rmSync(pinFile);
  const made = run();
  assert.equal(made.status, 0, made.output);
  assert.match(made.output, /SoftHSM token 'gateway' initialised/);
  const generated = readFileSync(pinFile, 'utf8');
  assert.match(generated, /^[0-9a-f]{32}$/);
  assert.equal(statSync(pinFile).mode & 0o777, 0o600);
  const again = run();
  assert.equal(again.status, 0, again.output);
  assert.match(again.output, /SoftHSM token 'gateway' present/);
  assert.equal(readFileSync(pinFile, 'utf8'), generated, 'the second run keeps the PIN');
  assert.ok(!`${made.output}${again.output}`.includes(generated), 'the PIN is never printed');
});
