/** Signed audit checkpoints, their deliveries to the witnesses, and the prune records (append-only). */
import type { CheckpointRecord, NewCheckpoint, PruneRecord } from '../../domain/checkpoints.js';
import type { CheckpointRepo } from '../../ports/repositories.js';
import type { Sql } from './pool.js';
import * as records from './records.js';
import { countOf, num } from './rows.js';

export class PgCheckpoints implements CheckpointRepo {
  constructor(private readonly sql: Sql) {}

  async insert(c: NewCheckpoint): Promise<number> {
    const [r] = await this.sql.rows(
      'INSERT INTO audit_checkpoints (seq, head_hash, at, kid, jws, n, prev_hash, note) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id',
      [c.seq, c.headHash, c.at, c.kid, c.jws, c.n, c.prevHash, c.note],
    );
    if (r === undefined) throw new Error('store: the checkpoint insert returned no id');
    return num(r, 'id');
  }

  async latest(): Promise<CheckpointRecord | undefined> {
    const [r] = await this.sql.rows('SELECT * FROM audit_checkpoints ORDER BY id DESC LIMIT 1');
    return r === undefined ? undefined : records.checkpoint(r);
  }

  async list(): Promise<CheckpointRecord[]> {
    return (await this.sql.rows('SELECT * FROM audit_checkpoints ORDER BY id')).map(records.checkpoint);
  }

  async count(): Promise<number> {
    return countOf(await this.sql.rows('SELECT count(*) AS n FROM audit_checkpoints'));
  }

  async get(id: number): Promise<CheckpointRecord | undefined> {
    const [r] = await this.sql.rows('SELECT * FROM audit_checkpoints WHERE id = $1', [id]);
    return r === undefined ? undefined : records.checkpoint(r);
  }

  async latestAtOrBefore(at: string): Promise<CheckpointRecord | undefined> {
    const [r] = await this.sql.rows('SELECT * FROM audit_checkpoints WHERE at <= $1 ORDER BY seq DESC, id DESC LIMIT 1', [at]);
    return r === undefined ? undefined : records.checkpoint(r);
  }

  async undelivered(sink: string, limit: number): Promise<CheckpointRecord[]> {
    const rows = await this.sql.rows(
      `SELECT c.* FROM audit_checkpoints c
       WHERE c.note IS NOT NULL AND NOT EXISTS (SELECT 1 FROM audit_witness_deliveries d WHERE d.checkpoint_id = c.id AND d.sink = $1)
       ORDER BY c.id LIMIT $2`,
      [sink, limit],
    );
    return rows.map(records.checkpoint);
  }

  async markDelivered(checkpointId: number, sink: string, at: string): Promise<void> {
    await this.sql.count(
      'INSERT INTO audit_witness_deliveries (checkpoint_id, sink, delivered_at) VALUES ($1, $2, $3) ON CONFLICT (checkpoint_id, sink) DO NOTHING',
      [checkpointId, sink, at],
    );
  }

  async latestPrune(): Promise<PruneRecord | undefined> {
    const [r] = await this.sql.rows('SELECT * FROM audit_prunes ORDER BY through_seq DESC, id DESC LIMIT 1');
    return r === undefined ? undefined : records.prune(r);
  }

  async prunes(): Promise<PruneRecord[]> {
    return (await this.sql.rows('SELECT * FROM audit_prunes ORDER BY id')).map(records.prune);
  }
}
