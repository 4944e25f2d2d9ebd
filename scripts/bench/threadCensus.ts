/**
 * The probe's side of threadKinds.ts (loaded in the server under test by processProbe.ts): which of
 * its process's threads are which, learnt once when the probe loads, and every thread's CPU so far.
 *
 * Node 20 names all its threads "node", so the kinds are told apart by what they do: the probe
 * blocks every thread of libuv's pool (UV_THREADPOOL_SIZE, 4 by default, created when the first
 * module was read) in the open of a FIFO of its own, reads which threads wait there
 * (/proc/self/task/<tid>/wchan), then opens the FIFOs' other ends to release them; of the other
 * threads present, those waiting in epoll run an event loop of Node's own, the rest are V8's.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { ThreadCensus } from './threadKinds.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const tids = (): number[] => fs.readdirSync('/proc/self/task').map(Number).filter(Number.isInteger);

function wchan(tid: number): string {
  try {
    return fs.readFileSync(`/proc/self/task/${tid}/wchan`, 'utf8').trim();
  } catch {
    return '';
  }
}

let ticks: number | undefined;

/** One thread's CPU so far, ms: schedstat's time on a core (ns), else stat's utime + stime (ticks). */
export function threadMs(tid: number): number | undefined {
  try {
    const ns = Number(fs.readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    if (Number.isFinite(ns)) return ns / 1e6;
  } catch {
    // no schedstat (kernel without CONFIG_SCHED_INFO), or the thread ended
  }
  try {
    ticks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    const text = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    // After `pid (comm) `: state ppid ... utime(11) stime(12) (comm may hold spaces and ')').
    const f = text.slice(text.lastIndexOf(')') + 2).trim().split(/\s+/).map(Number);
    const [utime, stime] = [f[11], f[12]];
    if (utime === undefined || stime === undefined || !Number.isFinite(utime + stime)) return undefined;
    return ((utime + stime) * 1000) / ticks;
  } catch {
    return undefined; // ended, or not Linux
  }
}

/** Every live thread's CPU so far, ms. */
export function allThreadsMs(): Map<number, number> {
  const out = new Map<number, number>();
  try {
    for (const tid of tids()) {
      const ms = threadMs(tid);
      if (ms !== undefined) out.set(tid, ms);
    }
  } catch {
    // not Linux
  }
  return out;
}

/**
 * Adds the threads of Node's own event loops that were busy when the census was taken (the tsx
 * loader's hooks thread, loading the server): called at the start of a profiled phase, when they
 * are idle and wait in epoll, while V8's threads never do.
 */
export function noteLoops(c: ThreadCensus): void {
  for (const t of c.startup) if (t !== c.pid && !c.pool.has(t) && wchan(t).includes('epoll')) c.loops.add(t);
}

/** Blocks the pool's threads in the open of FIFOs and names them; undefined when not on Linux. */
export async function takeCensus(dir: string): Promise<ThreadCensus | undefined> {
  let startup: number[];
  try {
    startup = tids();
  } catch {
    return undefined;
  }
  const loops = new Set(startup.filter((t) => t !== process.pid && wchan(t).includes('epoll')));
  // libuv's own rule: UV_THREADPOOL_SIZE, at least 1, at most 1024; 4 without it.
  const env = Number.parseInt(process.env['UV_THREADPOOL_SIZE'] ?? '', 10);
  const size = Number.isNaN(env) ? 4 : Math.min(1024, Math.max(1, env));
  const fifos = Array.from({ length: size }, (_, i) => path.join(dir, `pool-${process.pid}-${i}.fifo`));
  const pool = new Set<number>();
  try {
    execFileSync('mkfifo', fifos);
  } catch {
    return { pid: process.pid, pool, loops, startup: new Set(startup) };
  }
  // Each open of a FIFO for reading blocks one pool thread until a writer opens it.
  const readers = fifos.map((f) => fs.promises.open(f, 'r'));
  const deadline = Date.now() + 2000;
  while (pool.size < size && Date.now() < deadline) {
    await sleep(5);
    for (const t of tids()) if (/fifo|pipe|partner/.test(wchan(t))) pool.add(t);
  }
  for (const f of fifos) {
    // A non-blocking open for writing fails (ENXIO) until a reader waits: a pool thread that took
    // no FIFO yet (the pool larger than thought) gets one once the others are released.
    for (const end = Date.now() + 5000; Date.now() < end; ) {
      try {
        fs.closeSync(fs.openSync(f, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK));
        break;
      } catch {
        await sleep(5);
      }
    }
  }
  for (const r of await Promise.allSettled(readers)) if (r.status === 'fulfilled') await r.value.close();
  for (const f of fifos) fs.rmSync(f, { force: true });
  for (const t of pool) loops.delete(t);
  return { pid: process.pid, pool, loops, startup: new Set(startup) };
}
