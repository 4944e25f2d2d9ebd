/**
 * The audit trail: one hash chain, appended inside the transaction of the change it records.
 * Appends are serialised by the write lock (BEGIN IMMEDIATE), so the chain stays one across
 * every process. The table refuses UPDATE and DELETE (triggers); only a prune lifts the delete
 * trigger, inside its own transaction.
 */
import { GENESIS_HASH, entryHash } from '../../audit/hashChain.js';
import type { AuditEntry, AuditHead, AuditInput, AuditQuery, AuditSeqRange } from '../../domain/audit.js';
import type { AuditRepo, PendingAuditEntry } from '../../ports/repositories.js';
import type { Connection } from './connection.js';
import * as rows from './rows.js';

export class SqliteAudit implements AuditRepo {
  /**
   * The head this connection's own last append made, while the write lock is held (issue 17: a
   * second entry in the same commit needs no head read). Set only by append(); the writer forgets
   * it wherever a transaction or a savepoint ends (commit, rollback, rollback to a savepoint), so
   * it never outlives the lock that makes it the chain's head.
   */
  private ownHead: AuditHead | undefined;

  constructor(private readonly db: Connection) {}

  /** The writer: a transaction or savepoint ended; the next append reads the head again. */
  forgetHead(): void {
    this.ownHead = undefined;
  }

  private headNow(): AuditHead {
    if (this.ownHead !== undefined) return this.ownHead;
    // No entry left after a prune through the head: the chain goes on from the prune's anchor
    // (its number and hash), where the verifier starts, never from the genesis hash again.
    const head =
      this.db.prepare('SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1').get() ??
      this.db
        .prepare('SELECT p.through_seq AS seq, c.head_hash AS hash FROM audit_prunes p JOIN audit_checkpoints c ON c.id = p.anchor_checkpoint_id ORDER BY p.through_seq DESC LIMIT 1')
        .get();
    return head === undefined ? { seq: 0, hash: GENESIS_HASH } : { seq: rows.num(head, 'seq'), hash: rows.str(head, 'hash') };
  }

  async append(input: AuditInput): Promise<AuditEntry> {
    const head = this.headNow();
    const body = { seq: head.seq + 1, ...input };
    const hash = entryHash(head.hash, body);
    this.db
      .prepare(
        `INSERT INTO audit_events (seq, at, type, actor_id, actor_role, subject_id, data, prev_hash, hash)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(body.seq, input.at, input.type, input.actorId, input.actorRole, input.subjectId, JSON.stringify(input.data), head.hash, hash);
    this.ownHead = { seq: body.seq, hash };
    return { ...body, prevHash: head.hash, hash };
  }

  /** The single writer holds the database's write lock for the whole write anyway: appended at once. */
  async add(input: AuditInput): Promise<PendingAuditEntry> {
    const entry = await this.append(input);
    return { chained: async () => entry };
  }

  async head(): Promise<AuditHead> {
    return this.headNow();
  }

  async page(fromSeq: number, limit: number, throughSeq = Number.MAX_SAFE_INTEGER): Promise<AuditEntry[]> {
    return this.db.prepare('SELECT * FROM audit_events WHERE seq >= ? AND seq <= ? ORDER BY seq LIMIT ?').all(fromSeq, throughSeq, limit).map(rows.auditEntry);
  }

  async hashAt(seq: number): Promise<string | undefined> {
    const r = this.db.prepare('SELECT hash FROM audit_events WHERE seq = ?').get(seq);
    return r === undefined ? undefined : rows.str(r, 'hash');
  }

  async countThrough(seq: number): Promise<number> {
    return rows.num(this.db.prepare('SELECT count(*) AS n FROM audit_events WHERE seq <= ?').get(seq), 'n');
  }

  async forPerson(identityId: string, limit = 500): Promise<AuditEntry[]> {
    return this.db
      .prepare(
        `SELECT * FROM audit_events WHERE subject_id = ? OR actor_id = ?
           OR subject_id IN (SELECT id FROM credentials WHERE identity_id = ?)
         ORDER BY seq DESC LIMIT ?`,
      )
      .all(identityId, identityId, identityId, limit)
      .map((r) => rows.auditEntry(r));
  }

  async search(q: AuditQuery, order: 'asc' | 'desc', limit: number): Promise<AuditEntry[]> {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (q.personId !== undefined) {
      where.push('(subject_id = ? OR actor_id = ? OR subject_id IN (SELECT id FROM credentials WHERE identity_id = ?))');
      params.push(q.personId, q.personId, q.personId);
    }
    if (q.keyId !== undefined) {
      where.push('subject_id = ?');
      params.push(q.keyId);
    }
    if (q.actorId !== undefined) {
      where.push('actor_id = ?');
      params.push(q.actorId);
    }
    if (q.types !== undefined && q.types.length > 0) {
      where.push(`type IN (${q.types.map(() => '?').join(', ')})`);
      params.push(...q.types);
    }
    // `at` is stored as Date.toISOString() text, so text order is time order.
    if (q.from !== undefined) {
      where.push('at >= ?');
      params.push(q.from);
    }
    if (q.to !== undefined) {
      where.push('at < ?');
      params.push(q.to);
    }
    if (q.afterSeq !== undefined) {
      where.push('seq > ?');
      params.push(q.afterSeq);
    }
    if (q.beforeSeq !== undefined) {
      where.push('seq < ?');
      params.push(q.beforeSeq);
    }
    const sql = `SELECT * FROM audit_events ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq ${order === 'asc' ? 'ASC' : 'DESC'} LIMIT ?`;
    return this.db.prepare(sql).all(...params, limit).map(rows.auditEntry);
  }

  async seqRange(from: string | undefined, to: string | undefined): Promise<AuditSeqRange | undefined> {
    const r = this.db
      .prepare('SELECT min(seq) AS first, max(seq) AS last FROM audit_events WHERE (? IS NULL OR at >= ?) AND (? IS NULL OR at < ?)')
      .get(from ?? null, from ?? null, to ?? null, to ?? null);
    if (r === undefined || rows.numOrNull(r, 'first') === null) return undefined;
    return { firstSeq: rows.num(r, 'first'), lastSeq: rows.num(r, 'last') };
  }

  async pruneThrough(throughSeq: number, anchorCheckpointId: number, at: string, jws: string): Promise<number> {
    this.ownHead = undefined;
    this.db.exec('DROP TRIGGER audit_events_no_delete');
    const n = this.db.prepare('DELETE FROM audit_events WHERE seq <= ?').run(throughSeq).changes;
    this.db.exec(`CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
      BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;`);
    this.db.prepare('INSERT INTO audit_prunes (through_seq, anchor_checkpoint_id, at, jws) VALUES (?, ?, ?, ?)').run(throughSeq, anchorCheckpointId, at, jws);
    return n;
  }
}
