/**
 * How the console's sensitive actions are carried out once the duties table allows them (at
 * once, alone in bootstrap, or approved by a second person): bulk suspensions and revocations,
 * replacements, contact-data changes, staff-role grants and withdrawals. Each runs in the
 * requester's name and role (checked again by the approvals mechanism), records who set up whom,
 * and tells the people the table names inside the transaction that makes the change.
 */
import { z } from 'zod';
import type { Execution, Outcome } from '../../approvals/Approvals.js';
import { withdrawPendingRequests } from '../../approvals/withdraw.js';
import { REASON_CODES } from '../../domain/types.js';
import { STAFF_ROLES } from '../../duties/table.js';
import { GatewayError, NotFoundError } from '../../errors.js';
import type { ConsoleDeps } from '../consoleDeps.js';
import { issueEnrolment, type EnrolmentDelivery } from '../enrolment/issueEnrolment.js';
import { transition } from '../keys/transition.js';
import { appendAudit } from '../shared/audit.js';
import { queueIdmJob } from '../idm/queueIdmJob.js';

export const bulkPayload = z.object({
  action: z.enum(['suspend', 'revoke']),
  credentialIds: z.array(z.string()),
  reason: z.enum(REASON_CODES),
  note: z.string().nullable(),
});
export type BulkPayload = z.infer<typeof bulkPayload>;

export const replacementPayload = z.object({
  identityId: z.string(),
  replacesCredentialId: z.string().nullable(),
  revokeNow: z.boolean(),
  note: z.string().nullable(),
  delivery: z.enum(['mail', 'handover']),
});
export type ReplacementPayload = z.infer<typeof replacementPayload>;

export const contactPayload = z.object({ identityId: z.string(), from: z.string(), to: z.string(), note: z.string().nullable() });
export type ContactPayload = z.infer<typeof contactPayload>;

export const rolePayload = z.object({ identityId: z.string(), roles: z.array(z.enum(STAFF_ROLES)).min(1), via: z.enum(['grant', 'creation', 'import']) });
export type RolePayload = z.infer<typeof rolePayload>;

export interface BulkResult {
  credentialId: string;
  ok: boolean;
  code?: string;
}

function requesterId(e: Execution): string {
  if (e.requester.identityId === null) throw new TypeError('a request has a requester');
  return e.requester.identityId;
}

