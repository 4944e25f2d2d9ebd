/**
 * Read transactions on connections of their own (private to the adapter): a WAL snapshot of
 * what is committed, never the open write transaction's changes, and never waiting for it. A
 * small pool, so that reads do not queue behind one another; a read transaction holds its
 * connection only while its (store-only) function runs.
 */
import type { ReadTx } from '../../ports/store.js';
import { openConnection, type Connection } from './connection.js';
import { storeErrorOf } from './errors.js';
import { readTxOf, repositoriesOf } from './transactions.js';

interface Reader {
  db: Connection;
  tx: ReadTx;
}

const MAX_READERS = 4;

export class ReaderPool {
  private readonly idle: Reader[] = [];
  private readonly all: Reader[] = [];
  private readonly waiting: ((r: Reader) => void)[] = [];
  private closed = false;

  constructor(private readonly file: string) {}

  private acquire(): Promise<Reader> {
    const free = this.idle.pop();
    if (free) return Promise.resolve(free);
    if (this.all.length < MAX_READERS) {
      const db = openConnection(this.file, { synchronous: 'FULL', readOnly: true });
      const reader = { db, tx: readTxOf(repositoriesOf(db)) };
      this.all.push(reader);
      return Promise.resolve(reader);
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(reader: Reader): void {
    const next = this.waiting.shift();
    if (next) next(reader);
    else this.idle.push(reader);
  }

  async read<T>(fn: (tx: ReadTx) => Promise<T>): Promise<T> {
    if (this.closed) throw storeErrorOf(new TypeError('The database connection is not open'));
    let reader: Reader;
    try {
      reader = await this.acquire();
    } catch (err) {
      throw storeErrorOf(err);
    }
    try {
      reader.db.prepare('BEGIN').run();
      try {
        return await fn(reader.tx);
      } finally {
        if (reader.db.inTransaction) reader.db.prepare('COMMIT').run();
      }
    } catch (err) {
      throw storeErrorOf(err);
    } finally {
      this.release(reader);
    }
  }

  /**
   * A read of ONE statement without BEGIN and COMMIT (issue 17; the port's `read(fn, { oneStatement:
   * true })`): a single statement is its own read transaction in SQLite and sees one WAL snapshot,
   * which is all BEGIN ... COMMIT around it would add. A second statement would see another
   * snapshot, so it is refused with a TypeError (a programming error the tests find), never run.
   */
  async readOne<T>(fn: (tx: ReadTx) => Promise<T>): Promise<T> {
    if (this.closed) throw storeErrorOf(new TypeError('The database connection is not open'));
    let reader: Reader;
    try {
      reader = await this.acquire();
    } catch (err) {
      throw storeErrorOf(err);
    }
    const db = reader.db;
    const prepare = db.prepare;
    let statements = 0;
    db.prepare = ((source: string) => {
      statements += 1;
      if (statements > 1) throw new TypeError('store.read({ oneStatement: true }): fn ran a second statement, which would see another snapshot');
      return prepare(source);
    }) as typeof db.prepare;
    try {
      return await fn(reader.tx);
    } catch (err) {
      throw storeErrorOf(err);
    } finally {
      db.prepare = prepare;
      this.release(reader);
    }
  }

  /** Runs `fn` on an idle reader connection outside any transaction (a pragma, a health query). */
  async raw<T>(fn: (db: Connection) => T): Promise<T> {
    if (this.closed) throw storeErrorOf(new TypeError('The database connection is not open'));
    const reader = await this.acquire();
    try {
      return fn(reader.db);
    } catch (err) {
      throw storeErrorOf(err);
    } finally {
      this.release(reader);
    }
  }

  close(): void {
    this.closed = true;
    for (const r of this.all) if (r.db.open) r.db.close();
    this.all.length = 0;
    this.idle.length = 0;
  }
}
