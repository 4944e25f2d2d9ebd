/**
 * Staff roles are granted through the duties table (role-grant, NSIS 5.2 (Substantial) 8): by a
 * second org-admin, or alone in bootstrap. One waiting request of a kind per person.
 */
import type { ApprovalRecord } from '../../domain/approvals.js';
import type { Actor, Identity } from '../../domain/types.js';
import type { StaffRole } from '../../duties/index.js';
import { GatewayError } from '../../errors.js';
import type { ReadTx } from '../../ports/store.js';
import type { ConsoleDeps } from '../consoleDeps.js';
import { who } from '../staff/staffMember.js';

export const ROLE_WORDS: Readonly<Record<StaffRole, string>> = { 'org-admin': 'administrator (org-admin)', helpdesk: 'helpdesk', 'security-officer': 'security officer' };

/** A staff-role grant: carried out (alone, in bootstrap) or waiting for a second org-admin. */
export type RoleOutcome = { state: 'granted'; bootstrap: boolean } | { state: 'pending'; approval: ApprovalRecord };

/** Inside the request's transaction: one waiting request of this kind per person. */
export function noneWaiting(kind: 'contact-change' | 'role-grant', identityId: string, detail: string): (tx: ReadTx) => Promise<void> {
  return async (tx) => {
    if ((await tx.approvals.pending()).some((a) => a.kind === kind && a.subjects.includes(identityId))) throw new GatewayError('CONFLICT', 409, detail);
  };
}

/** Asks the duties table for staff roles; null when there are none to grant. */
export async function grantRoles(deps: ConsoleDeps, actor: Actor, identity: Identity, wanted: StaffRole[], via: 'grant' | 'creation' | 'import'): Promise<RoleOutcome | null> {
  const roles = Array.from(new Set(wanted)).filter((r) => !identity.roles.includes(r));
  if (roles.length === 0) return null;
  const asked = await deps.approvals.request({
    kind: 'role-grant',
    actor,
    subjects: [identity.id],
    payload: { identityId: identity.id, roles, via },
    precondition: noneWaiting('role-grant', identity.id, 'A staff-role grant for this person is already waiting for approval.'),
    summary: `Grant ${roles.map((r) => ROLE_WORDS[r]).join(' and ')} to ${who(identity)}`,
    items: roles.map((r) => `${identity.name} <${identity.email}> becomes ${ROLE_WORDS[r]}`),
  });
  return asked.state === 'pending' ? { state: 'pending', approval: asked.approval } : { state: 'granted', bootstrap: asked.bootstrap };
}
