/**
 * An org-admin binds a person (NSIS 5.2) as an employee at once. Staff roles asked for at the
 * same time are a role grant (duties table): carried out only with a second org-admin, or alone
 * in bootstrap.
 */
import type { Language } from '../../../i18n/index.js';
import type { Actor, AssignedRole, AssuranceLevel, Identity } from '../../domain/types.js';
import { isStaffRole } from '../../duties/index.js';
import type { ConsoleDeps } from '../consoleDeps.js';
import { boundIdentity, staffMember } from '../staff/staffMember.js';
import { createIdentity } from './createIdentity.js';
import { grantRoles, type RoleOutcome } from './grantRoles.js';

export async function bindEmployee(
  deps: ConsoleDeps,
  actor: Actor,
  input: { name: string; email: string; ial: AssuranceLevel; proofingMethod: string; roles: AssignedRole[]; language?: Language },
): Promise<{ identity: Identity; roles: RoleOutcome | null }> {
  const me = await deps.store.read((tx) => staffMember(tx, actor));
  const identity = await createIdentity(deps, actor, { ...input, organisationId: me.organisationId, roles: input.roles.filter((r) => !isStaffRole(r)) });
  const roles = await grantRoles(deps, actor, identity, input.roles.filter(isStaffRole), 'creation');
  return { identity: await deps.store.read((tx) => boundIdentity(tx, identity.id)), roles };
}
