/**
 * One lifecycle action on a key by a person (the holder, or staff in a role they hold), in its own
 * transaction, through the lifecycle table (applyTransition): segregation of duties, the
 * operator's hourly cap (NSIS 3.2.3 (Low) 2) checked and counted in the same transaction, and a
 * reactivation code only to an address no single staff member set up (NSIS 3.2.2 (High) 3).
 */
import { SYSTEM_ACTOR, type Actor, type Credential, type ReasonCode } from '../../domain/types.js';
import { NotFoundError, RateLimitedError, SegregationError } from '../../errors.js';
import { applyTransition } from '../../lifecycle/applyTransition.js';
import type { LifecycleAction } from '../../lifecycle/index.js';
import type { WriteTx } from '../../ports/store.js';
import type { CoreDeps } from '../deps.js';
import { recordEvent, refuse } from '../shared/audit.js';
import { addressSetUpAloneBy, checkActorRole } from '../shared/segregation.js';

/** An operator's hourly cap of suspensions and revocations was reached (audited in the transaction). */
type CapReached = { capReached: true; inLastHour: number; retryAfterSeconds: number };

export interface TransitionInput {
  credentialId: string;
  action: LifecycleAction;
  reason: ReasonCode;
  note: string | null;
  /** An action a second person approved is authorised by that approval, not the hourly cap. */
  approved?: boolean;
}

export async function transition(deps: CoreDeps, actor: Actor, input: TransitionInput): Promise<Credential> {
  const { credentialId, action, reason, note } = input;
  const before = await deps.store.read(async (tx) => {
    const key = await tx.credentials.get(credentialId);
    if (!key) throw new NotFoundError('Unknown security key.');
    await checkActorRole(tx, actor, key);
    const aloneBy = action === 'request-reactivation' && actor.role !== 'holder' && (await addressSetUpAloneBy(tx, key.identityId, actor.identityId));
    return { key, aloneBy };
  });
  if (before.aloneBy) {
    // NSIS 3.2.2 (High) 3: the code goes to the bound address, never one this staff member set alone.
    await refuse(deps, 'staff-action.refused', before.key.id, { reason: 'address-set-up-alone-by-requester', by: actor.identityId });
    throw new SegregationError('You changed this person’s email address without a second person’s approval, so you cannot send them a code; ask a colleague.');
  }
  const result = await deps.store.write(async (tx): Promise<Credential | CapReached> => {
    // Issue 13, 4: the cap is checked and counted in this transaction, so parallel actions on
    // several processes cannot all read "one left".
    const capped = input.approved ? undefined : await staffCapReached(deps, tx, actor, action);
    if (capped) return capped;
    const key = await tx.credentials.get(credentialId);
    if (!key) throw new NotFoundError('Unknown security key.');
    const updated = await applyTransition(deps, tx, { actor, key, action, reason, note });
    tx.afterCommit(() => deps.kickOutbox());
    return updated;
  });
  if ('capReached' in result) {
    deps.log.info({ event: 'staff-action.rate-limited', subjectId: actor.identityId, reason: 'hourly-cap' }, 'refused');
    throw new RateLimitedError(
      `You have taken ${result.inLastHour} suspensions or revocations in the last hour, the most allowed. For more, use a bulk action approved by a colleague.`,
      result.retryAfterSeconds,
    );
  }
  return result;
}

/**
 * NSIS 3.2.3 (Low) 2: protection against undue suspension or revocation: each operator may take a
 * bounded number of such actions an hour, counted from the durable state history. The refusal is
 * audited in the same transaction and returned.
 */
async function staffCapReached(deps: CoreDeps, tx: WriteTx, actor: Actor, action: LifecycleAction): Promise<CapReached | undefined> {
  if (actor.role === 'holder' || actor.role === 'system' || actor.identityId === null) return undefined;
  if (action !== 'suspend' && action !== 'revoke') return undefined;
  const now = deps.clock.now();
  const times = await tx.staffActions.timesSince(actor.identityId, new Date(now.getTime() - 3600_000).toISOString());
  if (times.length < deps.config.helpdeskActionsPerHour) return undefined;
  const oldest = new Date(times[0] ?? now.toISOString());
  await recordEvent(deps, tx, 'staff-action.rate-limited', SYSTEM_ACTOR, actor.identityId, { action, inLastHour: times.length });
  return { capReached: true, inLastHour: times.length, retryAfterSeconds: (oldest.getTime() + 3600_000 - now.getTime()) / 1000 };
}
