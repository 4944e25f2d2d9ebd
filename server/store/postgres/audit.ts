/**
 * The audit trail on PostgreSQL (NSIS 6 (Low) 7): ONE hash chain across every instance.
 *
 * An append is one statement: it updates the chain's head row (audit_chain_head, one row), which
 * holds that row's lock for the rest of the transaction, and inserts the entry linked to the head
 * as its previous holder committed it (see PgAudit.append). No two transactions link to the same
 * head, no sequence number is taken twice or skipped (a rollback gives its numbers back, as the
 * row lock is released with it). Until issue 17 this was the audit-chain advisory lock, a head
 * read and the INSERT: three round trips under the lock instead of one.
 *
 * The entry reads back byte for byte: `at` is timestamptz at millisecond precision (the adapter
 * reads it back as Date.toISOString() text; the column refuses finer values), `data` is json, which
 * keeps the text written. So an `at` that is not in Date.toISOString() form is refused before it is
 * hashed: it would not read back as hashed.
 */
import { createHash } from 'node:crypto';
import { GENESIS_HASH, entryHash } from '../../audit/hashChain.js';
import { canonicalJson } from '../../audit/canonicalJson.js';
import type { AuditEntry, AuditHead, AuditInput, AuditQuery, AuditSeqRange } from '../../domain/audit.js';
import type { AuditReader, AuditRepo } from '../../ports/repositories.js';
import type { Sql, TxSql } from './pool.js';
import * as records from './records.js';
import { countOf, num, numOrNull, str } from './rows.js';

/** The head row (migration 0007): the last entry, or after a prune through it, still that entry's number and hash. */
async function headOf(sql: Sql): Promise<AuditHead> {
  const [r] = await sql.rows('SELECT seq, hash FROM audit_chain_head WHERE id = 1');
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
  constructor(private readonly tx: TxSql) {
    super(tx);
  }

  /**
   * ONE statement per entry (issue 17): the UPDATE of the chain's head row (audit_chain_head,
   * migration 0007) takes the row's lock until COMMIT, advances the sequence number and computes
   * the entry's hash from the head as committed; the INSERT stores the entry with that link. A
   * writer that waited for the row lock re-reads the row as its holder committed it (READ
   * COMMITTED), so no two transactions link to the same head and no number is taken twice or
   * skipped; a rollback gives the number back. PostgreSQL hashes the bytes entryHash() hashes: the
   * previous hash, a newline, and the entry's canonical JSON, into which only the sequence number
   * is spliced. The hash is recomputed here as well: an entry the verifier would refuse is never
   * committed (TypeError, the transaction rolls back).
   */
  async append(input: AuditInput): Promise<AuditEntry> {
    const when = new Date(input.at);
    if (Number.isNaN(when.getTime()) || when.toISOString() !== input.at) {
      throw new TypeError(`audit: an entry's time must be in Date.toISOString() form (it is hashed as written): ${input.at}`);
    }
    const [prefix, suffix] = splitAtSeq(input);
    const [r] = await this.tx.rows(
      `WITH head AS (
         UPDATE audit_chain_head
            SET seq = seq + 1,
                prev_hash = hash,
                hash = encode(sha256(convert_to(hash || E'\\n' || $1::text || (seq + 1)::text || $2::text, 'UTF8')), 'hex')
          WHERE id = 1
         RETURNING seq, prev_hash, hash
       )
       INSERT INTO audit_events (seq, at, type, actor_id, actor_role, subject_id, data, prev_hash, hash)
       SELECT head.seq, $3, $4, $5, $6, $7, $8, head.prev_hash, head.hash FROM head
       RETURNING seq, prev_hash, hash`,
      [prefix, suffix, input.at, input.type, input.actorId, input.actorRole, input.subjectId, JSON.stringify(input.data)],
    );
    if (r === undefined) throw new Error('audit: the chain has no head row (migration 0007)');
    const entry: AuditEntry = { seq: num(r, 'seq'), ...input, prevHash: str(r, 'prev_hash'), hash: str(r, 'hash') };
    if (entryHash(entry.prevHash, entry) !== entry.hash) {
      throw new TypeError(`audit: the database hashed entry ${entry.seq} differently from entryHash(); nothing is committed`);
    }
    return entry;
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

/**
 * The entry's canonical JSON (as entryHash() builds it) around its sequence number: the text
 * before the number and the text after it. `seq` is the one key between `data` and `subjectId`;
 * keys inside `data` come before it and the strings after it are JSON-escaped, so the last
 * `,"seq":0,"subjectId":` is the top-level one.
 */
export function splitAtSeq(input: AuditInput): [string, string] {
  const text = canonicalJson({ seq: 0, at: input.at, type: input.type, actorId: input.actorId, actorRole: input.actorRole, subjectId: input.subjectId, data: input.data });
  const marker = ',"seq":0,"subjectId":';
  const i = text.lastIndexOf(marker);
  if (i < 0) throw new TypeError('audit: no sequence number in the canonical entry');
  return [text.slice(0, i) + ',"seq":', text.slice(i + ',"seq":0'.length)];
}

/**
 * At open (issue 17): the server hashes text exactly as entryHash() does. The sign-in's one
 * statement (signIns.ts) commits with its answer, so its entries' hashes can only be checked
 * after the commit; the text it hashes is checked before sending (the canonical JSON around the
 * number), and this proves, once per pool, that the server's sha256 over convert_to(text, UTF8)
 * gives Node's bytes for text that needs escaping and is outside ASCII (a server or client
 * encoding that changed the text would show here). A server that differs is refused at open.
 */
export async function checkServerHashing(sql: Sql): Promise<void> {
  const probe = `${GENESIS_HASH}\n{"actorId":"Ærø ✓ 𝄞 \\"q\\" \\\\ \\n","seq":1}`;
  const [r] = await sql.rows(`SELECT encode(sha256(convert_to($1::text, 'UTF8')), 'hex') AS h`, [probe]);
  const expected = createHash('sha256').update(probe, 'utf8').digest('hex');
  if (r === undefined || str(r, 'h') !== expected) {
    throw new Error('audit: this PostgreSQL server hashes text differently from the gateway (check server_encoding and client_encoding are UTF8); refusing to open the store');
  }
}
