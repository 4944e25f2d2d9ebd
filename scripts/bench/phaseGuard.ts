/**
 * Every phase of the benchmark ends: a phase is raced against a deadline and against the exit of
 * every child process it depends on (gateway instances, the reference, load generators). A child
 * that exits, or a phase that outlives its deadline, ends the run with an error naming the child
 * (or the phase) and the last lines it wrote, instead of a benchmark that waits for ever.
 */
import { type ChildProcess, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface Watched {
  name: string;
  child: ChildProcess;
  /** The last lines the child wrote (its log file or its captured stderr). */
  lastLines(): string;
}

/** The last `lines` lines of a file ('(no log)' when it cannot be read). */
export function tailFile(file: string, lines = 20): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Keeps the last `max` lines of a stream (a child's stderr), passing everything through to `echo`. */
export class LineTail {
  private lines: string[] = [];
  private partial = '';

  constructor(private readonly max = 20) {}

  push(chunk: string): void {
    const parts = (this.partial + chunk).split('\n');
    this.partial = parts.pop() ?? '';
    this.lines.push(...parts);
    if (this.lines.length > this.max) this.lines = this.lines.slice(-this.max);
  }

  text(): string {
    const all = this.partial ? [...this.lines, this.partial] : this.lines;
    return all.length > 0 ? all.slice(-this.max).join('\n') : '(nothing on stderr)';
  }
}

/**
 * What the kernel says a live process is doing: its state, the kernel function it sleeps in, the
 * CPU it has used and its threads (for a phase that overran: a process blocked in a write, idle
 * in epoll, or spinning look different here). Linux only; '' elsewhere.
 */
export function processState(pid: number | undefined): string {
  if (pid === undefined) return '';
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(status)?.[1]?.trim() ?? '?';
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command's closing parenthesis: state is the 1st, utime and stime the 12th and 13th.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(rest[11]) + Number(rest[12]);
    let wchan = '?';
    try {
      wchan = fs.readFileSync(`/proc/${pid}/wchan`, 'utf8') || '0';
    } catch {
      // Not readable on every kernel.
    }
    return `state ${field('State')}, waiting in ${wchan}, ${(ticks / 100).toFixed(2)} s of CPU, ${field('Threads')} threads`;
  } catch {
    return 'gone from /proc';
  }
}

/**
 * Where a live process's main thread waits, from a native backtrace (gdb, installed for the tests
 * by scripts/bootstrap.sh): the frames' function names, innermost first. Every thread's full
 * backtrace goes to a file in the temp dir, named in the answer. A process whose event loop is
 * blocked (it no longer runs timers, so it cannot say anything itself) names its wait here.
 * '' when gdb is absent.
 */
export function nativeStack(pid: number | undefined, frames = 16): string {
  if (pid === undefined || !fs.existsSync('/usr/bin/gdb')) return '';
  const out = spawnSync('/usr/bin/gdb', ['-p', String(pid), '-batch', '-nx', '-ex', 'set pagination off', '-ex', 'thread apply all bt 40'], { encoding: 'utf8', timeout: 60_000 });
  const text = `${out.stdout ?? ''}${out.stderr ?? ''}`;
  const file = path.join(os.tmpdir(), `bench-stacks-${pid}-${Date.now()}.txt`);
  fs.writeFileSync(file, text, { mode: 0o600 });
  // The main thread's block: its LWP is the pid.
  const blocks = text.split(/\n(?=Thread \d+ )/);
  const main = blocks.find((b) => new RegExp(`\\(LWP ${pid}\\)`).test(b.split('\n')[0] ?? ''));
  if (!main) return `no backtrace (gdb: ${text.trim().split('\n').slice(-1)[0] ?? 'no output'}); all of gdb's output: ${file}`;
  const names = main
    .split('\n')
    .filter((l) => /^#\d+/.test(l))
    .slice(0, frames)
    .map((l) => l.replace(/^(#\d+)\s+(?:0x[0-9a-f]+ in )?/, '$1 ').replace(/ \(.*$/, '').slice(0, 160));
  return `main thread:\n    ${names.join('\n    ')}\n  every thread: ${file}`;
}

const exitText = (child: ChildProcess): string | undefined =>
  child.exitCode !== null ? `exited with code ${child.exitCode}` : child.signalCode !== null ? `was killed by ${child.signalCode}` : undefined;

export class PhaseAborted extends Error {
  override name = 'PhaseAborted';
}

/**
 * `run` bounded by `deadlineMs` (when given) and by the life of every `watched` child (`stacks`: at
 * the deadline each watched child's main thread's native backtrace is added). On a child's exit or the
 * deadline the returned promise rejects with a PhaseAborted naming what happened (the phase's own
 * work is abandoned: the run is ending, and children.ts stops every process it started).
 */
export function bounded<T>(label: string, run: () => Promise<T>, opts: { deadlineMs?: number; watched: Watched[]; stacks?: boolean }): Promise<T> {
  const cleanups: (() => void)[] = [];
  const guard = new Promise<never>((_, reject) => {
    const died = (w: Watched, how: string) =>
      reject(new PhaseAborted(`${label}: ${w.name} (pid ${w.child.pid ?? '?'}) ${how} during the phase; its last lines:\n${w.lastLines()}`));
    for (const w of opts.watched) {
      const already = exitText(w.child);
      if (already) return died(w, already);
      const onExit = () => died(w, exitText(w.child) ?? 'exited');
      w.child.once('exit', onExit);
      cleanups.push(() => w.child.off('exit', onExit));
    }
    if (opts.deadlineMs === undefined) return;
    const deadlineMs = opts.deadlineMs;
    const timer = setTimeout(() => {
      const alive = opts.watched
        .map((w) => {
          const stack = opts.stacks ? nativeStack(w.child.pid) : '';
          return `${w.name} (pid ${w.child.pid ?? '?'}; ${processState(w.child.pid)})${stack ? `, ${stack}` : ''}, last lines:\n${w.lastLines()}`;
        })
        .join('\n');
      reject(new PhaseAborted(`${label}: not finished within its deadline of ${(deadlineMs / 1000).toFixed(0)} s (a request or a child that never answers)${alive ? `; ${alive}` : ''}`));
    }, Math.max(0, deadlineMs));
    cleanups.push(() => clearTimeout(timer));
  });
  return Promise.race([run(), guard]).finally(() => {
    for (const c of cleanups) c();
  });
}
