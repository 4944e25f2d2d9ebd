/**
 * The ephemeral store on SQLite: a file of its own next to the durable one, shared by every
 * process of the gateway (WAL), written with synchronous=OFF: a power cut may lose what it
 * holds, which costs a retry (a new challenge), never a guarantee. Each method is one statement,
 * atomic across processes. Its schema is not migrated: a file of another version is emptied.
 */
import { CEREMONIES, type ChallengeRecord, type NewChallenge } from '../../domain/keys.js';
import type { ChallengeStore, EphemeralStore, LimitCounterStore, LimitWindow } from '../../ports/ephemeral.js';
import { StoreBusy } from '../../ports/storeErrors.js';
import { createPrivateFile, isBusy, keepPrivate, openConnection, type Connection } from './connection.js';
import { storeErrorOf } from './errors.js';
import * as rows from './rows.js';

/** Bump when the tables below change: the file is then emptied and made again. */
const EPHEMERAL_VERSION = 2;

/**
 * Version 2 (issue 17): a rate-limit hit writes only its counter's b-tree entry: the index on
 * reset_at, rewritten by every hit (a third less time per hit measured), is gone, and the prune
 * once a minute scans the counters instead (one per client and account of the last window). The
 * challenges keep their expiry index: the prune of hour-old ones must not scan an hour of them.
 */
const SCHEMA = `
CREATE TABLE challenges (
  challenge TEXT PRIMARY KEY,
  flow_hash TEXT NOT NULL,
  ceremony TEXT NOT NULL,
  identity_id TEXT,
  enrolment_id TEXT,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  consumed_at TEXT
);
CREATE INDEX challenges_expiry ON challenges(expires_at);
CREATE TABLE rate_limits (
  key TEXT PRIMARY KEY,
  hits INTEGER NOT NULL,
  reset_at INTEGER NOT NULL
) WITHOUT ROWID;
`;

function prepareSchema(db: Connection): void {
  db.transaction(() => {
    const version = Number(db.pragma('user_version', { simple: true }));
    if (version === EPHEMERAL_VERSION) return;
    for (const t of ['challenges', 'rate_limits']) db.exec(`DROP TABLE IF EXISTS ${t}`);
    db.exec(SCHEMA);
    db.pragma(`user_version = ${EPHEMERAL_VERSION}`);
  }).immediate();
}

function challengeRow(r: unknown): ChallengeRecord {
  return {
    challenge: rows.str(r, 'challenge'),
    flowHash: rows.str(r, 'flow_hash'),
    ceremony: rows.oneOf(r, 'ceremony', CEREMONIES),
    identityId: rows.strOrNull(r, 'identity_id'),
    enrolmentId: rows.strOrNull(r, 'enrolment_id'),
    createdAt: rows.str(r, 'created_at'),
    expiresAt: rows.str(r, 'expires_at'),
    consumedAt: rows.strOrNull(r, 'consumed_at'),
  };
}

/**
 * The one row a write statement with RETURNING gives back, read with all(), never get(): get()
 * stops after the first row and resets the statement, so SQLite never sees it finish and never
 * runs the WAL hook, which is where its automatic checkpoint lives (sqlite3_step calls the hook
 * only on SQLITE_DONE). Every statement here commits alone, so only the ones run to their end
 * (a challenge stored, a prune) checkpointed the WAL: a stretch of rate-limit hits and consumed
 * challenges with none stored (a flood of refused requests) grew it by a page per statement, and
 * each statement cost more as it grew (17.9 against 5.7 µs per hit, one process, measured). In a
 * sign-in, whose options store a challenge, the WAL was checkpointed anyway (issue 17).
 */
function only(statementRows: unknown[]): unknown {
  return statementRows[0];
}

/** How long a statement keeps trying while another process holds the file's write lock. */
const BUSY_BOUND_MS = 1000;

/**
 * Runs one statement, its driver errors as the port's. The lock is never waited for in this
 * thread (busy_timeout 0: SQLite's busy handler would sleep a whole millisecond here at the
 * first conflict): a statement that finds the file busy is tried again every millisecond off the
 * event loop, and past BUSY_BOUND_MS the caller gets StoreBusy.
 *
 * Issue 17: it was tried again at once, on the next turns of the event loop (setImmediate), up to
 * ten times before waiting: under load the other process still held the lock (descheduled while
 * holding it, on a busy machine), so each conflict cost 5-7 failed statements, each a thrown
 * error, where a millisecond's wait costs about 2 (two processes, scripts/bench/ephemeralMicro.ts).
 */
function run<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (err) {
    if (!isBusy(err)) return Promise.reject(storeErrorOf(err));
    return retry(fn, Date.now());
  }
}

