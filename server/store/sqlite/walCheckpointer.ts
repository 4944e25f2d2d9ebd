/**
 * The durable file's WAL checkpoints, off the event loop (issue 17). Private to this adapter.
 *
 * Left to SQLite, the COMMIT that takes the WAL past 1,000 pages copies them into the database
 * file and fsyncs both files, inside `COMMIT`, on the event loop: every request of the process
 * stands still meanwhile (tens of ms on a busy disk; longer the more distinct pages the commits
 * scattered over a larger file). So the writer's connection runs with `wal_autocheckpoint = 0`,
 * and a worker thread with a connection of its own does what SQLite would have done, at the same
 * point: it watches the WAL's pages not yet copied (the WAL-index header in the `-shm` file,
 * https://sqlite.org/walformat.html: mxFrame at byte 16, nBackfill at byte 96) and, once they
 * reach 1,000, runs `PRAGMA wal_checkpoint(PASSIVE)`, which never takes the write lock and never
 * waits for readers or writers (it copies what no reader still needs; the next writer then starts
 * the WAL from its beginning again). Its fsyncs block that thread only. Nothing about a commit
 * changes: it is acknowledged once its WAL frames are on disk (writer.ts), whether or not they
 * have been copied into the database file yet.
 *
 * Every process of a gateway runs one; two checkpoints at once are refused by SQLite's checkpoint
 * lock (the loser's round is a no-op). Should the thread fail, the writer's connection goes back
 * to SQLite's automatic checkpoints, so the WAL never grows without bound.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Connection } from './connection.js';

/** Who copies the WAL into the database file (GATEWAY_SQLITE_CHECKPOINT). */
export type CheckpointMode = 'thread' | 'commit';
/** SQLite's own threshold (wal_autocheckpoint), kept: pages in the WAL not yet copied. */
export const CHECKPOINT_PAGES = 1000;
/** How often the thread reads the WAL-index header (48 bytes from the page cache). */
const WATCH_MS = 25;

/** The thread, as plain CommonJS (an eval worker: no loader needed in the thread). */
const THREAD = `
const fs = require('node:fs');
const os = require('node:os');
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 0');
db.pragma('wal_autocheckpoint = 0');
const header = Buffer.alloc(100);
const u32 = (off) => (os.endianness() === 'LE' ? header.readUInt32LE(off) : header.readUInt32BE(off));
let shm;
/** Pages in the WAL not yet copied into the database file; Infinity when the header cannot be read. */
const pending = () => {
  try {
    shm ??= fs.openSync(workerData.file + '-shm', 'r');
    if (fs.readSync(shm, header, 0, 100, 0) < 100) return 0;
  } catch {
    return Infinity;
  }
  const mxFrame = u32(16);
  const nBackfill = u32(96);
  return mxFrame >= nBackfill ? mxFrame - nBackfill : mxFrame;
};
let stopped = false;
const checkpoint = () => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (err) {
    // SQLITE_BUSY: another process's checkpoint runs; the next round tries again.
    if (!String(err && err.code).startsWith('SQLITE_BUSY')) parentPort.postMessage({ error: String(err && err.message) });
  }
};
const timer = setInterval(() => {
  if (pending() >= workerData.pages) checkpoint();
}, workerData.watchMs);
parentPort.on('message', (m) => {
  if (m !== 'stop' || stopped) return;
  stopped = true;
  clearInterval(timer);
  checkpoint();
  if (shm !== undefined) fs.closeSync(shm);
  db.close();
  parentPort.postMessage({ stopped: true });
});
`;

export class WalCheckpointer {
  private readonly worker: Worker;
  private stopping: Promise<void> | undefined;

  private constructor(
    private readonly writer: Connection,
    file: string,
    onError: (err: unknown) => void,
  ) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(THREAD, { eval: true, workerData: { driver, file, pages: CHECKPOINT_PAGES, watchMs: WATCH_MS } });
    // The thread must not keep a process alive that has nothing else to do.
    this.worker.unref();
    this.worker.on('message', (m: unknown) => {
      if (typeof m === 'object' && m !== null && 'error' in m) onError(new Error(`WAL checkpoint failed: ${String(m.error)}`));
    });
    const fallBack = (err?: unknown) => {
      if (this.stopping) return;
      if (err !== undefined) onError(err);
      this.inline();
    };
    this.worker.on('error', fallBack);
    this.worker.on('exit', () => fallBack());
  }

  /** Moves the checkpoints of `writer`'s file to a thread ('thread'), or leaves them to SQLite inside COMMIT ('commit': undefined). */
  static start(writer: Connection, file: string, mode: CheckpointMode, onError: (err: unknown) => void): WalCheckpointer | undefined {
    if (mode === 'commit') return undefined;
    writer.pragma('wal_autocheckpoint = 0');
    try {
      return new WalCheckpointer(writer, file, onError);
    } catch (err) {
      writer.pragma(`wal_autocheckpoint = ${CHECKPOINT_PAGES}`);
      onError(err);
      return undefined;
    }
  }

  private inline(): void {
    if (this.writer.open) this.writer.pragma(`wal_autocheckpoint = ${CHECKPOINT_PAGES}`);
  }

  /** A last checkpoint, then the thread ends (before the writer's connection closes). */
  stop(): Promise<void> {
    this.stopping ??= new Promise<void>((resolve) => {
      const done = () => resolve();
      // Until it has ended, the thread keeps the process alive (a tool's last await is this close).
      this.worker.ref();
      this.worker.once('exit', done);
      this.worker.on('message', (m: unknown) => {
        if (typeof m === 'object' && m !== null && 'stopped' in m) void this.worker.terminate().then(done, done);
      });
      this.worker.postMessage('stop');
      // A thread that does not answer (stuck on a lock it never gets) is ended all the same.
      setTimeout(() => void this.worker.terminate().then(done, done), 5000).unref();
    });
    return this.stopping;
  }
}
