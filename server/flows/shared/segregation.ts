/** Who may act on what: roles held now, and segregation of duties (NSIS 3.2.2 (High) 3, 5.2). */
import type { Actor, AssignedRole, Credential, Identity } from '../../domain/types.js';
import { ForbiddenError, NotFoundError, SegregationError } from '../../errors.js';
import type { ReadTx } from '../../ports/store.js';

/** `identity` holds `role` and is still bound (as read in this request). */
export function requireRoleOf(identity: Identity | undefined, role: AssignedRole): Identity {
  if (!identity || identity.bindingState !== 'active') throw new ForbiddenError('BINDING_ENDED', 'Your binding to the organisation has ended.');
  if (!identity.roles.includes(role)) throw new ForbiddenError('ROLE_REQUIRED', `This action needs the ${role} role.`);
  return identity;
}

/** Reads `identityId` in `tx` and requires that it holds `role` and is still bound. */
export async function requireRole(tx: ReadTx, identityId: string, role: AssignedRole): Promise<Identity> {
  return requireRoleOf(await tx.identities.get(identityId), role);
}

/**
 * A person acting on a key: a holder only on their own keys; staff in a role they hold now, and
 * never on their own keys (segregation of duties).
 */
export async function checkActorRole(tx: ReadTx, actor: Actor, key: Credential): Promise<void> {
  if (actor.role === 'system' || actor.role === 'provisioning') throw new TypeError('system and directory transitions are internal');
  if (actor.identityId === null) throw new TypeError('a person acting needs an identity id');
  if (actor.role === 'holder') {
    if (key.identityId !== actor.identityId) throw new NotFoundError('Unknown security key.');
    return;
  }
  await requireRole(tx, actor.identityId, actor.role);
  if (key.identityId === actor.identityId) {
    throw new SegregationError('Staff powers do not apply to your own keys; use "My keys" or ask a colleague.');
  }
}

/**
 * NSIS 3.2.2 (High) 3: the person's current address came from a contact change `by` made with
 * no second person's approval (a change from before approvals existed, or the operator's tools).
 */
export async function addressSetUpAloneBy(tx: ReadTx, identityId: string, by: string | null): Promise<boolean> {
  if (by === null) return false;
  const change = await tx.setups.lastContactChange(identityId);
  return change !== undefined && change.approvedBy === null && change.setBy === by;
}
