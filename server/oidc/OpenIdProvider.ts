/**
 * OpenID Provider for the organisation's own systems (NSIS 6): authorization code flow with PKCE
 * (S256 only), client authentication by private_key_jwt or client_secret_basic, ID tokens signed
 * by the HSM's active key, audience-bound short-lived access tokens, userinfo, RP-initiated logout
 * and back-channel logout to every relying party of a session. Every request and response is
 * written to the audit chain without secrets (NSIS 6 (Low) 7).
 *
 * The use cases live in server/flows/oidc/ as functions over the store port; this object binds
 * them to their ports for the HTTP edge (router.ts, apiRoutes.ts) and the clients file.
 */
import { IDENTITY_ASSURANCE_LEVELS, type Actor } from '../domain/types.js';
import type { SessionRecord } from '../domain/sessions.js';
import { loaUri } from '../assurance/levels.js';
import { authorize, type AuthorizeOutcome } from '../flows/oidc/authorize.js';
import { backchannelLogout, logoutEverywhere } from '../flows/oidc/backchannelLogout.js';
import { auditOidc, type OidcDeps } from '../flows/oidc/oidcDeps.js';
import { continueAuthorization, describeRequest } from '../flows/oidc/pendingRequest.js';
import { changeClientUris, rotateClientSecret, setClientEnabled } from '../flows/oidc/manageClient.js';
import type { OidcClient } from '../domain/oidc.js';
import { checkClientBackchannelUri, registerClient, type ClientRegistration } from '../flows/oidc/registerClient.js';
import { token } from '../flows/oidc/token.js';
import { userinfo } from '../flows/oidc/userinfo.js';
import type { SessionView } from '../flows/sessions/resolveSession.js';
import { signOut } from '../flows/sessions/signOut.js';
import { PROMPT_VALUES, RESPONSE_MODES } from './authorizationParameters.js';
import { endSession, type LogoutOutcome } from './logout.js';

export { OAuthError } from './OAuthError.js';
export type { AuthorizeOutcome } from '../flows/oidc/authorize.js';

export class OpenIdProvider {
  constructor(private readonly deps: OidcDeps) {}

  private get issuer(): string {
    return this.deps.config.origin;
  }

  /** NSIS 6 (Low) 7: even requests for public metadata are in the integrity-protected log. */
  auditMetadataRequest(path: string): Promise<void> {
    return auditOidc(this.deps, 'oidc.metadata', { identityId: null, role: 'system' }, null, { path, status: 200 });
  }

  discovery(): object {
    const o = this.issuer;
    return {
      issuer: o,
      authorization_endpoint: `${o}/oidc/authorize`,
      token_endpoint: `${o}/oidc/token`,
      userinfo_endpoint: `${o}/oidc/userinfo`,
      jwks_uri: `${o}/.well-known/jwks.json`,
      end_session_endpoint: `${o}/oidc/logout`,
      response_types_supported: ['code'],
      response_modes_supported: [...RESPONSE_MODES],
      grant_types_supported: ['authorization_code'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['ES256'],
      token_endpoint_auth_methods_supported: ['private_key_jwt', 'client_secret_basic'],
      token_endpoint_auth_signing_alg_values_supported: ['ES256', 'PS256', 'RS256', 'EdDSA'],
      code_challenge_methods_supported: ['S256'],
      scopes_supported: ['openid', 'profile', 'email'],
      claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'acr', 'amr', 'sid', 'loa', 'cvr', 'org_name', 'name', 'email'],
      acr_values_supported: IDENTITY_ASSURANCE_LEVELS.map(loaUri),
      prompt_values_supported: PROMPT_VALUES,
      backchannel_logout_supported: true,
      backchannel_logout_session_supported: true,
      claims_parameter_supported: false,
      // OIDC Core §6: request objects are not supported, by value or by reference.
      request_parameter_supported: false,
      request_uri_parameter_supported: false,
      // RFC 9207: every authorization response carries iss.
      authorization_response_iss_parameter_supported: true,
    };
  }

  registerClient(actor: Actor, input: ClientRegistration): Promise<{ clientId: string; clientSecret?: string }> {
    return registerClient(this.deps, actor, input);
  }

  /** The registered relying parties, by client id (issue 16: the clients page). */
  clients(): Promise<OidcClient[]> {
    return this.deps.store.read((tx) => tx.oidc.clients());
  }

  rotateClientSecret(actor: Actor, clientId: string): Promise<{ clientId: string; clientSecret: string }> {
    return rotateClientSecret(this.deps, actor, clientId);
  }

  changeClientUris(actor: Actor, clientId: string, uris: { redirectUris: string[]; postLogoutRedirectUris: string[] }): Promise<void> {
    return changeClientUris(this.deps, actor, clientId, uris);
  }

  setClientEnabled(actor: Actor, clientId: string, enabled: boolean): Promise<void> {
    return setClientEnabled(this.deps, actor, clientId, enabled);
  }

  checkBackchannelLogoutUri(actor: Actor, clientId: string, uri: string): Promise<void> {
    return checkClientBackchannelUri(this.deps, actor, clientId, uri);
  }

  authorize(query: Record<string, unknown>, view: SessionView | undefined, browserBinding: string): Promise<AuthorizeOutcome> {
    return authorize(this.deps, query, view, browserBinding);
  }

  describeRequest(requestId: string, browserBinding: string | undefined, view: SessionView | undefined): Promise<{ clientName: string }> {
    return describeRequest(this.deps, requestId, browserBinding, view);
  }

  continueAuthorization(requestId: string, view: SessionView | undefined, browserBinding: string | undefined): Promise<AuthorizeOutcome> {
    return continueAuthorization(this.deps, requestId, view, browserBinding);
  }

  token(form: Record<string, unknown>, authorization: string | undefined): Promise<object> {
    return token(this.deps, form, authorization);
  }

  userinfo(authorization: string | undefined): Promise<object> {
    return userinfo(this.deps, authorization);
  }

  /** RP-initiated logout (GET query or POST form), with a confirmation page when needed: see logout.ts. */
  endSession(params: Record<string, unknown>, view: SessionView | undefined, sessionId: string | undefined): Promise<LogoutOutcome> {
    const deps = this.deps;
    return endSession(
      {
        store: deps.store,
        signOut: (id) => signOut(deps.core, id),
        jwks: () => deps.keys.jwks(),
        secretKey: deps.secretKey,
        issuer: this.issuer,
        now: () => deps.clock.now(),
        audit: (type, actor, subjectId, data) => auditOidc(deps, type, actor, subjectId, data),
        backchannelLogout: (sessions) => backchannelLogout(deps, sessions),
      },
      params,
      view,
      sessionId,
    );
  }

  backchannelLogout(sessions: readonly SessionRecord[]): Promise<void> {
    return backchannelLogout(this.deps, sessions);
  }

  logoutEverywhere(identityId: string): Promise<number> {
    return logoutEverywhere(this.deps, identityId);
  }
}
