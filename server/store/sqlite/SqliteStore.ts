/**
 * The embedded adapter of the store port (better-sqlite3): one durable file (WAL, each group
 * commit's WAL flushed before it is acknowledged (writer.ts), secure_delete) written by one GroupWriter per process and read through a
 * pool of reader connections, its WAL checkpointed by a thread (walCheckpointer.ts), and the ephemeral file beside it. Every process of a gateway
 * (node:cluster workers, the operator's tools) opens the same files; SQLite's locks make them one.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ReadOptions, ReadTx, Store, StoreTools, WriteOptions, WriteTx } from '../../ports/store.js';
import { StoreUnavailable } from '../../ports/storeErrors.js';
import { createPrivateFile, keepPrivate, openConnection, type Connection } from './connection.js';
import { SqliteEphemeral } from './ephemeral.js';
import { storeErrorOf } from './errors.js';
import { migrate, schemaVersionOf } from './migrate.js';
import { ReaderPool } from './readers.js';
import { num, str as rowText } from './rows.js';
import { repositoriesOf } from './transactions.js';
import { CHECKPOINT_PAGES, WalCheckpointer, type CheckpointMode } from './walCheckpointer.js';
import { GroupWriter } from './writer.js';

export interface SqliteStoreOptions {
  /** Where after-commit callbacks that throw are reported (they never fail the commit). */
  onHookError?: (err: unknown) => void;
  /** The ephemeral file (default: `<file without .db>-ephemeral.db` beside the durable one). */
  ephemeralFile?: string;
  /** The flush of the WAL after each group commit (default: fdatasync on the thread pool; writer.ts). */
  flushWal?: (dbFile: string) => Promise<void>;
  /**
   * Who copies the WAL into the database file once 1,000 of its pages are not yet copied: 'thread'
   * (default; walCheckpointer.ts, off the event loop) or 'commit' (SQLite, inside that COMMIT).
   * GATEWAY_SQLITE_CHECKPOINT.
   */
  checkpoint?: CheckpointMode;
  /** Where a failed background checkpoint is reported (default: nowhere; the next round retries). */
  onCheckpointError?: (err: unknown) => void;
}

/** The ephemeral file that goes with a durable file. */
export function ephemeralFileOf(file: string): string {
  return `${file.replace(/\.db$/, '')}-ephemeral.db`;
}

export class SqliteStore implements Store {
  readonly engine = 'sqlite' as const;
  readonly ephemeral: SqliteEphemeral;
  readonly tools: StoreTools;
  private readonly writer: GroupWriter;
  private readonly readers: ReaderPool;
  private readonly checkpointer: WalCheckpointer | undefined;
  private closed = false;

  private constructor(
    readonly file: string,
    private readonly db: Connection,
    opts: SqliteStoreOptions,
  ) {
    this.writer = new GroupWriter(db, repositoriesOf(db), opts.onHookError ?? (() => undefined), opts.flushWal);
    this.readers = new ReaderPool(file);
    this.checkpointer = WalCheckpointer.start(db, file, opts.checkpoint ?? 'thread', opts.onCheckpointError ?? (() => undefined));
    this.ephemeral = new SqliteEphemeral(opts.ephemeralFile ?? ephemeralFileOf(file));
    this.tools = {
      backup: (target) => this.backup(target),
      describe: async () => ({
        engine: 'sqlite',
        location: this.file,
        // Read on a connection opened as the writer's is (the same pragmas).
        settings: await this.readers.raw((db) => ({
          version: rowText(db.prepare('SELECT sqlite_version() AS v').get(), 'v'),
          journal_mode: String(db.pragma('journal_mode', { simple: true })),
          // The writer's own: NORMAL, and every group commit's WAL flushed before it is acknowledged (writer.ts).
          synchronous: Number(this.db.pragma('synchronous', { simple: true })),
          commit_flush: 'fdatasync of the WAL on the thread pool before a commit is acknowledged',
          // Issue 17: who copies the WAL into the file (walCheckpointer.ts).
          wal_checkpoint: this.checkpointer ? `a thread, past ${CHECKPOINT_PAGES} pages (PASSIVE)` : `inside COMMIT, past ${Number(this.db.pragma('wal_autocheckpoint', { simple: true }))} pages (SQLite)`,
          // Issue 13, 5: deleted content is zeroed in the file (set on every connection that writes).
          secure_delete: Number(this.db.pragma('secure_delete', { simple: true })),
        })),
      }),
    };
  }

  /** Opens (creating it 0600 if needed) and migrates the database file, and its ephemeral file. */
  static open(file: string, opts: SqliteStoreOptions = {}): SqliteStore {
    createPrivateFile(file);
    let db: Connection | undefined;
    try {
      // Durable commit: a change acknowledged to a client survives a power cut (NORMAL here, and the
      // writer flushes the WAL off the event loop before acknowledging: writer.ts). Issue 13, 5:
      // deleted and overwritten content is zeroed in the file, not left in free pages.
      db = openConnection(file, { synchronous: 'NORMAL', secureDelete: true });
      migrate(db);
      keepPrivate(file);
      return new SqliteStore(file, db, opts);
    } catch (err) {
      if (db?.open) db.close();
      throw storeErrorOf(err);
    }
  }

  /** `oneStatement` changes nothing here: every write is one transaction of the one writer, with no round trips. */
  write<T>(fn: (tx: WriteTx) => Promise<T>, _options?: WriteOptions): Promise<T> {
    return this.writer.write(fn);
  }

  /** `oneStatement`: no BEGIN and COMMIT around the one statement (it is its own snapshot; readers.ts). */
  read<T>(fn: (tx: ReadTx) => Promise<T>, options?: ReadOptions): Promise<T> {
    return options?.oneStatement === true ? this.readers.readOne(fn) : this.readers.read(fn);
  }

  /** A trivial query on a reader (WAL readers never wait on a writer), and the file still there. */
  async health(): Promise<void> {
    if (this.closed) throw new StoreUnavailable('The database is closed.');
    const ok = await this.readers.raw((db) => num(db.prepare('SELECT 1 AS ok').get(), 'ok') === 1);
    if (!ok || !fs.existsSync(this.file)) throw new StoreUnavailable(`The database file ${path.basename(this.file)} does not answer.`);
  }

  async schemaVersion(): Promise<number> {
    return this.readers.raw((db) => schemaVersionOf(db));
  }

  /**
   * `VACUUM INTO` writes a consistent snapshot (one read transaction; writers go on in WAL mode)
   * as ONE self-contained file in rollback-journal mode, without free pages, into `target`, which
   * must be absent or empty; the copy is flushed to disk before this resolves.
   */
  private async backup(target: string): Promise<void> {
    const absolute = path.resolve(target);
    const reader = openConnection(this.file, { synchronous: 'FULL', readOnly: false });
    try {
      reader.prepare('VACUUM INTO ?').run(absolute);
    } catch (err) {
      throw storeErrorOf(err);
    } finally {
      reader.close();
    }
    const fd = fs.openSync(absolute, 'r+');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writer.close();
    await this.checkpointer?.stop();
    this.readers.close();
    this.ephemeral.close();
    if (this.db.open) this.db.close();
  }
}
