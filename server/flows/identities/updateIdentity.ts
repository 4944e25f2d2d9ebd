/**
 * Identifying data (the name) on which keys were issued is corrected, and those keys are revoked
 * with reason data-error (NSIS 3.2.3 (Low) 4). Contact data (the email, the second channel)
 * changes only when a different staff member approves (duties table, contact-change): the old
 * address is told at once who asked and how to object.
 */
import type { ApprovalRecord } from '../../domain/approvals.js';
import type { Actor, Identity } from '../../domain/types.js';
import { GatewayError } from '../../errors.js';
import type { ConsoleDeps } from '../consoleDeps.js';
import { transition } from '../keys/transition.js';
import { appendAudit } from '../shared/audit.js';
import { boundIdentity, notSelf, staffMember } from '../staff/staffMember.js';
import { noneWaiting } from './grantRoles.js';

export async function updateIdentity(
  deps: ConsoleDeps,
  actor: Actor,
  identityId: string,
  input: { email?: string; name?: string; note: string | null },
): Promise<{ identity: Identity; revokedKeys: number; approval: ApprovalRecord | null }> {
  const { identity, taken } = await deps.store.read(async (tx) => {
    await staffMember(tx, actor);
    notSelf(actor, identityId, 'change identity data');
    const identity = await boundIdentity(tx, identityId);
    const changesEmail = input.email !== undefined && input.email !== identity.email;
    return { identity, taken: changesEmail && input.email !== undefined ? await tx.identities.findActiveByEmail(input.email) : undefined };
  });
  let revokedKeys = 0;
  let approval: ApprovalRecord | null = null;
  if (input.email !== undefined && input.email !== identity.email) {
    if (taken && taken.id !== identityId) throw new GatewayError('CONFLICT', 409, 'Another employee is bound with this email address.');
    const asked = await deps.approvals.request({
      kind: 'contact-change',
      actor,
      subjects: [identityId],
      payload: { identityId, from: identity.email, to: input.email, note: input.note },
      oldAddress: identity.email,
      precondition: noneWaiting('contact-change', identityId, 'A change of this person’s email address is already waiting for approval.'),
      summary: `Change the email address of ${identity.name} from ${identity.email} to ${input.email}`,
      items: [`Email of ${identity.name}: ${identity.email} → ${input.email}`, `Open activation and reactivation codes and open enrolment links of ${identity.name} are withdrawn`],
    });
    if (asked.state === 'pending') approval = asked.approval;
  }
  if (input.name !== undefined && input.name !== identity.name) {
    const name = input.name;
    const keys = await deps.store.write(async (tx) => {
      const at = deps.clock.now().toISOString();
      await tx.identities.setName(identityId, name);
      await tx.setups.record({ identityId, aspect: 'name', detail: name, setBy: actor.identityId, approvedBy: null, at });
      await appendAudit(tx, at, 'identity.identifying-data-corrected', actor, identityId, { field: 'name', from: identity.name, to: name, note: input.note, clause: 'NSIS 3.2.3 (Low) 4' });
      return tx.credentials.listOfIdentity(identityId);
    });
    for (const key of keys) {
      if (key.state === 'revoked' || key.state === 'expired') continue;
      // One correction, however many keys: the admin's decision, not an operator's hourly count.
      await transition(deps, actor, { credentialId: key.id, action: 'revoke', reason: 'data-error', note: input.note ?? 'identifying data corrected', approved: true });
      revokedKeys++;
    }
  }
  return { identity: await deps.store.read((tx) => boundIdentity(tx, identityId)), revokedKeys, approval };
}
