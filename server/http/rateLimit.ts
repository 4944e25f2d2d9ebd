/**
 * Rate limits on the ceremony endpoints (issue 7, brute force; issue 13, 1, lockout by strangers):
 * enrolment, activation and sign-in under /api, and the OpenID Connect authorize and token
 * endpoints. Each counts in a fixed window of one minute.
 *
 * The account a request is about is what it names: the enrolment link, the email address
 * (normalised as the store does) or the credential id, held only as a SHA-256. The client is the
 * browser when it carries a device cookie the gateway issued to that account's holder
 * (deviceCookie.ts), otherwise its IP (req.ip, so GATEWAY_TRUST_PROXY decides whether
 * X-Forwarded-For counts; IPv6 grouped by /56). An email address and a credential id are public,
 * so a limit per account alone let anyone lock a person out; hence (OWASP ASVS V2.2.1):
 * - hard, per client IP: generous, a whole workforce may sit behind one NAT (429);
 * - hard, per account AND client: a stranger's requests use up only their own budget for that
 *   account; the holder's own browser, or a browser on another network, keeps its own (429);
 * - soft, per account, over every client not trusted for it: after the soft limit of failed
 *   requests in the window, each further request from such a client waits, progressively longer
 *   (250 ms, doubling, at most 8 s), then goes on. Strangers are slowed, nobody is locked out,
 *   and the holder's own browser is not even slowed.
 * Guessing itself is stopped by the one-time secrets, which lock for good (activation codes,
 * enrolment links: see Gateway); a WebAuthn assertion cannot be guessed.
 *
 * A refusal is 429 problem+json RATE_LIMITED with Retry-After, through the one error boundary.
 * Each limit is a windowLimiter (windowLimiter.ts): one atomic hit in the store per counted request;
 * the hard and soft per-account limits of a request counted under both share ONE store call
 * (windowLimiterPair, the store's hitThen; issue 17), the soft one counted only if the hard one lets
 * the request through, as when they ran one after the other.
 *
 * Counters: in the store's ephemeral part (server/ports/ephemeral.ts), shared by every worker and
 * instance of the gateway, so a limit holds across all of them, timed by the Clock port (tests
 * advance it). Without a store (a test of the limiters alone) they are kept in this process,
 * and a cluster worker says in the log that it counts alone. A store failure lets the request
 * through and logs an error: these limits are a brake, the single-use and lockout guarantees
 * live in the database.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ipKeyGenerator } from 'express-rate-limit';
import cluster from 'node:cluster';
import { createHash } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import { normaliseEmail } from '../domain/identities.js';
import { RateLimitedError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { LimitCounterStore } from '../ports/ephemeral.js';
import { ClockMemoryStore, SharedCounterStore, WINDOW_MS } from './windowCounters.js';
import { windowLimiter, windowLimiterPair, type WindowCount, type WindowCounter, type WindowLimiterOptions, type CountThen } from './windowLimiter.js';

/** The soft limit's first delay, doubled with each further failure, and its ceiling. */
export const SOFT_DELAY_BASE_MS = 250;
export const SOFT_DELAY_MAX_MS = 8_000;

/** Mount points under /api of the ceremony endpoints the limits apply to. */
export const CEREMONY_API_PATHS = ['/enrolment', '/activation', '/signin'];
/** The OpenID Connect endpoints the per-IP limit applies to. */
export const OIDC_LIMITED_PATHS = ['/oidc/authorize', '/oidc/token'];

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

/** Whose account a request names, for finding the holder's trusted browser. */
export type AccountHolder = { email: string } | { credentialId: string };

/**
 * The account a ceremony request is about: its hashed key, and how to find its holder. The
 * enrolment link (options and verify — in verify the credential is the attacker's own choice, so
 * the link is what counts), else the email (activation and sign-in options), else the credential
 * id (activation and sign-in verify). Undefined when the body names none (a discoverable
 * sign-in's options): only the IP limit applies.
 */
export function accountOf(body: unknown): { key: string; holder: AccountHolder | undefined } | undefined {
  const token = stringField(body, 'token');
  if (token !== undefined) return { key: `enrolment:${sha256('enrolment', token)}`, holder: undefined };
  const email = stringField(body, 'email');
  if (email !== undefined) return { key: `email:${sha256('email', normaliseEmail(email))}`, holder: { email } };
  const credentialId = stringField(fieldOf(body, 'response'), 'id');
  if (credentialId !== undefined) return { key: `credential:${sha256('credential', credentialId)}`, holder: { credentialId } };
  return undefined;
}

