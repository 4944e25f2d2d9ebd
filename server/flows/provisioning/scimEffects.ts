/**
 * What a change from the organisation's directory does to a bound person (issue 18), inside the
 * SCIM write's own transaction, through the lifecycle table's `provisioning` rows (applyTransition
 * carries out each row's effects: sessions end, codes are withdrawn, the holder is told):
 *
 * - active=false: every key not yet out of use is suspended (binding-suspended), every session of
 *   the person ends, open enrolment links are withdrawn (NSIS 3.2.3 (Low) 1; 5.2).
 * - active=true again: each key the directory suspended gets a fresh code through the second
 *   channel (binding-resumed); the holder reactivates it with possession and the code (NSIS 3.2.3
 *   (Low) 3).
 * - a new name: an identifying-data correction; the keys issued on the old name are revoked as
 *   data-error (NSIS 3.2.3 (Low) 4).
 * - a new email: held (duties table, provisioning-client-change): the bound address stays.
 */
import type { Actor, Identity } from '../../domain/types.js';
import { applyTransition } from '../../lifecycle/applyTransition.js';
import type { WriteTx } from '../../ports/store.js';
import type { IdentityChange, IdentityFields } from '../../scim/mapping.js';
import type { CoreDeps } from '../deps.js';
import { recordEvent } from '../shared/audit.js';
import { queueIdmJob } from '../idm/queueIdmJob.js';

export interface AppliedEffects {
  suspendedKeys: number;
  resumedKeys: number;
  revokedKeys: number;
  sessionsEnded: number;
  contactHeld: boolean;
}

export async function applyDirectoryChange(
  deps: CoreDeps,
  tx: WriteTx,
  actor: Actor,
  identity: Identity,
  change: IdentityChange,
  before: IdentityFields,
  after: IdentityFields,
  clientId: string,
): Promise<AppliedEffects> {
  const at = deps.clock.now().toISOString();
  const out: AppliedEffects = { suspendedKeys: 0, resumedKeys: 0, revokedKeys: 0, sessionsEnded: 0, contactHeld: false };
  if (change.activity === 'suspend') {
    for (const key of await tx.credentials.listOfIdentity(identity.id)) {
      if (key.state !== 'issued' && key.state !== 'active') continue;
      await applyTransition(deps, tx, { actor, key, action: 'suspend', reason: 'binding-suspended', note: 'the organisation’s directory set the person inactive' });
      out.suspendedKeys++;
    }
    await tx.enrolments.supersedeOpen(identity.id, at);
    const ended = await tx.sessions.endOfIdentity(identity.id, 'binding-suspended', at);
    if (ended.length > 0) tx.afterCommit(() => deps.sessionsEnded(ended));
    out.sessionsEnded = ended.length;
    await queueIdmJob(deps, tx, identity, { kind: 'suspend-person' });
    await recordEvent(deps, tx, 'scim.person-suspended', actor, identity.id, { clientId, suspendedKeys: out.suspendedKeys, sessionsEnded: ended.length, clause: 'NSIS 3.2.3 (Low) 1; 5.2' });
  } else if (change.activity === 'reactivate') {
    for (const key of await tx.credentials.listOfIdentity(identity.id)) {
      if (key.state !== 'suspended' || key.stateReason !== 'binding-suspended') continue;
      // The key stays suspended; its reason becomes binding-resumed (guarded on the state read),
      // which lifts the lifecycle table's not-binding-suspended guard for the holder's reactivation.
      if (!(await tx.credentials.setState(key.id, 'suspended', 'suspended', 'binding-resumed', at))) continue;
      await applyTransition(deps, tx, { actor, key: { ...key, stateReason: 'binding-resumed' }, action: 'request-reactivation', reason: 'binding-resumed', note: 'the organisation’s directory set the person active again' });
      out.resumedKeys++;
    }
    await queueIdmJob(deps, tx, identity, { kind: 'reactivate-person' });
    await recordEvent(deps, tx, 'scim.person-resumed', actor, identity.id, { clientId, keysOfferedReactivation: out.resumedKeys, clause: 'NSIS 3.2.3 (Low) 3' });
  }
  if (change.identifying) {
    await tx.identities.setName(identity.id, after.name);
    await tx.setups.record({ identityId: identity.id, aspect: 'name', detail: after.name, setBy: null, approvedBy: null, at });
    await recordEvent(deps, tx, 'identity.identifying-data-corrected', actor, identity.id, { field: 'name', from: before.name, to: after.name, clientId, clause: 'NSIS 3.2.3 (Low) 4' });
    await queueIdmJob(deps, tx, { ...identity, name: after.name }, { kind: 'contact-change', identifying: true, facts: { givenName: after.givenName, familyName: after.familyName } });
    for (const key of await tx.credentials.listOfIdentity(identity.id)) {
      if (key.state === 'revoked' || key.state === 'expired') continue;
      await applyTransition(deps, tx, { actor, key, action: 'revoke', reason: 'data-error', note: 'identifying data corrected by the organisation’s directory' });
      out.revokedKeys++;
    }
  }
  if (change.contact) {
    out.contactHeld = true;
    await recordEvent(deps, tx, 'scim.contact-change-held', actor, identity.id, { clientId, boundEmail: identity.email, directoryEmail: after.email, clause: 'NSIS 3.2.2 (High) 3' });
  }
  return out;
}
