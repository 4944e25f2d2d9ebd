/** Enrolment links and activation codes: single use, counted attempts, minted at delivery. */
import type { ActivationCodeRecord, CodeAttempt, Enrolment, NewActivationCode, NewEnrolment } from '../../domain/keys.js';
import type { CodeRepo, EnrolmentRepo } from '../../ports/repositories.js';
import type { Connection } from './connection.js';
import * as rows from './rows.js';

/** A link or code that is neither used, withdrawn nor locked. */
const OPEN = 'consumed_at IS NULL AND superseded_at IS NULL AND locked_at IS NULL';

export class SqliteEnrolments implements EnrolmentRepo {
  constructor(private readonly db: Connection) {}

  async insert(e: NewEnrolment): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO enrolments (id, identity_id, token_hash, created_by, created_at, expires_at, replaces_credential_id, basis)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(e.id, e.identityId, e.tokenHash, e.createdBy, e.createdAt, e.expiresAt, e.replacesCredentialId, e.basis);
  }

  async get(id: string): Promise<Enrolment | undefined> {
    const r = this.db.prepare('SELECT * FROM enrolments WHERE id = ?').get(id);
    return r === undefined ? undefined : rows.enrolment(r);
  }

  async byTokenHash(tokenHash: string): Promise<Enrolment | undefined> {
    const r = this.db.prepare('SELECT * FROM enrolments WHERE token_hash = ?').get(tokenHash);
    return r === undefined ? undefined : rows.enrolment(r);
  }

  async consume(id: string, at: string): Promise<boolean> {
    return this.db.prepare(`UPDATE enrolments SET consumed_at = ? WHERE id = ? AND ${OPEN} AND expires_at > ?`).run(at, id, at).changes === 1;
  }

  async recordFailedAttempt(id: string, max: number, at: string): Promise<{ attempts: number; locked: boolean } | undefined> {
    const r = this.db
      .prepare(
        `UPDATE enrolments SET failed_attempts = failed_attempts + 1,
           locked_at = CASE WHEN failed_attempts + 1 >= ? THEN ? ELSE NULL END
         WHERE id = ? AND ${OPEN}
         RETURNING failed_attempts, locked_at`,
      )
      .get(max, at, id);
    if (r === undefined) return undefined;
    const row = rows.enrolmentAttempts(r);
    return { attempts: row.failedAttempts, locked: row.lockedAt !== null };
  }

  async supersedeOpen(identityId: string, at: string): Promise<number> {
    return this.db
      .prepare('UPDATE enrolments SET superseded_at = ? WHERE identity_id = ? AND consumed_at IS NULL AND superseded_at IS NULL')
      .run(at, identityId).changes;
  }

  async mintToken(enrolmentId: string, tokenHash: string, at: string): Promise<boolean> {
    return this.db.prepare(`UPDATE enrolments SET token_hash = ? WHERE id = ? AND ${OPEN} AND expires_at > ?`).run(tokenHash, enrolmentId, at).changes === 1;
  }
}

export class SqliteCodes implements CodeRepo {
  constructor(private readonly db: Connection) {}

  async insert(c: NewActivationCode): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO activation_codes (id, credential_id, purpose, code_hash, requested_by, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(c.id, c.credentialId, c.purpose, c.codeHash, c.requestedBy, c.createdAt, c.expiresAt);
  }

  async mint(codeId: string, codeHash: string, at: string): Promise<boolean> {
    return this.db.prepare(`UPDATE activation_codes SET code_hash = ?, minted_at = ? WHERE id = ? AND ${OPEN} AND expires_at > ?`).run(codeHash, at, codeId, at).changes === 1;
  }

  async supersedeOpen(credentialId: string, at: string): Promise<number> {
    return this.db.prepare(`UPDATE activation_codes SET superseded_at = ? WHERE credential_id = ? AND ${OPEN}`).run(at, credentialId).changes;
  }

  async latestOpen(credentialId: string): Promise<ActivationCodeRecord | undefined> {
    const r = this.db
      .prepare(
        `SELECT * FROM activation_codes WHERE credential_id = ? AND consumed_at IS NULL AND superseded_at IS NULL
         ORDER BY created_at DESC, rowid DESC LIMIT 1`,
      )
      .get(credentialId);
    return r === undefined ? undefined : rows.activationCode(r);
  }

  async countAttempt(codeId: string, max: number, at: string): Promise<CodeAttempt> {
    const r = this.db
      .prepare(
        `UPDATE activation_codes SET failed_attempts = failed_attempts + 1
         WHERE id = ? AND ${OPEN} AND failed_attempts < ? AND expires_at > ?
         RETURNING failed_attempts, code_hash`,
      )
      .get(codeId, max, at);
    if (r !== undefined) return { counted: true, attempts: rows.num(r, 'failed_attempts'), codeHash: rows.str(r, 'code_hash') };
    const row = this.db.prepare('SELECT * FROM activation_codes WHERE id = ?').get(codeId);
    const code = row === undefined ? undefined : rows.activationCode(row);
    if (!code || code.consumedAt !== null || code.supersededAt !== null) return { counted: false, why: 'used' };
    if (code.lockedAt !== null || code.failedAttempts >= max) return { counted: false, why: 'locked' };
    return { counted: false, why: 'expired' };
  }

  async lock(codeId: string, at: string): Promise<void> {
    this.db.prepare('UPDATE activation_codes SET locked_at = coalesce(locked_at, ?) WHERE id = ?').run(at, codeId);
  }

  async consume(codeId: string, at: string): Promise<boolean> {
    return this.db.prepare(`UPDATE activation_codes SET consumed_at = ? WHERE id = ? AND ${OPEN} AND expires_at > ?`).run(at, codeId, at).changes === 1;
  }
}
