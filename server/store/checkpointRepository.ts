/**
 * Signed audit checkpoints (the chain head signed by the HSM key) and retention pruning.
 */
import type Database from 'better-sqlite3';
import * as rows from './rows.js';

export interface CheckpointRecord {
  id: number;
  seq: number;
  headHash: string;
  at: string;
  kid: string;
  jws: string;
}

export interface PruneRecord {
  id: number;
  throughSeq: number;
  anchorCheckpointId: number;
  at: string;
}

function checkpointRow(r: unknown): CheckpointRecord {
  return {
    id: rows.num(r, 'id'),
    seq: rows.num(r, 'seq'),
    headHash: rows.str(r, 'head_hash'),
    at: rows.str(r, 'at'),
    kid: rows.str(r, 'kid'),
    jws: rows.str(r, 'jws'),
  };
}

export class CheckpointRepository {
  constructor(private readonly db: Database.Database) {}

  insert(c: Omit<CheckpointRecord, 'id'>): number {
    return Number(
      this.db.prepare('INSERT INTO audit_checkpoints (seq, head_hash, at, kid, jws) VALUES (?, ?, ?, ?, ?)').run(c.seq, c.headHash, c.at, c.kid, c.jws)
        .lastInsertRowid,
    );
  }

  latest(): CheckpointRecord | undefined {
    const r = this.db.prepare('SELECT * FROM audit_checkpoints ORDER BY seq DESC, id DESC LIMIT 1').get();
    return r === undefined ? undefined : checkpointRow(r);
  }

  list(): CheckpointRecord[] {
    return this.db.prepare('SELECT * FROM audit_checkpoints ORDER BY seq, id').all().map(checkpointRow);
  }

  /** The newest checkpoint at or before `at` (the anchor a prune may cut up to). */
  latestAtOrBefore(at: string): CheckpointRecord | undefined {
    const r = this.db.prepare('SELECT * FROM audit_checkpoints WHERE at <= ? ORDER BY seq DESC LIMIT 1').get(at);
    return r === undefined ? undefined : checkpointRow(r);
  }

  latestPrune(): PruneRecord | undefined {
    const r = this.db.prepare('SELECT * FROM audit_prunes ORDER BY through_seq DESC LIMIT 1').get();
    return r === undefined
      ? undefined
      : { id: rows.num(r, 'id'), throughSeq: rows.num(r, 'through_seq'), anchorCheckpointId: rows.num(r, 'anchor_checkpoint_id'), at: rows.str(r, 'at') };
  }

  /**
   * Deletes audit entries up to and including `throughSeq`. The append-only triggers are lifted
   * only inside this one transaction, which also records the prune; call within store.transaction.
   */
  pruneThrough(throughSeq: number, anchorCheckpointId: number, at: string): number {
    this.db.exec('DROP TRIGGER audit_events_no_delete');
    const n = this.db.prepare('DELETE FROM audit_events WHERE seq <= ?').run(throughSeq).changes;
    this.db.exec(`CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
      BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;`);
    this.db.prepare('INSERT INTO audit_prunes (through_seq, anchor_checkpoint_id, at) VALUES (?, ?, ?)').run(throughSeq, anchorCheckpointId, at);
    return n;
  }
}
