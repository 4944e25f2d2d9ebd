/**
 * State shared by every process and instance of one gateway that is NOT durable: losing it
 * costs a retry, never a security property (docs/architecture.md lists it). SQLite keeps it in a
 * separate file with synchronous=OFF; PostgreSQL in UNLOGGED tables. Every method is one atomic
 * statement, visible to every process at once; none of it waits for an fsync.
 */
import type { ChallengeRecord, NewChallenge } from '../domain/keys.js';

/** WebAuthn challenges (NSIS 3.3.1 (Low) 3): random, bound to a ceremony and a browser, single use. */
export interface ChallengeStore {
  put(c: NewChallenge): Promise<void>;
  /**
   * Consumes a challenge exactly once across every process: the record (consumed at `at`) for the one
   * caller that consumed it, undefined for every other (unknown or used). Expiry and binding are
   * the caller's to check, so the refusal can say which.
   */
  consume(challenge: string, at: string): Promise<ChallengeRecord | undefined>;
  /** Forgets challenges that expired before `before`. */
  prune(before: string): Promise<number>;
}

/** A fixed-window counter: hits in the window that began at `resetAt - windowMs`. */
export interface LimitWindow {
  hits: number;
  /** When the window ends, in epoch milliseconds. */
  resetAt: number;
}

/**
 * Rate-limit counters (issue 7, issue 13, 1), shared by every worker and instance so a limit
 * holds across them. Times are epoch milliseconds from the caller's Clock.
 */
export interface LimitCounterStore {
  /** Counts one hit for `key` atomically; a window that ended at or before `at` starts again. */
  hit(key: string, windowMs: number, at: number): Promise<LimitWindow>;
  /**
   * Counts one hit for `first` and, only when that count is at most `firstLimit`, one for
   * `second` (a different key), each as atomically as `hit`, in ONE call (one statement on
   * PostgreSQL; issue 17: a request's hard and soft per-account limits, one round trip instead of
   * two). `second` is not counted for a request the first limit refuses, exactly as when the two
   * were hit one after the other.
   */
  hitThen(first: string, firstLimit: number, second: string, windowMs: number, at: number): Promise<{ first: LimitWindow; second: LimitWindow | undefined }>;
  /** The current window of `key`, if one is open at `at`. */
  get(key: string, at: number): Promise<LimitWindow | undefined>;
  /** Takes one hit back (a request that turned out not to count), never below zero. */
  undo(key: string, at: number): Promise<void>;
  reset(key: string): Promise<void>;
  /** Forgets windows that ended before `at`. */
  prune(at: number): Promise<number>;
}

export interface EphemeralStore {
  challenges: ChallengeStore;
  limits: LimitCounterStore;
}
