/** The staff member acting, in the role they act in, held now; and how people and keys are named. */
import type { Actor, Credential, Identity } from '../../domain/types.js';
import { NotFoundError, SegregationError } from '../../errors.js';
import type { ReadTx } from '../../ports/store.js';
import { requireRole } from '../shared/segregation.js';

export function staffMember(tx: ReadTx, actor: Actor): Promise<Identity> {
  const id = actor.identityId;
  if (!id || (actor.role !== 'helpdesk' && actor.role !== 'org-admin')) throw new TypeError('a staff actor is needed');
  return requireRole(tx, id, actor.role);
}

export function notSelf(actor: Actor, identityId: string, what: string): void {
  if (actor.identityId === identityId) throw new SegregationError(`You cannot ${what} for yourself; ask a colleague.`);
}

export async function boundIdentity(tx: ReadTx, identityId: string): Promise<Identity> {
  const identity = await tx.identities.get(identityId);
  if (!identity || identity.bindingState !== 'active') throw new NotFoundError('Unknown identity.');
  return identity;
}

/** "Name <email>": how a person is named in what an approver is shown. */
export function who(i: Identity): string {
  return `${i.name} <${i.email}>`;
}

export function keyWords(k: Credential): string {
  return `“${k.label}”${k.model ? ` (${k.model})` : ''}, ${k.state}`;
}
