/**
 * The authorization endpoint (OIDC Core §3.1.2.1, GET query or POST form): code flow with PKCE
 * S256, nonce, state, `iss` in the response, `acr_values` and the client's minimum level honoured
 * or refused (never met with a lower level), prompt and max_age (NSIS 6 (Substantial) 8). Errors
 * about the client or redirect URI are shown to the person on a page naming the client (never
 * redirected to an unverified URI); the rest go back to the client in the response mode it asked
 * for (RFC 6749 §4.1.2.1). A request that needs a sign-in waits, bound to the browser that brought it.
 */
import { z } from 'zod';
import { loaUri, minLevel } from '../../assurance/levels.js';
import { IDENTITY_ASSURANCE_LEVELS, type AssuranceLevel } from '../../domain/types.js';
import { OidcRequestError } from '../../errors.js';
import { PROMPT_VALUES, RESPONSE_MODES, parsePrompt, parseResponseMode, type ResponseMode } from '../../oidc/authorizationParameters.js';
import { bindingHash } from '../../oidc/browserBinding.js';
import { plainHash, randomToken } from '../../security/oneTimeSecrets.js';
import type { SessionView } from '../sessions/resolveSession.js';
import { auditOidc, redirectWith, sessionLoa, str, type OidcDeps } from './oidcDeps.js';

export { PROMPT_VALUES };

/**
 * Where the browser goes next: a redirect (to the client or to the sign-in page, which then binds
 * the browser to the pending request), or the form_post page that posts the response to the client.
 */
export type AuthorizeOutcome =
  | { kind: 'redirect'; location: string; bindsBrowser?: boolean }
  | { kind: 'form_post'; action: string; params: Record<string, string | null>; application: string };

/** A pending authorization request as stored (parsed back with this schema, never cast). */
export const authParamsSchema = z.object({
  /** The session (hash) the browser had when the request came; a fresh sign-in must replace it. */
  priorSession: z.string().nullable().optional(),
  clientId: z.string(),
  redirectUri: z.string(),
  responseMode: z.enum(RESPONSE_MODES),
  scope: z.string(),
  state: z.string().nullable(),
  nonce: z.string(),
  codeChallenge: z.string(),
  requiredLoa: z.enum(IDENTITY_ASSURANCE_LEVELS),
  prompt: z.string().nullable(),
  maxAge: z.number().nullable(),
  /** SHA-256 of the browser-binding cookie of the browser that brought the request. */
  browserBinding: z.string().optional(),
});
export type AuthParams = z.infer<typeof authParamsSchema>;

const CODE_TTL_MS = 60_000;
const REQUEST_TTL_MS = 10 * 60_000;
const LOA_FROM_URI = new Map(IDENTITY_ASSURANCE_LEVELS.map((l) => [loaUri(l), l]));

/** `browserBinding` is the value of the browser's binding cookie. */
export async function authorize(deps: OidcDeps, query: Record<string, unknown>, view: SessionView | undefined, browserBinding: string): Promise<AuthorizeOutcome> {
  const issuer = deps.config.origin;
  const clientId = str(query, 'client_id') ?? '';
  const client = await deps.store.read((tx) => tx.oidc.client(clientId));
  if (!client) throw await refusePage(deps, 'invalid_client', 'The application that sent you here is not registered at this gateway.', clientId, undefined);
  // Issue 16: an org-admin disabled the client; nothing is answered to its redirect URI.
  if (client.disabledAt) throw await refusePage(deps, 'unauthorized_client', `${client.name} is disabled at this gateway: ask its administrator.`, clientId, client.name);
  // OIDC Core §6: a request object names its parameters inside it. Without redirect_uri in the
  // query, the one registered URI (if there is exactly one) receives the refusal.
  const requestObject = query['request'] !== undefined ? 'request' : query['request_uri'] !== undefined ? 'request_uri' : null;
  const only = client.redirectUris.length === 1 ? client.redirectUris[0] : undefined;
  const redirectUri = str(query, 'redirect_uri') ?? (requestObject ? only : undefined) ?? '';
  if (!client.redirectUris.includes(redirectUri)) {
    throw await refusePage(deps, 'invalid_request', `The redirect_uri is not registered for ${client.name}, so you cannot be sent back there.`, clientId, client.name);
  }
  const state = str(query, 'state') ?? null;
  const askedMode = parseResponseMode(str(query, 'response_mode'));
  const responseMode = askedMode ?? 'query';
  const holder = { identityId: view?.identity.id ?? null, role: 'holder' as const };
  const back = async (error: string, description: string): Promise<AuthorizeOutcome> => {
    await auditOidc(deps, 'oidc.authorize', holder, clientId, { status: 'error', error });
    return respond(redirectUri, responseMode, { error, error_description: description, state, iss: issuer }, client.name);
  };
  if (!askedMode) return back('invalid_request', `response_mode must be one of ${RESPONSE_MODES.join(', ')}.`);
  if (requestObject === 'request') return back('request_not_supported', 'Request objects (the request parameter) are not supported: send the parameters themselves.');
  if (requestObject === 'request_uri') return back('request_uri_not_supported', 'request_uri is not supported: send the parameters themselves.');
  if (str(query, 'response_type') !== 'code') return back('unsupported_response_type', 'Only the authorization code flow is supported.');
  const scope = str(query, 'scope') ?? '';
  const scopes = scope.split(' ').filter((x) => x.length > 0);
  if (!scopes.includes('openid')) return back('invalid_scope', 'The openid scope is required.');
  if (scopes.some((x) => !client.scopes.includes(x))) return back('invalid_scope', 'A requested scope is not allowed for this client.');
  const codeChallenge = str(query, 'code_challenge');
  if (!codeChallenge || str(query, 'code_challenge_method') !== 'S256' || !/^[A-Za-z0-9_-]{43}$/.test(codeChallenge)) {
    return back('invalid_request', 'PKCE with code_challenge_method=S256 is required.');
  }
  const nonce = str(query, 'nonce');
  if (!nonce) return back('invalid_request', 'A nonce is required.');
  const prompt = parsePrompt(str(query, 'prompt'));
  if (!prompt.ok) return back('invalid_request', prompt.description);
  const maxAgeRaw = str(query, 'max_age');
  const maxAge = maxAgeRaw === undefined ? null : /^\d{1,9}$/.test(maxAgeRaw) ? Number(maxAgeRaw) : NaN;
  if (Number.isNaN(maxAge)) return back('invalid_request', 'max_age must be a number of seconds.');
  let requiredLoa = client.minLoa;
  const acrValues = str(query, 'acr_values');
  if (acrValues) {
    const known = acrValues
      .split(' ')
      .map((v) => LOA_FROM_URI.get(v))
      .filter((l): l is AssuranceLevel => l !== undefined);
    if (known.length === 0) return back('invalid_request', 'acr_values names no NSIS level of assurance this provider knows.');
    // The lowest level the client names is the least it accepts.
    const asked = minLevel(...known);
    requiredLoa = minLevel(asked, requiredLoa) === requiredLoa ? asked : requiredLoa;
  }
  const params: AuthParams = {
    clientId,
    redirectUri,
    responseMode,
    scope: scopes.join(' '),
    state,
    nonce,
    codeChallenge,
    requiredLoa,
    prompt: prompt.prompts.length > 0 ? prompt.prompts.join(' ') : null,
    maxAge,
  };
  const requestedAt = deps.clock.now();
  // NSIS 6 (Substantial) 8: prompt=login (and select_account) and max_age let a service opt out
  // of single sign-on; prompt=consent is implicit for these first-party clients.
  if (view && !prompt.freshSignIn && fresh(deps, view, maxAge)) return finish(deps, params, view, client.name);
  if (prompt.none) return back('login_required', 'A fresh security-key sign-in is needed.');
  const id = randomToken(24);
  const stored: AuthParams = { ...params, priorSession: view?.session.idHash ?? null, browserBinding: bindingHash(browserBinding) };
  await deps.store.write((tx) => tx.oidc.insertRequest(id, clientId, JSON.stringify(stored), requestedAt.toISOString(), new Date(requestedAt.getTime() + REQUEST_TTL_MS).toISOString()));
  await auditOidc(deps, 'oidc.authorize', holder, clientId, { status: 'sign-in-needed', prompt: params.prompt, maxAge, requiredLoa, responseMode });
  return { kind: 'redirect', location: `${issuer}/index.html?oidc=${id}`, bindsBrowser: true };
}

