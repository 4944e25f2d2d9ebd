/**
 * Signing-key metadata (NSIS 6 (Substantial) 11): the public JWK, the PKCS#11 CKA_ID and the
 * key's life cycle, and the signed record of each change. Key material never touches the database.
 */
import type { KeyRecordRow, NewKeyRecord, NewSigningKey, SigningKeyRecord, SigningKeyState } from '../../domain/signingKeys.js';
import type { SigningKeyRepo } from '../../ports/repositories.js';
import { inSavepoint, insertOrConflict } from './conflict.js';
import type { Sql } from './pool.js';
import * as records from './records.js';
import { str } from './rows.js';

export class PgSigningKeys implements SigningKeyRepo {
  constructor(private readonly sql: Sql) {}

  async insert(k: NewSigningKey): Promise<void> {
    await insertOrConflict(
      this.sql,
      `INSERT INTO signing_keys (kid, cka_id, label, alg, public_jwk, state, created_at, promote_at, activated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
      [k.kid, k.ckaId, k.label, k.alg, JSON.stringify(k.publicJwk), k.state, k.createdAt, k.promoteAt, k.activatedAt],
    );
  }

  async get(kid: string): Promise<SigningKeyRecord | undefined> {
    const [r] = await this.sql.rows('SELECT * FROM signing_keys WHERE kid = $1', [kid]);
    return r === undefined ? undefined : records.signingKey(r);
  }

  async list(): Promise<SigningKeyRecord[]> {
    return (await this.sql.rows('SELECT * FROM signing_keys ORDER BY created_at, kid COLLATE "C"')).map(records.signingKey);
  }

  async active(): Promise<SigningKeyRecord | undefined> {
    const [r] = await this.sql.rows("SELECT * FROM signing_keys WHERE state = 'active'");
    return r === undefined ? undefined : records.signingKey(r);
  }

  async inState(state: SigningKeyState): Promise<SigningKeyRecord[]> {
    return (await this.sql.rows('SELECT * FROM signing_keys WHERE state = $1 ORDER BY created_at, kid COLLATE "C"', [state])).map(records.signingKey);
  }

  async published(at: string): Promise<SigningKeyRecord[]> {
    const rows = await this.sql.rows(
      `SELECT * FROM signing_keys
       WHERE state IN ('pending', 'active') OR (state = 'retired' AND published_until > $1)
       ORDER BY created_at, kid COLLATE "C"`,
      [at],
    );
    return rows.map(records.signingKey);
  }

  async promote(kid: string, at: string): Promise<boolean> {
    // A second active key is a StoreConflict (signing_keys_one_active); the savepoint keeps the
    // transaction usable after it, as on SQLite (conflict.ts).
    const n = await inSavepoint(this.sql, () => this.sql.count("UPDATE signing_keys SET state = 'active', activated_at = $1 WHERE kid = $2 AND state = 'pending'", [at, kid]));
    return n === 1;
  }

  async retire(kid: string, at: string, publishedUntil: string, compromised: boolean): Promise<boolean> {
    return (
      (await this.sql.count(
        `UPDATE signing_keys SET state = 'retired', retired_at = $1, published_until = $2,
           compromised_at = CASE WHEN $3::boolean THEN $1::timestamptz ELSE compromised_at END
         WHERE kid = $4 AND state = 'active'`,
        [at, publishedUntil, compromised, kid],
      )) === 1
    );
  }

  async markDestroyed(kid: string, at: string): Promise<boolean> {
    return (
      (await this.sql.count(
        "UPDATE signing_keys SET state = 'destroyed', destroyed_at = $1, published_until = LEAST(coalesce(published_until, $1::timestamptz), $1::timestamptz) WHERE kid = $2 AND state = 'retired'",
        [at, kid],
      )) === 1
    );
  }

  async addRecord(r: NewKeyRecord): Promise<void> {
    await insertOrConflict(
      this.sql,
      'INSERT INTO signing_key_records (kid, event, at, signer_kid, jws, hash, audit_seq) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING',
      [r.kid, r.event, r.at, r.signerKid, r.jws, r.hash, r.auditSeq],
    );
  }

  async records(): Promise<KeyRecordRow[]> {
    return (await this.sql.rows('SELECT * FROM signing_key_records ORDER BY id')).map(records.keyRecord);
  }

  async kidsWithoutRecord(): Promise<string[]> {
    const rows = await this.sql.rows(
      'SELECT kid FROM signing_keys k WHERE NOT EXISTS (SELECT 1 FROM signing_key_records r WHERE r.kid = k.kid) ORDER BY created_at, kid COLLATE "C"',
    );
    return rows.map((r) => str(r, 'kid'));
  }
}
