/**
 * The ceremonies: enrolment from a one-time link (NSIS 3.2.2), activation with possession and the
 * second-channel code (NSIS 3.2.2, 3.2.3 (Low) 3), sign-in (NSIS 3.3.1) and sign-out (NSIS 6 (Low)
 * 5); and the public health report.
 */
import { beginActivation } from '../../flows/activation/beginActivation.js';
import { completeActivation } from '../../flows/activation/completeActivation.js';
import { beginEnrolment } from '../../flows/enrolment/beginEnrolment.js';
import { completeEnrolment } from '../../flows/enrolment/completeEnrolment.js';
import { adoptPageLanguage } from '../../flows/identities/setLanguage.js';
import { pendingGatewayLogout } from '../../flows/saml/gatewaySignOut.js';
import { endAllSessions, signOut } from '../../flows/sessions/signOut.js';
import { beginSignIn } from '../../flows/signin/beginSignIn.js';
import { signInKeysRead } from '../signinKeysRead.js';
import { completeSignIn } from '../../flows/signin/completeSignIn.js';
import { clearCookie, readCookie } from '../cookies.js';
import { route, type RouteSpec } from '../registry.js';
import { schemas } from '../schemas.js';
import { pageLanguageChoice } from '../views/language.js';
import { ceremonyCookies, identityView, sessionOf, type RouteDeps } from './shared.js';

