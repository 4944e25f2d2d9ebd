/**
 * Losing a role withdraws the requests made in it; an ended binding withdraws the person's
 * requests and the requests about them (duties table: role-revoke, binding-end). Runs inside the
 * caller's transaction, with one audit event per withdrawn request.
 */
import type { Actor } from '../domain/types.js';
import type { StaffRole } from '../duties/table.js';
import { appendAudit } from '../flows/shared/audit.js';
import type { WriteTx } from '../ports/store.js';

export async function withdrawPendingRequests(
  tx: WriteTx,
  at: string,
  actor: Actor,
  identityId: string,
  lost: { role: StaffRole } | { binding: 'ended' },
): Promise<string[]> {
  const withdrawn: string[] = [];
  for (const a of await tx.approvals.pending()) {
    const own = a.requestedBy === identityId && ('binding' in lost || a.requestedRole === lost.role);
    const about = 'binding' in lost && a.subjects.includes(identityId);
    if (!own && !about) continue;
    const reason = own ? ('binding' in lost ? 'requester-binding-ended' : 'requester-lost-role') : 'subject-binding-ended';
    if (!(await tx.approvals.withdraw(a.id, at, reason))) continue;
    await appendAudit(tx, at, 'approval.withdrawn', actor, a.id, { kind: a.kind, reason, requestedBy: a.requestedBy, requestedRole: a.requestedRole, summary: a.summary });
    withdrawn.push(a.id);
  }
  return withdrawn;
}
