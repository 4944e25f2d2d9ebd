/**
 * Configuration of the SCIM service provider, from ONE table of keys. Provisioning clients and
 * their tokens are not configuration: an org-admin registers them (with step-up) and the store
 * keeps them, each with the identity assurance declared for its people.
 */
import path from 'node:path';
import { ConfigError } from '../configValues.js';
import type { GroupRoleTable } from './groupRoles.js';
import { readGroupRoleFile } from './groupRolesFile.js';
import { DEFAULT_SCIM_HTTP_LIMITS, type ScimHttpLimits } from './scimHttp.js';

type Env = Record<string, string | undefined>;

export const SCIM_CONFIG_KEYS = [
  { name: 'GATEWAY_SCIM_GROUP_ROLES_FILE', default: '', doc: 'JSON array of {displayName, role} mapping directory groups to helpdesk, security-officer or org-admin; unset: /Groups is not served' },
  { name: 'GATEWAY_SCIM_GROUP_ROLES_POLL_SECONDS', default: '5', doc: 'how often the running gateway looks for a changed GATEWAY_SCIM_GROUP_ROLES_FILE (also on SIGHUP); 0: only on SIGHUP' },
  { name: 'GATEWAY_SCIM_BODY_LIMIT_BYTES', default: String(DEFAULT_SCIM_HTTP_LIMITS.bodyBytes), doc: 'largest SCIM request body' },
  { name: 'GATEWAY_SCIM_MAX_RESULTS', default: String(DEFAULT_SCIM_HTTP_LIMITS.maxResults), doc: 'most resources in one list answer (ServiceProviderConfig filter.maxResults)' },
] as const;

export interface ScimConfig {
  /** The table as read at start; the table in force is ConsoleDeps.groupRoles (it follows the file). */
  groupRoles: GroupRoleTable;
  /** The absolute path of GATEWAY_SCIM_GROUP_ROLES_FILE, or undefined (no table, nothing to watch). */
  groupRolesFile: string | undefined;
  /**
   * Set in a cluster worker (GATEWAY_WORKER_INDEX) whose file could not be used at its start: why.
   * The primary checked the file when the gateway started; a worker started later (a replacement)
   * while the file is bad takes the table the store recorded, the one its siblings serve
   * (runtime.ts), instead of failing its start again and again until the primary gives up.
   */
  groupRolesRefused: string | undefined;
  /** Seconds between looks at the file for a change (0: only on SIGHUP). */
  groupRolesPollSeconds: number;
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
  const groupRolesFile = file ? path.resolve(cwd, file) : undefined;
  let groupRoles: GroupRoleTable = [];
  let groupRolesRefused: string | undefined;
  if (groupRolesFile) {
    const read = readGroupRoleFile(groupRolesFile);
    if (read.ok) groupRoles = read.table;
    else {
      const what = read.reason === 'invalid' ? '' : read.reason === 'not-json' ? ' is not readable JSON' : ' is not readable';
      const problem = `${groupRolesFile}${what}: ${read.detail}`;
      if (env['GATEWAY_WORKER_INDEX'] === undefined) throw new ConfigError('GATEWAY_SCIM_GROUP_ROLES_FILE', problem);
      groupRolesRefused = problem;
    }
  }
  const groupRolesPollSeconds = int(env, 'GATEWAY_SCIM_GROUP_ROLES_POLL_SECONDS', 5, 0, 3600);
  const bodyBytes = int(env, 'GATEWAY_SCIM_BODY_LIMIT_BYTES', DEFAULT_SCIM_HTTP_LIMITS.bodyBytes, 4 * 1024, 16 * 1024 * 1024);
  const maxResults = int(env, 'GATEWAY_SCIM_MAX_RESULTS', DEFAULT_SCIM_HTTP_LIMITS.maxResults, 1, 10_000);
  return { groupRoles, groupRolesFile, groupRolesRefused, groupRolesPollSeconds, limits: { bodyBytes, maxResults } };
}