export function ceremonyRoutes(deps: RouteDeps): RouteSpec[] {
  const { flows, config } = deps;
  const cookies = ceremonyCookies(deps);
  return [
    route({
      method: 'get',
      path: '/api/health',
      summary: 'Liveness and dependencies (database, HSM, outbox)',
      tag: 'operations',
      access: { kind: 'public' },
      responses: { 200: 'Healthy', 503: 'A dependency is down' },
      handler: async ({ res }) => {
        const hsm = deps.hsm ? await deps.hsm.health() : { status: 'unavailable' as const, detail: 'not configured' };
        const ok = hsm.status === 'ok';
        // Public endpoint: the HSM's own error text (key ids, CKR codes, labels) stays in the log.
        if (!ok) deps.log?.warn({ hsm: hsm.detail }, 'health: HSM unavailable');
        res.status(ok ? 200 : 503).json({
          status: ok ? 'ok' : 'degraded',
          database: { status: 'ok', schemaVersion: await flows.store.schemaVersion() },
          hsm: { status: hsm.status },
          // Issue 13, 9: public, so nothing about the host (no outbox path, SMTP server or labels).
          outbox: { channel: config.outbox },
        });
      },
    }),
    route({
      method: 'post',
      path: '/api/enrolment/options',
      summary: 'Start registering a security key from a one-time enrolment link',
      tag: 'enrolment',
      access: { kind: 'public' },
      body: schemas.enrolmentOptions,
      clause: 'NSIS 3.2.2',
      responses: { 200: 'WebAuthn creation options', 400: 'Link invalid, used or expired', 403: 'Link locked after failed registrations', 429: 'Rate limited (per IP or per link)' },
      handler: async ({ req, res, body }) => {
        res.json(await beginEnrolment(flows, { token: body.token, flowId: cookies.flowOf(req, res) }));
      },
    }),
    route({
      method: 'post',
      path: '/api/enrolment/verify',
      summary: 'Finish registration; the key starts issued and an activation code goes out by the second channel',
      tag: 'enrolment',
      access: { kind: 'public' },
      body: schemas.enrolmentVerify,
      clause: 'NSIS 3.2.2',
      responses: {
        201: 'Key registered (issued)',
        400: 'Ceremony or link refused',
        403: 'Link locked after failed registrations',
        409: 'Key already registered',
        429: 'Rate limited (per IP or per link)',
      },
      handler: async ({ req, res, body }) => {
        const result = await completeEnrolment(flows, { token: body.token, flowId: cookies.existingFlow(req), label: body.label, response: body.response, page: pageLanguageChoice(req) });
        cookies.trustBrowser(req, res, result.credential.identityId);
        res.status(201).json({ credential: { id: result.credential.id, label: result.credential.label, state: result.credential.state }, activation: result.activation });
      },
    }),
    route({
      method: 'post',
      path: '/api/activation/options',
      summary: 'Start activating (or reactivating) a key: proof of possession',
      tag: 'activation',
      access: { kind: 'public' },
      body: schemas.activationOptions,
      clause: 'NSIS 3.2.2, 3.2.3 (Low) 3',
      responses: { 200: 'WebAuthn request options', 429: 'Rate limited (per IP or per account)' },
      handler: async ({ req, res, body }) => {
        res.json(await beginActivation(flows, { email: body.email, flowId: cookies.flowOf(req, res) }));
      },
    }),
    route({
      method: 'post',
      path: '/api/activation/verify',
      summary: 'Activate with possession AND the second-channel code; signs the holder in',
      tag: 'activation',
      access: { kind: 'public' },
      body: schemas.activationVerify,
      clause: 'NSIS 3.2.2, 3.2.3 (Low) 3',
      responses: {
        200: 'Key active, session started',
        400: 'Wrong or expired code, or ceremony refused',
        403: 'Code locked',
        409: 'Refused by the lifecycle table',
        429: 'Rate limited (per IP or per key)',
      },
      handler: async ({ req, res, body }) => {
        const browser = res.locals['session'] ? sessionOf(res).identity.id : null;
        const result = await completeActivation(flows, {
          code: body.code,
          flowId: cookies.existingFlow(req),
          response: body.response,
          browserIdentityId: browser,
          previousSessionId: cookies.previousSession(req),
        });
        cookies.startSession(res, result.sessionId);
        cookies.trustBrowser(req, res, result.identity.id);
        // Issue 16: the page's language becomes the person's (their later mails follow it).
        await adoptPageLanguage(flows, result.identity, pageLanguageChoice(req));
        res.json({ credential: { id: result.credential.id, label: result.credential.label, state: result.credential.state }, identity: identityView(result.identity) });
      },
    }),
    route({
      method: 'post',
      path: '/api/signin/options',
      summary: 'Start a security-key sign-in (email optional for discoverable keys)',
      tag: 'signin',
      access: { kind: 'public' },
      body: schemas.signinOptions,
      clause: 'NSIS 3.3.1',
      responses: { 200: 'WebAuthn request options', 429: 'Rate limited (per IP or per account)' },
      handler: async ({ req, res, body }) => {
        // The address's keys as the rate limits read them in this request, if they did (issue 17).
        res.json(await beginSignIn(flows, { email: body.email, flowId: cookies.flowOf(req, res), read: signInKeysRead(res, body.email) }));
      },
    }),
    route({
      method: 'post',
      path: '/api/signin/verify',
      summary: 'Finish a sign-in (one durable commit; with an audience, the identity token signed before it); refusals are generic, the reason is audited',
      tag: 'signin',
      access: { kind: 'public' },
      body: schemas.signinVerify,
      clause: 'NSIS 3.3.1, 3.2.3',
      responses: { 200: 'Signed in', 400: 'Audience not allowed', 401: 'Sign-in failed', 429: 'Rate limited (per IP or per key)', 503: 'HSM unavailable: no token, no sign-in' },
      handler: async ({ req, res, body }) => {
        const result = await completeSignIn(flows, { flowId: cookies.existingFlow(req), response: body.response, previousSessionId: cookies.previousSession(req), audience: body.audience });
        cookies.startSession(res, result.sessionId);
        cookies.trustBrowser(req, res, result.identity.id);
        res.json({ identity: identityView(result.identity), ...(result.token ? { token: result.token.jws } : {}) });
      },
    }),
    route({
      method: 'post',
      path: '/api/signout',
      summary:
        'End this session, or with everywhere=true every session (single logout); relying parties are told by back channel; when the session had SAML service providers, the answer says where the browser goes next to tell them by front channel',
      tag: 'signin',
      access: { kind: 'public' },
      body: schemas.signout,
      clause: 'NSIS 6 (Low) 5',
      responses: { 200: 'Signed out; {next}: the SAML front-channel logout the browser must follow', 204: 'Signed out' },
      handler: async ({ req, res, body }) => {
        const sid = readCookie(req, cookies.names.session);
        // The session the API resolved for this request (app.ts), if it is live.
        const view = sid && res.locals['session'] ? sessionOf(res) : undefined;
        if (view && body.everywhere) {
          if (deps.oidc) await deps.oidc.logoutEverywhere(view.identity.id);
          else await endAllSessions(flows, view.identity.id, 'single-logout');
        } else if (sid) {
          await signOut(flows, sid);
          if (view) await deps.oidc?.backchannelLogout([view.session]);
        }
        clearCookie(res, cookies.names.session, config.secureCookies);
        // OIOSAML single logout (saml-profiles 4.4): the session's SAML SPs are told by the front
        // channel, so the browser goes on to /saml/logout with a one-time handle.
        const next = view ? await pendingGatewayLogout(flows, view.session.idHash) : undefined;
        if (next) {
          res.json({ next });
          return;
        }
        res.status(204).end();
      },
    }),
  ];
}
