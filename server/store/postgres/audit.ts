/**
 * The audit trail on PostgreSQL (NSIS 6 (Low) 7): ONE hash chain across every instance.
 *
 * A write's entries are held back (PgAudit.add) and appended by ONE statement right before its
 * COMMIT (auditAppend.ts): it locks the chain's head row (audit_chain_head, one row) until the
 * commit, chains the entries from the head as its previous holder committed it, moves the head and
 * inserts them, with the history rows that name them. No two transactions link to the same head,
 * no sequence number is taken twice or skipped (a rollback gives its numbers back, as the row lock
 * is released with it). Until issue 17 this was the audit-chain advisory lock, a head read and the
 * INSERT (three round trips under the lock); then one statement per entry, the lock held from the
 * write's first entry across its remaining round trips; now one round trip and the COMMIT.
 *
 * The entry reads back byte for byte: `at` is timestamptz at millisecond precision (the adapter
 * reads it back as Date.toISOString() text; the column refuses finer values), `data` is json, which
 * keeps the text written. So an `at` that is not in Date.toISOString() form is refused before it is
 * hashed: it would not read back as hashed.
 */
import { createHash } from 'node:crypto';
import { GENESIS_HASH } from '../../audit/hashChain.js';
import type { AuditEntry, AuditHead, AuditInput, AuditQuery, AuditSeqRange } from '../../domain/audit.js';
import type { AuditReader, AuditRepo, PendingAuditEntry } from '../../ports/repositories.js';
import { appendEntries, checkedSplit, type HeldEntry, type Rider } from './auditAppend.js';
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

type Held = HeldEntry & { entry?: AuditEntry };

export class PgAudit extends PgAuditReader implements AuditRepo {
  /** Entries added but not yet appended, in order (auditAppend.ts). */
  private held: Held[] = [];
  /** Statements that write with the held entries, naming one of them (ride()). */
  private riders: { item: Held; rider: Rider }[] = [];
  /** The held entry behind each handle add() gave out. */
  private readonly items = new WeakMap<PendingAuditEntry, Held>();
  /** The append under way, if any: a chained() or read waits for it. */
  private appending: Promise<void> = Promise.resolve();

  constructor(private readonly tx: TxSql) {
    super(tx);
  }

  /**
   * Issue 17: the entry is held back and appended, with every other entry of this write, by ONE
   * statement right before COMMIT (PostgresStore.write calls appendHeld()), so the chain's head
   * row is locked for that statement and the COMMIT only, not from the write's first entry across
   * its remaining round trips. Appended earlier, in order, by `append`, `chained()` and any read
   * of the audit log in this write (it sees its own entries, as on SQLite).
   */
  async add(input: AuditInput): Promise<PendingAuditEntry> {
    const item: Held = { input, split: checkedSplit(input) };
    this.held.push(item);
    const pending: PendingAuditEntry = {
      chained: async () => {
        await this.appendHeld();
        if (item.entry === undefined) throw new Error('audit: a held entry was not appended');
        return item.entry;
      },
    };
    this.items.set(pending, item);
    return pending;
  }

  /**
   * A row that names `entry` (its number), written by the statement that appends it (auditAppend.ts):
   * true while the entry is held back, false once it is appended (or is not this write's), when the
   * caller writes the row itself with the number chained() gives.
   */
  ride(entry: PendingAuditEntry, rider: Rider): boolean {
    const item = this.items.get(entry);
    if (item === undefined || !this.held.includes(item)) return false;
    this.riders.push({ item, rider });
    return true;
  }

  /**
   * The entry chained now (with every entry held before it, in one statement): the chain's head
   * row stays locked until COMMIT. For a caller that needs the entry's number or hash at once.
   */
  async append(input: AuditInput): Promise<AuditEntry> {
    return (await this.add(input)).chained();
  }

  /** Appends the entries held back, in order, in one statement (auditAppend.ts); nothing when none are. */
  appendHeld(): Promise<void> {
    const items = this.held;
    if (items.length > 0) {
      const riders = this.riders.map(({ item, rider }) => ({ n: items.indexOf(item) + 1, rider }));
      this.held = [];
      this.riders = [];
      this.appending = this.appending.then(async () => {
        const entries = await appendEntries(this.tx, items, riders);
        items.forEach((item, i) => (item.entry = entries[i]));
      });
    }
    return this.appending;
  }

  // A read of the audit log in this write sees the write's own entries: they are appended first.
  override async head(): Promise<AuditHead> {
    await this.appendHeld();
    return super.head();
  }

  override async page(fromSeq: number, limit: number, throughSeq?: number): Promise<AuditEntry[]> {
    await this.appendHeld();
    return super.page(fromSeq, limit, throughSeq);
  }

  override async hashAt(seq: number): Promise<string | undefined> {
    await this.appendHeld();
    return super.hashAt(seq);
  }

  override async countThrough(seq: number): Promise<number> {
    await this.appendHeld();
    return super.countThrough(seq);
  }

  override async forPerson(identityId: string, limit?: number): Promise<AuditEntry[]> {
    await this.appendHeld();
    return super.forPerson(identityId, limit);
  }

  override async search(q: AuditQuery, order: 'asc' | 'desc', limit: number): Promise<AuditEntry[]> {
    await this.appendHeld();
    return super.search(q, order, limit);
  }

  override async seqRange(from: string | undefined, to: string | undefined): Promise<AuditSeqRange | undefined> {
    await this.appendHeld();
    return super.seqRange(from, to);
  }

  /**
   * NSIS 4.1.4: the signed prune is recorded first; then, for this transaction only, the delete
   * trigger lets entries through `throughSeq` go (and only those a recorded prune covers).
   */
  async pruneThrough(throughSeq: number, anchorCheckpointId: number, at: string, jws: string): Promise<number> {
    await this.appendHeld();
    await this.tx.count('INSERT INTO audit_prunes (through_seq, anchor_checkpoint_id, at, jws) VALUES ($1, $2, $3, $4)', [throughSeq, anchorCheckpointId, at, jws]);
    await this.tx.rows("SELECT set_config('gateway.audit_prune_through', $1::text, true) AS through", [String(throughSeq)]);
    const n = await this.tx.count('DELETE FROM audit_events WHERE seq <= $1', [throughSeq]);
    await this.tx.rows("SELECT set_config('gateway.audit_prune_through', '', true) AS through");
    return n;
  }
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
