/**
 * The directory role requests an org-admin sees (issue 18, SCIM Groups): bound people the
 * organisation's directory put in a group mapped to a staff role they do not hold. A request grants
 * nothing (NSIS 5.2 (Substantial) 8; 4.1.5 (Substantial) 7): the org-admin asks for the grant with
 * POST /api/admin/identities/:id/roles, and a second org-admin approves it (duties table, role-grant).
 */
import type { Actor, Identity } from '../../domain/types.js';
import type { StaffRole } from '../../duties/table.js';
import type { ReadTx } from '../../ports/store.js';
import type { GroupRoleTable } from '../../scim/groupRoles.js';
import { requireRole } from '../shared/segregation.js';
import { entitlementsOf, memberIdentity } from './groupEntitlements.js';

export interface DirectoryRoleRequest {
  identityId: string;
  name: string;
  email: string;
  role: StaffRole;
  /** The mapped groups asking for it (displayName as the directory sent it). */
  groups: string[];
  /** When the directory asked (ISO 8601), null when the audit trail no longer says. */
  since: string | null;
  /** A role-grant for this person already waits for a second org-admin. */
  grantWaiting: boolean;
  /** Where an org-admin asks for the grant. */
  grantWith: { method: 'POST'; path: string; body: { role: StaffRole; grant: true } };
}

export async function directoryRoleRequests(tx: ReadTx, actor: Actor, table: GroupRoleTable): Promise<DirectoryRoleRequest[]> {
  if (actor.identityId === null) throw new TypeError('an org-admin is needed');
  return directoryRoleRequestsOf(tx, await requireRole(tx, actor.identityId, 'org-admin'), table);
}

/**
 * The requests of `admin`'s organisation (the caller checked the role), by name and role. `since`
 * is when the directory last asked (its `scim.group-role-asked` event), null when the trail no
 * longer holds it (pruned).
 */
export async function directoryRoleRequestsOf(tx: ReadTx, admin: Identity, table: GroupRoleTable): Promise<DirectoryRoleRequest[]> {
  if (table.length === 0) return [];
  const entitled = await entitlementsOf(tx, admin.organisationId, table);
  const waiting = (await tx.approvals.pending()).filter((a) => a.kind === 'role-grant');
  const out: DirectoryRoleRequest[] = [];
  for (const [member, roles] of entitled) {
    const identity = await memberIdentity(tx, admin.organisationId, member);
    if (!identity) continue;
    const identityId = identity.id;
    const asked = [...roles.keys()].some((r) => !identity.roles.includes(r)) ? await tx.audit.search({ personId: identityId, types: ['scim.group-role-asked'] }, 'desc', 50) : [];
    for (const [role, groups] of roles) {
      if (identity.roles.includes(role)) continue;
      out.push({
        identityId,
        name: identity.name,
        email: identity.email,
        role,
        groups: groups.map((g) => g.displayName),
        since: asked.find((e) => e.subjectId === identityId && e.data['role'] === role)?.at ?? null,
        grantWaiting: waiting.some((a) => a.subjects.includes(identityId)),
        grantWith: { method: 'POST', path: `/api/admin/identities/${identityId}/roles`, body: { role, grant: true } },
      });
    }
  }
  return out.sort((a, b) => a.name.localeCompare(b.name) || a.role.localeCompare(b.role));
}
