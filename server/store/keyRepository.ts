/**
 * Signing-key metadata (NSIS 6 (Substantial) 11). Key material never touches the database: only
 * the public JWK, the PKCS#11 CKA_ID and the key's life cycle. Key-management requests are
 * approvals like every other four-eyes action (approvalRepository.ts).
 */
import type Database from 'better-sqlite3';
import * as rows from './sqlite/rows.js';

import { KEY_RECORD_EVENTS, type KeyRecordRow, type NewSigningKey, type SigningKeyRecord, type SigningKeyState } from '../domain/signingKeys.js';

export { KEY_RECORD_EVENTS } from '../domain/signingKeys.js';
export type { KeyRecordEvent, KeyRecordRow, NewSigningKey, SigningKeyRecord, SigningKeyState } from '../domain/signingKeys.js';
const KEY_STATES = ['pending', 'active', 'retired', 'destroyed'] as const;

function jwkOf(text: string): Record<string, string> {
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new TypeError('store: public_jwk is not an object');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(parsed)) if (typeof v === 'string') out[k] = v;
  return out;
}

function keyRow(r: unknown): SigningKeyRecord {
  return {
    kid: rows.str(r, 'kid'),
    ckaId: rows.str(r, 'cka_id'),
    label: rows.str(r, 'label'),
    alg: rows.str(r, 'alg'),
    publicJwk: jwkOf(rows.str(r, 'public_jwk')),
    state: rows.oneOf(r, 'state', KEY_STATES),
    createdAt: rows.str(r, 'created_at'),
    promoteAt: rows.strOrNull(r, 'promote_at'),
    activatedAt: rows.strOrNull(r, 'activated_at'),
    retiredAt: rows.strOrNull(r, 'retired_at'),
    publishedUntil: rows.strOrNull(r, 'published_until'),
    destroyedAt: rows.strOrNull(r, 'destroyed_at'),
    compromisedAt: rows.strOrNull(r, 'compromised_at'),
  };
}

function recordRow(r: unknown): KeyRecordRow {
  return {
    id: rows.num(r, 'id'),
    kid: rows.str(r, 'kid'),
    event: rows.oneOf(r, 'event', KEY_RECORD_EVENTS),
    at: rows.str(r, 'at'),
    signerKid: rows.str(r, 'signer_kid'),
    jws: rows.str(r, 'jws'),
    hash: rows.str(r, 'hash'),
    auditSeq: rows.num(r, 'audit_seq'),
  };
}

export class KeyRepository {
  constructor(private readonly db: Database.Database) {}

  insert(k: NewSigningKey): void {
    this.db
      .prepare(
        `INSERT INTO signing_keys (kid, cka_id, label, alg, public_jwk, state, created_at, promote_at, activated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(k.kid, k.ckaId, k.label, k.alg, JSON.stringify(k.publicJwk), k.state, k.createdAt, k.promoteAt, k.activatedAt);
  }

  get(kid: string): SigningKeyRecord | undefined {
    const r = this.db.prepare('SELECT * FROM signing_keys WHERE kid = ?').get(kid);
    return r === undefined ? undefined : keyRow(r);
  }

  list(): SigningKeyRecord[] {
    return this.db.prepare('SELECT * FROM signing_keys ORDER BY created_at, kid').all().map(keyRow);
  }

  active(): SigningKeyRecord | undefined {
    const r = this.db.prepare("SELECT * FROM signing_keys WHERE state = 'active'").get();
    return r === undefined ? undefined : keyRow(r);
  }

  inState(state: SigningKeyState): SigningKeyRecord[] {
    return this.db.prepare('SELECT * FROM signing_keys WHERE state = ? ORDER BY created_at').all(state).map(keyRow);
  }

  /** Pending, active, and retired keys still needed to verify unexpired tokens. */
  published(at: string): SigningKeyRecord[] {
    return this.db
      .prepare(
        `SELECT * FROM signing_keys
         WHERE state IN ('pending', 'active') OR (state = 'retired' AND published_until > ?)
         ORDER BY created_at`,
      )
      .all(at)
      .map(keyRow);
  }

  /** Guarded state change. */
  promote(kid: string, at: string): boolean {
    return this.db.prepare("UPDATE signing_keys SET state = 'active', activated_at = ? WHERE kid = ? AND state = 'pending'").run(at, kid).changes === 1;
  }

  retire(kid: string, at: string, publishedUntil: string, compromised: boolean): boolean {
    return (
      this.db
        .prepare(
          `UPDATE signing_keys SET state = 'retired', retired_at = ?, published_until = ?, compromised_at = CASE WHEN ? THEN ? ELSE compromised_at END
           WHERE kid = ? AND state = 'active'`,
        )
        .run(at, publishedUntil, compromised ? 1 : 0, at, kid).changes === 1
    );
  }

  markDestroyed(kid: string, at: string): boolean {
    return (
      this.db
        .prepare("UPDATE signing_keys SET state = 'destroyed', destroyed_at = ?, published_until = min(coalesce(published_until, ?), ?) WHERE kid = ? AND state = 'retired'")
        .run(at, at, at, kid).changes === 1
    );
  }

  insertRecord(r: Omit<KeyRecordRow, 'id'>): void {
    this.db
      .prepare('INSERT INTO signing_key_records (kid, event, at, signer_kid, jws, hash, audit_seq) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(r.kid, r.event, r.at, r.signerKid, r.jws, r.hash, r.auditSeq);
  }

  /** Every signed key record, in append order. */
  listRecords(): KeyRecordRow[] {
    return this.db.prepare('SELECT * FROM signing_key_records ORDER BY id').all().map(recordRow);
  }

  /** Kids of the key rows that have no signed record yet (rows from before migration 9). */
  kidsWithoutRecord(): string[] {
    return this.db
      .prepare('SELECT kid FROM signing_keys k WHERE NOT EXISTS (SELECT 1 FROM signing_key_records r WHERE r.kid = k.kid) ORDER BY created_at, kid')
      .all()
      .map((r) => rows.str(r, 'kid'));
  }

}
