/** Sign-in sessions (only the hash of a session id is stored). */
import type { NewSession, SessionRecord } from '../../domain/sessions.js';
import type { SessionRepo } from '../../ports/repositories.js';
import { insertOrConflict } from './conflict.js';
import type { Sql } from './pool.js';
import * as records from './records.js';

export class PgSessions implements SessionRepo {
  constructor(private readonly sql: Sql) {}

  async insert(s: NewSession): Promise<void> {
    await insertOrConflict(
      this.sql,
      `INSERT INTO sessions (id_hash, identity_id, credential_id, aal, amr, sid, created_at, last_seen_at, absolute_expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
      [s.idHash, s.identityId, s.credentialId, s.aal, JSON.stringify(s.amr), s.sid, s.createdAt, s.lastSeenAt, s.absoluteExpiresAt],
    );
  }

  async get(idHash: string): Promise<SessionRecord | undefined> {
    const [r] = await this.sql.rows('SELECT * FROM sessions WHERE id_hash = $1', [idHash]);
    return r === undefined ? undefined : records.session(r);
  }

  async liveOfIdentity(identityId: string): Promise<SessionRecord[]> {
    return (await this.sql.rows('SELECT * FROM sessions WHERE identity_id = $1 AND ended_at IS NULL ORDER BY created_at, id_hash COLLATE "C"', [identityId])).map(records.session);
  }

  async liveOfCredential(credentialId: string): Promise<SessionRecord[]> {
    return (await this.sql.rows('SELECT * FROM sessions WHERE credential_id = $1 AND ended_at IS NULL ORDER BY created_at, id_hash COLLATE "C"', [credentialId])).map(records.session);
  }

  async touch(idHash: string, at: string): Promise<void> {
    await this.sql.count('UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2 AND ended_at IS NULL', [at, idHash]);
  }

  async end(idHash: string, reason: string, at: string): Promise<boolean> {
    return (await this.sql.count('UPDATE sessions SET ended_at = $1, end_reason = $2 WHERE id_hash = $3 AND ended_at IS NULL', [at, reason, idHash])) === 1;
  }

  async endOne(idHash: string, reason: string, at: string): Promise<SessionRecord | undefined> {
    const [r] = await this.sql.rows('UPDATE sessions SET ended_at = $1, end_reason = $2 WHERE id_hash = $3 AND ended_at IS NULL RETURNING *', [at, reason, idHash]);
    return r === undefined ? undefined : records.session(r);
  }

  async endOfCredential(credentialId: string, reason: string, at: string): Promise<SessionRecord[]> {
    return (await this.sql.rows('UPDATE sessions SET ended_at = $1, end_reason = $2 WHERE credential_id = $3 AND ended_at IS NULL RETURNING *', [at, reason, credentialId])).map(
      records.session,
    );
  }

  async endOfIdentity(identityId: string, reason: string, at: string): Promise<SessionRecord[]> {
    return (await this.sql.rows('UPDATE sessions SET ended_at = $1, end_reason = $2 WHERE identity_id = $3 AND ended_at IS NULL RETURNING *', [at, reason, identityId])).map(
      records.session,
    );
  }
}
