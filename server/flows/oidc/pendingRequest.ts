/**
 * A pending authorization request after the sign-in page: live, and brought by this browser
 * (its binding cookie), or refused and audited. Reading it never uses it up (a wrong browser does
 * not spend the person's request); continuing consumes it once.
 */
import type { Actor } from '../../domain/types.js';
import { OidcRequestError } from '../../errors.js';
import { bindingHash } from '../../oidc/browserBinding.js';
import { hashesEqual } from '../../security/oneTimeSecrets.js';
import type { SessionView } from '../sessions/resolveSession.js';
import { authParamsSchema, finish, respond, type AuthParams, type AuthorizeOutcome } from './authorize.js';
import { auditOidc, type OidcDeps } from './oidcDeps.js';

async function pendingRequest(deps: OidcDeps, requestId: string, browserBinding: string | undefined, actor: Actor): Promise<{ params: AuthParams; createdAt: string; clientName: string }> {
  const { found, client } = await deps.store.read(async (tx) => {
    const found = /^[A-Za-z0-9_-]{16,64}$/.test(requestId) ? await tx.oidc.request(requestId) : undefined;
    return { found, client: found ? await tx.oidc.client(found.clientId) : undefined };
  });
  const parsed = found ? authParamsSchema.safeParse(JSON.parse(found.params)) : undefined;
  if (!found || !client || !parsed?.success || found.consumed || found.expiresAt <= deps.clock.now().toISOString()) {
    const why = !found ? 'unknown' : found.consumed ? 'used' : 'expired';
    await auditOidc(deps, 'oidc.authorize', actor, client?.clientId ?? null, { status: 'refused', error: 'invalid_request', reason: `request-${why}` });
    throw new OidcRequestError('OIDC_REQUEST_UNKNOWN', 'This sign-in request is unknown, was already used or has expired.', 'invalid_request', client?.name);
  }
  const expected = parsed.data.browserBinding;
  if (browserBinding === undefined || expected === undefined || !hashesEqual(bindingHash(browserBinding), expected)) {
    await auditOidc(deps, 'oidc.authorize', actor, client.clientId, { status: 'refused', error: 'access_denied', reason: 'other-browser' });
    throw new OidcRequestError('OIDC_BROWSER_MISMATCH', `This sign-in request for ${client.name} was started in another browser.`, 'access_denied', client.name);
  }
  return { params: parsed.data, createdAt: found.createdAt, clientName: client.name };
}

/** For the sign-in page: which application asks (issue 13 item 20), for this browser only. */
export async function describeRequest(deps: OidcDeps, requestId: string, browserBinding: string | undefined, view: SessionView | undefined): Promise<{ clientName: string }> {
  const { clientName } = await pendingRequest(deps, requestId, browserBinding, { identityId: view?.identity.id ?? null, role: 'holder' });
  return { clientName };
}

/** After the sign-in page: finishes a pending request with the fresh session, in this browser only. */
export async function continueAuthorization(deps: OidcDeps, requestId: string, view: SessionView | undefined, browserBinding: string | undefined): Promise<AuthorizeOutcome> {
  const holder = { identityId: view?.identity.id ?? null, role: 'holder' as const };
  const { params, createdAt } = await pendingRequest(deps, requestId, browserBinding, holder);
  const { pending, client } = await deps.store.write(async (tx) => ({ pending: await tx.oidc.consumeRequest(requestId, deps.clock.now().toISOString()), client: await tx.oidc.client(params.clientId) }));
  if (!pending || !client) throw new OidcRequestError('OIDC_REQUEST_UNKNOWN', 'This sign-in request was already used.', 'invalid_request', client?.name);
  if (!view || view.session.createdAt < createdAt || view.session.idHash === params.priorSession) {
    // The sign-in must have happened after the request (prompt=login, max_age, or no session).
    await auditOidc(deps, 'oidc.authorize', holder, params.clientId, { status: 'error', error: 'login_required' });
    return respond(params.redirectUri, params.responseMode, { error: 'login_required', error_description: 'No fresh sign-in.', state: params.state, iss: deps.config.origin }, client.name);
  }
  return finish(deps, params, view, client.name);
}
