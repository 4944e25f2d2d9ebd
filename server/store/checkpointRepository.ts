/**
 * Signed audit checkpoints (the chain head signed by the HSM key), their deliveries to the
 * witnesses outside the database, and retention pruning. Every table here is append-only
 * (migration 9's triggers); only a prune lifts the audit table's delete trigger, inside its own
 * transaction.
 */
import type Database from 'better-sqlite3';
import type { AuditEntry } from '../audit/hashChain.js';
import * as rows from './sqlite/rows.js';

import type { CheckpointRecord, NewCheckpoint, PruneRecord } from '../domain/checkpoints.js';

export type { CheckpointRecord, NewCheckpoint, PruneRecord } from '../domain/checkpoints.js';

function numOrNull(r: unknown, key: string): number | null {
  const v: unknown = typeof r === 'object' && r !== null ? Reflect.get(r, key) : undefined;
  return v === null || v === undefined ? null : rows.num(r, key);
}

function checkpointRow(r: unknown): CheckpointRecord {
  return {
    id: rows.num(r, 'id'),
    seq: rows.num(r, 'seq'),
    headHash: rows.str(r, 'head_hash'),
    at: rows.str(r, 'at'),
    kid: rows.str(r, 'kid'),
    jws: rows.str(r, 'jws'),
    n: numOrNull(r, 'n'),
    prevHash: rows.strOrNull(r, 'prev_hash'),
    note: rows.strOrNull(r, 'note'),
  };
}

function pruneRow(r: unknown): PruneRecord {
  return {
    id: rows.num(r, 'id'),
    throughSeq: rows.num(r, 'through_seq'),
    anchorCheckpointId: rows.num(r, 'anchor_checkpoint_id'),
    at: rows.str(r, 'at'),
    jws: rows.strOrNull(r, 'jws'),
  };
}

export class CheckpointRepository {
  constructor(private readonly db: Database.Database) {}

  insert(c: NewCheckpoint): number {
    return Number(
      this.db
        .prepare('INSERT INTO audit_checkpoints (seq, head_hash, at, kid, jws, n, prev_hash, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
        .run(c.seq, c.headHash, c.at, c.kid, c.jws, c.n, c.prevHash, c.note).lastInsertRowid,
    );
  }

  /** The newest checkpoint (append order). */
  latest(): CheckpointRecord | undefined {
    const r = this.db.prepare('SELECT * FROM audit_checkpoints ORDER BY id DESC LIMIT 1').get();
    return r === undefined ? undefined : checkpointRow(r);
  }

  /** Every checkpoint in append order. */
  list(): CheckpointRecord[] {
    return this.db.prepare('SELECT * FROM audit_checkpoints ORDER BY id').all().map(checkpointRow);
  }

  count(): number {
    return rows.num(this.db.prepare('SELECT count(*) AS n FROM audit_checkpoints').get(), 'n');
  }

  get(id: number): CheckpointRecord | undefined {
    const r = this.db.prepare('SELECT * FROM audit_checkpoints WHERE id = ?').get(id);
    return r === undefined ? undefined : checkpointRow(r);
  }

  /** The newest checkpoint at or before `at` (the anchor a prune may cut up to). */
  latestAtOrBefore(at: string): CheckpointRecord | undefined {
    const r = this.db.prepare('SELECT * FROM audit_checkpoints WHERE at <= ? ORDER BY seq DESC, id DESC LIMIT 1').get(at);
    return r === undefined ? undefined : checkpointRow(r);
  }

  /** Signed-note checkpoints not yet delivered to `sink`, oldest first. */
  undelivered(sink: string, limit: number): CheckpointRecord[] {
    return this.db
      .prepare(
        `SELECT c.* FROM audit_checkpoints c
         WHERE c.note IS NOT NULL AND NOT EXISTS (SELECT 1 FROM audit_witness_deliveries d WHERE d.checkpoint_id = c.id AND d.sink = ?)
         ORDER BY c.id LIMIT ?`,
      )
      .all(sink, limit)
      .map(checkpointRow);
  }

  markDelivered(checkpointId: number, sink: string, at: string): void {
    this.db.prepare('INSERT OR IGNORE INTO audit_witness_deliveries (checkpoint_id, sink, delivered_at) VALUES (?, ?, ?)').run(checkpointId, sink, at);
  }

  latestPrune(): PruneRecord | undefined {
    const r = this.db.prepare('SELECT * FROM audit_prunes ORDER BY through_seq DESC, id DESC LIMIT 1').get();
    return r === undefined ? undefined : pruneRow(r);
  }

  listPrunes(): PruneRecord[] {
    return this.db.prepare('SELECT * FROM audit_prunes ORDER BY id').all().map(pruneRow);
  }

  /** Audit entries after `afterSeq` up to `throughSeq`, at most `limit`, in order (the checkpointer re-hashes them). */
  auditRange(afterSeq: number, throughSeq: number, limit: number): AuditEntry[] {
    return this.db.prepare('SELECT * FROM audit_events WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?').all(afterSeq, throughSeq, limit).map(rows.auditEntry);
  }

  /** The hash of audit entry `seq`, if it exists. */
  auditHashAt(seq: number): string | undefined {
    const r = this.db.prepare('SELECT hash FROM audit_events WHERE seq = ?').get(seq);
    return r === undefined ? undefined : rows.str(r, 'hash');
  }

  /** Entries a prune through `throughSeq` would remove. */
  countThrough(throughSeq: number): number {
    return rows.num(this.db.prepare('SELECT count(*) AS n FROM audit_events WHERE seq <= ?').get(throughSeq), 'n');
  }

  /**
   * Deletes audit entries up to and including `throughSeq` and records the signed prune. The
   * append-only trigger is lifted only inside this one transaction; call within store.transaction.
   */
  pruneThrough(throughSeq: number, anchorCheckpointId: number, at: string, jws: string): number {
    this.db.exec('DROP TRIGGER audit_events_no_delete');
    const n = this.db.prepare('DELETE FROM audit_events WHERE seq <= ?').run(throughSeq).changes;
    this.db.exec(`CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
      BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;`);
    this.db.prepare('INSERT INTO audit_prunes (through_seq, anchor_checkpoint_id, at, jws) VALUES (?, ?, ?, ?)').run(throughSeq, anchorCheckpointId, at, jws);
    return n;
  }
}