export function registerStaffExecutors(deps: ConsoleDeps): void {
  const { store, approvals } = deps;
  const now = () => deps.clock.now().toISOString();

  // NSIS 3.2.3 (Low) 2: an approved bulk action is authorised by the approval, not the hourly cap.
  approvals.register('bulk', async (e): Promise<Outcome> => {
    const p = bulkPayload.parse(e.payload);
    const by = e.approver?.identityId ? await store.read(async (tx) => (await tx.identities.get(e.approver?.identityId ?? ''))?.name ?? null) : null;
    const note = by ? `${p.note ?? ''} (approved by ${by})`.trim() : p.note;
    const results: BulkResult[] = [];
    for (const credentialId of p.credentialIds) {
      try {
        await transition(deps, e.requester, { credentialId, action: p.action, reason: p.reason, note, approved: e.approver !== null });
        results.push({ credentialId, ok: true });
      } catch (err) {
        if (!(err instanceof GatewayError)) throw err;
        results.push({ credentialId, ok: false, code: err.code });
      }
    }
    await store.write((tx) => e.tell(tx));
    const refused = results.filter((r) => !r.ok);
    return {
      result: `${results.length - refused.length} of ${results.length} keys: ${p.action} done` + (refused.length > 0 ? `; refused: ${refused.map((r) => `${r.credentialId} ${r.code ?? ''}`).join(', ')}` : ''),
      detail: { results: results.map((r) => ({ credentialId: r.credentialId, ok: r.ok, ...(r.code ? { code: r.code } : {}) })) },
    };
  });

  // NSIS 3.2.4, 5.1: a new key without new identity proofing, on a valid means or a second approval.
  approvals.register('replacement', async (e): Promise<Outcome> => {
    const p = replacementPayload.parse(e.payload);
    if (p.revokeNow && p.replacesCredentialId) {
      const oldId = p.replacesCredentialId;
      const old = await store.read((tx) => tx.credentials.get(oldId));
      if (old && old.state !== 'revoked' && old.state !== 'expired') {
        await transition(deps, e.requester, { credentialId: old.id, action: 'revoke', reason: 'replaced', note: p.note, approved: e.approver !== null });
      }
    }
    const basis = e.approver ? `second-approval by ${e.approver.identityId ?? ''}` : 'active-key';
    const delivery: EnrolmentDelivery = p.delivery;
    const issued = await issueEnrolment(deps, e.requester, p.identityId, { replacesCredentialId: p.replacesCredentialId, basis }, delivery);
    await store.write((tx) => e.tell(tx));
    return {
      result: issued.delivery === 'mail' ? `enrolment link mailed to ${issued.sentTo ?? 'the person'}, valid until ${issued.expiresAt}` : `enrolment link issued for handover in person, valid until ${issued.expiresAt}`,
      expiresAt: issued.expiresAt,
      // The one-time link goes only to whoever carried it out, and only when handover was chosen.
      ...(issued.delivery === 'mail' ? {} : { link: issued.link }),
      detail: { delivery, sentTo: issued.delivery === 'mail' ? issued.sentTo : null },
    };
  });

  // NSIS 3.2.2 (Substantial) 2, (High) 3: the second channel changes only with a second person.
  approvals.register('contact-change', async (e): Promise<Outcome> => {
    const p = contactPayload.parse(e.payload);
    return store.write(async (tx) => {
      const identity = await tx.identities.get(p.identityId);
      if (!identity || identity.bindingState !== 'active') throw new NotFoundError('Unknown identity.');
      if (identity.email !== p.from) throw new GatewayError('CONFLICT', 409, 'The email address changed since this was asked for; ask again.');
      const taken = await tx.identities.findActiveByEmail(p.to);
      if (taken && taken.id !== p.identityId) throw new GatewayError('CONFLICT', 409, 'Another employee is bound with this email address.');
      const at = now();
      await tx.identities.setEmail(p.identityId, p.to);
      await tx.setups.record({ identityId: p.identityId, aspect: 'contact', detail: p.to, setBy: requesterId(e), approvedBy: e.approver?.identityId ?? null, at });
      // Codes and links sent to the old address are withdrawn with it.
      let codes = 0;
      for (const key of await tx.credentials.listOfIdentity(p.identityId)) codes += await tx.codes.supersedeOpen(key.id, at);
      const links = await tx.enrolments.supersedeOpen(p.identityId, at);
      await appendAudit(tx, at, 'identity.contact-changed', e.requester, p.identityId, {
        field: 'email',
        from: p.from,
        to: p.to,
        note: p.note,
        approvedBy: e.approver?.identityId ?? null,
        approvalId: e.approvalId,
        codesWithdrawn: codes,
        linksWithdrawn: links,
        clause: 'NSIS 3.2.2 (High) 3',
      });
      await e.tell(tx);
      // Issue 18: MitID Erhverv gets the new address through the outbox (when the sync is on).
      await queueIdmJob(deps, tx, { ...identity, email: p.to }, { kind: 'contact-change', identifying: false });
      return { result: `email changed from ${p.from} to ${p.to}; ${codes} open code(s) and ${links} open link(s) withdrawn` };
    });
  });

  // NSIS 5.2 (Substantial) 8: staff roles are granted by two org-admins (one, in bootstrap).
  approvals.register('role-grant', async (e): Promise<Outcome> => {
    const p = rolePayload.parse(e.payload);
    return store.write(async (tx) => {
      const identity = await tx.identities.get(p.identityId);
      if (!identity || identity.bindingState !== 'active') throw new NotFoundError('Unknown identity.');
      const at = now();
      for (const role of p.roles) {
        await tx.identities.grantRole(p.identityId, role, requesterId(e), at);
        await tx.setups.record({ identityId: p.identityId, aspect: 'role', detail: role, setBy: requesterId(e), approvedBy: e.approver?.identityId ?? null, at });
        await appendAudit(tx, at, 'role.granted', e.requester, p.identityId, { role, via: p.via, approvedBy: e.approver?.identityId ?? null, approvalId: e.approvalId, bootstrap: e.bootstrap });
      }
      await e.tell(tx);
      return { result: `${p.roles.join(', ')} granted` };
    });
  });

  // Withdrawing a role is protective and immediate; the requests made in it are withdrawn.
  approvals.register('role-revoke', async (e): Promise<Outcome> => {
    const p = rolePayload.parse(e.payload);
    return store.write(async (tx) => {
      const identity = await tx.identities.get(p.identityId);
      if (!identity || identity.bindingState !== 'active') throw new NotFoundError('Unknown identity.');
      const at = now();
      for (const role of p.roles) {
        if (!(await tx.identities.revokeRole(p.identityId, role))) continue;
        const withdrawn = await withdrawPendingRequests(tx, at, e.requester, p.identityId, { role });
        await appendAudit(tx, at, 'role.revoked', e.requester, p.identityId, { role, requestsWithdrawn: withdrawn });
      }
      await e.tell(tx);
      return { result: `${p.roles.join(', ')} withdrawn` };
    });
  });
}
