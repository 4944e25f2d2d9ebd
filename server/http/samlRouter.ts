/**
 * HTTP face of the OIOSAML 3 identity provider (issue 15): SSO by HTTP-Redirect and HTTP-POST,
 * the same-site resume and the continuation after the sign-in page, single logout by Redirect and
 * POST, and the IdP metadata. Answers to an SP leave by an auto-submitting form (the form_post
 * page and its CSP: one script hash, form-action the ACS origin only). Refusals that cannot go to
 * the SP are pages (or problem+json for API clients) with stable codes, through the one error
 * boundary; never a 5xx for bad input.
 */
import express, { type Request, type Response } from 'express';
import type { Config } from '../config.js';
import { ForbiddenError } from '../errors.js';
import { resolveSession, type SessionView } from '../flows/sessions/resolveSession.js';
import { idpMetadata } from '../flows/saml/idpMetadata.js';
import type { SamlDeps } from '../flows/saml/samlDeps.js';
import { continueSso, receiveSso, resumeSso, type SsoOutcome } from '../flows/saml/sso.js';
import { singleLogout, startGatewayLogout, type SloOutcome } from '../flows/saml/singleLogout.js';
import { consumeGatewayLogout } from '../flows/saml/gatewaySignOut.js';
import { signOut } from '../flows/sessions/signOut.js';
import { browserBinding, keepBinding } from '../oidc/browserBinding.js';
import { sendFormPost } from '../oidc/formPost.js';
import type { IncomingMessage } from '../saml/index.js';
import { clearCookie, cookieNames, readCookie } from './cookies.js';

function noStore(res: Response): void {
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Pragma', 'no-cache');
}

/** The query exactly as received (HTTP-Redirect signatures are over these octets). */
function rawQueryOf(req: Request): string {
  const q = req.originalUrl.indexOf('?');
  return q < 0 ? '' : req.originalUrl.slice(q + 1);
}

function fieldsOf(req: Request): Record<string, string> {
  const body: unknown = req.body;
  const out: Record<string, string> = {};
  if (typeof body === 'object' && body !== null) for (const [k, v] of Object.entries(body)) if (typeof v === 'string') out[k] = v;
  return out;
}

/** `answerTo`: the gateway's origin, for a LogoutRequest the SP answers by redirecting back (single logout). */
function send(res: Response, outcome: SsoOutcome | SloOutcome, answerTo?: string): void {
  noStore(res);
  if (outcome.kind === 'post') {
    sendFormPost(res, { action: outcome.form.action, params: outcome.form.fields, application: outcome.application, ...(answerTo !== undefined ? { answerTo } : {}) });
    return;
  }
  res.redirect(303, outcome.location);
}

export function samlRouter(deps: { saml: SamlDeps; config: Readonly<Config> }): express.Router {
  const { saml, config } = deps;
  const secure = config.secureCookies;
  const names = cookieNames(secure);
  const router = express.Router();
  const form = express.urlencoded({ extended: false, limit: config.bodyLimitBytes });
  const view = async (req: Request): Promise<{ sid: string | undefined; view: SessionView | undefined }> => {
    const sid = readCookie(req, names.session);
    return sid ? { sid, view: await resolveSession(saml.core, sid) } : { sid: undefined, view: undefined };
  };

  router.get('/saml/metadata', async (_req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.type('application/samlmetadata+xml').send(await idpMetadata(saml));
  });

  // saml-bindings 3.4 and 3.5: the AuthnRequest by HTTP-Redirect or HTTP-POST.
  const sso = (message: (req: Request) => IncomingMessage) => async (req: Request, res: Response) => {
    const binding = browserBinding(req, secure);
    const outcome = await receiveSso(saml, message(req), binding.value);
    if (outcome.kind === 'redirect') keepBinding(res, secure, binding.value);
    send(res, outcome);
  };
  router.get('/saml/sso', sso((req) => ({ binding: 'redirect', rawQuery: rawQueryOf(req) })));
  router.post('/saml/sso', form, sso((req) => ({ binding: 'post', fields: fieldsOf(req) })));

  const requestParam = (req: Request): string => (typeof req.query['request'] === 'string' ? req.query['request'] : '');
  const boundValue = (req: Request): string | undefined => {
    const b = browserBinding(req, secure);
    return b.isNew ? undefined : b.value;
  };
  router.get('/saml/sso/resume', async (req, res) => {
    send(res, await resumeSso(saml, requestParam(req), (await view(req)).view, boundValue(req)));
  });
  router.get('/saml/sso/continue', async (req, res) => {
    send(res, await continueSso(saml, requestParam(req), (await view(req)).view, boundValue(req)));
  });

  // saml-profiles 4.4: single logout by HTTP-Redirect or HTTP-POST (requests and responses).
  const slo = (message: (req: Request) => IncomingMessage) => async (req: Request, res: Response) => {
    const { sid, view: v } = await view(req);
    const outcome = await singleLogout(saml, message(req), v, sid);
    if (outcome.endedSession) clearCookie(res, names.session, secure);
    send(res, outcome, config.origin);
  };
  // Signing out at the gateway with SAML participants: the session ends (its OpenID relying parties
  // are told by back channel), then each SAML SP of the session gets a LogoutRequest by the front
  // channel, and the browser ends on the gateway's sign-in page.
  router.get('/saml/logout', async (req, res) => {
    // A link on another site must not sign the person out everywhere (logout CSRF).
    if (req.headers['sec-fetch-site'] === 'cross-site') throw new ForbiddenError('CSRF_CHECK_FAILED', 'Sign out from the gateway’s own pages.');
    // After POST /api/signout ended the session: its one-time handle names the ended session.
    const handle = typeof req.query['handle'] === 'string' ? req.query['handle'] : undefined;
    if (handle !== undefined) {
      const sessionHash = await consumeGatewayLogout(saml.core, handle);
      noStore(res);
      if (!sessionHash) {
        res.redirect(303, `${config.origin}/?signed-out=1`);
        return;
      }
      send(res, await startGatewayLogout(saml, sessionHash), config.origin);
      return;
    }
    const { sid, view: v } = await view(req);
    if (!sid || !v) {
      noStore(res);
      res.redirect(303, `${config.origin}/?signed-out=1`);
      return;
    }
    await signOut(saml.core, sid);
    saml.core.sessionsEnded([v.session]);
    clearCookie(res, names.session, secure);
    send(res, await startGatewayLogout(saml, v.session.idHash), config.origin);
  });
  router.get('/saml/slo', slo((req) => ({ binding: 'redirect', rawQuery: rawQueryOf(req) })));
  router.post('/saml/slo', form, slo((req) => ({ binding: 'post', fields: fieldsOf(req) })));
  return router;
}
