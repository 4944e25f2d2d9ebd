/**
 * Builds the Express app from its ports. Never listens: main.ts and the tests do.
 */
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import fs from 'node:fs';
import path from 'node:path';
import type { Clock } from './clock.js';
import type { Config } from './config.js';
import type { AuditCheckpointer } from './audit/Checkpointer.js';
import { ForbiddenError, GatewayError, NotFoundError, ServiceUnavailableError, StepUpRequiredError, UnauthenticatedError } from './errors.js';
import type { ConsoleDeps } from './flows/consoleDeps.js';
import { holderOf } from './flows/identities/holderOf.js';
import { keysOfEmail } from './flows/signin/beginSignIn.js';
import { rememberSignInKeys } from './http/signinKeysRead.js';
import { resolveSession, type SessionView } from './flows/sessions/resolveSession.js';
import { requireRoleOf } from './flows/shared/segregation.js';
import type { KeyManager } from './keys/KeyManager.js';
import type { OpenIdProvider } from './oidc/OpenIdProvider.js';
import type { SamlDeps } from './flows/saml/samlDeps.js';
import { samlRouter } from './http/samlRouter.js';
import { samlApiRoutes } from './http/routes/saml.js';
import { samlKeyRoutes } from './http/routes/samlKeys.js';
import type { MetadataMonitor } from './assurance/MetadataMonitor.js';
import type { AssuranceService } from './assurance/AssuranceService.js';
import { oidcApiRoutes } from './oidc/apiRoutes.js';
import { allowCrossOriginRead, oidcRouter } from './oidc/router.js';
import { PAGE_STYLESHEET, PAGE_STYLESHEET_ETAG, PAGE_STYLESHEET_PATH } from './http/views/pageStyles.js';
import { cookieNames, readCookie } from './http/cookies.js';
import { errorBoundary, refuseMalformedPath } from './http/problem.js';
import { auditRouteRefusal } from './http/auditRefusal.js';
import { GatewayMetrics } from './http/metrics.js';
import { operationsRoutes } from './http/operations.js';
import { requestContext } from './http/requestLog.js';
import { securityHeaders } from './http/securityHeaders.js';
import { ExactRoutes } from './http/exactRoutes.js';
import { CredentialHolders } from './http/credentialHolders.js';
import { openApiDocument, parseBody, type RouteSpec } from './http/registry.js';
import { CEREMONY_API_PATHS, OIDC_LIMITED_PATHS, ceremonyRateLimits } from './http/rateLimit.js';
import { buildRoutes, sessionOf, type HealthSource } from './http/routes/index.js';
import { DeviceCookies } from './http/deviceCookie.js';
import type { Logger } from './logger.js';
import { SCIM_BASE_PATH, scimRouter } from './http/scimMount.js';

export interface AppPorts {
  /** The flows' ports (the store among them) and the approvals mechanism. */
  flows: ConsoleDeps;
  config: Readonly<Config>;
  log: Logger;
  hsm: HealthSource | undefined;
  keys: KeyManager | undefined;
  checkpointer: AuditCheckpointer | undefined;
  oidc: OpenIdProvider | undefined;
  /** The OIOSAML 3 identity provider, when configured (issue 15). */
  saml?: SamlDeps | undefined;
  metadata: MetadataMonitor | undefined;
  assurance: AssuranceService;
  clock: Clock;
  /** Built client to serve at / (client/dist); omitted in API-only tests. */
  clientDir?: string;
  /** Where request durations go (the runtime's, which the core and the HSM port also feed). */
  metrics?: GatewayMetrics;
  /** Issues and checks the browsers' device cookies (issue 13, 1). */
  devices: DeviceCookies;
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Under /api: the sign-in's own requests, which use no session of the browser's (see below). */
const SIGN_IN_OPTIONS_PATH = '/signin/options';
const SIGN_IN_PATHS = new Set([SIGN_IN_OPTIONS_PATH, '/signin/verify']);

export function buildApp(ports: AppPorts): express.Express {
  const { flows, config, log } = ports;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);
  // First: every answer, even a refusal by a later middleware, carries its request id.
  const metrics = ports.metrics ?? new GatewayMetrics();
  app.use(requestContext(log, metrics));
  app.use(refuseMalformedPath());
  // Helmet's headers, decided once at start-up (securityHeaders.ts).
  app.use(
    securityHeaders({
      contentSecurityPolicy: {
        directives: { defaultSrc: ["'self'"], scriptSrc: ["'self'"], styleSrc: ["'self'"], imgSrc: ["'self'", 'data:'], frameAncestors: ["'none'"], formAction: ["'self'"] },
      },
      strictTransportSecurity: config.secureCookies,
      referrerPolicy: { policy: 'no-referrer' },
    }),
  );

