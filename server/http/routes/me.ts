/** The signed-in person's own session, keys and tokens (NSIS 3.2.3 (Low) 1, 3; NSIS 6). */
import { beginAddOwnKey, completeAddOwnKey, type OwnSession } from '../../flows/keys/addOwnKey.js';
import { listKeys, ownKeyHistory, renameKey } from '../../flows/keys/ownKeys.js';
import { transition } from '../../flows/keys/transition.js';
import { setOwnLanguage } from '../../flows/identities/setLanguage.js';
import { issueToken } from '../../flows/tokens/issueToken.js';
import { route, type RouteSpec } from '../registry.js';
import { schemas } from '../schemas.js';
import { ceremonyCookies, credentialView, identityView, param, sessionOf, type RouteDeps } from './shared.js';

/** The person, their session's key and the level it reached: the basis of a key they add (NSIS 3.2.4). */
function ownSession(view: ReturnType<typeof sessionOf>): OwnSession {
  return { identityId: view.identity.id, sessionCredentialId: view.credential.id, sessionAal: view.session.aal };
}

export function meRoutes(deps: RouteDeps): RouteSpec[] {
  const { flows } = deps;
  const cookies = ceremonyCookies(deps);
  return [
    route({
      method: 'post',
      path: '/api/me/credentials/new/options',
      summary: 'Start adding another key of my own, on the basis of the active key of this session (a fresh touch)',
      tag: 'me',
      access: { kind: 'session' },
      stepUp: true,
      body: schemas.empty,
      clause: 'NSIS 3.2.4 (Low) 1',
      responses: { 200: 'WebAuthn creation options', 401: 'Not signed in, or the sign-in is not fresh (STEP_UP_REQUIRED)', 403: 'The session’s key is not active', 409: 'As many keys as one person may have' },
      handler: async ({ req, res }) => {
        res.json(await beginAddOwnKey(flows, ownSession(sessionOf(res)), cookies.flowOf(req, res)));
      },
    }),
    route({
      method: 'post',
      path: '/api/me/credentials/new/verify',
      summary: 'Finish adding my key: it starts issued and its activation code goes to my address (second channel)',
      tag: 'me',
      access: { kind: 'session' },
      stepUp: true,
      body: schemas.ownKeyVerify,
      clause: 'NSIS 3.2.4 (Low) 1, 3.2.2',
      responses: {
        201: 'Key registered (issued)',
        400: 'Ceremony refused',
        401: 'Not signed in, or the sign-in is not fresh (STEP_UP_REQUIRED)',
        403: 'The session’s key is not active',
        409: 'Key already registered, or as many keys as one person may have',
      },
      handler: async ({ req, res, body }) => {
        const result = await completeAddOwnKey(flows, ownSession(sessionOf(res)), { flowId: cookies.existingFlow(req), label: body.label, response: body.response });
        res.status(201).json({ credential: { id: result.credential.id, label: result.credential.label, state: result.credential.state }, activation: result.activation });
      },
    }),
    route({
      method: 'get',
      path: '/api/me',
      summary: 'Who is signed in',
      tag: 'me',
      access: { kind: 'session' },
      responses: { 200: 'The identity and session', 401: 'Not signed in' },
      handler: ({ res }) => {
        const s = sessionOf(res);
        res.json({ identity: identityView(s.identity), session: { credentialId: s.credential.id, createdAt: s.session.createdAt } });
      },
    }),
    route({
      method: 'post',
      path: '/api/me/language',
      summary: 'Choose my language: my mails are written in it (the language switch of every page sets it while I am signed in)',
      tag: 'me',
      access: { kind: 'session' },
      body: schemas.language,
      responses: { 200: 'Stored', 400: 'Not a language of the gateway', 401: 'Not signed in' },
      handler: async ({ res, body }) => {
        res.json({ language: await setOwnLanguage(flows, sessionOf(res).identity.id, body.language) });
      },
    }),
    route({
      method: 'get',
      path: '/api/me/credentials',
      summary: 'My security keys',
      tag: 'me',
      access: { kind: 'session' },
      responses: { 200: 'The keys', 401: 'Not signed in' },
      handler: async ({ res }) => {
        const s = sessionOf(res);
        res.json({ credentials: (await listKeys(flows, s.identity.id)).map((c) => credentialView(c, s.credential.id)) });
      },
    }),
    route({
      method: 'get',
      path: '/api/me/credentials/:id/history',
      summary: 'The state history of one of my keys',
      tag: 'me',
      access: { kind: 'session' },
      responses: { 200: 'Transitions, oldest first', 404: 'Unknown key' },
      handler: async ({ req, res }) => {
        res.json({ events: await ownKeyHistory(flows, sessionOf(res).identity.id, param(req, 'id')) });
      },
    }),
    route({
      method: 'patch',
      path: '/api/me/credentials/:id',
      summary: 'Rename one of my keys',
      tag: 'me',
      access: { kind: 'session' },
      body: schemas.rename,
      responses: { 200: 'Renamed', 404: 'Unknown key', 409: 'Key revoked or expired' },
      handler: async ({ req, res, body }) => {
        const s = sessionOf(res);
        const key = await renameKey(flows, { identityId: s.identity.id, role: 'holder' }, param(req, 'id'), body.label);
        res.json({ credential: credentialView(key, s.credential.id) });
      },
    }),
    route({
      method: 'post',
      path: '/api/me/credentials/:id/report-lost',
      summary: 'Report one of my keys lost: suspended at once',
      tag: 'me',
      access: { kind: 'session' },
      body: schemas.reportLost,
      clause: 'NSIS 3.2.3 (Low) 1',
      responses: { 200: 'Suspended', 404: 'Unknown key', 409: 'Refused by the lifecycle table' },
      handler: async ({ req, res, body }) => {
        const s = sessionOf(res);
        const key = await transition(flows, { identityId: s.identity.id, role: 'holder' }, { credentialId: param(req, 'id'), action: 'suspend', reason: 'lost', note: body.note ?? null });
        res.json({ credential: credentialView(key, s.credential.id) });
      },
    }),
    route({
      method: 'post',
      path: '/api/me/credentials/:id/found',
      summary: 'I found my lost key: a fresh activation code goes to me; the key plus the code reactivate it',
      tag: 'me',
      access: { kind: 'session' },
      body: schemas.empty,
      clause: 'NSIS 3.2.3 (Low) 3',
      responses: { 200: 'Code sent', 404: 'Unknown key', 409: 'Refused by the lifecycle table' },
      handler: async ({ req, res }) => {
        const s = sessionOf(res);
        const key = await transition(flows, { identityId: s.identity.id, role: 'holder' }, { credentialId: param(req, 'id'), action: 'request-reactivation', reason: 'found', note: null });
        res.json({ credential: credentialView(key, s.credential.id) });
      },
    }),
    route({
      method: 'post',
      path: '/api/tokens',
      summary: 'An identity token for a named audience, signed by the HSM key, from the current security-key session',
      tag: 'tokens',
      access: { kind: 'session' },
      body: schemas.tokenRequest,
      clause: 'NSIS 6 (Low) 1-3, (Substantial) 9',
      responses: { 200: 'The token (compact JWS)', 400: 'Audience not allowed', 401: 'Not signed in', 503: 'HSM unavailable: no token issued' },
      handler: async ({ res, body }) => {
        const issued = await issueToken(flows, sessionOf(res), body.audience);
        res.json({ token: issued.token, expiresAt: new Date(issued.claims.exp * 1000).toISOString(), kid: issued.kid });
      },
    }),
  ];
}
