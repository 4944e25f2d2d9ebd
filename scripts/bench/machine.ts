/** What the figures were measured on: CPU, memory, versions, the database's durability settings. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { SqliteStore } from '../../server/store/sqlite/index.js';

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
  /** Filled in at the end of the run. */
  loadAverageAtEnd?: string;
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

export async function describeMachine(varDir: string): Promise<Machine> {
  let softhsm = 'unknown';
  try {
    softhsm = execFileSync('softhsm2-util', ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    // not installed where the bench runs; the HSM ceiling then fails on its own
  }
  // The store's own settings, read back from a scratch database it opens.
  const scratch = `${varDir}/pragma-probe-${process.pid}.db`;
  const store = SqliteStore.open(scratch);
  const { settings } = await store.tools.describe();
  await store.close();
  const sqlite = String(settings['version']);
  const journalMode = String(settings['journal_mode']);
  const flush = typeof settings['commit_flush'] === 'string' ? ` (${settings['commit_flush']})` : '';
  const synchronous = Number(settings['synchronous']);
  for (const f of [scratch, `${varDir}/pragma-probe-${process.pid}-ephemeral.db`]) for (const suffix of ['', '-wal', '-shm']) fs.rmSync(`${f}${suffix}`, { force: true });
  return {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.availableParallelism(),
    ramGiB: os.totalmem() / 2 ** 30,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    softhsm,
    sqlite,
    journalMode,
    synchronous: `${SYNCHRONOUS[synchronous] ?? String(synchronous)}${flush}`,
    fileSystem: fileSystemOf(varDir),
    loadAverage: os.loadavg().map((l) => l.toFixed(2)).join(' '),
  };
}
