/**
 * OpenID Provider for the organisation's own systems (NSIS 6): authorization code flow with PKCE
 * (S256 only), client authentication by private_key_jwt or client_secret_basic, ID tokens signed
 * by the HSM's active key, audience-bound short-lived access tokens, userinfo, RP-initiated logout
 * and back-channel logout to every relying party of a session. Every request and response is
 * written to the audit chain without secrets (NSIS 6 (Low) 7).
 */
import { createHash, randomUUID } from 'node:crypto';
import type { JSONWebKeySet } from 'jose';
import { z } from 'zod';
import type { JsonValue } from '../audit/canonicalJson.js';
import { loaUri, minLevel } from '../assurance/levels.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { Gateway, SessionView } from '../core/Gateway.js';
import { IDENTITY_ASSURANCE_LEVELS, type Actor, type AssuranceLevel } from '../domain/types.js';
import { OidcRequestError, ValidationError } from '../errors.js';
import type { KeyManager } from '../keys/KeyManager.js';
import type { Logger } from '../logger.js';
import { hashesEqual, keyedHash, plainHash, randomToken } from '../security/oneTimeSecrets.js';
import type { OidcClient, SessionRecord, Store } from '../store/index.js';
import { identityTokenClaims } from '../tokens/identityToken.js';
import { PROMPT_VALUES, RESPONSE_MODES, parsePrompt, parseResponseMode, type ResponseMode } from './authorizationParameters.js';
import { credentialsFor } from './authScheme.js';
import { bindingHash } from './browserBinding.js';
import { authenticateClient } from './clientAuthentication.js';
import { endSession, type LogoutOutcome } from './logout.js';
import { OAuthError } from './OAuthError.js';
import { postForm } from '../net/outboundTarget.js';
import { checkBackchannelLogoutUri, checkBackchannelLogoutUriSync } from './backchannelUri.js';

export { OAuthError } from './OAuthError.js';

/**
 * Where the browser goes next: a redirect (to the client or to the sign-in page, which then binds
 * the browser to the pending request), or the form_post page that posts the response to the client.
 */
export type AuthorizeOutcome =
  | { kind: 'redirect'; location: string; bindsBrowser?: boolean }
  | { kind: 'form_post'; action: string; params: Record<string, string | null>; application: string };

