/** The transactional outbox: mails written with the change they announce, claimed with a lease. */
import type { NewOutboxMessage, OutboxMessage } from '../../domain/outbox.js';
import type { OutboxRepo } from '../../ports/repositories.js';
import type { Connection } from './connection.js';
import * as rows from './rows.js';

export class SqliteOutbox implements OutboxRepo {
  constructor(private readonly db: Connection) {}

  async enqueue(m: NewOutboxMessage): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO outbox (id, channel, recipient, subject, body, kind, created_at, next_attempt_at, receipt_claims, secret_ref)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(m.id, m.channel, m.recipient, m.subject, m.body, m.kind, m.createdAt, m.nextAttemptAt, m.receiptClaims, m.secretRef);
  }

  /** Inside the write transaction (BEGIN IMMEDIATE), so no other process claims the same rows. */
  async claimDue(at: string, leaseUntil: string, limit: number): Promise<OutboxMessage[]> {
    const due = this.db
      .prepare('SELECT * FROM outbox WHERE sent_at IS NULL AND body IS NOT NULL AND next_attempt_at <= ? ORDER BY created_at, rowid LIMIT ?')
      .all(at, limit)
      .map((r) => rows.outbox(r));
    const claim = this.db.prepare('UPDATE outbox SET next_attempt_at = ? WHERE id = ? AND sent_at IS NULL AND next_attempt_at <= ?');
    return due.filter((m) => claim.run(leaseUntil, m.id, at).changes === 1).map((m) => ({ ...m, nextAttemptAt: leaseUntil }));
  }

  async markSent(id: string, at: string): Promise<void> {
    this.db
      .prepare('UPDATE outbox SET sent_at = ?, body = NULL, receipt_claims = NULL, attempts = attempts + 1, last_error = NULL WHERE id = ?')
      .run(at, id);
  }

  async markWithdrawn(id: string, at: string, why: string): Promise<void> {
    this.db
      .prepare('UPDATE outbox SET sent_at = ?, body = NULL, receipt_claims = NULL, last_error = ? WHERE id = ? AND sent_at IS NULL')
      .run(at, `withdrawn: ${why}`.slice(0, 500), id);
  }

  async markFailed(id: string, error: string, nextAttemptAt: string): Promise<void> {
    this.db
      .prepare('UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE id = ? AND sent_at IS NULL')
      .run(error.slice(0, 500), nextAttemptAt, id);
  }

  async pendingCount(): Promise<number> {
    return rows.num(this.db.prepare('SELECT count(*) AS n FROM outbox WHERE sent_at IS NULL').get(), 'n');
  }
}
