/**
 * Registers (or updates) a relying party (NSIS 6). For client_secret_basic a secret is generated
 * and returned once; only its keyed hash is stored. A back-channel logout URI must point at a
 * public address outside development mode (issue 13, 9); a refusal is audited.
 */
import type { JSONWebKeySet } from 'jose';
import type { Actor, AssuranceLevel } from '../../domain/types.js';
import { ValidationError } from '../../errors.js';
import { checkBackchannelLogoutUri, checkBackchannelLogoutUriSync } from '../../oidc/backchannelUri.js';
import { keyedHash, randomToken } from '../../security/oneTimeSecrets.js';
import { appendAudit } from '../shared/audit.js';
import { auditOidc, type OidcDeps } from './oidcDeps.js';

export interface ClientRegistration {
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
}

/**
 * RFC 6749 §3.1.2 and §3.1.2.1 (with OAuth 2.0 Security BCP §4.1): a redirect or logout URI is
 * absolute, carries no fragment and is https, http only towards the loopback host.
 */
export function checkClientUris(uris: readonly string[]): void {
  for (const uri of uris) {
    let url: URL;
    try {
      url = new URL(uri);
    } catch {
      throw new ValidationError(`Not a URL: ${uri}`);
    }
    const local = url.hostname === 'localhost' || url.hostname === '127.0.0.1';
    if (url.hash || uri.includes('#') || (url.protocol !== 'https:' && !(local && url.protocol === 'http:'))) {
      throw new ValidationError(`Redirect and logout URIs must be https (http only on localhost) and carry no fragment: ${uri}`);
    }
  }
}

export async function registerClient(deps: OidcDeps, actor: Actor, input: ClientRegistration): Promise<{ clientId: string; clientSecret?: string }> {
  checkClientUris([...input.redirectUris, ...input.postLogoutRedirectUris, ...(input.backchannelLogoutUri ? [input.backchannelLogoutUri] : [])]);
  // Issue 13, 9: no logout tokens to loopback or private addresses outside development mode.
  if (input.backchannelLogoutUri) {
    const uri = input.backchannelLogoutUri;
    try {
      checkBackchannelLogoutUriSync(uri, deps.config.developmentMode);
    } catch (err) {
      await auditRefusedClient(deps, actor, input.clientId, uri, err);
      throw err;
    }
  }
  if (input.authMethod === 'private_key_jwt' && (!input.jwks || !Array.isArray(input.jwks.keys) || input.jwks.keys.length === 0)) {
    throw new ValidationError('private_key_jwt needs the client’s public keys (jwks).');
  }
  if (!input.scopes.includes('openid')) throw new ValidationError('A client’s scopes include openid.');
  const secret = input.authMethod === 'client_secret_basic' ? (input.secret ?? randomToken(32)) : undefined;
  await deps.store.write(async (tx) => {
    const at = deps.clock.now().toISOString();
    await tx.oidc.upsertClient({
      clientId: input.clientId,
      name: input.name,
      redirectUris: input.redirectUris,
      postLogoutRedirectUris: input.postLogoutRedirectUris,
      authMethod: input.authMethod,
      secretHash: secret ? keyedHash(deps.secretKey, 'oidc-client-secret', secret) : null,
      jwks: input.jwks ? JSON.stringify(input.jwks) : null,
      scopes: input.scopes,
      minLoa: input.minLoa,
      backchannelLogoutUri: input.backchannelLogoutUri ?? null,
      createdBy: actor.identityId,
      createdAt: at,
    });
    await appendAudit(tx, at, 'oidc.client-registered', actor, input.clientId, {
      redirectUris: input.redirectUris,
      authMethod: input.authMethod,
      scopes: input.scopes,
      minLoa: input.minLoa,
      backchannel: input.backchannelLogoutUri ?? null,
    });
  });
  return { clientId: input.clientId, ...(secret && !input.secret ? { clientSecret: secret } : {}) };
}

/**
 * Issue 13, 9: checks a back-channel logout URI with its host resolved (registration through the
 * admin console or the clients file); a refusal is audited with the address that caused it.
 */
export async function checkClientBackchannelUri(deps: OidcDeps, actor: Actor, clientId: string, uri: string): Promise<void> {
  try {
    await checkBackchannelLogoutUri(uri, deps.config.developmentMode);
  } catch (err) {
    await auditRefusedClient(deps, actor, clientId, uri, err);
    throw err;
  }
}

function auditRefusedClient(deps: OidcDeps, actor: Actor, clientId: string, uri: string, err: unknown): Promise<void> {
  return auditOidc(deps, 'oidc.client-refused', actor, clientId, { reason: 'backchannel-uri-not-public', uri, detail: err instanceof Error ? err.message.slice(0, 300) : String(err) });
}
