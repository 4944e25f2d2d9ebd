/**
 * The transactional outbox on PostgreSQL: mails written with the change they announce, claimed
 * with FOR UPDATE SKIP LOCKED. Claimers on any number of instances never wait for one another and
 * never get the same message: each locks the due rows nobody else has locked and leases them
 * (next_attempt_at moves to the lease's end); a lease that ran out (its instance died) makes the
 * message due again.
 */
import type { NewOutboxMessage, OutboxMessage } from '../../domain/outbox.js';
import type { OutboxRepo } from '../../ports/repositories.js';
import { insertOrConflict } from './conflict.js';
import type { Sql } from './pool.js';
import * as records from './records.js';
import { countOf } from './rows.js';

export class PgOutbox implements OutboxRepo {
  constructor(private readonly sql: Sql) {}

  async enqueue(m: NewOutboxMessage): Promise<void> {
    await insertOrConflict(
      this.sql,
      `INSERT INTO outbox (id, channel, recipient, subject, body, kind, created_at, next_attempt_at, receipt_claims, secret_ref)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING`,
      [m.id, m.channel, m.recipient, m.subject, m.body, m.kind, m.createdAt, m.nextAttemptAt, m.receiptClaims, m.secretRef],
    );
  }

  async claimDue(at: string, leaseUntil: string, limit: number): Promise<OutboxMessage[]> {
    // SQLite orders ties of creation time by insertion (rowid); PostgreSQL by id.
    const rows = await this.sql.rows(
      `UPDATE outbox SET next_attempt_at = $2
       WHERE id IN (
         SELECT id FROM outbox WHERE sent_at IS NULL AND body IS NOT NULL AND next_attempt_at <= $1
         ORDER BY created_at, id COLLATE "C" LIMIT $3 FOR UPDATE SKIP LOCKED)
       RETURNING *`,
      [at, leaseUntil, limit],
    );
    // RETURNING comes in no particular order.
    return rows.map(records.outbox).sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  async markSent(id: string, at: string): Promise<void> {
    await this.sql.count('UPDATE outbox SET sent_at = $1, body = NULL, receipt_claims = NULL, attempts = attempts + 1, last_error = NULL WHERE id = $2', [at, id]);
  }

  async markWithdrawn(id: string, at: string, why: string): Promise<void> {
    await this.sql.count('UPDATE outbox SET sent_at = $1, body = NULL, receipt_claims = NULL, last_error = $2 WHERE id = $3 AND sent_at IS NULL', [
      at,
      `withdrawn: ${why}`.slice(0, 500),
      id,
    ]);
  }

  async markFailed(id: string, error: string, nextAttemptAt: string): Promise<void> {
    await this.sql.count('UPDATE outbox SET attempts = attempts + 1, last_error = $1, next_attempt_at = $2 WHERE id = $3 AND sent_at IS NULL', [
      // PostgreSQL text holds no NUL; the error comes from a mail server, not from us.
      error.replace(/\0/g, '').slice(0, 500),
      nextAttemptAt,
      id,
    ]);
  }

  async pendingCount(): Promise<number> {
    return countOf(await this.sql.rows('SELECT count(*) AS n FROM outbox WHERE sent_at IS NULL'));
  }
}
