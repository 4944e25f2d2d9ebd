/**
 * A replacement key without new identity proofing (NSIS 3.2.4, 5.1): either the person still holds
 * another active key (a valid means), or a second person approves (duties table, replacement).
 * The link goes by mail to the bound address unless handing it over in person is chosen.
 */
import type { ApprovalRecord } from '../../domain/approvals.js';
import type { Actor } from '../../domain/types.js';
import { GatewayError, ValidationError } from '../../errors.js';
import type { ConsoleDeps } from '../consoleDeps.js';
import type { ReplacementPayload } from './executors.js';
import { boundIdentity, keyWords, notSelf, staffMember, who } from './staffMember.js';

export interface ReplacementInput {
  basis: 'active-key' | 'second-approval';
  replacesCredentialId: string | null;
  revokeNow: boolean;
  note: string | null;
  delivery: 'mail' | 'handover';
}

export type ReplacementAnswer = { delivery: 'mail' | 'handover'; link?: string; sentTo: string | null; expiresAt: string } | { approval: ApprovalRecord };

export async function requestReplacement(deps: ConsoleDeps, actor: Actor, identityId: string, input: ReplacementInput): Promise<ReplacementAnswer> {
  const { identity, keys } = await deps.store.read(async (tx) => {
    await staffMember(tx, actor);
    notSelf(actor, identityId, 'issue a replacement key');
    return { identity: await boundIdentity(tx, identityId), keys: await tx.credentials.listOfIdentity(identityId) };
  });
  const replaced = input.replacesCredentialId === null ? undefined : keys.find((k) => k.id === input.replacesCredentialId);
  if (input.replacesCredentialId !== null && !replaced) {
    throw new ValidationError('The key to replace does not belong to this person.', [{ path: 'replacesCredentialId', message: 'not this person’s key' }]);
  }
  const valid = keys.some((k) => k.state === 'active' && k.id !== input.replacesCredentialId);
  if (input.basis === 'active-key' && !valid) {
    throw new GatewayError('CONFLICT', 409, 'The person holds no other active key; ask a second person to approve the replacement instead.');
  }
  const payload: ReplacementPayload = { identityId, replacesCredentialId: input.replacesCredentialId, revokeNow: input.revokeNow, note: input.note, delivery: input.delivery };
  const asked = await deps.approvals.request({
    kind: 'replacement',
    actor,
    subjects: [identityId],
    payload: { ...payload },
    summary: `Replacement key for ${who(identity)}`,
    items: [
      input.delivery === 'mail'
        ? `A one-time enrolment link for ${identity.name}, mailed to ${identity.email}`
        : `A one-time enrolment link for ${identity.name}, shown once to the approver to hand over in person`,
      ...(replaced
        ? [input.revokeNow ? `Revoke ${keyWords(replaced)} of ${identity.name} now (reason: replaced)` : `Revoke ${keyWords(replaced)} of ${identity.name} when the new key is active (reason: replaced)`]
        : []),
    ],
    facts: { hasOtherActiveKey: input.basis === 'active-key' },
  });
  if (asked.state === 'pending') return { approval: asked.approval };
  const sentTo = asked.outcome.detail?.['sentTo'];
  return {
    delivery: input.delivery,
    ...(asked.outcome.link ? { link: asked.outcome.link } : {}),
    sentTo: typeof sentTo === 'string' ? sentTo : null,
    expiresAt: asked.outcome.expiresAt ?? '',
  };
}
