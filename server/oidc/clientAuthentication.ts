/**
 * Client authentication at the token endpoint (OIDC Core §9): client_secret_basic (RFC 6749
 * §2.3.1, the scheme case-insensitive per RFC 7235 §2.1) or private_key_jwt (RFC 7523 §2.2 and
 * §3, with the audience rule of draft-ietf-oauth-rfc7523bis: `aud` is one string naming this
 * authorization server).
 */
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import type { Logger } from '../logger.js';
import { hashesEqual, keyedHash } from '../security/oneTimeSecrets.js';
import type { OidcClient } from '../domain/oidc.js';
import type { Store } from '../ports/store.js';
import { credentialsFor } from './authScheme.js';
import { OAuthError } from './OAuthError.js';

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

function str(q: Record<string, unknown>, k: string): string | undefined {
  const v = q[k];
  return typeof v === 'string' && v.length <= 8192 ? v : undefined;
}

const refused = () => new OAuthError('invalid_client', 'Client authentication failed.', 401);

/**
 * RFC 7523bis §4 (audience): the assertion's `aud` must be a single string, the issuer identifier
 * (the token endpoint URL is accepted too, as RFC 7523 and OIDC Core §9 allowed it). An array, even
 * one naming this server among others, is refused: an assertion made for several servers could
 * be replayed by any of them to the others.
 */
export function assertionAudienceAccepted(aud: unknown, issuer: string): boolean {
  return typeof aud === 'string' && (aud === issuer || aud === `${issuer}/oidc/token`);
}

export async function authenticateClient(
  deps: { store: Store; secretKey: Buffer; issuer: string; now: Date; log: Logger },
  form: Record<string, unknown>,
  authorization: string | undefined,
): Promise<OidcClient> {
  const basic = credentialsFor(authorization, 'basic');
  if (basic !== undefined) {
    const decoded = Buffer.from(basic, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw refused();
    let id: string;
    let secret: string;
    try {
      // RFC 6749 §2.3.1: both parts are form-urlencoded.
      const formDecode = (v: string) => decodeURIComponent(v.replace(/\+/g, ' '));
      id = formDecode(decoded.slice(0, colon));
      secret = formDecode(decoded.slice(colon + 1));
    } catch {
      throw refused();
    }
    const client = await deps.store.read((tx) => tx.oidc.client(id));
    const presented = keyedHash(deps.secretKey, 'oidc-client-secret', secret);
    if (!client || client.disabledAt || client.authMethod !== 'client_secret_basic' || !client.secretHash || !hashesEqual(presented, client.secretHash)) throw refused();
    return client;
  }
  if (str(form, 'client_assertion_type') === JWT_BEARER) {
    const assertion = str(form, 'client_assertion') ?? '';
    const claimedId = str(form, 'client_id');
    let sub: string | undefined;
    try {
      const payload: unknown = JSON.parse(Buffer.from(assertion.split('.')[1] ?? '', 'base64url').toString('utf8'));
      if (typeof payload === 'object' && payload !== null && 'sub' in payload && typeof payload.sub === 'string') sub = payload.sub;
    } catch {
      sub = undefined;
    }
    const subject = sub;
    const client = subject ? await deps.store.read((tx) => tx.oidc.client(subject)) : undefined;
    if (!client || client.disabledAt || client.authMethod !== 'private_key_jwt' || !client.jwks || (claimedId && claimedId !== client.clientId)) throw refused();
    const parsedJwks: unknown = JSON.parse(client.jwks);
    try {
      const { payload } = await jwtVerify(assertion, createLocalJWKSet(parsedJwks as JSONWebKeySet), {
        issuer: client.clientId,
        subject: client.clientId,
        currentDate: deps.now,
        maxTokenAge: '5m',
        // Relying parties' clocks drift a little; the jti and a short lifetime still bound replay.
        clockTolerance: 30,
      });
      if (!assertionAudienceAccepted(payload.aud, deps.issuer)) throw new Error('aud must be one string: the issuer (or the token endpoint)');
      if (!payload.jti || !payload.exp) throw new Error('jti and exp are required');
      const jti = `${client.clientId}:${payload.jti}`;
      const fresh = await deps.store.write((tx) => tx.oidc.useAssertionJti(jti, client.clientId, new Date((payload.exp ?? 0) * 1000).toISOString()));
      if (!fresh) throw new Error('client assertion replayed');
    } catch (err) {
      deps.log.info({ client: client.clientId, err: err instanceof Error ? err.message : String(err) }, 'oidc: client assertion refused');
      throw refused();
    }
    return client;
  }
  throw new OAuthError('invalid_client', 'Authenticate with private_key_jwt or client_secret_basic.', 401);
}
