/**
 * The organisation's table mapping directory groups to gateway roles: the only way a SCIM Group
 * means anything here. A group not in the table is refused, so a misspelt group cannot silently
 * grant or withhold a role. `employee` is every bound person's role and is never mapped.
 */
import { z } from 'zod';
import type { AssignedRole } from '../domain/types.js';

/** The roles a group may carry (every assigned role but `employee`). */
export const MAPPED_ROLES = ['helpdesk', 'security-officer', 'org-admin'] as const satisfies readonly AssignedRole[];
export type MappedRole = (typeof MAPPED_ROLES)[number];

export interface GroupRoleRule {
  /** The group's displayName (matched case-insensitively, as Entra matches groups by it). */
  displayName: string;
  role: MappedRole;
}

export type GroupRoleTable = readonly GroupRoleRule[];

export const groupRoleTableSchema = z
  .array(z.object({ displayName: z.string().trim().min(1).max(256), role: z.enum(MAPPED_ROLES) }).strict())
  .max(50)
  .refine((rows) => new Set(rows.map((r) => r.displayName.toLowerCase())).size === rows.length, { message: 'a displayName appears twice' });

/** Parses the configured table (e.g. the JSON of GATEWAY_SCIM_GROUP_ROLES_FILE); throws ZodError. */
export function parseGroupRoleTable(json: unknown): GroupRoleTable {
  return groupRoleTableSchema.parse(json);
}

export function roleForGroup(table: GroupRoleTable, displayName: string): MappedRole | null {
  const d = displayName.trim().toLowerCase();
  return table.find((r) => r.displayName.toLowerCase() === d)?.role ?? null;
}
