/**
 * The audit append on PostgreSQL (NSIS 6 (Low) 7; issue 17): a write's entries, chained from the
 * head row as its previous holder committed it, in ONE statement. PgAudit holds a write's entries
 * back and sends them here right before COMMIT (or earlier, when the write reads the audit log or
 * needs an entry's number), so the chain's head row is locked for this statement's round trip and
 * the COMMIT only, however many other statements the write makes (docs/architecture-postgres.md,
 * "The audit append: held back to the commit").
 *
 * - `head`: the head row, locked (FOR UPDATE under READ COMMITTED: a writer that waited gets the
 *   row as its holder committed it, so no two writes link to the same head and no number is taken
 *   twice or skipped; a rollback gives the numbers back).
 * - `chain`: each entry's hash from the one before, exactly as entryHash() computes it: sha256 over
 *   the previous hash, a newline and the entry's canonical JSON, into which only the sequence
 *   number is spliced (the same recursion as the sign-in's statement, signIns.ts).
 * - `moved`: the head row set to the last entry; `appended`: the entries.
 *
 * Every returned hash is checked against entryHash() before the write goes on to COMMIT: an entry
 * the verifier would refuse is never committed (TypeError, the transaction rolls back).
 */
import { canonicalJson } from '../../audit/canonicalJson.js';
import { entryHash } from '../../audit/hashChain.js';
import type { AuditEntry, AuditInput } from '../../domain/audit.js';
import type { TxSql } from './pool.js';
import { num, str } from './rows.js';

/** The entries' own parameters, $1 to $8; a rider's come after them. */
const ENTRY_PARAMS = 8;

/**
 * The chain's CTEs after an `entry` CTE (prefix, suffix, at, type, actor_id, actor_role,
 * subject_id, data, n from 1) and a `head` CTE (the locked head row): `chain` hashes each entry
 * from the one before exactly as entryHash() does, `moved` sets the head to the last entry,
 * `appended` inserts the entries (RETURNING seq, prev_hash, hash). Shared by this append and the
 * sign-in's one statement (signIns.ts).
 */
export const CHAIN_CTES = `chain AS (
  SELECT 0::bigint AS n, head.seq, NULL::text AS prev_hash, head.hash FROM head
  UNION ALL
  SELECT entry.n, chain.seq + 1, chain.hash,
         encode(sha256(convert_to(chain.hash || E'\\n' || entry.prefix || (chain.seq + 1)::text || entry.suffix, 'UTF8')), 'hex')
    FROM chain JOIN entry ON entry.n = chain.n + 1
),
moved AS (
  UPDATE audit_chain_head h SET seq = last.seq, prev_hash = last.prev_hash, hash = last.hash
    FROM (SELECT seq, prev_hash, hash FROM chain WHERE n > 0 ORDER BY n DESC LIMIT 1) last
   WHERE h.id = 1
  RETURNING h.seq
),
appended AS (
  INSERT INTO audit_events (seq, at, type, actor_id, actor_role, subject_id, data, prev_hash, hash)
  SELECT chain.seq, entry.at, entry.type, entry.actor_id, entry.actor_role, entry.subject_id, entry.data, chain.prev_hash, chain.hash
    FROM chain JOIN entry ON entry.n = chain.n
  RETURNING seq, prev_hash, hash
)`;

/** The statement for entries alone; with riders their CTEs come after `appended` (statement()). */
export const APPEND_ENTRIES = statement([]);

/**
 * A row written with the held entries, naming one of them (a credential's history row):
 * `INSERT INTO <into> VALUES (<values>, <the entry's number>)`. The rows of one `into` are one
 * INSERT of several rows in the order they were made (one data-modifying CTE after `appended`),
 * written only if the append is.
 */
export interface Rider {
  /** The table and its columns, the entry's number last: SQL text of the adapter's own, never input. */
  into: string;
  values: readonly unknown[];
}

