/** What the figures were measured on: CPU, memory, versions, the database's durability settings. */
import Database from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { Store } from '../../server/store/index.js';

export interface Machine {
  cpu: string;
  cores: number;
  ramGiB: number;
  kernel: string;
  node: string;
  softhsm: string;
  sqlite: string;
  /** As the gateway's store opens the database. */
  journalMode: string;
  synchronous: string;
  fileSystem: string;
  loadAverage: string;
}

const SYNCHRONOUS = ['OFF', 'NORMAL', 'FULL', 'EXTRA'];

function fileSystemOf(dir: string): string {
  try {
    const mounts = fs
      .readFileSync('/proc/mounts', 'utf8')
      .split('\n')
      .map((l) => l.split(' '))
      .filter((f) => f.length > 2 && dir.startsWith(f[1] ?? '\0'));
    const best = mounts.sort((a, b) => (b[1]?.length ?? 0) - (a[1]?.length ?? 0))[0];
    return best ? `${best[2]} (${best[0]} on ${best[1]})` : 'unknown';
  } catch {
    return 'unknown';
  }
}

export function describeMachine(varDir: string): Machine {
  let softhsm = 'unknown';
  try {
    softhsm = execFileSync('softhsm2-util', ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    // not installed where the bench runs; the HSM ceiling then fails on its own
  }
  const memory = new Database(':memory:');
  const sqlite = String(memory.prepare('SELECT sqlite_version() AS v').pluck().get());
  memory.close();
  // The store's own pragmas, read back from a scratch database it opens.
  const scratch = `${varDir}/pragma-probe-${process.pid}.db`;
  const store = Store.open(scratch);
  const journalMode = String(store.db.pragma('journal_mode', { simple: true }));
  const synchronous = Number(store.db.pragma('synchronous', { simple: true }));
  store.close();
  for (const suffix of ['', '-wal', '-shm']) fs.rmSync(`${scratch}${suffix}`, { force: true });
  return {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.availableParallelism(),
    ramGiB: os.totalmem() / 2 ** 30,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    softhsm,
    sqlite,
    journalMode,
    synchronous: SYNCHRONOUS[synchronous] ?? String(synchronous),
    fileSystem: fileSystemOf(varDir),
    loadAverage: os.loadavg().map((l) => l.toFixed(2)).join(' '),
  };
}
