/**
 * Issue 17 (the bench's load generator hung, one run in about fifty): Node 20 holds a generated
 * key's mutex while KeyObject.export() allocates JS values; a garbage collection in that
 * allocation can destroy the garbage key-generation job that made the same key, and its destructor
 * takes the same (non-recursive) mutex, so the main thread waits on itself for ever (gdb:
 * ~KeyGenJob under KeyObjectHandle::ExportJWK, in futex_wait). V8's --gc-interval forces a
 * collection every N allocations, which makes that interleaving happen within seconds with
 * generateKeyPairSync's own KeyObjects (the loop below then never finishes). The software
 * authenticator (every enrolment of the tests and the bench), the seeder and the tests make their
 * keys through scripts/lib/keyPairs.ts, whose keys share no lock with any job: under the same
 * forced collections the loop finishes.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Runs `body` in a child (tsx) with a collection forced every `interval` allocations; 'hung' after `limitMs`. */
function underForcedGc(body: string, interval: number, limitMs: number): Promise<'finished' | 'hung' | string> {
  const script = `import v8 from 'node:v8';\n${body.replace('__GC__', `v8.setFlagsFromString('--gc-interval=${interval}');`)}\nprocess.stdout.write('finished');`;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(signal === 'SIGKILL' ? 'hung' : code === 0 && out.endsWith('finished') ? 'finished' : `failed: ${out.slice(-400)}`);
    });
  });
}

test('issue 17: the key pairs of scripts/lib/keyPairs.ts (the software authenticator\'s new credentials, the seeder, the tests\' forged keys) export as JWK under a garbage collection forced every 13, 50 or 100 allocations without deadlocking (Node 20: a generated key\'s job destroyed inside an export of the same key)', async () => {
  const body = `
    import { generateKeyObjects } from './scripts/lib/keyPairs.ts';
    __GC__
    for (let i = 0; i < 6000; i++) {
      const { publicKey, privateKey } = generateKeyObjects('ec', { namedCurve: 'P-256' });
      publicKey.export({ format: 'jwk' });
      privateKey.export({ format: 'jwk' });
    }`;
  for (const interval of [13, 50, 100]) {
    assert.equal(await underForcedGc(body, interval, 60_000), 'finished', `gc-interval ${interval}`);
  }
});
