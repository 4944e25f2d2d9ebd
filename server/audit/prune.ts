/**
 * Retention (NSIS 4.1.4: logs are kept as long as needed, then securely destroyed). Entries older
 * than the retention period are deleted, but only up to a signed checkpoint, which then anchors
 * verification of what remains. The prune itself is audited.
 */
import type { Clock } from '../clock.js';
import type { Actor } from '../domain/types.js';
import type { Store } from '../store/index.js';

export interface PruneResult {
  pruned: number;
  throughSeq: number | null;
  anchorCheckpointId: number | null;
  cutoff: string;
}

export function pruneAudit(store: Store, clock: Clock, retentionDays: number, actor: Actor): PruneResult {
  if (retentionDays <= 0) throw new TypeError('pruneAudit needs a positive retention period');
  const cutoff = new Date(clock.now().getTime() - retentionDays * 86_400_000).toISOString();
  return store.transaction(() => {
    const anchor = store.checkpoints.latestAtOrBefore(cutoff);
    const previous = store.checkpoints.latestPrune();
    if (!anchor || (previous && anchor.seq <= previous.throughSeq)) {
      return { pruned: 0, throughSeq: null, anchorCheckpointId: null, cutoff };
    }
    const pruned = store.checkpoints.pruneThrough(anchor.seq, anchor.id, clock.now().toISOString());
    store.appendAudit({
      at: clock.now().toISOString(),
      type: 'audit.pruned',
      actorId: actor.identityId,
      actorRole: actor.role,
      subjectId: null,
      data: { throughSeq: anchor.seq, anchorCheckpointId: anchor.id, anchorHash: anchor.headHash, retentionDays, entries: pruned, clause: 'NSIS 4.1.4' },
    });
    return { pruned, throughSeq: anchor.seq, anchorCheckpointId: anchor.id, cutoff };
  });
}
