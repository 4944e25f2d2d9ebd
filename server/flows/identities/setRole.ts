/**
 * Grants (staff roles through the duties table) or withdraws (at once: withdrawing is protective)
 * a role (NSIS 5.2 (Substantial) 8). The employee role changes at once.
 */
import type { ApprovalRecord } from '../../domain/approvals.js';
import type { Actor, AssignedRole, Identity } from '../../domain/types.js';
import { isStaffRole } from '../../duties/index.js';
import type { ConsoleDeps } from '../consoleDeps.js';
import { appendAudit } from '../shared/audit.js';
import { boundIdentity, notSelf, staffMember, who } from '../staff/staffMember.js';
import { grantRoles, ROLE_WORDS } from './grantRoles.js';

export async function setRole(deps: ConsoleDeps, actor: Actor, identityId: string, role: AssignedRole, grant: boolean): Promise<{ identity: Identity; approval: ApprovalRecord | null }> {
  const identity = await deps.store.read(async (tx) => {
    await staffMember(tx, actor);
    notSelf(actor, identityId, 'change roles');
    return boundIdentity(tx, identityId);
  });
  const reread = () => deps.store.read((tx) => boundIdentity(tx, identityId));
  if (isStaffRole(role)) {
    if (grant) {
      const outcome = await grantRoles(deps, actor, identity, [role], 'grant');
      return { identity: await reread(), approval: outcome?.state === 'pending' ? outcome.approval : null };
    }
    if (identity.roles.includes(role)) {
      await deps.approvals.request({
        kind: 'role-revoke',
        actor,
        subjects: [identityId],
        payload: { identityId, roles: [role], via: 'grant' },
        summary: `Withdraw ${ROLE_WORDS[role]} from ${who(identity)}`,
        items: [`${identity.name} is no longer ${ROLE_WORDS[role]}; their pending requests made as ${ROLE_WORDS[role]} are withdrawn`],
      });
    }
    return { identity: await reread(), approval: null };
  }
  await deps.store.write(async (tx) => {
    const at = deps.clock.now().toISOString();
    if (grant) await tx.identities.grantRole(identityId, role, actor.identityId, at);
    else await tx.identities.revokeRole(identityId, role);
    await appendAudit(tx, at, grant ? 'role.granted' : 'role.revoked', actor, identityId, { role });
  });
  return { identity: await reread(), approval: null };
}
