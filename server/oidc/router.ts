/**
 * HTTP face of the OpenID Provider. Protocol errors use the protocols' own formats (RFC 6749
 * §5.2 JSON at the token endpoint, redirects or form posts with error parameters at the
 * authorization endpoint, RFC 6750 WWW-Authenticate at userinfo), as standard clients expect. What
 * a browser cannot be sent back with goes to the one error boundary, which shows a page.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Config } from '../config.js';
import { GatewayError } from '../errors.js';
import { cookieNames, clearCookie, readCookie } from '../http/cookies.js';
import { allowFormTarget } from '../http/views/csp.js';
import { pageLanguageOf } from '../http/views/language.js';
import { renderLogoutConfirmation } from '../http/views/logoutPage.js';
import { browserBinding, keepBinding } from './browserBinding.js';
import { sendFormPost } from './formPost.js';
import { OAuthError, type AuthorizeOutcome, type OpenIdProvider } from './OpenIdProvider.js';
import type { SessionView } from '../flows/sessions/resolveSession.js';

/**
 * Discovery and the JWKS are public documents that browser-only relying parties (single-page
 * apps) fetch from their own origin: allow any origin to read them (CORS), and let the resource
 * be embedded cross-origin (helmet's default Cross-Origin-Resource-Policy is same-origin).
 */
export function allowCrossOriginRead(res: Response): void {
  res.setHeader('Access-Control-Allow-Origin', '*');
  res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
}

/** RFC 6749 §5.1: token responses (and userinfo, which carries personal data) are never cached. */
function noStore(res: Response): void {
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Pragma', 'no-cache');
}

function formOf(req: Request): Record<string, unknown> {
  const body: unknown = req.body;
  return typeof body === 'object' && body !== null ? { ...body } : {};
}

export function oidcRouter(deps: { provider: OpenIdProvider; resolveSession: (sessionId: string) => Promise<SessionView | undefined>; config: Readonly<Config> }): express.Router {
  const { provider, config } = deps;
  const secure = config.secureCookies;
  const names = cookieNames(secure);
  const router = express.Router();
  const form = express.urlencoded({ extended: false, limit: config.bodyLimitBytes });
  const view = async (req: Request): Promise<{ sid: string | undefined; view: SessionView | undefined }> => {
    const sid = readCookie(req, names.session);
    return sid ? { sid, view: await deps.resolveSession(sid) } : { sid: undefined, view: undefined };
  };
  /**
   * A cross-site POST (a relying party's form) does not carry our SameSite=Lax cookies, so the
   * person's session would be invisible: without SSO at the authorization endpoint, and a logout
   * that ends nothing. Such a POST is answered once with a redirect to the same endpoint by GET with
   * the same parameters, a top-level GET navigation, which does carry them. Requests that say
   * nothing about their site (non-browser clients) or already carry the session are served as
   * they are.
   */
  const sameSiteAgain = (req: Request, res: Response, path: string): boolean => {
    if (req.headers['sec-fetch-site'] !== 'cross-site' || readCookie(req, names.session)) return false;
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(formOf(req))) if (typeof v === 'string') query.append(k, v);
    noStore(res);
    res.redirect(303, `${path}?${query.toString()}`);
    return true;
  };
  const answer = (res: Response, outcome: AuthorizeOutcome, binding?: string) => {
    noStore(res);
    if (outcome.kind === 'form_post') {
      sendFormPost(res, outcome);
      return;
    }
    if (outcome.bindsBrowser && binding) keepBinding(res, secure, binding);
    res.redirect(303, outcome.location);
  };

  router.get('/.well-known/openid-configuration', async (_req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=300');
    allowCrossOriginRead(res);
    res.json(provider.discovery());
    await provider.auditMetadataRequest('/.well-known/openid-configuration');
  });
  // OIDC Core §3.1.2.1: the authorization endpoint supports GET and POST (form-encoded).
  const authorize = (params: (req: Request) => Record<string, unknown>) => async (req: Request, res: Response) => {
    const binding = browserBinding(req, secure);
    answer(res, await provider.authorize(params(req), (await view(req)).view, binding.value), binding.value);
  };
  router.get('/oidc/authorize', authorize((req) => req.query));
  router.post('/oidc/authorize', form, async (req, res) => {
    if (!sameSiteAgain(req, res, '/oidc/authorize')) await authorize(formOf)(req, res);
  });
  router.get('/oidc/authorize/continue', async (req, res) => {
    const id = typeof req.query['request'] === 'string' ? req.query['request'] : '';
    const binding = browserBinding(req, secure);
    answer(res, await provider.continueAuthorization(id, (await view(req)).view, binding.isNew ? undefined : binding.value));
  });
  router.post('/oidc/token', form, async (req: Request, res: Response, next: NextFunction) => {
    noStore(res);
    try {
      res.json(await provider.token(formOf(req), req.headers.authorization));
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
  const userinfo = async (req: Request, res: Response, next: NextFunction) => {
    noStore(res);
    try {
      res.json(await provider.userinfo(req.headers.authorization));
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
  // RP-Initiated Logout 1.0 §2: GET and POST; the confirmation page posts back here.
  const logout = (params: (req: Request) => Record<string, unknown>) => async (req: Request, res: Response) => {
    const { sid, view: v } = await view(req);
    const outcome = await provider.endSession(params(req), v, sid);
    noStore(res);
    if (outcome.kind === 'confirm') {
      if (outcome.formTarget) allowFormTarget(res, outcome.formTarget);
      res.status(200).type('text/html').send(renderLogoutConfirmation(outcome.confirmation, pageLanguageOf(req, res)));
      return;
    }
    // Only an ended (or already dead) session loses its cookie: never a half logout.
    if (outcome.sessionEnded || (sid && !v)) clearCookie(res, names.session, secure);
    res.redirect(303, outcome.location);
  };
  router.get('/oidc/logout', logout((req) => req.query));
  router.post('/oidc/logout', form, async (req, res) => {
    if (!sameSiteAgain(req, res, '/oidc/logout')) await logout(formOf)(req, res);
  });
  return router;
}