  // Under /api: CSRF, the rate limits, the JSON body, the session; then the routes (below).
  const api = express.Router();
  const csrf = (req: Request, res: Response, next: NextFunction): void => {
    res.setHeader('Cache-Control', 'no-store');
    if (STATE_CHANGING.has(req.method)) {
      // CSRF: state changes come from our own origin only, as JSON (which forces a CORS preflight).
      const origin = req.headers.origin;
      if (origin !== undefined && origin !== config.origin) {
        next(new ForbiddenError('CSRF_CHECK_FAILED', 'Cross-origin requests are not accepted.'));
        return;
      }
      if (req.headers['sec-fetch-site'] === 'cross-site') {
        next(new ForbiddenError('CSRF_CHECK_FAILED', 'Cross-site requests are not accepted.'));
        return;
      }
      if (!req.is('application/json')) {
        next(new GatewayError('UNSUPPORTED_MEDIA_TYPE', 415, 'Send the request body as application/json.'));
        return;
      }
    }
    next();
  };
  // Brute force (issue 7): per-IP limits before the body is even read, per-account after; a
  // holder's own browser (its device cookie) counts apart from strangers (issue 13, 1).
  const names = cookieNames(config.secureCookies);
  const credentialHolders = new CredentialHolders((credentialId) => holderOf(flows, { credentialId }));
  const limits = ceremonyRateLimits({
    config,
    clock: ports.clock,
    log,
    // Counted in the store, shared by every worker and instance (issue 14: no cluster IPC).
    counters: flows.store.ephemeral.limits,
    trustedDevice: async (req, res, holder) => {
      const cookie = readCookie(req, names.device);
      if (cookie === undefined) return undefined;
      // A credential's holder never changes: remembered (credentialHolders.ts); an email's is read.
      // A sign-in's options read the holder with their keys, which the options then use: one read
      // of the address per request, not two (issue 17; signinKeysRead.ts, this request only).
      let identityId: string | undefined;
      if ('credentialId' in holder) identityId = await credentialHolders.holderOf(holder.credentialId);
      else if (req.path === SIGN_IN_OPTIONS_PATH) {
        const held = await keysOfEmail(flows, holder.email);
        rememberSignInKeys(res, holder.email, held);
        identityId = held?.identityId;
      } else identityId = await holderOf(flows, holder);
      return identityId === undefined ? undefined : ports.devices.trustedFor(cookie, identityId);
    },
  });
  // The session of this request, resolved once (nothing cached across requests: a suspension
  // committed anywhere ends it on its very next request). A sign-in reads none of the browser's
  // previous session but its id, which it ends in its own one commit (issue 14: nothing is read
  // twice in a sign-in).
  const session = async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    try {
      const sid = SIGN_IN_PATHS.has(req.path) ? undefined : readCookie(req, names.session);
      if (sid) {
        const view = await resolveSession(flows, sid);
        if (view) res.locals['session'] = view;
      }
      next();
    } catch (err) {
      next(err);
    }
  };
  // Mounted in this order; a route without parameters gets exactly the ones that cover its path,
  // run from a table instead of the router's walk (exactRoutes.ts, issue 17).
  const apiRoutes = new ExactRoutes(api, [
    { handle: csrf },
    { paths: CEREMONY_API_PATHS, handle: limits.apiPerIp },
    // No Content-Encoding: browsers never compress request bodies, and inflating them would let a
    // small request expand past the body limit's intent (415 encoding.unsupported instead).
    { handle: express.json({ limit: config.bodyLimitBytes, strict: true, type: 'application/json', inflate: false }) },
    ...limits.apiPerAccount.map((handle) => ({ paths: CEREMONY_API_PATHS, handle })),
    { handle: session },
  ]);

  const routes: RouteSpec[] = buildRoutes({
    flows,
    config,
    hsm: ports.hsm,
    keys: ports.keys,
    checkpointer: ports.checkpointer,
    oidc: ports.oidc,
    metadata: ports.metadata,
    assurance: ports.assurance,
    log,
    devices: ports.devices,
  });
  routes.unshift(...operationsRoutes({ config, store: flows.store, hsm: ports.hsm, metrics, log }));
  if (ports.oidc) routes.push(...oidcApiRoutes({ oidc: ports.oidc, config }));
  if (ports.saml) routes.push(...samlApiRoutes({ saml: ports.saml, config, approvals: flows.approvals }), ...samlKeyRoutes({ saml: ports.saml }));
  // /api routes go through the API router (CSRF, JSON body, session); the operations routes
  // (/health/live, /health/ready, /metrics) are served at the root, outside it.
  const root = express.Router();
  const handlerOf = (r: RouteSpec): RequestHandler => async (req: Request, res: Response, next: NextFunction) => {
    res.locals['route'] = r.path;
    try {
      if (r.access.kind !== 'public' && !res.locals['session']) throw new UnauthenticatedError();
      if (r.access.kind === 'role') {
        // A role is checked on the server for every action (and again in the flows for keys),
        // on the identity read for this request.
        requireRoleOf(sessionOf(res).identity, r.access.role);
      }
      if (r.stepUp) {
        // NSIS 3.1.2 (Substantial) 8: whoever acts on another's means is authenticated at
        // Substantial or High, recently (the session's sign-in is its last key touch).
        const view = sessionOf(res);
        const age = (ports.clock.now().getTime() - new Date(view.session.createdAt).getTime()) / 60_000;
        if (age > config.stepUpMinutes || view.session.aal === 'low') throw new StepUpRequiredError(config.stepUpMinutes);
      }
      const body = r.body ? parseBody(r.body, req.body ?? {}) : undefined;
      await r.handler({ req, res, body });
    } catch (err) {
      if (r.auditRefusal && err instanceof GatewayError) {
        try {
          await auditRouteRefusal(flows, r.auditRefusal, req, res, err, r.access.kind === 'role' ? r.access.role : undefined);
        } catch (auditErr) {
          next(auditErr);
          return;
        }
      }
      next(err);
    }
  };
  for (const r of routes) {
    if (r.path.startsWith('/api/')) apiRoutes.route(r.method, r.path.replace(/^\/api/, ''), handlerOf(r));
    else root[r.method](r.path, handlerOf(r));
  }
  const doc = openApiDocument(routes, { title: 'NSIS hardware-key gateway API', version: '0.1.0', serverUrl: config.origin });
  api.get('/openapi.json', (_req, res) => {
    res.json(doc);
  });
  api.use((req, _res, next) => next(new NotFoundError(`No API route ${req.method} ${req.path}.`)));
  // The API first: every request under /api ends there (its last layer answers 404), and the
  // root's routes are none of its paths.
  app.use('/api', api);
  app.use(root);
  // The stylesheet of the pages the server renders (error pages, logout confirmation, form_post).
  app.get(PAGE_STYLESHEET_PATH, (_req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=3600');
    res.setHeader('ETag', PAGE_STYLESHEET_ETAG);
    res.type('text/css').send(PAGE_STYLESHEET);
  });

  // Issue 18: the organisation's directory provisions people by SCIM 2.0 (bearer token per client).
  app.use(SCIM_BASE_PATH, limits.scimPerIp, scimRouter(flows, config, log));

  if (ports.oidc) {
    app.use(OIDC_LIMITED_PATHS, limits.oidcPerIp);
    app.use(oidcRouter({ provider: ports.oidc, resolveSession: (sid: string): Promise<SessionView | undefined> => resolveSession(flows, sid), config }));
  }
  if (ports.saml) {
    app.use(['/saml/sso', '/saml/slo'], limits.oidcPerIp);
    app.use(samlRouter({ saml: ports.saml, config }));
  }

  // RFC 7517 JWK Set of the HSM keys (pending, active, and retired keys still needed).
  // Only keys the HSM holds are published (KeyManager.jwks): a database row alone never is.
  app.get('/.well-known/jwks.json', async (_req, res, next) => {
    if (!ports.keys) {
      next(new ServiceUnavailableError('No signing keys: the HSM is not configured.', 30));
      return;
    }
    const jwks = await ports.keys.jwks();
    res.setHeader('Cache-Control', 'public, max-age=300');
    allowCrossOriginRead(res);
    res.type('application/jwk-set+json').send(JSON.stringify(jwks));
    await ports.oidc?.auditMetadataRequest('/.well-known/jwks.json');
  });

  if (ports.clientDir && fs.existsSync(ports.clientDir)) {
    app.use(express.static(ports.clientDir, { index: 'index.html', extensions: ['html'] }));
  } else {
    app.get('/', (_req, res) => {
      res.type('text/plain').send('The client is not built. Run `npm start`, which builds it.');
    });
  }
  app.use((req, _res, next) => next(new NotFoundError(`Nothing at ${req.path}.`)));
  app.use(errorBoundary(log, config.defaultLanguage));
  return app;
}

export function clientDistDir(root: string): string {
  return path.join(root, 'client', 'dist');
}
