/**
 * Exact-path dispatch for a router (issue 17: the HTTP layer's CPU per sign-in).
 *
 * Express walks a router's layers in order for every request: each middleware and each route is
 * a layer whose path is matched, whose handler is wrapped and called, until one answers. For a
 * path without parameters the outcome of that walk is known when the router is built: which
 * middleware apply to it (the same functions, in the same order) and which route answers. This
 * module builds that list once per exact path and, as the router's first layer, runs it directly
 * when the request's method and path are exactly the registered ones.
 *
 * Nothing is skipped: the list holds every middleware mounted on the router that the walk would
 * run for that path (CSRF, the rate limits, the body limit, the session), then the route's own
 * handler (access rule, schema, audited refusals, the route label of logs and metrics). Any other
 * spelling of a path (another letter case, a trailing slash) and every path with parameters goes
 * through the ordinary walk, where all the routes stay registered. A path that a route with
 * parameters registered before it would also match is left to the walk, so the first route that
 * matches still answers.
 */
import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';
import { NotFoundError } from '../errors.js';

/** A middleware of the router, on every path or on these mount points only (as `router.use`). */
export interface MountedMiddleware {
  paths?: readonly string[];
  handle: RequestHandler;
}

export type RouteMethod = 'get' | 'post' | 'patch';

/** Whether `router.use(mount, ...)` runs for requests to `path` (a prefix at a segment boundary, any letter case). */
export function mountCovers(mount: string, path: string): boolean {
  const m = mount.toLowerCase().replace(/\/+$/, '');
  const p = path.toLowerCase();
  return m === '' || p === m || p.startsWith(`${m}/`);
}

/** Whether a route pattern such as `/identities/:id` also matches the literal `path`. */
export function patternMatches(pattern: string, path: string): boolean {
  const a = pattern.toLowerCase().replace(/\/+$/, '').split('/');
  const b = path.toLowerCase().replace(/\/+$/, '').split('/');
  return a.length === b.length && a.every((seg, i) => seg === b[i] || (seg.startsWith(':') && b[i] !== ''));
}

/** Runs `handlers` in order as Express would; an error (or a rejected promise) goes to `done`. */
function chain(handlers: readonly RequestHandler[], fallThrough: (req: Request) => unknown): RequestHandler {
  return (req: Request, res: Response, done: NextFunction) => {
    let i = 0;
    const step = (err?: unknown): void => {
      if (err !== undefined && err !== null && err !== false) {
        done(err);
        return;
      }
      const handler = handlers[i++];
      if (handler === undefined) {
        // The route did not answer: the walk would have ended in the router's "no route".
        done(fallThrough(req));
        return;
      }
      try {
        const ret: unknown = handler(req, res, step);
        if (ret instanceof Promise) ret.then(undefined, (error: unknown) => step(error ?? new Error('Rejected promise')));
      } catch (error) {
        step(error);
      }
    };
    step();
  };
}

/**
 * Mounts the exact-path table as `router`'s first layer, then `middleware` as `router.use` would,
 * and registers routes on both (build one per router, before anything else is mounted on it).
 */
export class ExactRoutes {
  private readonly byMethod = new Map<string, Map<string, RequestHandler>>();
  /** Every route registered so far, in order (for the shadowing check). */
  private readonly registered: { method: RouteMethod; path: string }[] = [];
  /** The router's layers as this table knows them: the table, the middleware, the routes. */
  private layers: number;

  constructor(
    private readonly router: Router,
    private readonly middleware: readonly MountedMiddleware[],
  ) {
    // First: the table (filled as routes are added), then the walk's own middleware.
    router.use(this.dispatch());
    for (const m of middleware) {
      if (m.paths) router.use([...m.paths], m.handle);
      else router.use(m.handle);
    }
    this.layers = router.stack.length;
  }

  /**
   * Registers the route on the router (`router[method](path, handler)`) and, when its path has no
   * parameters and no earlier route matches it, in the exact-path table.
   */
  route(method: RouteMethod, path: string, handler: RequestHandler): void {
    // A layer put on the router directly, between these, would be skipped by the table: refused.
    if (this.router.stack.length !== this.layers) throw new TypeError('A layer was added to the router outside ExactRoutes: give middleware to its constructor');
    this.router[method](path, handler);
    this.layers = this.router.stack.length;
    const shadowed = this.registered.some((r) => r.method === method && patternMatches(r.path, path));
    this.registered.push({ method, path });
    if (path.includes(':') || path.includes('*') || shadowed) return;
    const verb = method.toUpperCase();
    let table = this.byMethod.get(verb);
    if (!table) {
      table = new Map();
      this.byMethod.set(verb, table);
    }
    const stack = this.middleware.filter((m) => !m.paths || m.paths.some((mount) => mountCovers(mount, path))).map((m) => m.handle);
    table.set(path, chain([...stack, handler], (req) => new NotFoundError(`No API route ${req.method} ${req.path}.`)));
  }

  /** The exact paths of `method` in the table (tests, and the report of what is dispatched). */
  paths(method: RouteMethod): string[] {
    return [...(this.byMethod.get(method.toUpperCase())?.keys() ?? [])];
  }

  /** The router's first layer: the exact path's list when there is one, else the ordinary walk. */
  private dispatch(): RequestHandler {
    return (req: Request, res: Response, next: NextFunction) => {
      const handle = this.byMethod.get(req.method)?.get(req.path);
      if (handle === undefined) {
        next();
        return;
      }
      handle(req, res, next);
    };
  }
}
