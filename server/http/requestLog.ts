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

/** This request's logger (with its id), or `fallback` outside a request. */
export function requestLogger(res: Response, fallback: Logger): Logger {
  const log: unknown = res.locals['log'];
  return log === undefined ? fallback : (log as Logger);
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
    const child = log.child({ reqId: id });
    res.locals['log'] = child;
    let done = false;
    const complete = (aborted: boolean): void => {
      if (done) return;
      done = true;
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = routeOf(req, res);
      metrics.observeHttp(req.method, route, res.statusCode, seconds);
      // A request the soft rate limit held back says by how much (rateLimit.ts, issue 13, 1).
      const throttled: unknown = res.locals['throttledMs'];
      const line = {
        method: req.method,
        route,
        status: res.statusCode,
        ms: Math.round(seconds * 10_000) / 10,
        ...(typeof throttled === 'number' ? { throttledMs: throttled } : {}),
        ...(aborted ? { aborted: true } : {}),
      };
      if (res.statusCode >= 500) child.warn(line, 'request');
      else child.info(line, 'request');
    };
    res.on('finish', () => complete(false));
    // The client went away before the answer was written.
    res.on('close', () => complete(!res.writableFinished));
    next();
  };
}
