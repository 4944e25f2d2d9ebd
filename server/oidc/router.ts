/**
 * HTTP face of the OpenID Provider. Protocol errors use the protocols' own formats (RFC 6749
 * §5.2 JSON at the token endpoint, redirects with error parameters at the authorization
 * endpoint, RFC 6750 WWW-Authenticate at userinfo), as standard clients expect.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Config } from '../config.js';
import type { Gateway } from '../core/Gateway.js';
import { GatewayError } from '../errors.js';
import { cookieNames, clearCookie, readCookie } from '../http/cookies.js';
import { OAuthError, type AuthorizeOutcome, type OpenIdProvider } from './OpenIdProvider.js';

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function oidcRouter(deps: { provider: OpenIdProvider; gateway: Gateway; config: Readonly<Config> }): express.Router {
  const { provider, gateway, config } = deps;
  const names = cookieNames(config.secureCookies);
  const router = express.Router();
  const view = (req: Request) => {
    const sid = readCookie(req, names.session);
    return sid ? { sid, view: gateway.resolveSession(sid) } : { sid: undefined, view: undefined };
  };
  const answer = (res: Response, outcome: AuthorizeOutcome) => {
    res.setHeader('Cache-Control', 'no-store');
    if (outcome.kind === 'redirect') {
      res.redirect(303, outcome.location);
      return;
    }
    res
      .status(outcome.status)
      .type('text/html')
      .send(
        `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign-in request refused</title></head><body><main><h1>This sign-in request cannot be served</h1><p>${escapeHtml(outcome.description)}</p><p>Error: <code>${escapeHtml(outcome.error)}</code></p></main></body></html>`,
      );
  };

  router.get('/.well-known/openid-configuration', (_req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.json(provider.discovery());
    provider.auditMetadataRequest('/.well-known/openid-configuration');
  });
  router.get('/oidc/authorize', (req, res) => {
    answer(res, provider.authorize(req.query, view(req).view));
  });
  router.get('/oidc/authorize/continue', (req, res) => {
    const id = typeof req.query['request'] === 'string' ? req.query['request'] : '';
    answer(res, provider.continueAuthorization(id, view(req).view));
  });
  router.post('/oidc/token', express.urlencoded({ extended: false, limit: config.bodyLimitBytes }), async (req: Request, res: Response, next: NextFunction) => {
    res.setHeader('Cache-Control', 'no-store');
    try {
      const body: unknown = req.body;
      const form = typeof body === 'object' && body !== null ? { ...body } : {};
      res.json(await provider.token(form, req.headers.authorization));
    } catch (err) {
      if (err instanceof OAuthError) {
        if (err.status === 401) res.setHeader('WWW-Authenticate', 'Basic realm="token"');
        res.status(err.status).json({ error: err.error, error_description: err.description });
        return;
      }
      if (err instanceof GatewayError && err.code === 'SERVICE_UNAVAILABLE') {
        res.setHeader('Retry-After', '5');
        res.status(503).json({ error: 'temporarily_unavailable', error_description: err.detail });
        return;
      }
      next(err);
    }
  });
  const userinfo = (req: Request, res: Response, next: NextFunction) => {
    res.setHeader('Cache-Control', 'no-store');
    try {
      res.json(provider.userinfo(req.headers.authorization));
    } catch (err) {
      if (err instanceof OAuthError) {
        res.setHeader('WWW-Authenticate', `Bearer error="${err.error}"`);
        res.status(err.status).json({ error: err.error, error_description: err.description });
        return;
      }
      next(err);
    }
  };
  router.get('/oidc/userinfo', userinfo);
  router.post('/oidc/userinfo', userinfo);
  router.get('/oidc/logout', async (req, res, next) => {
    try {
      const { sid, view: v } = view(req);
      const outcome = await provider.endSession(req.query, v, sid);
      clearCookie(res, names.session, config.secureCookies);
      answer(res, outcome);
    } catch (err) {
      next(err);
    }
  });
  return router;
}
