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
import { canonicalJson } from '../../audit/canonicalJson.js';
import type { AuditEntry, AuditHead, AuditInput } from '../../domain/audit.js';
import type { AuditReader, AuditRepo } from '../../ports/repositories.js';
import { lockAuditChain } from './advisoryLocks.js';
import type { Sql, TxSql } from './pool.js';
import * as records from './records.js';
import { countOf, num, str } from './rows.js';

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
    const head = this.ownHead;
    if (head === undefined) {
      await lockAuditChain(this.tx);
      return this.appendAtHead(input);
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
   * The first append of a transaction, right after the chain lock was granted: the head is read,
   * linked to and hashed by the INSERT itself (one round trip instead of two; issue 17). The
   * INSERT is a statement that starts after the lock was granted, so under READ COMMITTED its
   * snapshot holds the previous holder's committed entry, exactly as the separate head read did.
   * PostgreSQL hashes the same bytes entryHash() hashes: the previous hash, a newline, and the
   * entry's canonical JSON, into which only the sequence number is spliced (its key sorts between
   * `data` and `subjectId`, so it has one place). The hash is then recomputed here: an entry the
   * verifier would refuse is never committed (TypeError, the transaction rolls back).
   */
  private async appendAtHead(input: AuditInput): Promise<AuditEntry> {
    const [prefix, suffix] = splitAtSeq(input);
    const [r] = await this.tx.rows(
      `WITH head AS (
         SELECT COALESCE(max(seq), 0) AS seq,
                COALESCE((SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1), $1) AS hash
           FROM audit_events
       )
       INSERT INTO audit_events (seq, at, type, actor_id, actor_role, subject_id, data, prev_hash, hash)
       SELECT head.seq + 1, $2, $3, $4, $5, $6, $7, head.hash,
              encode(sha256(convert_to(head.hash || E'\\n' || $8::text || (head.seq + 1)::text || $9::text, 'UTF8')), 'hex')
         FROM head
       RETURNING seq, prev_hash, hash`,
      [GENESIS_HASH, input.at, input.type, input.actorId, input.actorRole, input.subjectId, JSON.stringify(input.data), prefix, suffix],
    );
    if (r === undefined) throw new Error('audit: the append returned no row');
    const entry: AuditEntry = { seq: num(r, 'seq'), ...input, prevHash: str(r, 'prev_hash'), hash: str(r, 'hash') };
    if (entryHash(entry.prevHash, entry) !== entry.hash) {
      throw new TypeError(`audit: the database hashed entry ${entry.seq} differently from entryHash(); nothing is committed`);
    }
    this.ownHead = { seq: entry.seq, hash: entry.hash };
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
function splitAtSeq(input: AuditInput): [string, string] {
  const text = canonicalJson({ seq: 0, at: input.at, type: input.type, actorId: input.actorId, actorRole: input.actorRole, subjectId: input.subjectId, data: input.data });
  const marker = ',"seq":0,"subjectId":';
  const i = text.lastIndexOf(marker);
  if (i < 0) throw new TypeError('audit: no sequence number in the canonical entry');
  return [text.slice(0, i) + ',"seq":', text.slice(i + ',"seq":0'.length)];
}
