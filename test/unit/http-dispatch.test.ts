/**
 * Issue 17 (the HTTP layer's CPU per sign-in): the exact-path table of a router runs the same
 * middleware, in the same order, as the router's own walk would; helmet's headers prebuilt once
 * are the ones helmet sets; a fixed-window limit counts once per request and takes a success
 * back only where it says so. Real Express on 127.0.0.1, real helmet.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ExactRoutes, mountCovers, patternMatches } from '../../server/http/exactRoutes.js';
import { securityHeadersOf } from '../../server/http/securityHeaders.js';
import { windowLimiter, type WindowCount } from '../../server/http/windowLimiter.js';

async function listen(app: express.Express): Promise<{ origin: string; close: () => Promise<void> }> {
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { origin: `http://127.0.0.1:${port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** A router like the gateway's /api one: marker middleware, some mounted on ceremony paths. */
function markerApp() {
  const app = express();
  const api = express.Router();
  const mark =
    (name: string) =>
    (_req: Request, res: Response, next: NextFunction): void => {
      res.locals['trail'] = [...((res.locals['trail'] as string[] | undefined) ?? []), name];
      next();
    };
  const refuseHeader = (req: Request, _res: Response, next: NextFunction): void => {
    next(req.headers['x-refuse'] ? Object.assign(new Error('refused'), { status: 403 }) : undefined);
  };
  const table = new ExactRoutes(api, [
    { handle: mark('all') },
    { handle: refuseHeader },
    { paths: ['/signin', '/activation'], handle: mark('ceremony') },
    { handle: express.json() },
    { paths: ['/signin'], handle: async (_req, res, next) => {
      await Promise.resolve();
      mark('signin-async')(_req, res, next);
    } },
  ]);
  const answer = (req: Request, res: Response): void => {
    // Express sets req.route only when its own walk reached the route.
    res.json({ trail: res.locals['trail'], walked: req.route !== undefined, body: req.body as unknown });
  };
  table.route('get', '/identities/:id', (req, res) => {
    res.json({ param: req.params['id'], trail: res.locals['trail'] });
  });
  table.route('get', '/identities/import', answer);
  table.route('post', '/signin/verify', answer);
  table.route('post', '/signout', answer);
  table.route('post', '/rejects', async () => {
    await Promise.resolve();
    throw Object.assign(new Error('handler rejected'), { status: 409 });
  });
  table.route('post', '/passes', (_req, _res, next) => next());
  api.use((_req, res) => {
    res.status(404).json({ trail: res.locals['trail'], notFound: 'walk' });
  });
  app.use('/api', api);
  app.use((err: Error & { status?: number }, _req: Request, res: Response, _next: NextFunction) => {
    res.status(err.status ?? 500).json({ error: err.message, trail: res.locals['trail'] });
  });
  return { app, table };
}

describe('issue 17: exact-path dispatch runs the middleware the router walk would', () => {
  let srv: { origin: string; close: () => Promise<void> };
  let table: ExactRoutes;
  before(async () => {
    const built = markerApp();
    table = built.table;
    srv = await listen(built.app);
  });
  after(async () => {
    await srv.close();
  });
  const post = (path: string, headers: Record<string, string> = {}) =>
    fetch(srv.origin + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ a: 1 }) });

  it('issue 17: mount points cover a path at a segment boundary in any letter case; a parameter segment matches one literal segment', () => {
    assert.ok(mountCovers('/signin', '/signin/verify'));
    assert.ok(mountCovers('/SignIn', '/signin'));
    assert.ok(!mountCovers('/signin', '/signout'));
    assert.ok(!mountCovers('/sign', '/signin/verify'));
    assert.ok(patternMatches('/identities/:id', '/identities/import'));
    assert.ok(!patternMatches('/identities/:id', '/identities/import/more'));
    assert.ok(!patternMatches('/identities/:id/roles', '/identities/import'));
  });

  it('issue 17: an exact path is answered from the table with every middleware that covers it, in mount order, the body parsed', async () => {
    const res = await post('/api/signin/verify');
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { trail: ['all', 'ceremony', 'signin-async'], walked: false, body: { a: 1 } });
    const other = await post('/api/signout');
    assert.deepEqual(await other.json(), { trail: ['all'], walked: false, body: { a: 1 } });
    assert.deepEqual(table.paths('post').sort(), ['/passes', '/rejects', '/signin/verify', '/signout']);
  });

  it('issue 17: another spelling of the path (letter case, trailing slash) takes the router walk to the same route and the same middleware', async () => {
    for (const path of ['/api/SIGNIN/verify', '/api/signin/verify/']) {
      const res = await post(path);
      assert.equal(res.status, 200, path);
      assert.deepEqual(await res.json(), { trail: ['all', 'ceremony', 'signin-async'], walked: true, body: { a: 1 } }, path);
    }
  });

  it('issue 17: a middleware refusal on an exact path goes to the error handler and the route never runs', async () => {
    const res = await post('/api/signin/verify', { 'x-refuse': '1' });
    assert.equal(res.status, 403);
    assert.deepEqual(await res.json(), { error: 'refused', trail: ['all'] });
  });

  it('issue 17: a rejected promise of a route goes to the error handler; a route that passes on ends in the router\'s "no route", not in its middleware again', async () => {
    const rejected = await post('/api/rejects');
    assert.equal(rejected.status, 409);
    assert.equal(((await rejected.json()) as { error: string }).error, 'handler rejected');
    const passed = await post('/api/passes');
    assert.equal(passed.status, 404);
    assert.deepEqual(await passed.json(), { error: 'No API route POST /passes.', trail: ['all'] });
  });

  it('issue 17: a literal path that an earlier route with a parameter matches stays with the walk, so the first route registered still answers', async () => {
    assert.deepEqual(table.paths('get'), []);
    const res = await fetch(`${srv.origin}/api/identities/import`);
    assert.deepEqual(await res.json(), { param: 'import', trail: ['all'] });
  });
});

