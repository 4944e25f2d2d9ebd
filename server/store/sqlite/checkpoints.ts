/** Signed audit checkpoints, their deliveries to the witnesses, and the prune records (append-only). */
import type { CheckpointRecord, NewCheckpoint, PruneRecord } from '../../domain/checkpoints.js';
import type { CheckpointRepo } from '../../ports/repositories.js';
import type { Connection } from './connection.js';
import { checkpoint, prune } from './recordRows.js';
import * as rows from './rows.js';

export class SqliteCheckpoints implements CheckpointRepo {
  constructor(private readonly db: Connection) {}

  async insert(c: NewCheckpoint): Promise<number> {
    return Number(
      this.db
        .prepare('INSERT INTO audit_checkpoints (seq, head_hash, at, kid, jws, n, prev_hash, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
        .run(c.seq, c.headHash, c.at, c.kid, c.jws, c.n, c.prevHash, c.note).lastInsertRowid,
    );
  }

  async latest(): Promise<CheckpointRecord | undefined> {
    const r = this.db.prepare('SELECT * FROM audit_checkpoints ORDER BY id DESC LIMIT 1').get();
    return r === undefined ? undefined : checkpoint(r);
  }

  async list(): Promise<CheckpointRecord[]> {
    return this.db.prepare('SELECT * FROM audit_checkpoints ORDER BY id').all().map(checkpoint);
  }

  async count(): Promise<number> {
    return rows.num(this.db.prepare('SELECT count(*) AS n FROM audit_checkpoints').get(), 'n');
  }

  async get(id: number): Promise<CheckpointRecord | undefined> {
    const r = this.db.prepare('SELECT * FROM audit_checkpoints WHERE id = ?').get(id);
    return r === undefined ? undefined : checkpoint(r);
  }

  async latestAtOrBefore(at: string): Promise<CheckpointRecord | undefined> {
    const r = this.db.prepare('SELECT * FROM audit_checkpoints WHERE at <= ? ORDER BY seq DESC, id DESC LIMIT 1').get(at);
    return r === undefined ? undefined : checkpoint(r);
  }

  async undelivered(sink: string, limit: number): Promise<CheckpointRecord[]> {
    return this.db
      .prepare(
        `SELECT c.* FROM audit_checkpoints c
         WHERE c.note IS NOT NULL AND NOT EXISTS (SELECT 1 FROM audit_witness_deliveries d WHERE d.checkpoint_id = c.id AND d.sink = ?)
         ORDER BY c.id LIMIT ?`,
      )
      .all(sink, limit)
      .map(checkpoint);
  }

  async markDelivered(checkpointId: number, sink: string, at: string): Promise<void> {
    this.db
      .prepare('INSERT INTO audit_witness_deliveries (checkpoint_id, sink, delivered_at) VALUES (?, ?, ?) ON CONFLICT (checkpoint_id, sink) DO NOTHING')
      .run(checkpointId, sink, at);
  }

  async latestPrune(): Promise<PruneRecord | undefined> {
    const r = this.db.prepare('SELECT * FROM audit_prunes ORDER BY through_seq DESC, id DESC LIMIT 1').get();
    return r === undefined ? undefined : prune(r);
  }

  async prunes(): Promise<PruneRecord[]> {
    return this.db.prepare('SELECT * FROM audit_prunes ORDER BY id').all().map(prune);
  }
}