/** The hashed account key alone (see {@link accountOf}). */
export function accountKeyOf(body: unknown): string | undefined {
  return accountOf(body)?.key;
}

function ipKey(req: Request): string {
  return `ip:${ipKeyGenerator(req.ip ?? 'unknown', 56)}`;
}

/** The delay before the `excess`-th failed request over the soft limit (1, 2, ...). */
export function softDelayMs(excess: number): number {
  if (excess < 1) return 0;
  return Math.min(SOFT_DELAY_MAX_MS, SOFT_DELAY_BASE_MS * 2 ** Math.min(excess - 1, 16));
}

/** Who a ceremony request counts against: decided once per request, read by both account limits. */
interface RequestParty {
  account: string;
  client: string;
  /** The browser carries a device cookie issued to the account's holder. */
  trusted: boolean;
}

/** Each ceremony request's party, decided by identifyParty and read by the account limits. */
const parties = new WeakMap<Response, RequestParty>();

function partyOf(res: Response): RequestParty | undefined {
  return parties.get(res);
}

/**
 * The device id of this browser when its device cookie was issued to the holder of `holder`.
 * `res` is this request's alone: what is read to answer may travel with it (signinKeysRead.ts).
 */
export type TrustedDevice = (req: Request, res: Response, holder: AccountHolder) => Promise<string | undefined>;

export interface CeremonyRateLimits {
  /** Per client IP on the /api ceremony paths; mount before the body parser. */
  apiPerIp: RequestHandler;
  /** Per account and client (hard), and per account over untrusted clients (soft, delaying); mount after the body parser. */
  apiPerAccount: RequestHandler[];
  /** Per client IP on OIDC authorize and token. */
  oidcPerIp: RequestHandler;
  /** Per client IP on /scim/v2 (issue 18), before the token is checked or the body read. */
  scimPerIp: RequestHandler;
}

const passThrough: RequestHandler = (_req, _res, next) => next();

/** `first` then, only while within its limit, `second`: one store call when both are the store's. */
function countThen(first: WindowCounter, second: WindowCounter): CountThen {
  if (first instanceof SharedCounterStore && second instanceof SharedCounterStore) return (a, limit, b) => first.incrementThen(a, limit, second, b);
  return async (a, limit, b) => {
    const counted: WindowCount = await first.increment(a);
    return { first: counted, second: counted.totalHits <= limit ? await second.increment(b) : undefined };
  };
}

/**
 * Builds the limiters from the configuration; a limit of 0 turns that limit off (with a warning).
 * `counters` are the store's shared counters (none: this process counts alone). `trustedDevice`
 * finds the holder's trusted browser (none: every client counts by its IP).
 */