function retry<T>(fn: () => T, since: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    setTimeout(() => {
      try {
        resolve(fn());
      } catch (err) {
        if (!isBusy(err)) reject(storeErrorOf(err));
        else if (Date.now() - since > BUSY_BOUND_MS) reject(new StoreBusy('The ephemeral store is busy; nothing was changed.', 1, { cause: err }));
        else resolve(retry(fn, since));
      }
    }, 1);
  });
}

class SqliteChallenges implements ChallengeStore {
  constructor(private readonly db: Connection) {}

  put(c: NewChallenge): Promise<void> {
    return run(() => {
      this.db
        .prepare(
          `INSERT INTO challenges (challenge, flow_hash, ceremony, identity_id, enrolment_id, created_at, expires_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(c.challenge, c.flowHash, c.ceremony, c.identityId, c.enrolmentId, c.createdAt, c.expiresAt);
    });
  }

  consume(challenge: string, at: string): Promise<ChallengeRecord | undefined> {
    return run(() => {
      // One statement: of any number of processes, exactly one sees the row unconsumed.
      const r = only(this.db.prepare('UPDATE challenges SET consumed_at = ? WHERE challenge = ? AND consumed_at IS NULL RETURNING *').all(at, challenge));
      return r === undefined ? undefined : challengeRow(r);
    });
  }

  prune(before: string): Promise<number> {
    return run(() => this.db.prepare('DELETE FROM challenges WHERE expires_at < ?').run(before).changes);
  }
}

class SqliteLimits implements LimitCounterStore {
  constructor(private readonly db: Connection) {}

  hitThen(first: string, firstLimit: number, second: string, windowMs: number, at: number): Promise<{ first: LimitWindow; second: LimitWindow | undefined }> {
    if (first === second) return Promise.reject(new TypeError('store: hitThen needs two different keys'));
    // Two statements run back to back in one synchronous call (no round trip here: the file is
    // in this process), each atomic as `hit`'s; the second only when the first is within its limit.
    return run(() => {
      const f = this.hitNow(first, windowMs, at);
      return { first: f, second: f.hits <= firstLimit ? this.hitNow(second, windowMs, at) : undefined };
    });
  }

  hit(key: string, windowMs: number, at: number): Promise<LimitWindow> {
    return run(() => this.hitNow(key, windowMs, at));
  }

  private hitNow(key: string, windowMs: number, at: number): LimitWindow {
    const r = only(
      this.db
        .prepare(
          `INSERT INTO rate_limits (key, hits, reset_at) VALUES (?, 1, ?)
           ON CONFLICT (key) DO UPDATE SET
             hits = CASE WHEN rate_limits.reset_at <= ? THEN 1 ELSE rate_limits.hits + 1 END,
             reset_at = CASE WHEN rate_limits.reset_at <= ? THEN excluded.reset_at ELSE rate_limits.reset_at END
           RETURNING hits, reset_at`,
        )
        .all(key, at + windowMs, at, at),
    );
    return { hits: rows.num(r, 'hits'), resetAt: rows.num(r, 'reset_at') };
  }

  get(key: string, at: number): Promise<LimitWindow | undefined> {
    return run(() => {
      const r = this.db.prepare('SELECT hits, reset_at FROM rate_limits WHERE key = ? AND reset_at > ?').get(key, at);
      return r === undefined ? undefined : { hits: rows.num(r, 'hits'), resetAt: rows.num(r, 'reset_at') };
    });
  }

  undo(key: string, at: number): Promise<void> {
    return run(() => {
      this.db.prepare('UPDATE rate_limits SET hits = hits - 1 WHERE key = ? AND hits > 0 AND reset_at > ?').run(key, at);
    });
  }

  reset(key: string): Promise<void> {
    return run(() => {
      this.db.prepare('DELETE FROM rate_limits WHERE key = ?').run(key);
    });
  }

  prune(at: number): Promise<number> {
    return run(() => this.db.prepare('DELETE FROM rate_limits WHERE reset_at <= ?').run(at).changes);
  }
}

export class SqliteEphemeral implements EphemeralStore {
  readonly challenges: ChallengeStore;
  readonly limits: LimitCounterStore;
  private readonly db: Connection;

  constructor(readonly file: string) {
    createPrivateFile(file);
    // Every statement here holds the lock for microseconds; waits are retried off the event loop.
    this.db = openConnection(file, { synchronous: 'OFF', busyTimeoutMs: 2000 });
    try {
      prepareSchema(this.db);
      this.db.pragma('busy_timeout = 0');
      keepPrivate(file);
    } catch (err) {
      this.db.close();
      throw err;
    }
    this.challenges = new SqliteChallenges(this.db);
    this.limits = new SqliteLimits(this.db);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
