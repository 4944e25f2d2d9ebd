/**
 * The one write of a sign-in on PostgreSQL (issue 17; the port's SignInRepo) as ONE statement of
 * data-modifying CTEs. Run by `write(fn, { oneStatement: true })` it is its own transaction: one
 * round trip, and the audit chain's head row is locked only inside the server (from the append to
 * the commit's WAL flush), never while the gateway's event loop gets round to its next statement.
 * Until issue 17's second pass the write was BEGIN, the compare-and-set, the previous session's
 * end, the session, one statement per audit entry and COMMIT: the head was held across two round
 * trips to a busy gateway, and with two instances the others queued behind it (the 2-instance
 * slowdown in docs/benchmarks.md; docs/architecture-postgres.md, "The sign-in write").
 *
 * - `used`: the counter compare-and-set of recordUse (NSIS 3.2.3 (Low) 1, 3-4). Under READ
 *   COMMITTED a caller that waited for another's row lock re-checks state and counter on the
 *   committed row: a suspension or another use committed meanwhile leaves it empty, and every
 *   other part of the statement is conditioned on it, so then nothing at all is written.
 * - `ended`: the browser's previous session, if still live (its person is the one the flow read).
 * - `head`: the chain's head row, locked (FOR UPDATE: a writer that waited gets the row as its
 *   holder committed it) last, after the key's and the previous session's rows (it reads `ended`
 *   first), the order every other write takes them in: changes, then the audit; `chain`: the entries' hashes, each from the one before, exactly as
 *   PgAudit.append computes one (sha256 over the previous hash, a newline and the entry's
 *   canonical JSON, into which only the sequence number is spliced; server/audit/hashChain.ts).
 * - `moved`: the head row set to the last entry; `appended`: the entries.
 *
 * The canonical JSON around each number is checked before the statement is sent (an entry the
 * verifier would refuse is never sent), and every returned hash is checked against entryHash().
 */
import { entryHash } from '../../audit/hashChain.js';
import type { AuditEntry, AuditInput } from '../../domain/audit.js';
import type { SignInCommit, SignInCommitted, SignInRepo } from '../../ports/repositories.js';
import { CHAIN_CTES, checkedSplit } from './auditAppend.js';
import type { Sql } from './pool.js';
import { num, numOrNull, str } from './rows.js';

/** The statement (exported for the benchmark, which counts it as a durable commit: it begins no transaction). */
export const COMMIT_SIGN_IN = `WITH RECURSIVE
used AS (
  UPDATE credentials SET sign_count = $3, backup_state = $4, last_used_at = $5, updated_at = $5
   WHERE id = $1 AND state = 'active' AND sign_count = $2
  RETURNING id
),
ended AS (
  UPDATE sessions SET ended_at = $5, end_reason = $17
   WHERE id_hash = $15 AND identity_id = $16 AND ended_at IS NULL AND EXISTS (SELECT 1 FROM used)
  RETURNING id_hash
),
opened AS (
  INSERT INTO sessions (id_hash, identity_id, credential_id, aal, amr, sid, created_at, last_seen_at, absolute_expires_at)
  SELECT $6, $7, $8, $9, $10, $11, $12, $13, $14 FROM used
  RETURNING id_hash
),
entry AS (
  SELECT e.prefix, e.suffix, e.at, e.type, e.actor_id, e.actor_role, e.subject_id, e.data,
         row_number() OVER (ORDER BY e.ord) AS n
    FROM unnest($18::text[], $19::text[], $20::timestamptz[], $21::text[], $22::text[], $23::text[], $24::text[], $25::json[], $26::boolean[])
         WITH ORDINALITY AS e(prefix, suffix, at, type, actor_id, actor_role, subject_id, data, if_ended, ord)
   WHERE EXISTS (SELECT 1 FROM used) AND (NOT e.if_ended OR EXISTS (SELECT 1 FROM ended))
),
head AS (
  SELECT seq, hash FROM audit_chain_head
   WHERE id = 1 AND EXISTS (SELECT 1 FROM entry) AND (SELECT count(*) FROM ended) >= 0
  FOR UPDATE
),
${CHAIN_CTES}
SELECT (SELECT count(*) FROM used) AS used, (SELECT count(*) FROM ended) AS ended, (SELECT count(*) FROM opened) AS opened,
       (SELECT count(*) FROM moved) AS moved, a.seq, a.prev_hash, a.hash
  FROM (SELECT 1) AS one LEFT JOIN appended a ON true
 ORDER BY a.seq`;

export class PgSignIns implements SignInRepo {
  constructor(private readonly sql: Sql) {}

  async commit(c: SignInCommit): Promise<SignInCommitted | undefined> {
    // entries[0], then the previous session's entry (appended only if the statement ends it), then the rest.
    const p = c.previous;
    const inputs = p ? [...c.entries.slice(0, 1), p.entry, ...c.entries.slice(1)] : c.entries;
    const conditional = inputs.map((e) => p !== undefined && e === p.entry);
    const split = inputs.map(checkedSplit);
    const s = c.session;
    const rows = await this.sql.rows(COMMIT_SIGN_IN, [
      c.keyId,
      c.expectedCount,
      c.newCount,
      c.backupState,
      c.at,
      s.idHash,
      s.identityId,
      s.credentialId,
      s.aal,
      JSON.stringify(s.amr),
      s.sid,
      s.createdAt,
      s.lastSeenAt,
      s.absoluteExpiresAt,
      p?.idHash ?? null,
      p?.identityId ?? null,
      p?.reason ?? null,
      split.map(([prefix]) => prefix),
      split.map(([, suffix]) => suffix),
      inputs.map((e) => e.at),
      inputs.map((e) => e.type),
      inputs.map((e) => e.actorId),
      inputs.map((e) => e.actorRole),
      inputs.map((e) => e.subjectId),
      inputs.map((e) => JSON.stringify(e.data)),
      conditional,
    ]);
    const first = rows[0];
    if (first === undefined) throw new Error('store: the sign-in statement returned no row');
    if (num(first, 'used') !== 1) return undefined;
    const previousEnded = num(first, 'ended') === 1;
    const written = inputs.filter((_, i) => !conditional[i] || previousEnded);
    if (num(first, 'opened') !== 1 || num(first, 'moved') !== (written.length > 0 ? 1 : 0) || rows.length !== Math.max(1, written.length)) {
      throw new Error('store: the sign-in statement wrote other than it was asked');
    }
    const entries: AuditEntry[] = written.map((input, i) => {
      const r = rows[i];
      if (r === undefined || numOrNull(r, 'seq') === null) throw new Error('store: the sign-in statement returned too few entries');
      return { seq: num(r, 'seq'), ...input, prevHash: str(r, 'prev_hash'), hash: str(r, 'hash') };
    });
    for (const [i, e] of entries.entries()) {
      const prev = entries[i - 1];
      if ((prev !== undefined && (e.seq !== prev.seq + 1 || e.prevHash !== prev.hash)) || entryHash(e.prevHash, e) !== e.hash) {
        // Committed already (one statement); the checkpointer's re-hash raises the alarm on it too.
        throw new Error(`audit: the database chained entry ${e.seq} differently from entryHash()`);
      }
    }
    return { previousEnded, entries };
  }
}
