/**
 * A focused micro-benchmark of the SQLite ephemeral store (issue 17): the statements one sign-in
 * makes of it, as the gateway's cluster makes them: P processes on one shared file, each with C
 * sign-ins in flight. Per sign-in (two requests, no device cookie, as `npm run bench` sends):
 *   options: hit ip, hit account|client, hit soft, put challenge, undo soft (the 200 takes it back)
 *   verify:  hit ip, hit account|client, hit soft, consume challenge, undo soft
 * Prints the CPU time (user + system, /proc of each process) per sign-in and the rate.
 *
 *   node --import tsx scripts/bench/ephemeralMicro.ts [--procs 2] [--inflight 8] [--seconds 5]
 *        [--people 2000] [--module path/to/ephemeral.ts]
 *
 * `--module` benches another copy of the adapter (e.g. a `git archive` of main beside this one),
 * so before and after run back to back on the same machine.
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { EphemeralStore } from '../../server/ports/ephemeral.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

const procs = Number(arg('procs', '2'));
const inflight = Number(arg('inflight', '8'));
const seconds = Number(arg('seconds', '5'));
const people = Number(arg('people', '2000'));
const modulePath = path.resolve(arg('module', path.join(import.meta.dirname, '../../server/store/sqlite/ephemeral.ts')));

interface Result {
  busy: string;
  signIns: number;
  cpuMs: number;
  wallMs: number;
}

async function child(file: string, startAt: number): Promise<Result> {
  const mod = (await import(pathToFileURL(modulePath).href)) as { SqliteEphemeral: new (file: string) => EphemeralStore & { close(): void }; BUSY?: unknown };
  const store = new mod.SqliteEphemeral(file);
  const WINDOW = 60_000;
  const ip = 'gateway-api-ip|ip:127.0.0.1';
  let signIns = 0;
  const one = async (): Promise<void> => {
    const person = Math.floor(Math.random() * people);
    const account = `gateway-api-account|email:${person}|ip:127.0.0.1`;
    const soft = `gateway-api-account-soft|soft|email:${person}`;
    const now = (): number => Date.now();
    await store.limits.hit(ip, WINDOW, now());
    await store.limits.hit(account, WINDOW, now());
    await store.limits.hit(soft, WINDOW, now());
    const challenge = randomBytes(32).toString('base64url');
    const at = new Date();
    await store.challenges.put({
      challenge,
      flowHash: randomBytes(32).toString('base64url'),
      ceremony: 'signin',
      identityId: `id-${person}`,
      enrolmentId: null,
      createdAt: at.toISOString(),
      expiresAt: new Date(at.getTime() + 120_000).toISOString(),
    });
    await store.limits.undo(soft, now());
    await store.limits.hit(ip, WINDOW, now());
    await store.limits.hit(account, WINDOW, now());
    await store.limits.hit(soft, WINDOW, now());
    const got = await store.challenges.consume(challenge, new Date().toISOString());
    if (!got) throw new Error('challenge not consumed');
    await store.limits.undo(soft, now());
    signIns += 1;
  };
  while (Date.now() < startAt) await new Promise((r) => setTimeout(r, 5));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  // Each sign-in's requests arrive from the network: a turn of the event loop between them.
  const turn = (): Promise<void> => new Promise((r) => setImmediate(r));
  await Promise.all(
    Array.from({ length: inflight }, async () => {
      while (performance.now() < end) {
        await one();
        await turn();
      }
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  const wallMs = performance.now() - t0;
  store.close();
  return { busy: JSON.stringify(mod.BUSY ?? null), signIns, cpuMs: (cpu.user + cpu.system) / 1000, wallMs };
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') {
    const res = await child(process.argv[3]!, Number(process.argv[4]));
    process.send?.(res);
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ephemeral-micro-'));
  const file = path.join(dir, 'e-ephemeral.db');
  const startAt = Date.now() + 1500;
  const results = await Promise.all(
    Array.from(
      { length: procs },
      () =>
        new Promise<Result>((resolve, reject) => {
          const c = fork(import.meta.filename, ['--child', file, String(startAt), ...process.argv.slice(2)], { execArgv: ['--import', 'tsx'] });
          c.once('message', (m) => resolve(m as Result));
          c.once('exit', (code) => (code === 0 ? undefined : reject(new Error(`child exited ${code}`))));
        }),
    ),
  );
  const signIns = results.reduce((s, r) => s + r.signIns, 0);
  const cpuMs = results.reduce((s, r) => s + r.cpuMs, 0);
  const wallMs = Math.max(...results.map((r) => r.wallMs));
  console.log(
    `${path.relative(process.cwd(), modulePath)}: ${procs} procs x ${inflight} in flight, ${seconds}s: ${signIns} sign-ins, ` +
      `${((signIns / wallMs) * 1000).toFixed(0)}/s, CPU ${((cpuMs / signIns) * 1000).toFixed(1)} µs per sign-in (10 statements)` +
      (results.some((r) => r.busy !== 'null') ? `; busy: ${results.map((r) => r.busy).join(' ')}` : ''),
  );
  fs.rmSync(dir, { recursive: true, force: true });
}

await main();
