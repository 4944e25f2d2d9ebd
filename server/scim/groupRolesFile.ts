/**
 * Reads the organisation's table of directory groups to roles from its file
 * (GATEWAY_SCIM_GROUP_ROLES_FILE): at start (config.ts: a bad file stops the start) and at every
 * reload (flows/provisioning/groupRoleFileWatcher.ts: a bad file is refused and the table in force
 * stays). Never throws: a file that cannot be used says why.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { type GroupRoleTable, groupRoleTableSchema } from './groupRoles.js';

/** Why a file is not used: gone, not readable, not JSON, or not a valid table. */
export type GroupRoleFileRefusal = 'removed' | 'unreadable' | 'not-json' | 'invalid';

export type GroupRoleFileRead =
  | { ok: true; table: GroupRoleTable; digest: string }
  /** `digest` of the bytes read (null when none were): a reload tells one bad file from the next. */
  | { ok: false; reason: GroupRoleFileRefusal; detail: string; digest: string | null };

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

export function readGroupRoleFile(file: string): GroupRoleFileRead {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    const gone = typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'ENOENT';
    return { ok: false, reason: gone ? 'removed' : 'unreadable', detail: message(err), digest: null };
  }
  const digest = createHash('sha256').update(bytes).digest('hex');
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    return { ok: false, reason: 'not-json', detail: message(err), digest };
  }
  const parsed = groupRoleTableSchema.safeParse(json);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : 'the table'}: ${i.message}`).join('; ');
    return { ok: false, reason: 'invalid', detail, digest };
  }
  return { ok: true, table: parsed.data, digest };
}
