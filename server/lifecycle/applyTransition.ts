/**
 * Takes one row of the lifecycle table, with its effects (table.ts), inside the caller's
 * transaction: the guarded UPDATE (`... WHERE id = ? AND state = ?`), the state-history row, the
 * audit event, and what the row says happens with it (ended sessions, withdrawn codes, the
 * holder's mail, a fresh code, the helpdesk's alert). All of it commits together or not at all;
 * no flow re-implements a row's effect.
 */
import { addMinutes } from '../clock.js';
import type { Actor, Credential, ReasonCode } from '../domain/types.js';
import { ForbiddenError, LifecycleError, NotFoundError } from '../errors.js';
import type { CoreDeps } from '../flows/deps.js';
import { recordEvent } from '../flows/shared/audit.js';
import { queueMail } from '../flows/shared/mail.js';
import type { PendingAuditEntry } from '../ports/repositories.js';
import type { WriteTx } from '../ports/store.js';
import { decideTransition } from './decideTransition.js';
import { issueCode } from './issueCode.js';
import { cloneAlertMail, transitionMail } from './mails.js';
import type { Evidence, LifecycleAction, TransitionRow } from './table.js';

export interface TransitionRequest {
  actor: Actor;
  /** The key as read in this transaction. */
  key: Credential;
  action: LifecycleAction;
  reason: ReasonCode;
  note: string | null;
  evidence?: readonly Evidence[];
}

/** The audit type a row is recorded under (test/support/invariants.ts reads it back). */
export function auditTypeOf(action: LifecycleAction | 'issue' | (string & {})): string {
  if (action === 'issue') return 'credential.issued';
  if (action === 'request-reactivation') return 'credential.reactivation-requested';
  return `credential.${action}`;
}

/** Applies the row the table finds for `t`; returns the key as it now is. Throws a LifecycleError if the table refuses. */
export async function applyTransition(deps: CoreDeps, tx: WriteTx, t: TransitionRequest): Promise<Credential> {
  const { actor, key, action, reason, note } = t;
  const row = decideTransition(key, { action, role: actor.role, reason, evidence: t.evidence ?? [] });
  const at = deps.clock.now().toISOString();
  const holder = row.effects.length > 0 ? await tx.identities.get(key.identityId) : undefined;
  if (row.effects.includes('send-code') && (!holder || holder.bindingState !== 'active')) {
    throw new ForbiddenError('BINDING_ENDED', 'The holder is no longer bound to the organisation.');
  }
  let updated: Credential = key;
  if (row.to !== key.state) {
    if (!(await tx.credentials.setState(key.id, key.state, row.to, reason, at))) {
      throw new LifecycleError('LIFECYCLE_CONFLICT', 'The key changed state at the same moment; reload and try again.');
    }
    updated = { ...key, state: row.to, stateReason: reason, updatedAt: at, activatedAt: row.to === 'active' ? at : key.activatedAt };
  }
  const pending = await recordTransition(deps, tx, { actor, key, row, reason, note, at });
  for (const effect of row.effects) {
    switch (effect) {
      case 'end-sessions': {
        const ended = await tx.sessions.endOfCredential(key.id, `key-${row.to}`, at);
        if (ended.length > 0) tx.afterCommit(() => deps.sessionsEnded(ended));
        break;
      }
      case 'withdraw-codes':
        await tx.codes.supersedeOpen(key.id, at);
        break;
      case 'notify-holder': {
        if (!holder) break;
        const actorIdentity = actor.identityId ? await tx.identities.get(actor.identityId) : undefined;
        // The receipt names the entry: its number asked for here, after the other effects'
        // statements (issue 17: on PostgreSQL the chain is locked from then to the commit).
        const entry = await pending.chained();
        const change = { action, to: row.to, reason, note, at, actorName: actorIdentity?.name ?? null, actorRole: actor.role, receipt: `audit #${entry.seq} ${entry.hash.slice(0, 16)}` };
        await queueMail(tx, transitionMail(holder, updated, change, deps.config), at);
        break;
      }
      case 'send-code':
        // The holder gets the code through the second channel; the staff member never sees it.
        if (holder) await issueCode(deps, tx, key, holder, addMinutes(new Date(at), deps.config.activationCodeTtlMinutes).toISOString(), key.state === 'issued' ? 'activate' : 'reactivate', actor);
        break;
      case 'alert-helpdesk-on-clone':
        if (reason !== 'suspected-clone' || !holder) break;
        for (const helpdesk of await tx.identities.listActiveWithRole('helpdesk')) {
          await queueMail(tx, cloneAlertMail(helpdesk, holder, updated, at, deps.config), at);
        }
        break;
    }
  }
  return updated;
}

/** The key of `credentialId` read in `tx`, or NOT_FOUND. */
export async function keyIn(tx: WriteTx, credentialId: string): Promise<Credential> {
  const key = await tx.credentials.get(credentialId);
  if (!key) throw new NotFoundError('Unknown security key.');
  return key;
}

/**
 * The audit event and the state-history row of one table row taken (one to one). Issue 17: the row
 * names the entry without asking its number (on PostgreSQL both are written right before COMMIT).
 */
async function recordTransition(
  deps: CoreDeps,
  tx: WriteTx,
  r: { actor: Actor; key: Credential; row: TransitionRow; reason: ReasonCode; note: string | null; at: string },
): Promise<PendingAuditEntry> {
  const { actor, key, row, reason, note, at } = r;
  const entry = await recordEvent(deps, tx, auditTypeOf(row.action), actor, key.id, { identityId: key.identityId, from: key.state, to: row.to, reason, note, clause: row.clause });
  tx.afterCommit(() => deps.observe({ kind: 'transition', action: row.action, from: key.state, to: row.to }));
  await tx.credentials.addEventFor(entry, {
    credentialId: key.id,
    action: row.action,
    fromState: key.state,
    toState: row.to,
    actorId: actor.identityId,
    actorRole: actor.role,
    reason,
    note,
    clause: row.clause,
    at,
  });
  return entry;
}
