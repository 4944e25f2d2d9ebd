/**
 * The one writer of this process (private to the adapter). better-sqlite3 is synchronous but a
 * flow's transaction is an async function, so the write connection is lent to one transaction
 * at a time: callers queue here, and nothing but the current transaction ever runs a statement
 * on the connection, across all its awaits.
 *
 * Group commit: the transactions queued together run one after another inside ONE
 * `BEGIN IMMEDIATE ... COMMIT`, each after the first in its own SAVEPOINT (one failing rolls back
 * only its own changes; the first needs none: failing, it is rolled back alone), and share one fsync. Each caller's promise settles once the COMMIT is on disk; its
 * after-commit callbacks run then, never after a rollback.
 *
 * The fsync is off the event loop (issue 17): the connection commits with synchronous=NORMAL
 * (SQLite writes the WAL frames and the commit record, no fsync), then the WAL file is flushed
 * with fdatasync on libuv's thread pool, and only then are the group's callers answered and its
 * after-commit callbacks run. A change is acknowledged exactly when synchronous=FULL would have
 * acknowledged it (its WAL frames on disk), but the process serves other requests, and the next
 * group takes the write lock and runs, while the disk flushes; the WAL is written in order, so a
 * later group's flush covers every earlier commit too. A commit is visible to readers from COMMIT
 * on, before its flush: a power cut in between loses it together with everything committed after
 * it (nobody was told any of it had happened), never a commit that was acknowledged. A flush that
 * fails answers the group with StoreUnavailable ("outcome unknown"), its callbacks not run.
 *
 * The write lock is taken without blocking the event loop (SQLite's busy handler would sleep in
 * this thread while another process commits): if another process holds it, the group tries again
 * shortly; past BUSY_TIMEOUT_MS it fails with StoreBusy (503 + Retry-After at the edge).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type { WriteTx } from '../../ports/store.js';
import { StoreBusy, StoreUnavailable } from '../../ports/storeErrors.js';
import { BUSY_TIMEOUT_MS, tryBeginImmediate, type Connection } from './connection.js';
import { storeErrorOf } from './errors.js';
import { writeTxOf, type Repositories } from './transactions.js';

interface Job {
  fn: (tx: WriteTx) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown; hooks: (() => void)[] } | { ok: false; error: unknown };

/** Flushes a file's written data to disk (fdatasync) on the thread pool. */
export async function flushFile(file: string): Promise<void> {
  const handle = await fsp.open(file, 'r');
  try {
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

/**
 * Makes the commits so far durable: the WAL flushed, through a descriptor kept open (one hand-off
 * to the thread pool per group; SQLite never replaces the WAL file while the writer's connection
 * is open). Should that descriptor fail, the file is opened afresh; should the WAL be gone
 * (removed only when the last connection closes), its content is in the database file, which is
 * flushed instead.
 */
class WalFlusher {
  private handle: Promise<FileHandle> | undefined;

  async flush(dbFile: string): Promise<void> {
    try {
      const handle = await (this.handle ??= fsp.open(`${dbFile}-wal`, 'r'));
      await handle.datasync();
      return;
    } catch {
      this.close();
    }
    try {
      await flushFile(`${dbFile}-wal`);
    } catch (err) {
      if (typeof err === 'object' && err !== null && 'code' in err && err.code === 'ENOENT') await flushFile(dbFile);
      else throw err;
    }
  }

  close(): void {
    const handle = this.handle;
    this.handle = undefined;
    void handle?.then((h) => h.close()).catch(() => undefined);
  }
}

/** At most this many transactions share one commit (a bound on the wait of the first). */
const MAX_GROUP = 256;

export class GroupWriter {
  private readonly queue: Job[] = [];
  private scheduled = false;
  private running = false;
  private waitingSince: number | undefined;
  private retries = 0;
  private closed = false;
  /** Groups committed whose WAL flush has not finished. */
  private flushing = 0;
  /** Marks the async context of a running transaction: a write() from inside it would wait for itself. */
  private readonly inside = new AsyncLocalStorage<true>();

  constructor(
    private readonly db: Connection,
    private readonly repos: Repositories,
    private readonly onHookError: (err: unknown) => void,
    /** The flush of the committed WAL (default: fdatasync on the thread pool). */
    flush?: (dbFile: string) => Promise<void>,
  ) {
    this.flush = flush ?? ((dbFile) => this.wal.flush(dbFile));
    // BEGIN IMMEDIATE never waits in this thread (tryBeginImmediate); inside a transaction that
    // holds the write lock no statement needs another lock (WAL), so no statement waits either.
    db.pragma('busy_timeout = 0');
  }

  private readonly wal = new WalFlusher();
  private readonly flush: (dbFile: string) => Promise<void>;

  write<T>(fn: (tx: WriteTx) => Promise<T>): Promise<T> {
    if (this.inside.getStore()) return Promise.reject(new TypeError('store.write() inside a write transaction: use the transaction you were given'));
    if (this.closed) return Promise.reject(storeErrorOf(new TypeError('The database connection is not open')));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, resolve: resolve as (value: unknown) => void, reject });
      this.schedule();
    });
  }

  /** Waits for the queued transactions, then refuses new ones. */
  async close(): Promise<void> {
    while (this.queue.length > 0 || this.running || this.scheduled || this.flushing > 0) await new Promise((r) => setTimeout(r, 5));
    this.closed = true;
    this.wal.close();
  }

  private schedule(delayMs = 0): void {
    if (this.scheduled || this.running) return;
    this.scheduled = true;
    const go = () => {
      this.scheduled = false;
      void this.runGroup();
    };
    if (delayMs > 0) setTimeout(go, delayMs);
    else setImmediate(go);
  }

  private rejectQueued(error: unknown): void {
    for (const job of this.queue.splice(0)) job.reject(error);
  }

  private async runGroup(): Promise<void> {
    if (this.queue.length === 0 || this.running) return;
    if (!this.db.open) {
      this.rejectQueued(storeErrorOf(new TypeError('The database connection is not open')));
      return;
    }
    let began: boolean;
    try {
      began = tryBeginImmediate(this.db);
    } catch (err) {
      this.rejectQueued(storeErrorOf(err));
      return;
    }
    if (!began) {
      // Another process commits: the requests arriving meanwhile join this group.
      this.waitingSince ??= Date.now();
      if (Date.now() - this.waitingSince > BUSY_TIMEOUT_MS) {
        this.waitingSince = undefined;
        this.retries = 0;
        this.rejectQueued(new StoreBusy('The database is busy (another process held the write lock); nothing was changed.'));
        return;
      }
      this.retries++;
      this.schedule(this.retries < 20 ? 0 : 1);
      return;
    }
    this.waitingSince = undefined;
    this.retries = 0;
    this.running = true;
    const batch: Job[] = [];
    const outcomes: Outcome[] = [];
    let groupError: unknown;
    /** The group's first transaction failed and, having no savepoint, was rolled back alone: nothing to commit. */
    let firstRolledBack = false;
    try {
      // Transactions queued while earlier ones of the group ran join it too, up to MAX_GROUP.
      while (this.queue.length > 0 && batch.length < MAX_GROUP) {
        const job = this.queue.shift();
        if (!job) break;
        const first = batch.length === 0;
        batch.push(job);
        const outcome = await this.runOne(job, first);
        outcomes.push(outcome);
        if (first && !outcome.ok) {
          firstRolledBack = true;
          break;
        }
        // An error that ended the whole transaction (disk full, I/O) takes the group with it.
        if (!this.db.inTransaction) throw (outcome as { error?: unknown }).error ?? new Error('the transaction ended early');
      }
      if (!firstRolledBack) this.db.prepare('COMMIT').run();
    } catch (err) {
      groupError = storeErrorOf(err);
      if (this.db.open && this.db.inTransaction) this.db.prepare('ROLLBACK').run();
    } finally {
      this.repos.audit.forgetHead();
      this.running = false;
    }
    if (firstRolledBack) {
      // Nothing was committed: the one transaction of the group is answered with its own error.
      for (const job of batch) job.reject((outcomes[0] as { error?: unknown }).error);
    } else if (groupError === undefined) {
      // Durable before anyone hears of it; meanwhile the next group may take the lock and run.
      this.flushing += 1;
      if (this.queue.length > 0) this.schedule();
      try {
        await this.flush(this.db.name);
      } catch (err) {
        groupError = new StoreUnavailable('The change was written but could not be flushed to disk: its outcome after a power cut is unknown.', 5, { cause: err });
      } finally {
        this.flushing -= 1;
      }
    }
    if (firstRolledBack) {
      // Answered above.
    } else if (groupError !== undefined) {
      // Nothing of the group is durable.
      for (const job of batch) job.reject(groupError);
    } else {
      batch.forEach((job, i) => {
        const outcome = outcomes[i];
        if (!outcome) job.reject(new Error('group commit lost a result'));
        else if (!outcome.ok) job.reject(outcome.error);
        else {
          job.resolve(outcome.value);
          for (const hook of outcome.hooks) {
            try {
              hook();
            } catch (err) {
              this.onHookError(err);
            }
          }
        }
      });
    }
    if (this.queue.length > 0) this.schedule();
  }

  /**
   * One transaction of the group, in its own savepoint; the group's first needs none (issue 17:
   * two statements fewer for a transaction that commits alone): should it fail, the whole
   * transaction, which holds only its changes, is rolled back.
   */
  private async runOne(job: Job, first: boolean): Promise<Outcome> {
    const hooks: (() => void)[] = [];
    if (!first) this.db.prepare('SAVEPOINT tx').run();
    try {
      const value = await this.inside.run(true, () => job.fn(writeTxOf(this.repos, hooks)));
      if (!first) this.db.prepare('RELEASE tx').run();
      return { ok: true, value, hooks };
    } catch (err) {
      this.repos.audit.forgetHead();
      if (this.db.open && this.db.inTransaction) {
        if (first) {
          this.db.prepare('ROLLBACK').run();
        } else {
          this.db.prepare('ROLLBACK TO tx').run();
          this.db.prepare('RELEASE tx').run();
        }
      }
      return { ok: false, error: storeErrorOf(err) };
    }
  }
}
