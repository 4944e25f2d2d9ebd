/**
 * What the organisation's directory groups ask for (issue 18, SCIM Groups): for every bound person
 * who is a member of a group the organisation mapped to a role (GATEWAY_SCIM_GROUP_ROLES_FILE), the
 * role that group maps to. Derived from the stored groups, so it is never out of step with them.
 *
 * Membership never grants a role by itself (NSIS 5.2 (Substantial) 8; 4.1.5 (Substantial) 7: a role
 * grant needs a second person, and a provisioning client is no person): an added member is a
 * directory REQUEST an org-admin sees and may ask to grant (then the duties table's role-grant row
 * applies unchanged). Leaving the last mapped group that asks for a role the person holds withdraws
 * the role at once (role-revoke is protective and immediate).
 */
import type { Actor, Identity } from '../../domain/types.js';
import type { StaffRole } from '../../duties/table.js';
import type { ReadTx, WriteTx } from '../../ports/store.js';
import { queueDutyNotices } from '../../approvals/notify.js';
import { withdrawPendingRequests } from '../../approvals/withdraw.js';
import { dutyRow } from '../../duties/index.js';
import { ROLE_WORDS } from '../identities/grantRoles.js';
import { type GroupRoleTable, roleForGroup } from '../../scim/groupRoles.js';
import type { ScimGroup } from '../../scim/model.js';
import type { CoreDeps } from '../deps.js';
import { type AuditData, recordEvent } from '../shared/audit.js';
import { parseStoredGroup } from './storedGroup.js';

/** SCIM User id → role → the groups (id, displayName) asking for it. */
export type Entitlements = Map<string, Map<StaffRole, { groupId: string; displayName: string }[]>>;

/** The bound identity behind a SCIM User id of the organisation, or null. */
export async function memberIdentity(tx: ReadTx, organisationId: string, scimUserId: string): Promise<Identity | null> {
  const row = await tx.scimUsers.get(organisationId, scimUserId);
  if (!row) return null;
  const identity = await tx.identities.get(row.identityId);
  return identity && identity.bindingState === 'active' ? identity : null;
}

/**
 * What the organisation's stored groups (as this transaction sees them) ask for, per member. Reads
 * the groups only (at most one per row of the role table); people are looked up by the caller
 * only for what changed.
 */
export async function entitlementsOf(tx: ReadTx, organisationId: string, table: GroupRoleTable): Promise<Entitlements> {
  const out: Entitlements = new Map();
  for (const r of await tx.scimGroups.find(organisationId, {})) {
    const group: ScimGroup = parseStoredGroup(r.resource);
    const role = roleForGroup(table, group.displayName);
    if (role === null) continue; // a group no longer in the table asks for nothing
    for (const member of group.members) {
      const roles = out.get(member) ?? new Map<StaffRole, { groupId: string; displayName: string }[]>();
      roles.set(role, [...(roles.get(role) ?? []), { groupId: r.id, displayName: group.displayName }]);
      out.set(member, roles);
    }
  }
  return out;
}

const has = (e: Entitlements, member: string, role: StaffRole) => (e.get(member)?.get(role)?.length ?? 0) > 0;
const groupsAsking = (e: Entitlements, member: string, role: StaffRole) => (e.get(member)?.get(role) ?? []).map((g) => g.displayName);

/**
 * What changed the entitlements: a group write of a provisioning client (the group it wrote), or
 * the organisation's table of groups to roles, changed (reconcileGroupRoles.ts).
 */
export type EntitlementCause = { kind: 'group-write'; clientId: string; group: { id: string; displayName: string } } | { kind: 'role-table' };

/**
 * Inside the transaction of the change: audits each new directory request and withdraws at once
 * each role the directory stopped asking for that the person holds (audited as `actor`'s action,
 * the person and the org-admins told). Returns the requests and the roles withdrawn.
 */
export async function applyEntitlementChange(
  deps: CoreDeps,
  tx: WriteTx,
  actor: Actor,
  organisationId: string,
  cause: EntitlementCause,
  before: Entitlements,
  after: Entitlements,
): Promise<{ asked: number; revoked: number }> {
  const origin = (e: Entitlements, member: string, role: StaffRole): AuditData =>
    cause.kind === 'group-write' ? { clientId: cause.clientId, scimGroupId: cause.group.id, group: cause.group.displayName } : { cause: 'role-table', groups: groupsAsking(e, member, role) };
  const at = deps.clock.now().toISOString();
  let asked = 0;
  let revoked = 0;
  for (const [member, roles] of after) {
    for (const role of roles.keys()) {
      if (has(before, member, role)) continue;
      const identity = await memberIdentity(tx, organisationId, member);
      if (!identity) continue;
      await recordEvent(deps, tx, 'scim.group-role-asked', actor, identity.id, {
        ...origin(after, member, role),
        role,
        held: identity.roles.includes(role),
        clause: 'NSIS 5.2 (Substantial) 8',
      });
      asked++;
    }
  }
  for (const [member, roles] of before) {
    for (const role of roles.keys()) {
      if (has(after, member, role)) continue;
      const identity = await memberIdentity(tx, organisationId, member);
      if (!identity || !identity.roles.includes(role)) continue;
      const identityId = identity.id;
      if (!(await tx.identities.revokeRole(identityId, role))) continue;
      const withdrawn = await withdrawPendingRequests(tx, at, actor, identityId, { role });
      await recordEvent(deps, tx, 'role.revoked', actor, identityId, {
        role,
        via: 'directory',
        ...origin(before, member, role),
        requestsWithdrawn: withdrawn,
        clause: 'NSIS 4.1.5 (Substantial) 7',
      });
      // Duties table, role-revoke: the person and the org-admins are told (NSIS 4.1.7).
      await queueDutyNotices(
        tx,
        at,
        dutyRow('role-revoke').notify.onExecution,
        {
          summary: `Withdraw ${ROLE_WORDS[role]} from ${identity.name}`,
          items: [
            cause.kind === 'group-write'
              ? `${identity.name} is no longer ${ROLE_WORDS[role]}: the organisation’s directory no longer has them in a group mapped to it (${cause.group.displayName})`
              : `${identity.name} is no longer ${ROLE_WORDS[role]}: the organisation’s table of directory groups no longer maps their group (${groupsAsking(before, member, role).join(', ')}) to it`,
          ],
          subjects: [identityId],
          oldAddress: undefined,
          requester: actor,
          approver: null,
          reference: null,
          bootstrap: false,
        },
        'executed',
        deps.config,
      );
      revoked++;
    }
  }
  return { asked, revoked };
}