export function ceremonyRateLimits(deps: { config: Readonly<Config>; clock: Clock; log: Logger; counters?: LimitCounterStore; trustedDevice?: TrustedDevice }): CeremonyRateLimits {
  const { config, clock, log, counters } = deps;
  const { ipPerMinute, accountPerMinute, accountSoftPerMinute } = config.rateLimit;
  if (cluster.isWorker && !counters && (ipPerMinute > 0 || accountPerMinute > 0 || accountSoftPerMinute > 0)) {
    log.error('rate limits: this cluster worker has no shared counters (the store keeps them for every worker); each worker counts alone');
  }
  if (ipPerMinute === 0) log.warn('rate limit per IP on the ceremony endpoints is OFF (GATEWAY_RATE_LIMIT_IP_PER_MINUTE=0)');
  if (accountPerMinute === 0) log.warn('rate limit per account on the ceremony endpoints is OFF (GATEWAY_RATE_LIMIT_ACCOUNT_PER_MINUTE=0)');
  if (accountSoftPerMinute === 0) log.warn('progressive delay per account on the ceremony endpoints is OFF (GATEWAY_RATE_LIMIT_ACCOUNT_SOFT_PER_MINUTE=0)');

  const store = (name: string): WindowCounter => (counters ? new SharedCounterStore(counters, clock, `gateway-${name}`) : new ClockMemoryStore(clock));
  const now = (): number => clock.now().getTime();
  const storeError = (name: string) => (err: unknown, message: string) => log.error({ err, limiter: name }, message);

  const limiterOptions = (name: string, limit: number, keyOf: (req: Request, res: Response) => string | undefined, detail: string): WindowLimiterOptions => ({
    limit,
    store: store(name),
    keyOf,
    now,
    storeError: storeError(name),
    // Retry-After comes with the problem+json from the error boundary.
    over: (_req, _res, next, { key, used, resetAt }) => {
      // Logged once per key and window (the first refusal), never the raw account value.
      if (used === limit + 1) log.warn({ event: 'rate-limited', limiter: name, key: key.slice(0, 40), limit }, 'rate limit reached');
      const retryAfter = resetAt === undefined ? WINDOW_MS / 1000 : (resetAt - now()) / 1000;
      next(new RateLimitedError(detail, retryAfter));
    },
  });
  const limiter = (name: string, limit: number, keyOf: (req: Request, res: Response) => string | undefined, detail: string): RequestHandler =>
    limit === 0 ? passThrough : windowLimiter(limiterOptions(name, limit, keyOf, detail));

  /** Decides once who the request counts against: the account, and the client for that account. */
  const identifyParty: RequestHandler = async (req, res, next) => {
    const account = accountOf(req.body);
    if (account) {
      let device: string | undefined;
      try {
        device = account.holder ? await deps.trustedDevice?.(req, res, account.holder) : undefined;
      } catch (err) {
        // A brake, not a guarantee: if the holder cannot be looked up, the IP counts.
        log.warn({ err: err instanceof Error ? err.message : String(err) }, 'rate limits: trusted-device lookup failed');
      }
      const party: RequestParty = { account: account.key, client: device ? `device:${device}` : ipKey(req), trusted: device !== undefined };
      parties.set(res, party);
    }
    next();
  };

  /**
   * The soft limit: failed requests for one account from clients not trusted for it. Over it, the
   * request waits (softDelayMs) and then goes on; successful requests are not counted.
   */
  const softOptions = (): WindowLimiterOptions => {
    const name = 'api-account-soft';
    return {
      limit: accountSoftPerMinute,
      store: store(name),
      failuresOnly: true,
      keyOf: (_req, res) => {
        const party = partyOf(res);
        return party?.trusted === false ? `soft|${party.account}` : undefined;
      },
      now,
      storeError: storeError(name),
      over: (req, res, next, { used }) => {
        const delay = softDelayMs(used - accountSoftPerMinute);
        if (used === accountSoftPerMinute + 1) {
          log.warn({ event: 'rate-limit.delaying', limiter: name, key: partyOf(res)?.account.slice(0, 40) ?? null, limit: accountSoftPerMinute }, 'soft limit reached: delaying further attempts');
        }
        // The request log line carries the delay (requestLog.ts), and so does the answer, in the
        // standard Server-Timing header: the client waited anyway, now it knows why.
        res.locals['throttledMs'] = delay;
        res.setHeader('Server-Timing', `rate-limit;dur=${delay};desc="failed attempts for this account"`);
        setTimeout(() => {
          // The client may have given up meanwhile: then there is nothing left to answer.
          if (!req.socket.destroyed) next();
        }, delay);
      },
    };
  };

  /**
   * The hard limit per account and client, then the soft one: counted in ONE store call when a
   * request counts under both (an untrusted client; issue 17), each alone otherwise.
   */
  const accountLimits = (): RequestHandler[] => {
    const hard = limiterOptions(
      'api-account',
      accountPerMinute,
      (_req, res) => {
        const party = partyOf(res);
        return party ? `${party.account}|${party.client}` : undefined;
      },
      'Too many attempts for this account or link from this browser or network. Wait a moment and try again.',
    );
    if (accountPerMinute === 0) return [accountSoftPerMinute === 0 ? passThrough : windowLimiter(softOptions())];
    if (accountSoftPerMinute === 0) return [windowLimiter(hard)];
    const soft = softOptions();
    return [windowLimiterPair(hard, soft, countThen(hard.store, soft.store))];
  };

  return {
    apiPerIp: limiter('api-ip', ipPerMinute, ipKey, 'Too many sign-in, activation or enrolment requests from your network. Wait a moment and try again.'),
    apiPerAccount: [identifyParty, ...accountLimits()],
    oidcPerIp: limiter('oidc-ip', ipPerMinute, ipKey, 'Too many sign-in requests from your network. Wait a moment and try again.'),
    scimPerIp: limiter('scim-ip', ipPerMinute, ipKey, 'Too many provisioning requests from this network. Wait a moment and try again.'),
  };
}
