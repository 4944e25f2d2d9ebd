/**
 * The audit trail on PostgreSQL (NSIS 6 (Low) 7): ONE hash chain across every instance.
 *
 * An append takes the audit-chain advisory lock (advisoryLocks.ts) for the rest of its
 * transaction, then reads the head, links the entry to it and inserts it. Under READ COMMITTED
 * the head is read by a statement that starts after the lock was granted, so it sees the previous
 * holder's committed entry: no two transactions link to the same head, no sequence number is
 * taken twice or skipped (a rollback gives its numbers back, as the lock is released with it).
 * The lock is taken once per transaction; later appends in it continue from the entry just made.
 *
 * The entry reads back byte for byte: `at` is timestamptz at millisecond precision (the adapter
 * reads it back as Date.toISOString() text; the column refuses finer values), `data` is json, which
 * keeps the text written. So an `at` that is not in Date.toISOString() form is refused before it is
 * hashed: it would not read back as hashed.
 */
import { GENESIS_HASH, entryHash } from '../../audit/hashChain.js';
import type { AuditEntry, AuditHead, AuditInput, AuditQuery, AuditSeqRange } from '../../domain/audit.js';
import type { AuditReader, AuditRepo } from '../../ports/repositories.js';
import { lockAuditChain } from './advisoryLocks.js';
import type { Sql, TxSql } from './pool.js';
import * as records from './records.js';
import { countOf, num, numOrNull, str } from './rows.js';

async function headOf(sql: Sql): Promise<AuditHead> {
  const [r] = await sql.rows('SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1');
  return r === undefined ? { seq: 0, hash: GENESIS_HASH } : { seq: num(r, 'seq'), hash: str(r, 'hash') };
}

export class PgAuditReader implements AuditReader {
  constructor(protected readonly sql: Sql) {}

  head(): Promise<AuditHead> {
    return headOf(this.sql);
  }

  async page(fromSeq: number, limit: number, throughSeq = Number.MAX_SAFE_INTEGER): Promise<AuditEntry[]> {
    return (await this.sql.rows('SELECT * FROM audit_events WHERE seq >= $1 AND seq <= $2 ORDER BY seq LIMIT $3', [fromSeq, throughSeq, limit])).map(records.auditEntry);
  }

  async hashAt(seq: number): Promise<string | undefined> {
    const [r] = await this.sql.rows('SELECT hash FROM audit_events WHERE seq = $1', [seq]);
    return r === undefined ? undefined : str(r, 'hash');
  }

  async countThrough(seq: number): Promise<number> {
    return countOf(await this.sql.rows('SELECT count(*) AS n FROM audit_events WHERE seq <= $1', [seq]));
  }

  async forPerson(identityId: string, limit = 500): Promise<AuditEntry[]> {
    const rows = await this.sql.rows(
      `SELECT * FROM audit_events WHERE subject_id = $1 OR actor_id = $1
         OR subject_id IN (SELECT id FROM credentials WHERE identity_id = $1)
       ORDER BY seq DESC LIMIT $2`,
      [identityId, limit],
    );
    return rows.map(records.auditEntry);
  }

  async search(q: AuditQuery, order: 'asc' | 'desc', limit: number): Promise<AuditEntry[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const p = (v: unknown): string => {
      params.push(v);
      return `$${params.length}`;
    };
    if (q.personId !== undefined) {
      const id = p(q.personId);
      where.push(`(subject_id = ${id} OR actor_id = ${id} OR subject_id IN (SELECT id FROM credentials WHERE identity_id = ${id}))`);
    }
    if (q.keyId !== undefined) where.push(`subject_id = ${p(q.keyId)}`);
    if (q.actorId !== undefined) where.push(`actor_id = ${p(q.actorId)}`);
    if (q.types !== undefined && q.types.length > 0) where.push(`type = ANY(${p([...q.types])}::text[])`);
    if (q.from !== undefined) where.push(`at >= ${p(q.from)}::timestamptz`);
    if (q.to !== undefined) where.push(`at < ${p(q.to)}::timestamptz`);
    if (q.afterSeq !== undefined) where.push(`seq > ${p(q.afterSeq)}`);
    if (q.beforeSeq !== undefined) where.push(`seq < ${p(q.beforeSeq)}`);
    const sql = `SELECT * FROM audit_events ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq ${order === 'asc' ? 'ASC' : 'DESC'} LIMIT ${p(limit)}`;
    return (await this.sql.rows(sql, params)).map(records.auditEntry);
  }

  async seqRange(from: string | undefined, to: string | undefined): Promise<AuditSeqRange | undefined> {
    const [r] = await this.sql.rows(
      'SELECT min(seq) AS first, max(seq) AS last FROM audit_events WHERE ($1::timestamptz IS NULL OR at >= $1::timestamptz) AND ($2::timestamptz IS NULL OR at < $2::timestamptz)',
      [from ?? null, to ?? null],
    );
    if (r === undefined || numOrNull(r, 'first') === null) return undefined;
    return { firstSeq: num(r, 'first'), lastSeq: num(r, 'last') };
  }
}

export class PgAudit extends PgAuditReader implements AuditRepo {
  /** The head after this transaction's last append (set once it holds the chain lock). */
  private ownHead: AuditHead | undefined;

  constructor(private readonly tx: TxSql) {
    super(tx);
  }

  async append(input: AuditInput): Promise<AuditEntry> {
    const when = new Date(input.at);
    if (Number.isNaN(when.getTime()) || when.toISOString() !== input.at) {
      throw new TypeError(`audit: an entry's time must be in Date.toISOString() form (it is hashed as written): ${input.at}`);
    }
    let head = this.ownHead;
    if (head === undefined) {
      await lockAuditChain(this.tx);
      head = await headOf(this.tx);
    }
    const body = { seq: head.seq + 1, ...input };
    const hash = entryHash(head.hash, body);
    await this.tx.count(
      `INSERT INTO audit_events (seq, at, type, actor_id, actor_role, subject_id, data, prev_hash, hash)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [body.seq, input.at, input.type, input.actorId, input.actorRole, input.subjectId, JSON.stringify(input.data), head.hash, hash],
    );
    this.ownHead = { seq: body.seq, hash };
    return { ...body, prevHash: head.hash, hash };
  }

  /**
   * NSIS 4.1.4: the signed prune is recorded first; then, for this transaction only, the delete
   * trigger lets entries through `throughSeq` go (and only those a recorded prune covers).
   */
  async pruneThrough(throughSeq: number, anchorCheckpointId: number, at: string, jws: string): Promise<number> {
    await this.tx.count('INSERT INTO audit_prunes (through_seq, anchor_checkpoint_id, at, jws) VALUES ($1, $2, $3, $4)', [throughSeq, anchorCheckpointId, at, jws]);
    await this.tx.rows("SELECT set_config('gateway.audit_prune_through', $1::text, true) AS through", [String(throughSeq)]);
    const n = await this.tx.count('DELETE FROM audit_events WHERE seq <= $1', [throughSeq]);
    await this.tx.rows("SELECT set_config('gateway.audit_prune_through', '', true) AS through");
    return n;
  }
}
