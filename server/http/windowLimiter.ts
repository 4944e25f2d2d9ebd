/**
 * One fixed-window limit as an Express middleware (rateLimit.ts builds the gateway's limits from
 * it; issue 7, issue 13, 1). The counting is the store's: ONE atomic hit per counted request
 * (SharedCounterStore: one statement in the store's ephemeral part, shared by every worker and
 * instance; ClockMemoryStore in a process alone), and the limit is decided on the count that hit
 * returned, so concurrent requests can never all see room that only one of them has.
 *
 * Issue 17: this replaces express-rate-limit's middleware around the same stores, for the same
 * semantics at a fraction of the work per request (one store call and one promise, where the
 * library awaited its skip, key, store and limit callbacks in turn, ran its validations and
 * listened for every response's end even when it counted nothing).
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';

/** A window's count after a hit, and when it ends. */
export interface WindowCount {
  totalHits: number;
  resetTime: Date | undefined;
}

/** The counters a limit needs (SharedCounterStore and ClockMemoryStore in rateLimit.ts). */
export interface WindowCounter {
  increment(key: string): Promise<WindowCount> | WindowCount;
  decrement(key: string): Promise<void> | void;
}

/** A request over the limit: its key, its count in the window (the limit + 1 first) and the window's end. */
export interface OverLimit {
  key: string;
  used: number;
  resetAt: number | undefined;
}

export interface WindowLimiterOptions {
  limit: number;
  store: WindowCounter;
  /** The key the request counts under; undefined: this limit does not count it. */
  keyOf: (req: Request, res: Response) => string | undefined;
  /** Count only failed requests: an answer under 400 takes its hit back (if its window is still open). */
  failuresOnly?: boolean;
  /** The gateway clock, in ms (the window's end is compared with it). */
  now: () => number;
  /** The store failed: the request goes on uncounted (a brake, not a guarantee) and this logs it. */
  storeError: (err: unknown, message: string) => void;
  /** The request is over the limit: refuse it (next with an error) or hold it, then next(). */
  over: (req: Request, res: Response, next: NextFunction, over: OverLimit) => void;
}

function countOf(store: WindowCounter, key: string): Promise<WindowCount> {
  try {
    return Promise.resolve(store.increment(key));
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}

/** A failuresOnly limit: an answer under 400 takes this request's hit back (if its window is still open). */
function takeBackOnSuccess(o: WindowLimiterOptions, res: Response, key: string, resetAt: number | undefined): void {
  res.once('finish', () => {
    if (res.statusCode >= 400) return;
    // A hit in a window that has ended is gone with it.
    if (resetAt !== undefined && o.now() >= resetAt) return;
    Promise.resolve()
      .then(() => o.store.decrement(key))
      .catch((err: unknown) => o.storeError(err, 'rate limit: the store could not take a hit back'));
  });
}

export function windowLimiter(o: WindowLimiterOptions): RequestHandler {
  return (req: Request, res: Response, next: NextFunction): void => {
    const key = o.keyOf(req, res);
    if (key === undefined) {
      next();
      return;
    }
    countOf(o.store, key)
      .then(
        (count) => {
          const resetAt = count.resetTime?.getTime();
          if (o.failuresOnly) takeBackOnSuccess(o, res, key, resetAt);
          if (count.totalHits > o.limit) o.over(req, res, next, { key, used: count.totalHits, resetAt });
          else next();
        },
        (err: unknown) => {
          o.storeError(err, 'rate limit: the store failed; the request goes on uncounted');
          next();
        },
      )
      .catch((err: unknown) => next(err));
  };
}

/** Counts `first` and, only while that count is within `firstLimit`, `second`: in one store call. */
export type CountThen = (first: string, firstLimit: number, second: string) => Promise<{ first: WindowCount; second: WindowCount | undefined }>;

/**
 * Two limits run one after the other, `second` only if `first` let the request through, with
 * exactly their behaviour apart (each `over`, each log line, the second's take-back), but counted
 * in ONE store call when the request counts under both (issue 17: the hard and soft per-account
 * limits, one round trip instead of two). The second is not counted for a request the first
 * refuses, as before; each count stays atomic (the store's hitThen).
 */
export function windowLimiterPair(first: WindowLimiterOptions, second: WindowLimiterOptions, countThen: CountThen): RequestHandler {
  const firstAlone = windowLimiter(first);
  const secondAlone = windowLimiter(second);
  return (req: Request, res: Response, next: NextFunction): void => {
    const k1 = first.keyOf(req, res);
    const k2 = k1 === undefined ? undefined : second.keyOf(req, res);
    if (k1 === undefined || k2 === undefined) {
      // One limit or none counts this request: each on its own, as two middlewares would.
      firstAlone(req, res, (err?: unknown) => (err === undefined ? secondAlone(req, res, next) : next(err)));
      return;
    }
    countThen(k1, first.limit, k2)
      .then(
        (count) => {
          const resetAt1 = count.first.resetTime?.getTime();
          if (count.first.totalHits > first.limit) {
            first.over(req, res, next, { key: k1, used: count.first.totalHits, resetAt: resetAt1 });
            return;
          }
          if (first.failuresOnly) takeBackOnSuccess(first, res, k1, resetAt1);
          const c2 = count.second;
          if (c2 === undefined) {
            next();
            return;
          }
          const resetAt2 = c2.resetTime?.getTime();
          if (second.failuresOnly) takeBackOnSuccess(second, res, k2, resetAt2);
          if (c2.totalHits > second.limit) second.over(req, res, next, { key: k2, used: c2.totalHits, resetAt: resetAt2 });
          else next();
        },
        (err: unknown) => {
          // As the two limits alone: each logs the failure and lets the request go on uncounted.
          first.storeError(err, 'rate limit: the store failed; the request goes on uncounted');
          second.storeError(err, 'rate limit: the store failed; the request goes on uncounted');
          next();
        },
      )
      .catch((err: unknown) => next(err));
  };
}
