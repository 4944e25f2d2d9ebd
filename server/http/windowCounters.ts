/**
 * The fixed-window counters of the rate limits (rateLimit.ts, issue 7, issue 13, 1): in the
 * store's ephemeral part, shared by every process and instance, or in this process alone.
 */
import type { Clock } from '../clock.js';
import type { LimitCounterStore } from '../ports/ephemeral.js';
import type { WindowCount, WindowCounter } from './windowLimiter.js';

export const WINDOW_MS = 60_000;

/**
 * Fixed-window counters in the store's ephemeral part, shared by every process and instance
 * (one atomic statement per hit), timed by the Clock port. Each limiter names its own keys.
 */
export class SharedCounterStore implements WindowCounter {
  constructor(
    private readonly counters: LimitCounterStore,
    private readonly clock: Clock,
    readonly prefix: string,
  ) {}

  async increment(key: string): Promise<WindowCount> {
    const w = await this.counters.hit(`${this.prefix}|${key}`, WINDOW_MS, this.clock.now().getTime());
    return { totalHits: w.hits, resetTime: new Date(w.resetAt) };
  }

  /**
   * Counts `key` here and, only while that count is within `limit`, `otherKey` in `other`: one
   * store call (issue 17: the hard and soft per-account limits of one request, one round trip).
   */
  async incrementThen(key: string, limit: number, other: SharedCounterStore, otherKey: string): Promise<{ first: WindowCount; second: WindowCount | undefined }> {
    const w = await this.counters.hitThen(`${this.prefix}|${key}`, limit, `${other.prefix}|${otherKey}`, WINDOW_MS, this.clock.now().getTime());
    return {
      first: { totalHits: w.first.hits, resetTime: new Date(w.first.resetAt) },
      second: w.second === undefined ? undefined : { totalHits: w.second.hits, resetTime: new Date(w.second.resetAt) },
    };
  }

  async decrement(key: string): Promise<void> {
    await this.counters.undo(`${this.prefix}|${key}`, this.clock.now().getTime());
  }
}

/**
 * Fixed-window counters in this process, timed by the Clock port (tests advance it). Expired
 * windows are swept at most once a window, so memory stays bounded by the keys seen in the last
 * minute.
 */
export class ClockMemoryStore implements WindowCounter {
  private readonly hits = new Map<string, { totalHits: number; resetAt: number }>();
  private nextSweep = 0;

  constructor(private readonly clock: Clock) {}

  increment(key: string): WindowCount {
    const now = this.clock.now().getTime();
    this.sweep(now);
    let e = this.hits.get(key);
    if (!e || e.resetAt <= now) {
      e = { totalHits: 0, resetAt: now + WINDOW_MS };
      this.hits.set(key, e);
    }
    e.totalHits++;
    return { totalHits: e.totalHits, resetTime: new Date(e.resetAt) };
  }

  decrement(key: string): void {
    const e = this.hits.get(key);
    if (e && e.totalHits > 0) e.totalHits--;
  }

  private sweep(now: number): void {
    if (now < this.nextSweep) return;
    this.nextSweep = now + WINDOW_MS;
    for (const [k, e] of this.hits) if (e.resetAt <= now) this.hits.delete(k);
  }
}
