/**
 * Bulk suspensions and revocations (NSIS 3.2.3 (Low) 2): more keys than the threshold wait for a
 * second helpdesk member (duties table, bulk); each key then goes through the lifecycle table.
 */
import type { ApprovalRecord } from '../../domain/approvals.js';
import type { Actor, Identity, ReasonCode } from '../../domain/types.js';
import { NotFoundError, SegregationError } from '../../errors.js';
import type { ConsoleDeps } from '../consoleDeps.js';
import type { BulkResult } from './executors.js';
import { keyWords, staffMember, who } from './staffMember.js';

export type BulkAction = 'suspend' | 'revoke';

export async function bulkAction(
  deps: ConsoleDeps,
  actor: Actor,
  input: { action: BulkAction; credentialIds: string[]; reason: ReasonCode; note: string | null },
): Promise<{ results: BulkResult[] } | { approval: ApprovalRecord }> {
  const ids = Array.from(new Set(input.credentialIds));
  const { items, people } = await deps.store.read(async (tx) => {
    await staffMember(tx, actor);
    const items: string[] = [];
    const holders = new Map<string, Identity>();
    for (const id of ids) {
      const key = await tx.credentials.get(id);
      if (!key) throw new NotFoundError(`Unknown security key ${id}.`);
      if (key.identityId === actor.identityId) throw new SegregationError('Staff powers do not apply to your own keys.');
      const holder = await tx.identities.get(key.identityId);
      if (!holder) throw new NotFoundError(`Unknown security key ${id}.`);
      holders.set(holder.id, holder);
      items.push(`${input.action === 'suspend' ? 'Suspend' : 'Revoke'} ${keyWords(key)} of ${who(holder)}`);
    }
    return { items, people: [...holders.values()] };
  });
  const verb = input.action === 'suspend' ? 'Suspend' : 'Revoke';
  const asked = await deps.approvals.request({
    kind: 'bulk',
    actor,
    subjects: people.map((p) => p.id),
    payload: { action: input.action, credentialIds: ids, reason: input.reason, note: input.note },
    summary: `${verb} ${ids.length === 1 ? '1 key' : `${ids.length} keys`} of ${people.length === 1 ? (people[0]?.name ?? '') : `${people.length} people (${people.map((p) => p.name).join(', ')})`} (reason ${input.reason})`,
    items,
    facts: { bulkSize: ids.length, bulkThreshold: deps.config.bulkApprovalThreshold },
  });
  if (asked.state === 'pending') return { approval: asked.approval };
  const results = asked.outcome.detail?.['results'];
  return { results: Array.isArray(results) ? results.map(bulkResultOf) : [] };
}

function bulkResultOf(v: unknown): BulkResult {
  if (typeof v !== 'object' || v === null || !('credentialId' in v) || typeof v.credentialId !== 'string' || !('ok' in v) || typeof v.ok !== 'boolean') {
    throw new TypeError('a bulk result has a credential id and an outcome');
  }
  return { credentialId: v.credentialId, ok: v.ok, ...('code' in v && typeof v.code === 'string' ? { code: v.code } : {}) };
}
