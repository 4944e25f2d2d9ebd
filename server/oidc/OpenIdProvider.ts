/**
 * OpenID Provider for the organisation's own systems (NSIS 6): authorization code flow with PKCE
 * (S256 only), client authentication by private_key_jwt or client_secret_basic, ID tokens signed
 * by the HSM's active key, audience-bound short-lived access tokens, userinfo, RP-initiated logout
 * and back-channel logout to every relying party of a session. Every request and response is
 * written to the audit chain without secrets (NSIS 6 (Low) 7).
 */
import { createHash, randomUUID } from 'node:crypto';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import type { JsonValue } from '../audit/canonicalJson.js';
import { loaUri, minLevel } from '../assurance/levels.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { Gateway, SessionView } from '../core/Gateway.js';
import { IDENTITY_ASSURANCE_LEVELS, type Actor, type AssuranceLevel } from '../domain/types.js';
import { ValidationError } from '../errors.js';
import type { KeyManager } from '../keys/KeyManager.js';
import type { Logger } from '../logger.js';
import { hashesEqual, keyedHash, plainHash, randomToken } from '../security/oneTimeSecrets.js';
import type { OidcClient, SessionRecord, Store } from '../store/index.js';
import { identityTokenClaims } from '../tokens/identityToken.js';
import { postForm } from '../net/outboundTarget.js';
import { checkBackchannelLogoutUri, checkBackchannelLogoutUriSync } from './backchannelUri.js';

/** An OAuth/OIDC protocol error, answered in the protocol's own format (RFC 6749 §5.2). */
export class OAuthError extends Error {
  constructor(
    readonly error: string,
    readonly description: string,
    readonly status = 400,
  ) {
    super(`${error}: ${description}`);
  }
}

export type AuthorizeOutcome = { kind: 'redirect'; location: string } | { kind: 'refuse'; status: number; error: string; description: string };

