/**
 * Rate limits on the ceremony endpoints (issue 7, brute force): enrolment, activation and sign-in
 * under /api, and the OpenID Connect authorize and token endpoints.
 *
 * Two limits, each a fixed window of one minute:
 * - per client IP (req.ip, so GATEWAY_TRUST_PROXY decides whether X-Forwarded-For counts; IPv6
 *   grouped by /56), generous because a whole workforce may sit behind one NAT;
 * - per account, tight: keyed by what the request names — the enrolment link, the email address
 *   (normalised as the store does) or the credential id — always as a SHA-256, so no raw token or
 *   address is held as a key. It slows guessing spread over many IPs; the one-time secrets also
 *   lock for good (activation codes, enrolment links: see Gateway), which these limits do not
 *   replace.
 *
 * A refusal is 429 problem+json RATE_LIMITED with Retry-After, through the one error boundary.
 *
 * Counters: in this process (MemoryStore-like, driven by the Clock port so tests can advance time)
 * or, in a node:cluster worker whose primary called `installRateLimitPrimary()`, in the primary
 * (@express-rate-limit/cluster-memory-store), so the limits hold across all workers. A store
 * failure lets the request through and logs an error: these limits are a brake, the single-use
 * and lockout guarantees live in the database.
 */
import { ClusterMemoryStorePrimary, ClusterMemoryStoreWorker } from '@express-rate-limit/cluster-memory-store';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ipKeyGenerator, rateLimit, type ClientRateLimitInfo, type Options, type Store } from 'express-rate-limit';
import cluster from 'node:cluster';
import { createHash } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import { RateLimitedError } from '../errors.js';
import type { Logger } from '../logger.js';
import { normaliseEmail } from '../store/index.js';

const WINDOW_MS = 60_000;
/** Set by installRateLimitPrimary() in the primary; forked workers inherit it (not a config key). */
const PRIMARY_ENV = 'GATEWAY_RATE_LIMIT_PRIMARY_PID';

/** Mount points under /api of the ceremony endpoints the limits apply to. */
export const CEREMONY_API_PATHS = ['/enrolment', '/activation', '/signin'];
/** The OpenID Connect endpoints the per-IP limit applies to. */
export const OIDC_LIMITED_PATHS = ['/oidc/authorize', '/oidc/token'];

let primaryInstalled = false;

/**
 * Call once in the cluster primary, before forking the workers: the primary keeps the counters
 * for every worker, so a limit holds across the cluster. Idempotent. Workers forked afterwards
 * see it in their environment and use the shared store; without it each worker would count on
 * its own (and logs an error saying so).
 */
export function installRateLimitPrimary(): void {
  if (!cluster.isPrimary) throw new TypeError('installRateLimitPrimary() belongs in the cluster primary');
  if (primaryInstalled) return;
  new ClusterMemoryStorePrimary().init();
  process.env[PRIMARY_ENV] = String(process.pid);
  primaryInstalled = true;
}

/**
 * Fixed-window counters in this process, timed by the Clock port (express-rate-limit's own
 * MemoryStore reads Date.now(), which tests cannot advance). Expired windows are swept at most
 * once a window, so memory stays bounded by the keys seen in the last minute.
 */
export class ClockMemoryStore implements Store {
  readonly localKeys = true;
  private windowMs = WINDOW_MS;
  private readonly hits = new Map<string, { totalHits: number; resetAt: number }>();
  private nextSweep = 0;

  constructor(private readonly clock: Clock) {}

  init(options: Options): void {
    this.windowMs = options.windowMs;
  }

  get(key: string): ClientRateLimitInfo | undefined {
    const e = this.hits.get(key);
    if (!e || e.resetAt <= this.clock.now().getTime()) return undefined;
    return { totalHits: e.totalHits, resetTime: new Date(e.resetAt) };
  }

  increment(key: string): ClientRateLimitInfo {
    const now = this.clock.now().getTime();
    this.sweep(now);
    let e = this.hits.get(key);
    if (!e || e.resetAt <= now) {
      e = { totalHits: 0, resetAt: now + this.windowMs };
      this.hits.set(key, e);
    }
    e.totalHits++;
    return { totalHits: e.totalHits, resetTime: new Date(e.resetAt) };
  }

  decrement(key: string): void {
    const e = this.hits.get(key);
    if (e && e.totalHits > 0) e.totalHits--;
  }

  resetKey(key: string): void {
    this.hits.delete(key);
  }

  resetAll(): void {
    this.hits.clear();
  }

  private sweep(now: number): void {
    if (now < this.nextSweep) return;
    this.nextSweep = now + this.windowMs;
    for (const [k, e] of this.hits) if (e.resetAt <= now) this.hits.delete(k);
  }
}

function sha256(kind: string, value: string): string {
  return createHash('sha256').update(kind).update('\0').update(value).digest('base64url');
}

function fieldOf(v: unknown, name: string): unknown {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.hasOwn(v, name) ? Reflect.get(v, name) : undefined;
}

function stringField(v: unknown, name: string): string | undefined {
  const f = fieldOf(v, name);
  return typeof f === 'string' && f.length > 0 ? f : undefined;
}

