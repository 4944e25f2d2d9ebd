/**
 * The durable file's WAL checkpoints, off the event loop (issue 17). Private to this adapter.
 *
 * Left to SQLite, the COMMIT that takes the WAL past 1,000 pages copies every page of it into the
 * database file and fsyncs both files, inside `COMMIT`, on the event loop: every request of the
 * process stands still meanwhile (tens of ms on a busy disk, more the larger the file and the
 * more pages a commit scatters over it). So the writer's connection runs with
 * `wal_autocheckpoint = 0` and a worker thread with a connection of its own runs
 * `PRAGMA wal_checkpoint(PASSIVE)` every `intervalMs`: it never takes the write lock and never
 * waits for readers or writers (it copies what no reader still needs; the next writer then starts
 * the WAL from its beginning again), and its fsyncs block that thread only. Nothing about a
 * commit changes: it is acknowledged once its WAL frames are on disk (writer.ts), whether or not
 * they have been copied into the database file yet.
 *
 * Every process of a gateway runs one; two checkpoints at once are refused by SQLite's checkpoint
 * lock (the loser's round is a no-op). Should the thread fail, the writer's connection goes back
 * to SQLite's automatic checkpoints, so the WAL never grows without bound.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Connection } from './connection.js';

/** Default pause between two background checkpoints (GATEWAY_SQLITE_CHECKPOINT_MS). */
export const DEFAULT_CHECKPOINT_INTERVAL_MS = 200;
/** SQLite's own default, restored on the writer when the thread is not there. */
const SQLITE_AUTOCHECKPOINT_PAGES = 1000;

/** The thread, as plain CommonJS (an eval worker: no loader needed in the thread). */
const THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 0');
db.pragma('wal_autocheckpoint = 0');
let stopped = false;
const once = () => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (err) {
    // SQLITE_BUSY: another process's checkpoint runs; the next round tries again.
    if (!String(err && err.code).startsWith('SQLITE_BUSY')) parentPort.postMessage({ error: String(err && err.message) });
  }
};
const timer = setInterval(once, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m !== 'stop' || stopped) return;
  stopped = true;
  clearInterval(timer);
  once();
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
    readonly intervalMs: number,
    onError: (err: unknown) => void,
  ) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(THREAD, { eval: true, workerData: { driver, file, intervalMs } });
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

  /**
   * Moves the checkpoints of `writer`'s file to a thread (intervalMs > 0), or leaves them to
   * SQLite inside COMMIT (0: undefined is returned).
   */
  static start(writer: Connection, file: string, intervalMs: number, onError: (err: unknown) => void): WalCheckpointer | undefined {
    if (intervalMs <= 0) return undefined;
    writer.pragma('wal_autocheckpoint = 0');
    try {
      return new WalCheckpointer(writer, file, intervalMs, onError);
    } catch (err) {
      writer.pragma(`wal_autocheckpoint = ${SQLITE_AUTOCHECKPOINT_PAGES}`);
      onError(err);
      return undefined;
    }
  }

  private inline(): void {
    if (this.writer.open) this.writer.pragma(`wal_autocheckpoint = ${SQLITE_AUTOCHECKPOINT_PAGES}`);
  }

  /** A last checkpoint, then the thread ends (before the writer's connection closes). */
  stop(): Promise<void> {
    this.stopping ??= new Promise<void>((resolve) => {
      const done = () => resolve();
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
