/**
 * The OIOSAML 3 identity provider's settings from the environment (issue 15; README "SAML (Local
 * IdP towards NemLog-in)"; config.ts). Off unless GATEWAY_SAML_ENABLED=true: it needs an RSA key
 * in the HSM and registered service providers.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, type Env, bool, int, optional, str } from './configValues.js';

export interface SamlSettings {
  /** GATEWAY_SAML_ENABLED: mount /saml/* and keep a SAML signing key in the HSM. */
  enabled: boolean;
  /** GATEWAY_SAML_ENTITY_ID: the IdP's entityID (default `<origin>/saml/metadata`). */
  entityId: string;
  /** GATEWAY_SAML_SP_FILE: service providers registered at start-up from a JSON file (see spFile.ts). */
  spFile: string | undefined;
  /** GATEWAY_SAML_METADATA_TRUST_FILE: PEM certificates that signed SP metadata is checked against. */
  metadataTrust: string[];
  /** GATEWAY_SAML_KEY_BITS: RSA modulus of a new SAML signing key (3072 by default). */
  keyBits: number;
  /** GATEWAY_SAML_CERT_DAYS: validity of a self-signed SAML certificate (test and development). */
  certificateDays: number;
  /** GATEWAY_SAML_REQUEST_MAX_AGE_SECONDS: the oldest IssueInstant accepted (default 300). */
  requestMaxAgeSeconds: number;
}

const PEM = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

export function samlSettings(env: Env, cwd: string, origin: string): SamlSettings {
  const spFileRaw = optional(env, 'GATEWAY_SAML_SP_FILE');
  const trustRaw = optional(env, 'GATEWAY_SAML_METADATA_TRUST_FILE');
  let metadataTrust: string[] = [];
  if (trustRaw) {
    const file = path.resolve(cwd, trustRaw);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError('GATEWAY_SAML_METADATA_TRUST_FILE', `cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`);
    }
    metadataTrust = text.match(PEM) ?? [];
    if (metadataTrust.length === 0) throw new ConfigError('GATEWAY_SAML_METADATA_TRUST_FILE', 'holds no PEM certificate');
  }
  const entityId = str(env, 'GATEWAY_SAML_ENTITY_ID', `${origin}/saml/metadata`);
  if (!/^https?:\/\/\S+$/.test(entityId) || entityId.length > 1024) throw new ConfigError('GATEWAY_SAML_ENTITY_ID', 'must be an http(s) URL');
  return {
    enabled: bool(env, 'GATEWAY_SAML_ENABLED', false),
    entityId,
    spFile: spFileRaw ? path.resolve(cwd, spFileRaw) : undefined,
    metadataTrust,
    keyBits: int(env, 'GATEWAY_SAML_KEY_BITS', 3072, 3072, 4096),
    certificateDays: int(env, 'GATEWAY_SAML_CERT_DAYS', 3 * 365, 1, 10 * 365),
    requestMaxAgeSeconds: int(env, 'GATEWAY_SAML_REQUEST_MAX_AGE_SECONDS', 300, 30, 3600),
  };
}