/** The append, with one data-modifying CTE per riders' INSERT. */
function statement(riders: readonly string[]): string {
  return `WITH RECURSIVE
entry AS (
  SELECT e.prefix, e.suffix, e.at, e.type, e.actor_id, e.actor_role, e.subject_id, e.data, e.n
    FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::text[], $8::json[])
         WITH ORDINALITY AS e(prefix, suffix, at, type, actor_id, actor_role, subject_id, data, n)
),
head AS (
  SELECT seq, hash FROM audit_chain_head WHERE id = 1 FOR UPDATE
),
${CHAIN_CTES}${riders.map((r, i) => `,\nrider${i} AS (\n  ${r}\n  RETURNING 1\n)`).join('')}
SELECT (SELECT count(*) FROM moved) AS moved, ${riders.length === 0 ? '0' : riders.map((_, i) => `(SELECT count(*) FROM rider${i})`).join(' + ')} AS ridden,
       a.seq, a.prev_hash, a.hash
  FROM appended a
 ORDER BY a.seq`;
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
 * The entry's canonical JSON around its number, checked: splicing a number in gives
 * canonicalJson() of the entry with it. An `at` not in Date.toISOString() form is refused: the
 * column reads it back in that form, and what is hashed must be what reads back.
 */
export function checkedSplit(input: AuditInput): [string, string] {
  const when = new Date(input.at);
  if (Number.isNaN(when.getTime()) || when.toISOString() !== input.at) {
    throw new TypeError(`audit: an entry's time must be in Date.toISOString() form (it is hashed as written): ${input.at}`);
  }
  const [prefix, suffix] = splitAtSeq(input);
  const probe = 9007199254740991;
  const whole = canonicalJson({ seq: probe, at: input.at, type: input.type, actorId: input.actorId, actorRole: input.actorRole, subjectId: input.subjectId, data: input.data });
  if (prefix + String(probe) + suffix !== whole) throw new TypeError('audit: the canonical entry does not split around its sequence number');
  return [prefix, suffix];
}

/** An entry held back, with its canonical JSON split around its number (checked when it was made). */
export interface HeldEntry {
  input: AuditInput;
  split: [string, string];
}

/**
 * Appends `held` in order, in one statement, with the rows riding on them (`n`: the 1-based place
 * of the entry a rider names), and returns the entries chained (checked against entryHash()).
 */
export async function appendEntries(tx: TxSql, held: readonly HeldEntry[], riders: readonly { n: number; rider: Rider }[] = []): Promise<AuditEntry[]> {
  const inputs = held.map((h) => h.input);
  const params: unknown[] = [];
  const param = (value: unknown): string => {
    params.push(value);
    return `$${ENTRY_PARAMS + params.length}`;
  };
  const byTable = new Map<string, string[]>();
  for (const { n, rider } of riders) {
    if (!Number.isInteger(n) || n < 1 || n > held.length) throw new Error('audit: a row rides on an entry that is not held');
    const rows = byTable.get(rider.into) ?? [];
    rows.push(`(${rider.values.map(param).join(', ')}, (SELECT seq FROM chain WHERE n = ${n}))`);
    byTable.set(rider.into, rows);
  }
  const ridden = [...byTable].map(([into, rows]) => `INSERT INTO ${into}\n  VALUES ${rows.join(',\n         ')}`);
  const rows = await tx.rows(riders.length === 0 ? APPEND_ENTRIES : statement(ridden), [
    held.map((h) => h.split[0]),
    held.map((h) => h.split[1]),
    inputs.map((e) => e.at),
    inputs.map((e) => e.type),
    inputs.map((e) => e.actorId),
    inputs.map((e) => e.actorRole),
    inputs.map((e) => e.subjectId),
    inputs.map((e) => JSON.stringify(e.data)),
    ...params,
  ]);
  const first = rows[0];
  if (first === undefined) throw new Error('audit: the chain has no head row (migration 0007)');
  if (rows.length !== held.length || num(first, 'moved') !== 1 || num(first, 'ridden') !== riders.length) throw new Error('audit: the append wrote other than it was asked');
  const entries = inputs.map((input, i): AuditEntry => {
    const r = rows[i];
    if (r === undefined) throw new Error('audit: the append returned too few entries');
    return { seq: num(r, 'seq'), ...input, prevHash: str(r, 'prev_hash'), hash: str(r, 'hash') };
  });
  for (const [i, e] of entries.entries()) {
    const prev = entries[i - 1];
    if ((prev !== undefined && (e.seq !== prev.seq + 1 || e.prevHash !== prev.hash)) || entryHash(e.prevHash, e) !== e.hash) {
      throw new TypeError(`audit: the database hashed entry ${e.seq} differently from entryHash(); nothing is committed`);
    }
  }
  return entries;
}
