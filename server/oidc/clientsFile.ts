/**
 * Relying parties from a configuration file (GATEWAY_OIDC_CLIENTS_FILE): a JSON array, checked
 * at start, each entry registered (or updated) and audited as a system action. A client secret
 * is never in the file itself: `secretFile` names a file holding it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../config.js';
import { IDENTITY_ASSURANCE_LEVELS } from '../domain/types.js';
import type { OpenIdProvider } from './OpenIdProvider.js';

const jwk = z.object({ kty: z.string() }).catchall(z.unknown());

export const clientSchema = z
  .object({
    clientId: z.string().regex(/^[A-Za-z0-9._:-]{3,100}$/),
    name: z.string().min(1).max(200),
    redirectUris: z.array(z.string().url()).min(1).max(20),
    postLogoutRedirectUris: z.array(z.string().url()).max(20).default([]),
    authMethod: z.enum(['client_secret_basic', 'private_key_jwt']),
    jwks: z.object({ keys: z.array(jwk).min(1).max(10) }).optional(),
    scopes: z.array(z.enum(['openid', 'profile', 'email'])).min(1).default(['openid']),
    minLoa: z.enum(IDENTITY_ASSURANCE_LEVELS).default('substantial'),
    backchannelLogoutUri: z.string().url().optional(),
  })
  .strict();

const fileSchema = z.array(clientSchema.extend({ secretFile: z.string().optional() })).max(500);

export async function loadClientsFile(op: OpenIdProvider, file: string): Promise<void> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError('GATEWAY_OIDC_CLIENTS_FILE', `cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const result = fileSchema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new ConfigError('GATEWAY_OIDC_CLIENTS_FILE', `entry ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
  }
  for (const { secretFile, jwks, backchannelLogoutUri, ...c } of result.data) {
    if (c.authMethod === 'client_secret_basic' && !secretFile) {
      throw new ConfigError('GATEWAY_OIDC_CLIENTS_FILE', `client ${c.clientId}: client_secret_basic needs secretFile`);
    }
    if (backchannelLogoutUri) {
      try {
        await op.checkBackchannelLogoutUri({ identityId: null, role: 'system' }, c.clientId, backchannelLogoutUri);
      } catch (err) {
        throw new ConfigError('GATEWAY_OIDC_CLIENTS_FILE', `client ${c.clientId}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    const secret = secretFile ? fs.readFileSync(path.resolve(path.dirname(file), secretFile), 'utf8').trim() : undefined;
    await op.registerClient(
      { identityId: null, role: 'system' },
      {
        ...c,
        ...(jwks ? { jwks: { keys: jwks.keys.map((k) => ({ ...k })) } } : {}),
        ...(backchannelLogoutUri ? { backchannelLogoutUri } : {}),
        ...(secret ? { secret } : {}),
      },
    );
  }
}