describe('issue 17: the table cannot miss a middleware', () => {
  it('issue 17: a middleware put on the router outside the table, before a route, is refused at start-up (the table would skip it)', () => {
    const router = express.Router();
    const table = new ExactRoutes(router, [{ handle: (_req, _res, next) => next() }]);
    table.route('post', '/a', (_req, res) => res.end());
    router.use((_req, _res, next) => next());
    assert.throws(() => table.route('post', '/b', (_req, res) => res.end()), /outside ExactRoutes/);
  });
});

describe('issue 17: security headers prebuilt from helmet', () => {
  const options = {
    contentSecurityPolicy: { directives: { defaultSrc: ["'self'"], frameAncestors: ["'none'"] } },
    strictTransportSecurity: true,
    referrerPolicy: { policy: 'no-referrer' as const },
  };

  it('issue 17 / NSIS 4.1.6: the prebuilt headers are exactly the ones helmet sets on a real response', async () => {
    const app = express();
    app.get('/', helmet(options), (_req, res) => {
      res.json({ headers: res.getHeaders() });
    });
    const srv = await listen(app);
    try {
      const fromHelmet = ((await (await fetch(`${srv.origin}/`)).json()) as { headers: Record<string, string> }).headers;
      const prebuilt = securityHeadersOf(options);
      assert.ok(prebuilt.set.length >= 10, `only ${prebuilt.set.length} headers`);
      for (const [name, value] of prebuilt.set) assert.equal(fromHelmet[name.toLowerCase()], value, name);
      const helmetNames = Object.keys(fromHelmet).filter((n) => n !== 'content-type' && n !== 'x-powered-by');
      assert.deepEqual(helmetNames.sort(), prebuilt.set.map(([n]) => n.toLowerCase()).sort());
      assert.deepEqual(prebuilt.removed, ['X-Powered-By']);
    } finally {
      await srv.close();
    }
  });

  it('issue 17: a directive computed per request cannot be prebuilt and is refused at start-up', () => {
    assert.throws(() => securityHeadersOf({ contentSecurityPolicy: { directives: { scriptSrc: [(req) => String((req as unknown as { nonce: { length: number } }).nonce.length)] } } }));
  });
});

describe('issue 17: one fixed-window limit per request, counted atomically in its store', () => {
  class Counter {
    readonly hits = new Map<string, number>();
    fail = false;
    increment(key: string): WindowCount {
      if (this.fail) throw new Error('store down');
      const n = (this.hits.get(key) ?? 0) + 1;
      this.hits.set(key, n);
      return { totalHits: n, resetTime: new Date(Date.now() + 60_000) };
    }
    decrement(key: string): void {
      this.hits.set(key, Math.max(0, (this.hits.get(key) ?? 0) - 1));
    }
  }

  it('issue 7 / issue 17: the request over the limit is refused with the count the store returned; an uncounted request touches no counter; a store failure lets the request through and is logged', async () => {
    const counter = new Counter();
    const errors: string[] = [];
    const app = express();
    app.use(
      windowLimiter({
        limit: 2,
        store: counter,
        keyOf: (req) => (typeof req.headers['x-account'] === 'string' ? req.headers['x-account'] : undefined),
        now: () => Date.now(),
        storeError: (_err, message) => errors.push(message),
        over: (_req, res, _next, over) => {
          res.status(429).json(over);
        },
      }),
    );
    app.get('/', (_req, res) => {
      res.json({ ok: true });
    });
    const srv = await listen(app);
    try {
      const get = (account?: string) => fetch(`${srv.origin}/`, { headers: account ? { 'x-account': account } : {} });
      assert.equal((await get('a')).status, 200);
      assert.equal((await get('a')).status, 200);
      const over = await get('a');
      assert.equal(over.status, 429);
      const body = (await over.json()) as { key: string; used: number };
      assert.equal(body.key, 'a');
      assert.equal(body.used, 3);
      assert.equal((await get()).status, 200);
      assert.deepEqual([...counter.hits.keys()], ['a']);
      counter.fail = true;
      assert.equal((await get('a')).status, 200);
      assert.equal(errors.length, 1);
    } finally {
      await srv.close();
    }
  });

  it('issue 13, 1 / issue 17: a limit of failures takes the hit of a successful answer back and keeps that of a failed one', async () => {
    const counter = new Counter();
    const app = express();
    app.use(
      windowLimiter({
        limit: 100,
        store: counter,
        failuresOnly: true,
        keyOf: () => 'k',
        now: () => Date.now(),
        storeError: () => undefined,
        over: (_req, _res, next) => next(),
      }),
    );
    app.get('/ok', (_req, res) => {
      res.json({ ok: true });
    });
    app.get('/fail', (_req, res) => {
      res.status(401).json({ ok: false });
    });
    const srv = await listen(app);
    try {
      for (const p of ['/ok', '/fail', '/ok', '/fail', '/fail']) await (await fetch(srv.origin + p)).text();
      // The take-back runs after the answer's end; wait for the counter to settle on it.
      for (let i = 0; i < 200 && counter.hits.get('k') !== 3; i++) await new Promise((r) => setImmediate(r));
      assert.equal(counter.hits.get('k'), 3);
    } finally {
      await srv.close();
    }
  });
});
