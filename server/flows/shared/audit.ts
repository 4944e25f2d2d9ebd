/**
 * Audit events inside a flow's transaction (NSIS 6 (Low) 7): appended to the one chain with the
 * change they record. `recordEvent` also tells the observer after the commit; `refuse` records
 * a refusal in a transaction of its own (the refused change itself never happened).
 */
import type { JsonValue } from '../../audit/canonicalJson.js';
import type { AuditEntry, AuditInput } from '../../domain/audit.js';
import { SYSTEM_ACTOR, type Actor } from '../../domain/types.js';
import type { PendingAuditEntry } from '../../ports/repositories.js';
import type { WriteTx } from '../../ports/store.js';
import type { CoreDeps } from '../deps.js';
import { eventsOf } from '../events.js';

export type AuditData = { [key: string]: JsonValue };

/** Appends one event in `tx`, stamped `at`, and returns it chained (its number and hash known now). */
export function appendAudit(tx: WriteTx, at: string, type: string, actor: Actor, subjectId: string | null, data: AuditData): Promise<AuditEntry> {
  return tx.audit.append({ at, type, actorId: actor.identityId, actorRole: actor.role, subjectId, data });
}

/**
 * Adds one event of the core to `tx`'s chain; the observer hears of it once `tx` has committed.
 * The entry's number and hash are settled by the commit (issue 17: on PostgreSQL the chain's lock
 * is then taken right before COMMIT); a flow that needs them asks `chained()` as late as it can,
 * after its other statements, since from then to the commit the chain is locked.
 */
export function recordEvent(deps: CoreDeps, tx: WriteTx, type: string, actor: Actor, subjectId: string | null, data: AuditData): Promise<PendingAuditEntry> {
  observeAfterCommit(deps, tx, type, data);
  return tx.audit.add(auditInput(deps, type, actor, subjectId, data));
}

/**
 * An event of the core for a repository that appends it itself (signIns.commit: issue 17),
 * stamped now; `observeAfterCommit` tells the observer once `tx` has committed, as recordEvent does.
 */
export function auditInput(deps: CoreDeps, type: string, actor: Actor, subjectId: string | null, data: AuditData): AuditInput {
  return { at: deps.clock.now().toISOString(), type, actorId: actor.identityId, actorRole: actor.role, subjectId, data };
}

export function observeAfterCommit(deps: CoreDeps, tx: WriteTx, type: string, data: AuditData): void {
  const events = eventsOf(type, data);
  if (events.length > 0) tx.afterCommit(() => events.forEach((e) => deps.observe(e)));
}

/** Records a refusal in a transaction of its own, and logs it (never a secret: the data is audit data). */
export async function refuse(deps: CoreDeps, type: string, subjectId: string | null, data: AuditData): Promise<void> {
  await deps.store.write((tx) => recordEvent(deps, tx, type, SYSTEM_ACTOR, subjectId, data));
  deps.log.info({ event: type, subjectId, reason: data['reason'] ?? null }, 'refused');
}

/** After `tx` commits: ask the outbox to deliver what it queued. */
export function kickAfterCommit(deps: CoreDeps, tx: WriteTx): void {
  tx.afterCommit(() => deps.kickOutbox());
}