/** A pending authorization request as stored (parsed back with this schema, never cast). */
const authParamsSchema = z.object({
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
type AuthParams = z.infer<typeof authParamsSchema>;

const CODE_TTL_MS = 60_000;
const REQUEST_TTL_MS = 10 * 60_000;
const ACCESS_TOKEN_TTL_S = 300;
const LOA_FROM_URI = new Map(IDENTITY_ASSURANCE_LEVELS.map((l) => [loaUri(l), l]));
const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

function str(q: Record<string, unknown>, k: string): string | undefined {
  const v = q[k];
  return typeof v === 'string' && v.length <= 2048 ? v : undefined;
}

export class OpenIdProvider {
  constructor(
    private readonly ports: { store: Store; gateway: Gateway; keys: KeyManager; clock: Clock; config: Readonly<Config>; log: Logger; secretKey: Buffer },
  ) {}

  private get issuer(): string {
    return this.ports.config.origin;
  }

  private now(): Date {
    return this.ports.clock.now();
  }

  private audit(type: string, actor: Actor, subjectId: string | null, data: { [k: string]: JsonValue }): void {
    this.ports.store.transaction(() =>
      this.ports.store.appendAudit({ at: this.now().toISOString(), type, actorId: actor.identityId, actorRole: actor.role, subjectId, data }),
    );
  }

  /** NSIS 6 (Low) 7: even requests for public metadata are in the integrity-protected log. */
  auditMetadataRequest(path: string): void {
    this.audit('oidc.metadata', { identityId: null, role: 'system' }, null, { path, status: 200 });
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

  // --- clients ------------------------------------------------------------------------------

  /**
   * Registers (or updates) a relying party. For client_secret_basic a secret is generated and
   * returned once; only its keyed hash is stored.
   */
  registerClient(
    actor: Actor,
    input: {
      clientId: string;
      name: string;
      redirectUris: string[];
      postLogoutRedirectUris: string[];
      authMethod: 'client_secret_basic' | 'private_key_jwt';
      jwks?: JSONWebKeySet;
      scopes: string[];
      minLoa: AssuranceLevel;
      backchannelLogoutUri?: string;
      secret?: string;
    },
  ): { clientId: string; clientSecret?: string } {
    for (const uri of [...input.redirectUris, ...input.postLogoutRedirectUris, ...(input.backchannelLogoutUri ? [input.backchannelLogoutUri] : [])]) {
      let url: URL;
      try {
        url = new URL(uri);
      } catch {
        throw new ValidationError(`Not a URL: ${uri}`);
      }
      const local = url.hostname === 'localhost' || url.hostname === '127.0.0.1';
      if (url.hash || (url.protocol !== 'https:' && !(local && url.protocol === 'http:'))) {
        throw new ValidationError(`Redirect and logout URIs must be https (http only on localhost) and carry no fragment: ${uri}`);
      }
    }
    // Issue 13, 9: no logout tokens to loopback or private addresses outside development mode.
    if (input.backchannelLogoutUri) {
      const uri = input.backchannelLogoutUri;
      this.refusingAudited(actor, input.clientId, uri, () => checkBackchannelLogoutUriSync(uri, this.ports.config.developmentMode));
    }
    if (input.authMethod === 'private_key_jwt' && (!input.jwks || !Array.isArray(input.jwks.keys) || input.jwks.keys.length === 0)) {
      throw new ValidationError('private_key_jwt needs the client’s public keys (jwks).');
    }
    if (!input.scopes.includes('openid')) throw new ValidationError('A client’s scopes include openid.');
    const secret = input.authMethod === 'client_secret_basic' ? (input.secret ?? randomToken(32)) : undefined;
    this.ports.store.transaction(() => {
      this.ports.store.oidc.upsertClient({
        clientId: input.clientId,
        name: input.name,
        redirectUris: input.redirectUris,
        postLogoutRedirectUris: input.postLogoutRedirectUris,
        authMethod: input.authMethod,
        secretHash: secret ? keyedHash(this.ports.secretKey, 'oidc-client-secret', secret) : null,
        jwks: input.jwks ? JSON.stringify(input.jwks) : null,
        scopes: input.scopes,
        minLoa: input.minLoa,
        backchannelLogoutUri: input.backchannelLogoutUri ?? null,
        createdBy: actor.identityId,
        createdAt: this.now().toISOString(),
      });
      this.ports.store.appendAudit({
        at: this.now().toISOString(),
        type: 'oidc.client-registered',
        actorId: actor.identityId,
        actorRole: actor.role,
        subjectId: input.clientId,
        data: { redirectUris: input.redirectUris, authMethod: input.authMethod, scopes: input.scopes, minLoa: input.minLoa, backchannel: input.backchannelLogoutUri ?? null },
      });
    });
    return { clientId: input.clientId, ...(secret && !input.secret ? { clientSecret: secret } : {}) };
  }

  /**
   * Issue 13, 9: checks a back-channel logout URI with its host resolved (registration through the
   * admin console or the clients file); a refusal is audited with the address that caused it.
   */
  async checkBackchannelLogoutUri(actor: Actor, clientId: string, uri: string): Promise<void> {
    try {
      await checkBackchannelLogoutUri(uri, this.ports.config.developmentMode);
    } catch (err) {
      this.auditRefusedClient(actor, clientId, uri, err);
      throw err;
    }
  }

  private refusingAudited(actor: Actor, clientId: string, uri: string, check: () => void): void {
    try {
      check();
    } catch (err) {
      this.auditRefusedClient(actor, clientId, uri, err);
      throw err;
    }
  }

  private auditRefusedClient(actor: Actor, clientId: string, uri: string, err: unknown): void {
    this.audit('oidc.client-refused', actor, clientId, { reason: 'backchannel-uri-not-public', uri, detail: err instanceof Error ? err.message.slice(0, 300) : String(err) });
  }

  // --- authorization endpoint ---------------------------------------------------------------

  /**
   * Validates an authorization request (GET query or POST form, OIDC Core §3.1.2.1). Errors about
   * the client or redirect URI are shown to the person on a page naming the client (never
   * redirected to an unverified URI); the rest go back to the client in the response mode it asked
   * for (RFC 6749 §4.1.2.1). `browserBinding` is the value of the browser's binding cookie.
   */
  authorize(query: Record<string, unknown>, view: SessionView | undefined, browserBinding: string): AuthorizeOutcome {
    const clientId = str(query, 'client_id') ?? '';
    const client = this.ports.store.oidc.getClient(clientId);
    if (!client) throw this.refusePage('invalid_client', 'The application that sent you here is not registered at this gateway.', clientId, undefined);
    // OIDC Core §6: a request object names its parameters inside it. Without redirect_uri in the
    // query, the one registered URI (if there is exactly one) receives the refusal.
    const requestObject = query['request'] !== undefined ? 'request' : query['request_uri'] !== undefined ? 'request_uri' : null;
    const only = client.redirectUris.length === 1 ? client.redirectUris[0] : undefined;
    const redirectUri = str(query, 'redirect_uri') ?? (requestObject ? only : undefined) ?? '';
    if (!client.redirectUris.includes(redirectUri)) {
      throw this.refusePage('invalid_request', `The redirect_uri is not registered for ${client.name}, so you cannot be sent back there.`, clientId, client.name);
    }
    const state = str(query, 'state') ?? null;
    const askedMode = parseResponseMode(str(query, 'response_mode'));
    const responseMode = askedMode ?? 'query';
    const back = (error: string, description: string): AuthorizeOutcome => {
      this.audit('oidc.authorize', { identityId: view?.identity.id ?? null, role: 'holder' }, clientId, { status: 'error', error });
      return this.respond(redirectUri, responseMode, { error, error_description: description, state, iss: this.issuer }, client.name);
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
    const promptRaw = str(query, 'prompt');
    const prompt = parsePrompt(promptRaw);
    if (!prompt.ok) return back('invalid_request', prompt.description);
    const maxAgeRaw = str(query, 'max_age');
    const maxAge = maxAgeRaw === undefined ? null : /^\d{1,9}$/.test(maxAgeRaw) ? Number(maxAgeRaw) : NaN;
    if (Number.isNaN(maxAge)) return back('invalid_request', 'max_age must be a number of seconds.');
    let requiredLoa = client.minLoa;
    const acrValues = str(query, 'acr_values');
    if (acrValues) {
      const levels = acrValues.split(' ').map((v) => LOA_FROM_URI.get(v));
      const known = levels.filter((l): l is AssuranceLevel => l !== undefined);
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
    const requestedAt = this.now();
    // NSIS 6 (Substantial) 8: prompt=login (and select_account) and max_age let a service opt out
    // of single sign-on; prompt=consent is implicit for these first-party clients.
    if (view && !prompt.freshSignIn && this.fresh(view, maxAge)) return this.finish(params, view);
    if (prompt.none) return back('login_required', 'A fresh security-key sign-in is needed.');
    const id = randomToken(24);
    const stored: AuthParams = { ...params, priorSession: view?.session.idHash ?? null, browserBinding: bindingHash(browserBinding) };
    this.ports.store.transaction(() =>
      this.ports.store.oidc.insertRequest(id, clientId, JSON.stringify(stored), requestedAt.toISOString(), new Date(requestedAt.getTime() + REQUEST_TTL_MS).toISOString()),
    );
    this.audit('oidc.authorize', { identityId: view?.identity.id ?? null, role: 'holder' }, clientId, { status: 'sign-in-needed', prompt: params.prompt, maxAge, requiredLoa, responseMode });
    return { kind: 'redirect', location: `${this.issuer}/index.html?oidc=${id}`, bindsBrowser: true };
  }

  /**
   * A pending request, live and brought by this browser; refused (audited) otherwise. Read only:
   * a wrong browser does not use up the person's request.
   */
  private pendingRequest(requestId: string, browserBinding: string | undefined, actor: Actor): { params: AuthParams; createdAt: string; clientName: string } {
    const found = /^[A-Za-z0-9_-]{16,64}$/.test(requestId) ? this.ports.store.oidc.findRequest(requestId) : undefined;
    const client = found ? this.ports.store.oidc.getClient(found.clientId) : undefined;
    const parsed = found ? authParamsSchema.safeParse(JSON.parse(found.params)) : undefined;
    if (!found || !client || !parsed?.success || found.consumed || found.expiresAt <= this.now().toISOString()) {
      const why = !found ? 'unknown' : found.consumed ? 'used' : 'expired';
      this.audit('oidc.authorize', actor, client?.clientId ?? null, { status: 'refused', error: 'invalid_request', reason: `request-${why}` });
      throw new OidcRequestError('OIDC_REQUEST_UNKNOWN', 'This sign-in request is unknown, was already used or has expired.', 'invalid_request', client?.name);
    }
    const expected = parsed.data.browserBinding;
    if (browserBinding === undefined || expected === undefined || !hashesEqual(bindingHash(browserBinding), expected)) {
      this.audit('oidc.authorize', actor, client.clientId, { status: 'refused', error: 'access_denied', reason: 'other-browser' });
      throw new OidcRequestError('OIDC_BROWSER_MISMATCH', `This sign-in request for ${client.name} was started in another browser.`, 'access_denied', client.name);
    }
    return { params: parsed.data, createdAt: found.createdAt, clientName: client.name };
  }

  /** For the sign-in page: which application asks (issue 13 item 20), for this browser only. */
  describeRequest(requestId: string, browserBinding: string | undefined, view: SessionView | undefined): { clientName: string } {
    const { clientName } = this.pendingRequest(requestId, browserBinding, { identityId: view?.identity.id ?? null, role: 'holder' });
    return { clientName };
  }

  /** After the sign-in page: finishes a pending request with the fresh session, in this browser only. */
  continueAuthorization(requestId: string, view: SessionView | undefined, browserBinding: string | undefined): AuthorizeOutcome {
    const { params, createdAt } = this.pendingRequest(requestId, browserBinding, { identityId: view?.identity.id ?? null, role: 'holder' });
    const pending = this.ports.store.transaction(() => this.ports.store.oidc.consumeRequest(requestId, this.now().toISOString()));
    const client = this.ports.store.oidc.getClient(params.clientId);
    if (!pending || !client) throw new OidcRequestError('OIDC_REQUEST_UNKNOWN', 'This sign-in request was already used.', 'invalid_request', client?.name);
    if (!view || view.session.createdAt < createdAt || view.session.idHash === params.priorSession) {
      // The sign-in must have happened after the request (prompt=login, max_age, or no session).
      this.audit('oidc.authorize', { identityId: view?.identity.id ?? null, role: 'holder' }, params.clientId, { status: 'error', error: 'login_required' });
      return this.respond(params.redirectUri, params.responseMode, { error: 'login_required', error_description: 'No fresh sign-in.', state: params.state, iss: this.issuer }, client.name);
    }
    return this.finish(params, view);
  }

  private fresh(view: SessionView, maxAge: number | null): boolean {
    if (maxAge === null) return true;
    return (this.now().getTime() - new Date(view.session.createdAt).getTime()) / 1000 <= maxAge;
  }

  private sessionLoa(view: SessionView): AssuranceLevel {
    return minLevel(view.identity.ial, view.session.aal, this.ports.config.federationLevel);
  }

  private finish(params: AuthParams, view: SessionView): AuthorizeOutcome {
    const loa = this.sessionLoa(view);
    if (minLevel(loa, params.requiredLoa) !== params.requiredLoa) {
      // Never a lower level silently: the client asked for more than this sign-in reached.
      this.audit('oidc.authorize', { identityId: view.identity.id, role: 'holder' }, params.clientId, { status: 'error', error: 'unmet_authentication_requirements', reached: loa, required: params.requiredLoa });
      return this.respond(
        params.redirectUri,
        params.responseMode,
        {
          error: 'unmet_authentication_requirements',
          error_description: `The sign-in reached NSIS ${loa}; the service requires ${params.requiredLoa}.`,
          state: params.state,
          iss: this.issuer,
        },
        this.clientName(params.clientId),
      );
    }
    const code = randomToken(32);
    const at = this.now();
    this.ports.store.transaction(() => {
      this.ports.store.oidc.insertCode(plainHash(code), {
        clientId: params.clientId,
        redirectUri: params.redirectUri,
        sessionHash: view.session.idHash,
        nonce: params.nonce,
        codeChallenge: params.codeChallenge,
        scope: params.scope,
        createdAt: at.toISOString(),
        expiresAt: new Date(at.getTime() + CODE_TTL_MS).toISOString(),
      });
      this.ports.store.oidc.recordSessionClient(view.session.idHash, params.clientId);
    });
    this.audit('oidc.authorize', { identityId: view.identity.id, role: 'holder' }, params.clientId, { status: 'code-issued', code: plainHash(code).slice(0, 16), loa });
    return this.respond(params.redirectUri, params.responseMode, { code, state: params.state, iss: this.issuer }, this.clientName(params.clientId));
  }

  private clientName(clientId: string): string {
    return this.ports.store.oidc.getClient(clientId)?.name ?? clientId;
  }

  /** The authorization response in the client's response mode (query or form_post). */
  private respond(redirectUri: string, mode: ResponseMode, params: Record<string, string | null>, application: string): AuthorizeOutcome {
    if (mode === 'form_post') return { kind: 'form_post', action: redirectUri, params, application };
    return { kind: 'redirect', location: this.redirectWith(redirectUri, params) };
  }

  private refusePage(error: string, description: string, clientId: string, application: string | undefined): OidcRequestError {
    this.audit('oidc.authorize', { identityId: null, role: 'system' }, clientId.slice(0, 200) || null, { status: 'refused', error });
    return new OidcRequestError('OIDC_REQUEST_REFUSED', description, error, application);
  }

  private redirectWith(uri: string, params: Record<string, string | null>): string {
    const url = new URL(uri);
    for (const [k, v] of Object.entries(params)) if (v !== null) url.searchParams.set(k, v);
    return url.toString();
  }

  // --- token endpoint -----------------------------------------------------------------------

  async token(form: Record<string, unknown>, authorization: string | undefined): Promise<object> {
    let client: OidcClient | undefined;
    try {
      client = await authenticateClient(
        { store: this.ports.store, secretKey: this.ports.secretKey, issuer: this.issuer, now: this.now(), log: this.ports.log },
        form,
        authorization,
      );
      if (str(form, 'grant_type') !== 'authorization_code') throw new OAuthError('unsupported_grant_type', 'Only authorization_code is supported.');
      const code = str(form, 'code') ?? '';
      const now = this.now();
      const record = this.ports.store.transaction(() => this.ports.store.oidc.consumeCode(plainHash(code), now.toISOString()));
      if (!record) throw new OAuthError('invalid_grant', 'Unknown authorization code.');
      if (record.consumedBefore) {
        // RFC 6749 §4.1.2: a reused code revokes what was issued from it.
        this.ports.store.transaction(() => this.ports.store.oidc.revokeAccessTokensOfCode(plainHash(code)));
        throw new OAuthError('invalid_grant', 'The authorization code was already used.');
      }
      if (record.expiresAt <= now.toISOString()) throw new OAuthError('invalid_grant', 'The authorization code has expired.');
      if (record.clientId !== client.clientId) throw new OAuthError('invalid_grant', 'The code was issued to another client.');
      if (str(form, 'redirect_uri') !== record.redirectUri) throw new OAuthError('invalid_grant', 'redirect_uri does not match the authorization request.');
      const verifier = str(form, 'code_verifier') ?? '';
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier) || challenge !== record.codeChallenge) throw new OAuthError('invalid_grant', 'PKCE verification failed.');
      const view = this.ports.gateway.resolveSessionByHash(record.sessionHash);
      if (!view) throw new OAuthError('invalid_grant', 'The sign-in session has ended.');
      const org = this.ports.store.getOrganisation(view.identity.organisationId);
      if (!org) throw new Error('identity without organisation');
      const base = identityTokenClaims({
        issuer: this.issuer,
        audience: client.clientId,
        identity: view.identity,
        organisation: org,
        authTime: new Date(view.session.createdAt),
        aal: view.session.aal,
        amr: view.session.amr,
        fal: this.ports.config.federationLevel,
        now,
        ttlSeconds: this.ports.config.tokenTtlSeconds,
      });
      const idClaims = { ...base, nonce: record.nonce, acr: base.loa, sid: view.session.sid, azp: client.clientId };
      const { jws } = await this.ports.keys.signJws(idClaims);
      const accessToken = randomToken(32);
      this.ports.store.transaction(() =>
        this.ports.store.oidc.insertAccessToken(plainHash(accessToken), client?.clientId ?? '', record.sessionHash, record.scope, now.toISOString(), new Date(now.getTime() + ACCESS_TOKEN_TTL_S * 1000).toISOString(), plainHash(code)),
      );
      this.audit('oidc.token', { identityId: view.identity.id, role: 'holder' }, client.clientId, {
        status: 200,
        jti: idClaims.jti,
        claims: Object.keys(idClaims).sort(),
        loa: idClaims.loa,
        accessToken: plainHash(accessToken).slice(0, 16),
      });
      return { access_token: accessToken, token_type: 'Bearer', expires_in: ACCESS_TOKEN_TTL_S, id_token: jws, scope: record.scope };
    } catch (err) {
      if (err instanceof OAuthError) this.audit('oidc.token', { identityId: null, role: 'system' }, client?.clientId ?? null, { status: err.status, error: err.error });
      throw err;
    }
  }

  // --- userinfo -----------------------------------------------------------------------------

  userinfo(authorization: string | undefined): object {
    // RFC 6750 §2.1 with RFC 7235 §2.1: the scheme is case-insensitive.
    const token = credentialsFor(authorization, 'bearer') ?? '';
    const record = token ? this.ports.store.oidc.getAccessToken(plainHash(token)) : undefined;
    const view = record && record.expiresAt > this.now().toISOString() ? this.ports.gateway.resolveSessionByHash(record.sessionHash) : undefined;
    if (!record || !view) {
      this.audit('oidc.userinfo', { identityId: null, role: 'system' }, record?.clientId ?? null, { status: 401 });
      throw new OAuthError('invalid_token', 'The access token is unknown, expired, or its session has ended.', 401);
    }
    const org = this.ports.store.getOrganisation(view.identity.organisationId);
    const scopes = record.scope.split(' ');
    const claims = {
      sub: view.identity.id,
      cvr: org?.cvr ?? null,
      org_name: org?.name ?? null,
      loa: loaUri(this.sessionLoa(view)),
      ...(scopes.includes('profile') ? { name: view.identity.name } : {}),
      ...(scopes.includes('email') ? { email: view.identity.email } : {}),
    };
    this.audit('oidc.userinfo', { identityId: view.identity.id, role: 'holder' }, record.clientId, { status: 200, claims: Object.keys(claims).sort() });
    return claims;
  }

  // --- logout -------------------------------------------------------------------------------

  /** RP-initiated logout (GET query or POST form), with a confirmation page when needed: see logout.ts. */
  endSession(params: Record<string, unknown>, view: SessionView | undefined, sessionId: string | undefined): Promise<LogoutOutcome> {
    return endSession(
      {
        store: this.ports.store,
        gateway: this.ports.gateway,
        keys: this.ports.keys,
        secretKey: this.ports.secretKey,
        issuer: this.issuer,
        now: () => this.now(),
        audit: (type, actor, subjectId, data) => this.audit(type, actor, subjectId, data),
        backchannelLogout: (sessions) => this.backchannelLogout(sessions),
      },
      params,
      view,
      sessionId,
    );
  }

  /**
   * OpenID Connect Back-Channel Logout 1.0: a logout token, signed by the HSM key, to each RP the
   * ended sessions were used with. Delivery is attempted once with a short timeout and audited.
   */
  async backchannelLogout(sessions: SessionRecord[]): Promise<void> {
    for (const session of sessions) {
      for (const clientId of this.ports.store.oidc.clientsOfSession(session.idHash)) {
        const client = this.ports.store.oidc.getClient(clientId);
        this.ports.store.transaction(() => this.ports.store.oidc.revokeAccessTokensOfSession(session.idHash));
        if (!client?.backchannelLogoutUri) continue;
        const now = Math.floor(this.now().getTime() / 1000);
        let status: number | string;
        try {
          const { jws } = await this.ports.keys.signJws(
            { iss: this.issuer, aud: clientId, iat: now, exp: now + 120, jti: randomUUID(), sub: session.identityId, sid: session.sid, events: { [BACKCHANNEL_EVENT]: {} } },
            'logout+jwt',
          );
          // Outside development mode only to public addresses, checked as the connection is made.
          status = await postForm(client.backchannelLogoutUri, { logout_token: jws }, { developmentMode: this.ports.config.developmentMode, timeoutMs: 5000 });
        } catch (err) {
          status = err instanceof Error ? err.message.slice(0, 100) : 'failed';
        }
        this.audit('oidc.backchannel-logout', { identityId: null, role: 'system' }, clientId, { sid: session.sid, status });
      }
    }
  }

  /** Single logout (NSIS 6 (Low) 5): every session of the person ends, every RP is told. */
  async logoutEverywhere(identityId: string): Promise<number> {
    const sessions = this.ports.store.liveSessionsOfIdentity(identityId);
    this.ports.gateway.endAllSessions(identityId, 'single-logout');
    await this.backchannelLogout(sessions);
    return sessions.length;
  }
}
