/**
 * Ends an employee's binding (NSIS 5.2 (Low) 3): every key revoked (each with its row's effects),
 * every session ended, open enrolment links and the requests by and about the person withdrawn,
 * and the person notified, all in one transaction. The record is kept for the audit trail.
 */
import type { Actor, Identity, ReasonCode } from '../../domain/types.js';
import type { WriteTx } from '../../ports/store.js';
import { GatewayError, NotFoundError, SegregationError } from '../../errors.js';
import { applyTransition } from '../../lifecycle/applyTransition.js';
import { bindingEndedMail } from '../../lifecycle/mails.js';
import { withdrawPendingRequests } from '../../approvals/withdraw.js';
import type { CoreDeps } from '../deps.js';
import { recordEvent } from '../shared/audit.js';
import { queueMail } from '../shared/mail.js';
import { queueIdmJob } from '../idm/queueIdmJob.js';
import { requireRole } from '../shared/segregation.js';

export async function endBinding(deps: CoreDeps, actor: Actor, identityId: string, reason: ReasonCode, note: string | null): Promise<{ revokedKeys: number }> {
  if (actor.identityId === null || actor.role !== 'org-admin') throw new TypeError('endBinding is an org-admin action');
  if (actor.identityId === identityId) throw new SegregationError('You cannot end your own binding; ask another administrator.');
  const adminId = actor.identityId;
  const result = await deps.store.write(async (tx) => {
    await requireRole(tx, adminId, 'org-admin');
    const identity = await tx.identities.get(identityId);
    if (!identity) throw new NotFoundError('Unknown identity.');
    return endBindingIn(deps, tx, actor, identity, reason, note);
  });
  deps.kickOutbox();
  return result;
}

/**
 * The end of a binding inside the caller's transaction (the org-admin's action above, or the
 * organisation's directory deleting the person, issue 18): refused with 409 when it already ended.
 */
export async function endBindingIn(deps: CoreDeps, tx: WriteTx, actor: Actor, identity: Identity, reason: ReasonCode, note: string | null): Promise<{ revokedKeys: number }> {
  const identityId = identity.id;
  const at = deps.clock.now().toISOString();
  if (!(await tx.identities.endBinding(identityId, at))) throw new GatewayError('CONFLICT', 409, 'This binding has already ended.');
  let revoked = 0;
  for (const key of await tx.credentials.listOfIdentity(identityId)) {
    if (key.state === 'revoked' || key.state === 'expired') continue;
    await applyTransition(deps, tx, { actor, key, action: 'revoke', reason, note });
    revoked++;
  }
  await tx.enrolments.supersedeOpen(identityId, at);
  // Duties table, binding-end: their pending requests, and requests about them, are withdrawn.
  await withdrawPendingRequests(tx, at, actor, identityId, { binding: 'ended' });
  const ended = await tx.sessions.endOfIdentity(identityId, 'binding-ended', at);
  if (ended.length > 0) tx.afterCommit(() => deps.sessionsEnded(ended));
  await recordEvent(deps, tx, 'binding.ended', actor, identityId, { reason, note, revokedKeys: revoked, sessionsEnded: ended.length, clause: 'NSIS 5.2 (Low) 3' });
  const org = await tx.organisations.get(identity.organisationId);
  await queueMail(tx, bindingEndedMail(identity, org?.name ?? null, at, revoked, deps.config), at);
  // Issue 18: MitID Erhverv learns of the end of the binding through the outbox (when the sync is on).
  await queueIdmJob(deps, tx, identity, { kind: 'end-binding' });
  return { revokedKeys: revoked };
}
