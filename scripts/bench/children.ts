/**
 * Every process the benchmark starts (gateway, reference, generators, stage benchmark) is
 * registered here, so that an error, an exit or Ctrl-C ends exactly those processes (by pid,
 * with their process group where they lead one) and the temporary directories are removed.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';

const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();
const asyncCleanups: (() => Promise<void>)[] = [];
let keep = false;

/** Leave the temp dirs in place (--keep), for looking at the logs and the database afterwards. */
export function keepTempDirs(): void {
  keep = true;
}

function removeTempDirs(): void {
  for (const dir of tempDirs) {
    if (keep) process.stderr.write(`bench: kept ${dir}\n`);
    else fs.rmSync(dir, { recursive: true, force: true });
  }
  tempDirs.clear();
}

export function track<T extends ChildProcess>(child: T): T {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

export function trackTempDir(dir: string): string {
  tempDirs.add(dir);
  return dir;
}

/** Work that must run before the temp dirs go (e.g. destroying HSM keys the run created). */
export function onCleanup(fn: () => Promise<void>): void {
  asyncCleanups.push(fn);
}

function killChild(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  try {
    child.kill(signal);
  } catch {
    // already gone
  }
}

/** Synchronous last resort (process 'exit'): kill what is left, remove the temp dirs. */
export function killAllNow(): void {
  for (const child of children) killChild(child, 'SIGKILL');
  removeTempDirs();
}

/** Orderly cleanup: SIGTERM, wait up to `graceMs`, SIGKILL, async cleanups, temp dirs. */
export async function cleanupAll(graceMs = 5000): Promise<void> {
  const alive = [...children];
  for (const child of alive) killChild(child, 'SIGTERM');
  await Promise.all(
    alive.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const timer = setTimeout(() => {
            killChild(child, 'SIGKILL');
            resolve();
          }, graceMs);
          child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
        }),
    ),
  );
  // Last registered, first run: what was set up later (a database) goes before what it stood on (its cluster).
  for (const fn of asyncCleanups.splice(0).reverse()) {
    try {
      await fn();
    } catch (err) {
      process.stderr.write(`bench: cleanup step failed: ${err instanceof Error ? err.message : String(err)}\n`);
    }
  }
  removeTempDirs();
}

/** Waits for a child's exit with a timeout; SIGKILL when it does not go. */
export function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 15_000): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => killChild(child, 'SIGKILL'), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    killChild(child, signal);
  });
}