interface AuthParams {
  /** The session (hash) the browser had when the request came; a fresh sign-in must replace it. */
  priorSession?: string | null;
  clientId: string;
  redirectUri: string;
  scope: string;
  state: string | null;
  nonce: string;
  codeChallenge: string;
  requiredLoa: AssuranceLevel;
  prompt: string | null;
  maxAge: number | null;
}

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
      response_modes_supported: ['query'],
      grant_types_supported: ['authorization_code'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['ES256'],
      token_endpoint_auth_methods_supported: ['private_key_jwt', 'client_secret_basic'],
      token_endpoint_auth_signing_alg_values_supported: ['ES256', 'PS256', 'RS256', 'EdDSA'],
      code_challenge_methods_supported: ['S256'],
      scopes_supported: ['openid', 'profile', 'email'],
      claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'acr', 'amr', 'sid', 'loa', 'cvr', 'org_name', 'name', 'email'],
      acr_values_supported: IDENTITY_ASSURANCE_LEVELS.map(loaUri),
      prompt_values_supported: ['none', 'login'],
      backchannel_logout_supported: true,
      backchannel_logout_session_supported: true,
      claims_parameter_supported: false,
      request_parameter_supported: false,
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
   * Validates an authorization request. Errors about the client or redirect URI are shown to the
   * user (never redirected to an unverified URI); the rest go back to the client (RFC 6749 §4.1.2.1).
   */
  authorize(query: Record<string, unknown>, view: SessionView | undefined): AuthorizeOutcome {
    const clientId = str(query, 'client_id') ?? '';
    const client = this.ports.store.oidc.getClient(clientId);
    const redirectUri = str(query, 'redirect_uri') ?? '';
    if (!client) return this.refusePage('invalid_client', 'Unknown client.', clientId);
    if (!client.redirectUris.includes(redirectUri)) return this.refusePage('invalid_request', 'The redirect_uri is not registered for this client.', clientId);
    const state = str(query, 'state') ?? null;
    const back = (error: string, description: string): AuthorizeOutcome => {
      this.audit('oidc.authorize', { identityId: view?.identity.id ?? null, role: 'holder' }, clientId, { status: 'error', error });
      return { kind: 'redirect', location: this.redirectWith(redirectUri, { error, error_description: description, state, iss: this.issuer }) };
    };
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
    const prompt = str(query, 'prompt') ?? null;
    if (prompt !== null && prompt !== 'none' && prompt !== 'login') return back('invalid_request', 'prompt must be none or login.');
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
    const params: AuthParams = { clientId, redirectUri, scope: scopes.join(' '), state, nonce, codeChallenge, requiredLoa, prompt, maxAge };
    const requestedAt = this.now();
    if (view && prompt !== 'login' && this.fresh(view, maxAge)) return this.finish(params, view);
    // NSIS 6 (Substantial) 8: prompt=login and max_age let a service opt out of single sign-on.
    if (prompt === 'none') return back('login_required', 'A fresh security-key sign-in is needed.');
    const id = randomToken(24);
    const stored: AuthParams = { ...params, priorSession: view?.session.idHash ?? null };
    this.ports.store.transaction(() =>
      this.ports.store.oidc.insertRequest(id, clientId, JSON.stringify(stored), requestedAt.toISOString(), new Date(requestedAt.getTime() + REQUEST_TTL_MS).toISOString()),
    );
    this.audit('oidc.authorize', { identityId: view?.identity.id ?? null, role: 'holder' }, clientId, { status: 'sign-in-needed', prompt, maxAge, requiredLoa });
    return { kind: 'redirect', location: `${this.issuer}/index.html?oidc=${id}` };
  }

  /** After the sign-in page: finishes a pending request with the fresh session. */
  continueAuthorization(requestId: string, view: SessionView | undefined): AuthorizeOutcome {
    const pending = this.ports.store.transaction(() => this.ports.store.oidc.consumeRequest(requestId, this.now().toISOString()));
    if (!pending) return { kind: 'refuse', status: 400, error: 'invalid_request', description: 'This sign-in request is unknown, used or expired. Start again from the application.' };
    const parsed: unknown = JSON.parse(pending.params);
    if (typeof parsed !== 'object' || parsed === null) throw new TypeError('stored authorization request is not an object');
    const params = parsed as AuthParams;
    if (!view || view.session.createdAt < pending.createdAt || view.session.idHash === params.priorSession) {
      // The sign-in must have happened after the request (prompt=login, max_age, or no session).
      return { kind: 'redirect', location: this.redirectWith(params.redirectUri, { error: 'login_required', error_description: 'No fresh sign-in.', state: params.state, iss: this.issuer }) };
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
      return {
        kind: 'redirect',
        location: this.redirectWith(params.redirectUri, {
          error: 'unmet_authentication_requirements',
          error_description: `The sign-in reached NSIS ${loa}; the service requires ${params.requiredLoa}.`,
          state: params.state,
          iss: this.issuer,
        }),
      };
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
    return { kind: 'redirect', location: this.redirectWith(params.redirectUri, { code, state: params.state, iss: this.issuer }) };
  }

  private refusePage(error: string, description: string, clientId: string): AuthorizeOutcome {
    this.audit('oidc.authorize', { identityId: null, role: 'system' }, clientId.slice(0, 200) || null, { status: 'refused', error });
    return { kind: 'refuse', status: 400, error, description };
  }

  private redirectWith(uri: string, params: Record<string, string | null>): string {
    const url = new URL(uri);
    for (const [k, v] of Object.entries(params)) if (v !== null) url.searchParams.set(k, v);
    return url.toString();
  }

  // --- token endpoint -----------------------------------------------------------------------

  private async authenticateClient(form: Record<string, unknown>, authorization: string | undefined): Promise<OidcClient> {
    const assertionType = str(form, 'client_assertion_type');
    if (authorization?.startsWith('Basic ')) {
      const decoded = Buffer.from(authorization.slice(6), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      let id: string;
      let secret: string;
      try {
        // RFC 6749 §2.3.1: both parts are form-urlencoded.
        const formDecode = (v: string) => decodeURIComponent(v.replace(/\+/g, ' '));
        id = formDecode(decoded.slice(0, colon));
        secret = formDecode(decoded.slice(colon + 1));
      } catch {
        throw new OAuthError('invalid_client', 'Client authentication failed.', 401);
      }
      if (colon < 0) throw new OAuthError('invalid_client', 'Client authentication failed.', 401);
      const client = this.ports.store.oidc.getClient(id);
      const presented = keyedHash(this.ports.secretKey, 'oidc-client-secret', secret);
      if (!client || client.authMethod !== 'client_secret_basic' || !client.secretHash || !hashesEqual(presented, client.secretHash)) {
        throw new OAuthError('invalid_client', 'Client authentication failed.', 401);
      }
      return client;
    }
    if (assertionType === 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') {
      const assertion = str(form, 'client_assertion') ?? '';
      const claimedId = str(form, 'client_id');
      let sub: string | undefined;
      try {
        const payloadPart = assertion.split('.')[1] ?? '';
        const payload: unknown = JSON.parse(Buffer.from(payloadPart, 'base64url').toString('utf8'));
        if (typeof payload === 'object' && payload !== null && 'sub' in payload && typeof payload.sub === 'string') sub = payload.sub;
      } catch {
        sub = undefined;
      }
      const client = sub ? this.ports.store.oidc.getClient(sub) : undefined;
      if (!client || client.authMethod !== 'private_key_jwt' || !client.jwks || (claimedId && claimedId !== client.clientId)) {
        throw new OAuthError('invalid_client', 'Client authentication failed.', 401);
      }
      const parsedJwks: unknown = JSON.parse(client.jwks);
      try {
        const { payload } = await jwtVerify(assertion, createLocalJWKSet(parsedJwks as JSONWebKeySet), {
          issuer: client.clientId,
          subject: client.clientId,
          audience: [this.issuer, `${this.issuer}/oidc/token`],
          currentDate: this.now(),
          maxTokenAge: '5m',
          // Relying parties' clocks drift a little; the jti and a short lifetime still bound replay.
          clockTolerance: 30,
        });
        if (!payload.jti || !payload.exp) throw new Error('jti and exp are required');
        const fresh = this.ports.store.transaction(() => this.ports.store.oidc.useAssertionJti(`${client.clientId}:${payload.jti}`, client.clientId, new Date((payload.exp ?? 0) * 1000).toISOString()));
        if (!fresh) throw new Error('client assertion replayed');
      } catch (err) {
        this.ports.log.info({ client: client.clientId, err: err instanceof Error ? err.message : String(err) }, 'oidc: client assertion refused');
        throw new OAuthError('invalid_client', 'Client authentication failed.', 401);
      }
      return client;
    }
    throw new OAuthError('invalid_client', 'Authenticate with private_key_jwt or client_secret_basic.', 401);
  }

  async token(form: Record<string, unknown>, authorization: string | undefined): Promise<object> {
    let client: OidcClient | undefined;
    try {
      client = await this.authenticateClient(form, authorization);
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
    const token = authorization?.startsWith('Bearer ') ? authorization.slice(7).trim() : '';
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

  /** RP-initiated logout: ends the browser's session, then tells every RP of it by back channel. */
  async endSession(query: Record<string, unknown>, view: SessionView | undefined, sessionId: string | undefined): Promise<AuthorizeOutcome> {
    const postLogout = str(query, 'post_logout_redirect_uri');
    const hint = await this.verifiedHint(str(query, 'id_token_hint'));
    const clientId = hint?.aud ?? str(query, 'client_id');
    const client = clientId ? this.ports.store.oidc.getClient(clientId) : undefined;
    if (view && (!hint || hint.sub !== view.identity.id)) {
      // A logout link any page could embed must not end the session: without an ID token of this
      // person, signed by us, the person signs out on the gateway's own page instead.
      this.audit('oidc.logout', { identityId: view.identity.id, role: 'holder' }, clientId ?? null, { sessionEnded: false, reason: 'no-valid-id-token-hint' });
      return { kind: 'redirect', location: `${this.issuer}/keys.html?logout-requested=1` };
    }
    if (view && sessionId) {
      await this.ports.gateway.signOut(sessionId);
      await this.backchannelLogout([view.session]);
    }
    this.audit('oidc.logout', { identityId: view?.identity.id ?? null, role: 'holder' }, clientId ?? null, { sessionEnded: Boolean(view) });
    if (postLogout && client?.postLogoutRedirectUris.includes(postLogout)) {
      return { kind: 'redirect', location: this.redirectWith(postLogout, { state: str(query, 'state') ?? null }) };
    }
    return { kind: 'redirect', location: `${this.issuer}/index.html?signed-out=1` };
  }

  /** An id_token_hint we signed (expiry ignored, as OIDC RP-Initiated Logout allows). */
  private async verifiedHint(hint: string | undefined): Promise<{ sub: string; aud: string } | undefined> {
    if (!hint) return undefined;
    try {
      const { payload } = await jwtVerify(hint, createLocalJWKSet(this.ports.keys.jwks() as JSONWebKeySet), {
        issuer: this.issuer,
        algorithms: ['ES256'],
        currentDate: new Date(0),
        clockTolerance: Number.MAX_SAFE_INTEGER,
      });
      const aud = Array.isArray(payload.aud) ? payload.aud[0] : payload.aud;
      return payload.sub && aud ? { sub: payload.sub, aud } : undefined;
    } catch {
      return undefined;
    }
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
