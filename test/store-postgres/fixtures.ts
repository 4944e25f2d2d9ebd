/**
 * Rows for the PostgreSQL engine tests, written with plain statements (the repositories come
 * later): just enough organisations, identities, keys, challenges, mails and audit entries to
 * exercise the schema, the locks and the single-use statements.
 */
import pg from 'pg';
import { entryHash, GENESIS_HASH, type AuditEntry } from '../../server/audit/hashChain.js';
import { PgAudit } from '../../server/store/postgres/audit.js';
import type { Sql, TxSql } from '../../server/store/postgres/pool.js';

const T0 = '2026-01-05T08:00:00.000Z';

export async function insertOrganisation(sql: Sql, id: string): Promise<void> {
  await sql.count("INSERT INTO organisations (id, cvr, name, created_at) VALUES ($1, '12345674', 'Demo ApS', $2)", [id, T0]);
}

export async function insertIdentity(sql: Sql, id: string, organisationId: string, email: string): Promise<void> {
  await sql.count(
    `INSERT INTO identities (id, organisation_id, name, email, email_norm, ial, proofing_method, binding_state, created_at)
     VALUES ($1, $2, 'Anna', $3, lower($3), 'substantial', 'in-person', 'active', $4)`,
    [id, organisationId, email, T0],
  );
}

export async function insertCredential(sql: Sql, id: string, identityId: string, opts: { signCount?: number } = {}): Promise<void> {
  await sql.count(
    `INSERT INTO credentials (id, identity_id, credential_id, public_key, aaguid, sign_count, transports, backup_eligible,
       backup_state, attestation_format, attestation_object, uv_at_registration, label, state, created_at, updated_at)
     VALUES ($1, $2, $1 || '-cid', $3, '00000000-0000-0000-0000-000000000000', $4, $5, false, false, 'packed', $3, true,
       'Key', 'active', $6, $6)`,
    [id, identityId, Buffer.from([1, 2, 3]), opts.signCount ?? 0, JSON.stringify(['usb']), T0],
  );
}

export async function insertChallenge(sql: Sql, challenge: string, expiresAt: string): Promise<void> {
  await sql.count(
    "INSERT INTO challenges (challenge, flow_hash, ceremony, created_at, expires_at) VALUES ($1, 'flow', 'signin', $2, $3)",
    [challenge, T0, expiresAt],
  );
}

export async function insertOutbox(sql: Sql, id: string, createdAt: string): Promise<void> {
  await sql.count(
    "INSERT INTO outbox (id, channel, recipient, subject, body, kind, created_at, next_attempt_at) VALUES ($1, 'email', 'a@example.dk', 's', 'b', 'test', $2, $2)",
    [id, createdAt],
  );
}

/**
 * The statement the challenge store consumes with: exactly one caller across every connection gets
 * the row; under READ COMMITTED a caller that waited for the winner's row lock re-checks
 * `consumed_at IS NULL` on the committed row and gets nothing.
 */
export async function consumeChallenge(sql: Sql, challenge: string, at: string): Promise<boolean> {
  const rows = await sql.rows('UPDATE challenges SET consumed_at = $2 WHERE challenge = $1 AND consumed_at IS NULL RETURNING challenge', [challenge, at]);
  return rows.length === 1;
}

/**
 * The outbox claim: due messages, oldest first, that no other transaction has locked; they are
 * leased to this caller until `leaseUntil` when the transaction commits.
 */
export async function claimOutbox(sql: TxSql, at: string, leaseUntil: string, limit: number): Promise<string[]> {
  const rows = await sql.rows(
    `UPDATE outbox SET next_attempt_at = $2
     WHERE id IN (SELECT id FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= $1 ORDER BY created_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)
     RETURNING id`,
    [at, leaseUntil, limit],
  );
  // RETURNING comes in no particular order.
  return rows.map((r) => String(r['id'])).sort();
}

function entryOf(r: Record<string, unknown>): AuditEntry {
  // json columns come back as the text stored (server/store/postgres/pool.ts).
  const data: unknown = JSON.parse(String(r['data']));
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new TypeError('audit data is not an object');
  return {
    seq: Number(r['seq']),
    at: String(r['at']),
    type: String(r['type']),
    actorId: r['actor_id'] === null ? null : String(r['actor_id']),
    actorRole: String(r['actor_role']),
    subjectId: r['subject_id'] === null ? null : String(r['subject_id']),
    data: data as AuditEntry['data'],
    prevHash: String(r['prev_hash']),
    hash: String(r['hash']),
  };
}

/** Appends one audit entry the way the audit repository will: lock, read the head, link, insert. */
/** An append through the adapter's own statement (the head row's lock, link and hash in one). */
export async function appendAudit(sql: TxSql, type: string, at: string, data: AuditEntry['data']): Promise<number> {
  return (await new PgAudit(sql).append({ at, type, actorId: null, actorRole: 'system', subjectId: null, data })).seq;
}

export async function auditEntries(sql: Sql): Promise<AuditEntry[]> {
  return (await sql.rows('SELECT * FROM audit_events ORDER BY seq')).map(entryOf);
}

/**
 * Records the text of every statement any pg client sends from now until `restore()` (the
 * one-statement read and write tests count them: no BEGIN or COMMIT, a second one never sent).
 */
export function recordStatements(): { sent: string[]; restore: () => void } {
  const sent: string[] = [];
  const query = pg.Client.prototype.query;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const first = args[0];
    sent.push(typeof first === 'string' ? first : typeof first === 'object' && first !== null && 'text' in first ? String(first.text) : '');
    return (query as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof query;
  return { sent, restore: () => void (pg.Client.prototype.query = query) };
}