function fresh(deps: OidcDeps, view: SessionView, maxAge: number | null): boolean {
  if (maxAge === null) return true;
  return (deps.clock.now().getTime() - new Date(view.session.createdAt).getTime()) / 1000 <= maxAge;
}

/** Issues the single-use code for a session that reached the level the request requires. */
export async function finish(deps: OidcDeps, params: AuthParams, view: SessionView, clientName: string): Promise<AuthorizeOutcome> {
  const issuer = deps.config.origin;
  const holder = { identityId: view.identity.id, role: 'holder' as const };
  const loa = sessionLoa(deps, view);
  if (minLevel(loa, params.requiredLoa) !== params.requiredLoa) {
    // Never a lower level silently: the client asked for more than this sign-in reached.
    await auditOidc(deps, 'oidc.authorize', holder, params.clientId, { status: 'error', error: 'unmet_authentication_requirements', reached: loa, required: params.requiredLoa });
    return respond(
      params.redirectUri,
      params.responseMode,
      { error: 'unmet_authentication_requirements', error_description: `The sign-in reached NSIS ${loa}; the service requires ${params.requiredLoa}.`, state: params.state, iss: issuer },
      clientName,
    );
  }
  const code = randomToken(32);
  const at = deps.clock.now();
  await deps.store.write(async (tx) => {
    await tx.oidc.insertCode(plainHash(code), {
      clientId: params.clientId,
      redirectUri: params.redirectUri,
      sessionHash: view.session.idHash,
      nonce: params.nonce,
      codeChallenge: params.codeChallenge,
      scope: params.scope,
      createdAt: at.toISOString(),
      expiresAt: new Date(at.getTime() + CODE_TTL_MS).toISOString(),
    });
    await tx.oidc.recordSessionClient(view.session.idHash, params.clientId);
  });
  await auditOidc(deps, 'oidc.authorize', holder, params.clientId, { status: 'code-issued', code: plainHash(code).slice(0, 16), loa });
  return respond(params.redirectUri, params.responseMode, { code, state: params.state, iss: issuer }, clientName);
}

/** The authorization response in the client's response mode (query or form_post). */
export function respond(redirectUri: string, mode: ResponseMode, params: Record<string, string | null>, application: string): AuthorizeOutcome {
  if (mode === 'form_post') return { kind: 'form_post', action: redirectUri, params, application };
  return { kind: 'redirect', location: redirectWith(redirectUri, params) };
}

async function refusePage(deps: OidcDeps, error: string, description: string, clientId: string, application: string | undefined): Promise<OidcRequestError> {
  await auditOidc(deps, 'oidc.authorize', { identityId: null, role: 'system' }, clientId.slice(0, 200) || null, { status: 'refused', error });
  return new OidcRequestError('OIDC_REQUEST_REFUSED', description, error, application);
}
