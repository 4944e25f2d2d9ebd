/**
 * When a job runs again: exponential backoff with jitter, the server's Retry-After honoured, a cap
 * on the delay and on the attempts, after which the job is failed with its last reason and shown
 * on the admin page (it is never dropped). Pure: the caller supplies the time and the randomness.
 */
import type { JobOutcome } from './jobs.js';

export interface BackoffPolicy {
  /** Delay after the first failure. */
  baseSeconds: number;
  factor: number;
  maxSeconds: number;
  /** Attempts in all (the first included) before the job is failed. */
  maxAttempts: number;
  /** Share of the delay that is random, 0..1 (spreads instances that failed together). */
  jitter: number;
}

/** 30 s, 1 min, 2 min ... capped at 6 h; 20 attempts span roughly four days. */
export const DEFAULT_BACKOFF: Readonly<BackoffPolicy> = Object.freeze({ baseSeconds: 30, factor: 2, maxSeconds: 6 * 3600, maxAttempts: 20, jitter: 0.2 });

/** The delay before attempt `attempt + 1`, after `attempt` failed ones (1-based). */
export function retryDelaySeconds(policy: BackoffPolicy, attempt: number, random: () => number, retryAfterSeconds: number | null = null): number {
  const exp = Math.min(policy.maxSeconds, policy.baseSeconds * policy.factor ** Math.max(0, attempt - 1));
  const r = Math.min(1, Math.max(0, random()));
  const delay = exp * (1 - policy.jitter + policy.jitter * r);
  // The server's Retry-After is a floor, still within the cap.
  return Math.ceil(Math.min(policy.maxSeconds, Math.max(delay, retryAfterSeconds ?? 0)));
}

export type NextStep =
  | { state: 'done' }
  | { state: 'pending'; attempts: number; notBefore: Date; lastError: string }
  | { state: 'failed'; attempts: number; reason: string };

/** The job's next state after an attempt (`attempts` counts this one). */
export function nextStep(policy: BackoffPolicy, attempts: number, outcome: JobOutcome, now: Date, random: () => number): NextStep {
  if (outcome.status === 'done') return { state: 'done' };
  if (outcome.status === 'failed') return { state: 'failed', attempts, reason: `${outcome.code}: ${outcome.reason}` };
  if (attempts >= policy.maxAttempts) return { state: 'failed', attempts, reason: `gave up after ${attempts} attempts; last: ${outcome.code}: ${outcome.reason}` };
  const seconds = retryDelaySeconds(policy, attempts, random, outcome.retryAfterSeconds);
  return { state: 'pending', attempts, notBefore: new Date(now.getTime() + seconds * 1000), lastError: `${outcome.code}: ${outcome.reason}` };
}
