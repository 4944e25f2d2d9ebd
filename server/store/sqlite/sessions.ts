/** Sign-in sessions (only the hash of a session id is stored). */
import type { NewSession, SessionRecord } from '../../domain/sessions.js';
import type { SessionRepo } from '../../ports/repositories.js';
import type { Connection } from './connection.js';
import * as rows from './rows.js';

export class SqliteSessions implements SessionRepo {
  constructor(private readonly db: Connection) {}

  async insert(s: NewSession): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO sessions (id_hash, identity_id, credential_id, aal, amr, sid, created_at, last_seen_at, absolute_expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(s.idHash, s.identityId, s.credentialId, s.aal, JSON.stringify(s.amr), s.sid, s.createdAt, s.lastSeenAt, s.absoluteExpiresAt);
  }

  async get(idHash: string): Promise<SessionRecord | undefined> {
    const r = this.db.prepare('SELECT * FROM sessions WHERE id_hash = ?').get(idHash);
    return r === undefined ? undefined : rows.session(r);
  }

  async liveOfIdentity(identityId: string): Promise<SessionRecord[]> {
    return this.db
      .prepare('SELECT * FROM sessions WHERE identity_id = ? AND ended_at IS NULL')
      .all(identityId)
      .map((r) => rows.session(r));
  }

  async liveOfCredential(credentialId: string): Promise<SessionRecord[]> {
    return this.db
      .prepare('SELECT * FROM sessions WHERE credential_id = ? AND ended_at IS NULL')
      .all(credentialId)
      .map((r) => rows.session(r));
  }

  async touch(idHash: string, at: string): Promise<void> {
    this.db.prepare('UPDATE sessions SET last_seen_at = ? WHERE id_hash = ? AND ended_at IS NULL').run(at, idHash);
  }

  async end(idHash: string, reason: string, at: string): Promise<boolean> {
    return this.db.prepare('UPDATE sessions SET ended_at = ?, end_reason = ? WHERE id_hash = ? AND ended_at IS NULL').run(at, reason, idHash).changes === 1;
  }

  async endOne(idHash: string, reason: string, at: string): Promise<SessionRecord | undefined> {
    const r = this.db.prepare('UPDATE sessions SET ended_at = ?, end_reason = ? WHERE id_hash = ? AND ended_at IS NULL RETURNING *').get(at, reason, idHash);
    return r === undefined ? undefined : rows.session(r);
  }

  async endOfCredential(credentialId: string, reason: string, at: string): Promise<SessionRecord[]> {
    return this.db
      .prepare('UPDATE sessions SET ended_at = ?, end_reason = ? WHERE credential_id = ? AND ended_at IS NULL RETURNING *')
      .all(at, reason, credentialId)
      .map((r) => rows.session(r));
  }

  async endOfIdentity(identityId: string, reason: string, at: string): Promise<SessionRecord[]> {
    return this.db
      .prepare('UPDATE sessions SET ended_at = ?, end_reason = ? WHERE identity_id = ? AND ended_at IS NULL RETURNING *')
      .all(at, reason, identityId)
      .map((r) => rows.session(r));
  }
}