/**
 * The account a ceremony request is about, hashed: the enrolment link (options and verify — in
 * verify the credential is the attacker's own choice, so the link is what counts), else the email
 * (activation and sign-in options), else the credential id (activation and sign-in verify).
 * Undefined when the body names none (a discoverable sign-in's options): only the IP limit applies.
 */
export function accountKeyOf(body: unknown): string | undefined {
  const token = stringField(body, 'token');
  if (token !== undefined) return `enrolment:${sha256('enrolment', token)}`;
  const email = stringField(body, 'email');
  if (email !== undefined) return `email:${sha256('email', normaliseEmail(email))}`;
  const credentialId = stringField(fieldOf(body, 'response'), 'id');
  if (credentialId !== undefined) return `credential:${sha256('credential', credentialId)}`;
  return undefined;
}

function ipKey(req: Request): string {
  return `ip:${ipKeyGenerator(req.ip ?? 'unknown', 56)}`;
}

export interface CeremonyRateLimits {
  /** Per client IP on the /api ceremony paths; mount before the body parser. */
  apiPerIp: RequestHandler;
  /** Per account on the /api ceremony paths; mount after the body parser. */
  apiPerAccount: RequestHandler;
  /** Per client IP on OIDC authorize and token. */
  oidcPerIp: RequestHandler;
}

const passThrough: RequestHandler = (_req, _res, next) => next();

/** Builds the limiters from the configuration; a limit of 0 turns that limit off (with a warning). */
export function ceremonyRateLimits(deps: { config: Readonly<Config>; clock: Clock; log: Logger }): CeremonyRateLimits {
  const { config, clock, log } = deps;
  const { ipPerMinute, accountPerMinute } = config.rateLimit;
  const shared = cluster.isWorker && process.env[PRIMARY_ENV] === String(process.ppid);
  if (cluster.isWorker && !shared && (ipPerMinute > 0 || accountPerMinute > 0)) {
    log.error('rate limits: this cluster worker has no shared counters (main.ts must call installRateLimitPrimary() in the primary); each worker counts alone');
  }
  if (ipPerMinute === 0) log.warn('rate limit per IP on the ceremony endpoints is OFF (GATEWAY_RATE_LIMIT_IP_PER_MINUTE=0)');
  if (accountPerMinute === 0) log.warn('rate limit per account on the ceremony endpoints is OFF (GATEWAY_RATE_LIMIT_ACCOUNT_PER_MINUTE=0)');

  const limiter = (
    name: string,
    limit: number,
    keyOf: (req: Request) => string | undefined,
    detail: string,
  ): RequestHandler => {
    if (limit === 0) return passThrough;
    const property = `rateLimit_${name}`;
    const store: Store = shared ? new ClusterMemoryStoreWorker({ prefix: `gateway-${name}` }) : new ClockMemoryStore(clock);
    return rateLimit({
      windowMs: WINDOW_MS,
      limit,
      store,
      requestPropertyName: property,
      // Retry-After comes with the problem+json from the error boundary; no draft headers.
      standardHeaders: false,
      legacyHeaders: false,
      passOnStoreError: true,
      logger: {
        error: (err: unknown, message?: string) => log.error({ err, limiter: name }, message ?? 'rate limiter error'),
        warn: (err: unknown, message?: string) => log.warn({ err, limiter: name }, message ?? 'rate limiter warning'),
      },
      // The IP limiter's key does go through ipKeyGenerator (IPv6 /56), in ipKey().
      validate: { keyGeneratorIpFallback: false },
      skip: (req: Request) => keyOf(req) === undefined,
      keyGenerator: (req: Request) => keyOf(req) ?? '',
      handler: (req: Request, _res: Response, next: NextFunction) => {
        const info: unknown = Reflect.get(req, property);
        const resetAt = info && typeof info === 'object' && 'resetTime' in info && info.resetTime instanceof Date ? info.resetTime.getTime() : undefined;
        const used = info && typeof info === 'object' && 'used' in info && typeof info.used === 'number' ? info.used : 0;
        // Logged once per key and window (the first refusal), never the raw account value.
        if (used === limit + 1) log.warn({ event: 'rate-limited', limiter: name, key: keyOf(req)?.slice(0, 40) ?? null, limit }, 'rate limit reached');
        const retryAfter = resetAt === undefined ? WINDOW_MS / 1000 : (resetAt - clock.now().getTime()) / 1000;
        next(new RateLimitedError(detail, retryAfter));
      },
    });
  };

  return {
    apiPerIp: limiter('api-ip', ipPerMinute, ipKey, 'Too many sign-in, activation or enrolment requests from your network. Wait a moment and try again.'),
    apiPerAccount: limiter(
      'api-account',
      accountPerMinute,
      (req) => accountKeyOf(req.body),
      'Too many attempts for this account or link. Wait a moment and try again.',
    ),
    oidcPerIp: limiter('oidc-ip', ipPerMinute, ipKey, 'Too many sign-in requests from your network. Wait a moment and try again.'),
  };
}
