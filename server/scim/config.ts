/**
 * Configuration of the SCIM service provider, from ONE table of keys. Provisioning clients and
 * their tokens are not configuration: an org-admin registers them (with step-up) and the store
 * keeps them, each with the identity assurance declared for its people.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../configValues.js';
import { type GroupRoleTable, parseGroupRoleTable } from './groupRoles.js';
import { DEFAULT_SCIM_HTTP_LIMITS, type ScimHttpLimits } from './scimHttp.js';

type Env = Record<string, string | undefined>;

export const SCIM_CONFIG_KEYS = [
  { name: 'GATEWAY_SCIM_GROUP_ROLES_FILE', default: '', doc: 'JSON array of {displayName, role} mapping directory groups to helpdesk, security-officer or org-admin; unset: /Groups is not served' },
  { name: 'GATEWAY_SCIM_BODY_LIMIT_BYTES', default: String(DEFAULT_SCIM_HTTP_LIMITS.bodyBytes), doc: 'largest SCIM request body' },
  { name: 'GATEWAY_SCIM_MAX_RESULTS', default: String(DEFAULT_SCIM_HTTP_LIMITS.maxResults), doc: 'most resources in one list answer (ServiceProviderConfig filter.maxResults)' },
] as const;

export interface ScimConfig {
  groupRoles: GroupRoleTable;
  limits: Pick<ScimHttpLimits, 'bodyBytes' | 'maxResults'>;
}

function int(env: Env, key: string, fallback: number, min: number, max: number): number {
  const raw = env[key]?.trim();
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(key, `expected a whole number, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(key, `must be between ${min} and ${max}, got ${n}`);
  return n;
}

export function loadScimConfig(env: Env, cwd: string): ScimConfig {
  const file = env['GATEWAY_SCIM_GROUP_ROLES_FILE']?.trim();
  let groupRoles: GroupRoleTable = [];
  if (file) {
    const full = path.resolve(cwd, file);
    let json: unknown;
    try {
      json = JSON.parse(fs.readFileSync(full, 'utf8'));
    } catch (err) {
      throw new ConfigError('GATEWAY_SCIM_GROUP_ROLES_FILE', `${full} is not readable JSON (${err instanceof Error ? err.message : String(err)})`);
    }
    try {
      groupRoles = parseGroupRoleTable(json);
    } catch (err) {
      throw new ConfigError('GATEWAY_SCIM_GROUP_ROLES_FILE', `${full}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const bodyBytes = int(env, 'GATEWAY_SCIM_BODY_LIMIT_BYTES', DEFAULT_SCIM_HTTP_LIMITS.bodyBytes, 4 * 1024, 16 * 1024 * 1024);
  const maxResults = int(env, 'GATEWAY_SCIM_MAX_RESULTS', DEFAULT_SCIM_HTTP_LIMITS.maxResults, 1, 10_000);
  return { groupRoles, limits: { bodyBytes, maxResults } };
}
