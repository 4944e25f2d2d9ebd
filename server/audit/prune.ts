/**
 * Retention (NSIS 4.1.4: logs are kept as long as needed, then securely destroyed). Entries older
 * than the retention period are deleted, but only up to a signed checkpoint, which then anchors
 * verification of what remains. The prune is recorded as a statement signed by the HSM key
 * (what was cut, up to which checkpoint, when), so a prune record forged in the database is
 * found by `npm run audit:verify`; and it is audited.
 */
import type { Clock } from '../clock.js';
import type { Actor } from '../domain/types.js';
import type { KeyManager } from '../keys/KeyManager.js';
import type { Store } from '../ports/store.js';
import { checkpointTextHash } from './checkpointNote.js';
import { signedTextOf } from './Checkpointer.js';

export const PRUNE_TYP = 'audit-prune+jwt';

/** What a prune record signs. */
export interface PruneClaims {
  typ: 'audit-prune';
  iss: string;
  throughSeq: number;
  anchorCheckpointId: number;
  /** SHA-256 (hex) of the anchor checkpoint's signed text. */
  anchorHash: string;
  /** The chain head hash the anchor vouches for (verification resumes from it). */
  anchorHeadHash: string;
  entries: number;
  at: string;
}

export interface PruneResult {
  pruned: number;
  throughSeq: number | null;
  anchorCheckpointId: number | null;
  cutoff: string;
}

export async function pruneAudit(store: Store, keys: KeyManager, clock: Clock, iss: string, retentionDays: number, actor: Actor): Promise<PruneResult> {
  if (retentionDays <= 0) throw new TypeError('pruneAudit needs a positive retention period');
  const cutoff = new Date(clock.now().getTime() - retentionDays * 86_400_000).toISOString();
  const { anchor, previous } = await store.read(async (tx) => ({ anchor: await tx.checkpoints.latestAtOrBefore(cutoff), previous: await tx.checkpoints.latestPrune() }));
  if (!anchor || (previous && anchor.seq <= previous.throughSeq)) {
    return { pruned: 0, throughSeq: null, anchorCheckpointId: null, cutoff };
  }
  const at = clock.now().toISOString();
  const claims: PruneClaims = {
    typ: 'audit-prune',
    iss,
    throughSeq: anchor.seq,
    anchorCheckpointId: anchor.id,
    anchorHash: checkpointTextHash(signedTextOf(anchor)),
    anchorHeadHash: anchor.headHash,
    entries: await store.read((tx) => tx.audit.countThrough(anchor.seq)),
    at,
  };
  const { jws } = await keys.signJws(claims, PRUNE_TYP);
  return store.write(async (tx) => {
    // Nothing changed while the HSM signed: the same anchor, the same entries, no other prune.
    const now = await tx.checkpoints.latestPrune();
    if (now?.id !== previous?.id || (await tx.audit.countThrough(anchor.seq)) !== claims.entries) {
      return { pruned: 0, throughSeq: null, anchorCheckpointId: null, cutoff };
    }
    const pruned = await tx.audit.pruneThrough(anchor.seq, anchor.id, at, jws);
    await tx.audit.append({
      at,
      type: 'audit.pruned',
      actorId: actor.identityId,
      actorRole: actor.role,
      subjectId: null,
      data: { throughSeq: anchor.seq, anchorCheckpointId: anchor.id, anchorHash: anchor.headHash, retentionDays, entries: pruned, clause: 'NSIS 4.1.4' },
    });
    return { pruned, throughSeq: anchor.seq, anchorCheckpointId: anchor.id, cutoff };
  });
}
