/**
 * Signing-key metadata (NSIS 6 (Substantial) 11): the public JWK, the PKCS#11 CKA_ID and the
 * key's life cycle, and the signed record of each change. Key material never touches the file.
 */
import type { KeyRecordRow, NewKeyRecord, NewSigningKey, SigningKeyRecord, SigningKeyState } from '../../domain/signingKeys.js';
import type { SigningKeyRepo } from '../../ports/repositories.js';
import type { Connection } from './connection.js';
import { keyRecord, signingKey } from './recordRows.js';
import * as rows from './rows.js';

export class SqliteSigningKeys implements SigningKeyRepo {
  constructor(private readonly db: Connection) {}

  async insert(k: NewSigningKey): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO signing_keys (kid, cka_id, label, alg, public_jwk, state, created_at, promote_at, activated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(k.kid, k.ckaId, k.label, k.alg, JSON.stringify(k.publicJwk), k.state, k.createdAt, k.promoteAt, k.activatedAt);
  }

  async get(kid: string): Promise<SigningKeyRecord | undefined> {
    const r = this.db.prepare('SELECT * FROM signing_keys WHERE kid = ?').get(kid);
    return r === undefined ? undefined : signingKey(r);
  }

  async list(): Promise<SigningKeyRecord[]> {
    return this.db.prepare('SELECT * FROM signing_keys ORDER BY created_at, kid').all().map(signingKey);
  }

  async active(): Promise<SigningKeyRecord | undefined> {
    const r = this.db.prepare("SELECT * FROM signing_keys WHERE state = 'active'").get();
    return r === undefined ? undefined : signingKey(r);
  }

  async inState(state: SigningKeyState): Promise<SigningKeyRecord[]> {
    return this.db.prepare('SELECT * FROM signing_keys WHERE state = ? ORDER BY created_at').all(state).map(signingKey);
  }

  async published(at: string): Promise<SigningKeyRecord[]> {
    return this.db
      .prepare(
        `SELECT * FROM signing_keys
         WHERE state IN ('pending', 'active') OR (state = 'retired' AND published_until > ?)
         ORDER BY created_at`,
      )
      .all(at)
      .map(signingKey);
  }

  async promote(kid: string, at: string): Promise<boolean> {
    return this.db.prepare("UPDATE signing_keys SET state = 'active', activated_at = ? WHERE kid = ? AND state = 'pending'").run(at, kid).changes === 1;
  }

  async retire(kid: string, at: string, publishedUntil: string, compromised: boolean): Promise<boolean> {
    return (
      this.db
        .prepare(
          `UPDATE signing_keys SET state = 'retired', retired_at = ?, published_until = ?, compromised_at = CASE WHEN ? THEN ? ELSE compromised_at END
           WHERE kid = ? AND state = 'active'`,
        )
        .run(at, publishedUntil, compromised ? 1 : 0, at, kid).changes === 1
    );
  }

  async markDestroyed(kid: string, at: string): Promise<boolean> {
    return (
      this.db
        .prepare("UPDATE signing_keys SET state = 'destroyed', destroyed_at = ?, published_until = min(coalesce(published_until, ?), ?) WHERE kid = ? AND state = 'retired'")
        .run(at, at, at, kid).changes === 1
    );
  }

  async addRecord(r: NewKeyRecord): Promise<void> {
    this.db
      .prepare('INSERT INTO signing_key_records (kid, event, at, signer_kid, jws, hash, audit_seq) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(r.kid, r.event, r.at, r.signerKid, r.jws, r.hash, r.auditSeq);
  }

  async records(): Promise<KeyRecordRow[]> {
    return this.db.prepare('SELECT * FROM signing_key_records ORDER BY id').all().map(keyRecord);
  }

  async kidsWithoutRecord(): Promise<string[]> {
    return this.db
      .prepare('SELECT kid FROM signing_keys k WHERE NOT EXISTS (SELECT 1 FROM signing_key_records r WHERE r.kid = k.kid) ORDER BY created_at, kid')
      .all()
      .map((r) => rows.str(r, 'kid'));
  }
}
