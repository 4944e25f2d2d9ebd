/**
 * Enrolment links and activation codes: single use and counted attempts, each one
 * `UPDATE ... WHERE <still open> RETURNING` under READ COMMITTED. A caller that waited for the
 * winner's row lock re-evaluates the WHERE on the committed row, so of any number of callers on
 * any number of instances exactly one wins, and every attempt is counted.
 */
import type { ActivationCodeRecord, CodeAttempt, Enrolment, NewActivationCode, NewEnrolment } from '../../domain/keys.js';
import type { CodeRepo, EnrolmentRepo } from '../../ports/repositories.js';
import { insertOrConflict } from './conflict.js';
import type { Sql } from './pool.js';
import * as records from './records.js';
import { num, str, strOrNull } from './rows.js';

/** A link or code that is neither used, withdrawn nor locked. */
const OPEN = 'consumed_at IS NULL AND superseded_at IS NULL AND locked_at IS NULL';

export class PgEnrolments implements EnrolmentRepo {
  constructor(private readonly sql: Sql) {}

  async insert(e: NewEnrolment): Promise<void> {
    await insertOrConflict(
      this.sql,
      `INSERT INTO enrolments (id, identity_id, token_hash, created_by, created_at, expires_at, replaces_credential_id, basis)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
      [e.id, e.identityId, e.tokenHash, e.createdBy, e.createdAt, e.expiresAt, e.replacesCredentialId, e.basis],
    );
  }

  async get(id: string): Promise<Enrolment | undefined> {
    const [r] = await this.sql.rows('SELECT * FROM enrolments WHERE id = $1', [id]);
    return r === undefined ? undefined : records.enrolment(r);
  }

  async byTokenHash(tokenHash: string): Promise<Enrolment | undefined> {
    const [r] = await this.sql.rows('SELECT * FROM enrolments WHERE token_hash = $1', [tokenHash]);
    return r === undefined ? undefined : records.enrolment(r);
  }

  async consume(id: string, at: string): Promise<boolean> {
    return (await this.sql.count(`UPDATE enrolments SET consumed_at = $1 WHERE id = $2 AND ${OPEN} AND expires_at > $1`, [at, id])) === 1;
  }

  async recordFailedAttempt(id: string, max: number, at: string): Promise<{ attempts: number; locked: boolean } | undefined> {
    const [r] = await this.sql.rows(
      `UPDATE enrolments SET failed_attempts = failed_attempts + 1,
         locked_at = CASE WHEN failed_attempts + 1 >= $1 THEN $2::timestamptz ELSE NULL END
       WHERE id = $3 AND ${OPEN}
       RETURNING failed_attempts, locked_at`,
      [max, at, id],
    );
    if (r === undefined) return undefined;
    return { attempts: num(r, 'failed_attempts'), locked: strOrNull(r, 'locked_at') !== null };
  }

  async supersedeOpen(identityId: string, at: string): Promise<number> {
    return this.sql.count('UPDATE enrolments SET superseded_at = $1 WHERE identity_id = $2 AND consumed_at IS NULL AND superseded_at IS NULL', [at, identityId]);
  }

  async mintToken(enrolmentId: string, tokenHash: string, at: string): Promise<boolean> {
    return (await this.sql.count(`UPDATE enrolments SET token_hash = $1 WHERE id = $2 AND ${OPEN} AND expires_at > $3`, [tokenHash, enrolmentId, at])) === 1;
  }
}

export class PgCodes implements CodeRepo {
  constructor(private readonly sql: Sql) {}

  async insert(c: NewActivationCode): Promise<void> {
    await insertOrConflict(
      this.sql,
      `INSERT INTO activation_codes (id, credential_id, purpose, code_hash, requested_by, created_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
      [c.id, c.credentialId, c.purpose, c.codeHash, c.requestedBy, c.createdAt, c.expiresAt],
    );
  }

  async mint(codeId: string, codeHash: string, at: string): Promise<boolean> {
    return (await this.sql.count(`UPDATE activation_codes SET code_hash = $1, minted_at = $2 WHERE id = $3 AND ${OPEN} AND expires_at > $2`, [codeHash, at, codeId])) === 1;
  }

  async supersedeOpen(credentialId: string, at: string): Promise<number> {
    return this.sql.count(`UPDATE activation_codes SET superseded_at = $1 WHERE credential_id = $2 AND ${OPEN}`, [at, credentialId]);
  }

  async latestOpen(credentialId: string): Promise<ActivationCodeRecord | undefined> {
    // SQLite breaks a tie of creation times by insertion order (rowid); PostgreSQL has none, so
    // by id. Issuing a code withdraws the open ones first, so at most one is open anyway.
    const [r] = await this.sql.rows(
      `SELECT * FROM activation_codes WHERE credential_id = $1 AND consumed_at IS NULL AND superseded_at IS NULL
       ORDER BY created_at DESC, id COLLATE "C" DESC LIMIT 1`,
      [credentialId],
    );
    return r === undefined ? undefined : records.activationCode(r);
  }

  async countAttempt(codeId: string, max: number, at: string): Promise<CodeAttempt> {
    const [r] = await this.sql.rows(
      `UPDATE activation_codes SET failed_attempts = failed_attempts + 1
       WHERE id = $1 AND ${OPEN} AND failed_attempts < $2 AND expires_at > $3
       RETURNING failed_attempts, code_hash`,
      [codeId, max, at],
    );
    if (r !== undefined) return { counted: true, attempts: num(r, 'failed_attempts'), codeHash: str(r, 'code_hash') };
    // Not counted: why (only on this refusal path).
    const [row] = await this.sql.rows('SELECT * FROM activation_codes WHERE id = $1', [codeId]);
    const code = row === undefined ? undefined : records.activationCode(row);
    if (!code || code.consumedAt !== null || code.supersededAt !== null) return { counted: false, why: 'used' };
    if (code.lockedAt !== null || code.failedAttempts >= max) return { counted: false, why: 'locked' };
    return { counted: false, why: 'expired' };
  }

  async lock(codeId: string, at: string): Promise<void> {
    await this.sql.count('UPDATE activation_codes SET locked_at = coalesce(locked_at, $1::timestamptz) WHERE id = $2', [at, codeId]);
  }

  async consume(codeId: string, at: string): Promise<boolean> {
    return (await this.sql.count(`UPDATE activation_codes SET consumed_at = $1 WHERE id = $2 AND ${OPEN} AND expires_at > $1`, [at, codeId])) === 1;
  }
}
