/**
 * Every HTTP request gets an id, a logger that carries it, one log line when it completes and
 * one observation in the request-duration histogram.
 *
 * What is logged is chosen, never dumped: method, route PATTERN (the raw URL can carry OIDC codes,
 * state and tokens in its query string), status, duration and the request id. Never cookies,
 * Authorization headers, query strings or bodies (NSIS 4.1.6: secrets stay out of logs).
 */
import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Logger } from '../logger.js';
import type { GatewayMetrics } from './metrics.js';

/** An incoming X-Request-Id is kept only if it is this plain (no log or header injection). */
const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** The id of this request (set by {@link requestContext}). */
export function requestIdOf(res: Response): string | undefined {
  const id: unknown = res.locals['requestId'];
  return typeof id === 'string' ? id : undefined;
}

/** The logger a request's own lines are derived from, and the child carrying its id once made. */
interface RequestLogging {
  id: string;
  base: Logger;
  child: Logger | undefined;
}
const logging = new WeakMap<Response, RequestLogging>();

/**
 * This request's logger (with its id), or `fallback` outside a request. The child logger is made
 * only when a line other than the request line is written (most requests write none: issue 17).
 */
export function requestLogger(res: Response, fallback: Logger): Logger {
  const ctx = logging.get(res);
  if (ctx === undefined) return fallback;
  ctx.child ??= ctx.base.child({ reqId: ctx.id });
  return ctx.child;
}

/**
 * The route pattern that answered, for logs and metric labels (a bounded set): the registry's
 * path when an API route set it, else Express's matched route, else a fixed word.
 */
function routeOf(req: Request, res: Response): string {
  const registered: unknown = res.locals['route'];
  if (typeof registered === 'string') return registered;
  const matched: unknown = req.route;
  if (typeof matched === 'object' && matched !== null && 'path' in matched && typeof matched.path === 'string') {
    return `${req.baseUrl}${matched.path}`;
  }
  // Static files of the client, or nothing at all: never the raw path (unbounded, may carry data).
  return res.statusCode < 400 ? 'static' : 'unmatched';
}

export function requestContext(log: Logger, metrics: GatewayMetrics): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const started = process.hrtime.bigint();
    const incoming = req.headers['x-request-id'];
    const id = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.setHeader('X-Request-Id', id);
    res.locals['requestId'] = id;
    logging.set(res, { id, base: log, child: undefined });
    // One listener: a response emits 'close' after 'finish' when it was written (Node >= 14), and
    // alone when the client went away before the answer was written (aborted).
    res.once('close', () => {
      const aborted = !res.writableFinished;
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = routeOf(req, res);
      const status = res.statusCode;
      metrics.observeHttp(req.method, route, status, seconds);
      // The line a child logger would write (reqId first), without making one per request.
      const line: RequestLine = { reqId: id, method: req.method, route, status, ms: Math.round(seconds * 10_000) / 10 };
      // A request the soft rate limit held back says by how much (rateLimit.ts, issue 13, 1).
      const throttled: unknown = res.locals['throttledMs'];
      if (typeof throttled === 'number') line.throttledMs = throttled;
      if (aborted) line.aborted = true;
      if (status >= 500) log.warn(line, 'request');
      else log.info(line, 'request');
    });
    next();
  };
}

/** The one line per request: chosen fields only (see the top of this file). */
interface RequestLine {
  reqId: string;
  method: string;
  route: string;
  status: number;
  ms: number;
  throttledMs?: number;
  aborted?: true;
}
