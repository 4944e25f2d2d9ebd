/**
 * What an attacker with write access to the database file (and nothing else) can do to the audit
 * trail of a SQLite file, as functions on a better-sqlite3 handle (sqliteInspection.ts opens one):
 * drop the append-only triggers, edit entries and
 * re-compute every hash after them, remove or renumber entries, and sign checkpoints, key records
 * and prune records with a P-256 key of their own. Used by the tampering tests on copies of real
 * gateway databases.
 */
import { sign, createHash, type KeyObject } from 'node:crypto';
import { generateKeyObjects } from '../../scripts/lib/keyPairs.js';
import type Database from 'better-sqlite3';
import { checkpointOrigin, checkpointTextHash, signCheckpointNote } from '../../server/audit/checkpointNote.js';
import { entryHash } from '../../server/audit/hashChain.js';
import { ecThumbprint, KEY_RECORD_TYP } from '../../server/keys/keyRecords.js';
import { PRUNE_TYP } from '../../server/audit/prune.js';
import { signingKey } from '../../server/store/sqlite/recordRows.js';
import { auditEntry, num, str } from '../../server/store/sqlite/rows.js';

const TRIGGERS = [
  'audit_events_no_update',
  'audit_events_no_delete',
  'audit_checkpoints_no_update',
  'audit_checkpoints_no_delete',
  'audit_prunes_no_update',
  'audit_prunes_no_delete',
  'signing_key_records_no_update',
  'signing_key_records_no_delete',
  'signing_keys_no_delete',
  'signing_keys_identity_fixed',
];

/** The attacker's first step: the triggers are only a guard against mistakes. */
export function dropTriggers(db: Database.Database): void {
  for (const t of TRIGGERS) db.exec(`DROP TRIGGER IF EXISTS ${t}`);
}

/** Re-computes prev_hash and hash of every entry from `fromSeq` on (after edits or removals). */
export function rechainFrom(db: Database.Database, fromSeq: number): void {
  const before = db.prepare('SELECT hash FROM audit_events WHERE seq < ? ORDER BY seq DESC LIMIT 1').get(fromSeq);
  let prev = before === undefined ? '0'.repeat(64) : str(before, 'hash');
  const rows = db.prepare('SELECT * FROM audit_events WHERE seq >= ? ORDER BY seq').all(fromSeq).map(auditEntry);
  const update = db.prepare('UPDATE audit_events SET prev_hash = ?, hash = ? WHERE seq = ?');
  for (const e of rows) {
    const hash = entryHash(prev, e);
    update.run(prev, hash, e.seq);
    prev = hash;
  }
}

/** Removes entry `seq`, renumbers the ones after it down by one and re-chains: a clean-looking chain. */
export function eraseAndRenumber(db: Database.Database, seq: number): void {
  db.prepare('DELETE FROM audit_events WHERE seq = ?').run(seq);
  const after = db.prepare('SELECT seq FROM audit_events WHERE seq > ? ORDER BY seq').all(seq).map((r) => num(r, 'seq'));
  const move = db.prepare('UPDATE audit_events SET seq = ? WHERE seq = ?');
  for (const s of after) move.run(s - 1, s);
  rechainFrom(db, seq);
}

export function maxSeq(db: Database.Database): number {
  return num(db.prepare('SELECT max(seq) AS s FROM audit_events').get(), 's');
}

export interface ForgedKey {
  kid: string;
  jwk: Record<string, string>;
  privateKey: KeyObject;
  /** Raw r||s ES256 signature, like the HSM's. */
  signRaw(data: Uint8Array): Promise<Uint8Array>;
  /** A compact ES256 JWS. */
  jws(payload: object, typ: string): string;
}

export function forgeKey(): ForgedKey {
  const { publicKey, privateKey } = generateKeyObjects('ec', { namedCurve: 'prime256v1' });
  const exported = publicKey.export({ format: 'jwk' });
  const jwk: Record<string, string> = {};
  for (const [k, v] of Object.entries(exported)) if (typeof v === 'string') jwk[k] = v;
  const kid = ecThumbprint(jwk);
  if (!kid) throw new Error('not a P-256 key');
  const raw = (data: Uint8Array) => new Uint8Array(sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' }));
  return {
    kid,
    jwk,
    privateKey,
    signRaw: async (data) => raw(data),
    jws(payload, typ) {
      const b64 = (s: string | Uint8Array) => Buffer.from(s).toString('base64url');
      const input = `${b64(JSON.stringify({ alg: 'ES256', kid, typ }))}.${b64(JSON.stringify(payload))}`;
      return `${input}.${b64(raw(Buffer.from(input)))}`;
    },
  };
}

/** Inserts a key row for the forged key, active from long ago, as if the gateway had made it. */
export function insertKeyRow(db: Database.Database, key: ForgedKey, state: 'pending' | 'active' | 'retired' = 'retired'): void {
  const long = '2000-01-01T00:00:00.000Z';
  db.prepare(
    `INSERT INTO signing_keys (kid, cka_id, label, alg, public_jwk, state, created_at, promote_at, activated_at, retired_at, published_until)
     VALUES (?, ?, 'gateway-signing-forged', 'ES256', ?, ?, ?, NULL, ?, ?, ?)`,
  ).run(key.kid, createHash('sha256').update(key.kid).digest('hex').slice(0, 32), JSON.stringify(key.jwk), state, long, long, state === 'retired' ? '2999-01-01T00:00:00.000Z' : null, state === 'retired' ? '2999-01-01T00:00:00.000Z' : null);
}

/** A self-signed 'registered' record for the forged key, filed under an existing audit entry. */
export function insertKeyRecord(db: Database.Database, key: ForgedKey, auditSeq: number): void {
  const found = db.prepare('SELECT * FROM signing_keys WHERE kid = ?').get(key.kid);
  if (found === undefined) throw new Error('insert the key row first');
  const row = signingKey(found);
  const at = '2000-01-01T00:00:00.000Z';
  const claims = {
    typ: 'signing-key-record',
    iss: 'forged',
    event: 'registered',
    at,
    basis: 'held by the HSM when key records were introduced',
    key: row,
  };
  const jws = key.jws(claims, KEY_RECORD_TYP);
  db.prepare('INSERT INTO signing_key_records (kid, event, at, signer_kid, jws, hash, audit_seq) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
    key.kid,
    'registered',
    at,
    key.kid,
    jws,
    createHash('sha256').update(jws).digest('hex'),
    auditSeq,
  );
}

/**
 * Replaces every checkpoint with a fresh, correctly chained set signed by the forged key, one
 * per `every` entries and one at the head: what "re-sign every checkpoint" means with notes.
 */
export async function resignCheckpoints(db: Database.Database, key: ForgedKey, gatewayOrigin: string, every = 5): Promise<void> {
  db.exec('DELETE FROM audit_checkpoints');
  const head = maxSeq(db);
  const hashAt = db.prepare('SELECT hash FROM audit_events WHERE seq = ?');
  const insert = db.prepare('INSERT INTO audit_checkpoints (seq, head_hash, at, kid, jws, n, prev_hash, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  let prevNote: string | null = null;
  let n = 0;
  for (let seq = Math.min(every, head); seq <= head; seq = seq === head ? head + 1 : Math.min(seq + every, head)) {
    n++;
    const headHash = str(hashAt.get(seq), 'hash');
    const at = new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString();
    const prevHash = prevNote === null ? null : checkpointTextHash(prevNote);
    const note = await signCheckpointNote({ origin: checkpointOrigin(gatewayOrigin), seq, headHash, n, prevHash, at, kid: key.kid }, key.jwk, (d) => key.signRaw(d));
    insert.run(seq, headHash, at, key.kid, '', n, prevHash, note);
    prevNote = note;
  }
}

/** A prune record as if the gateway had cut the entries through `throughSeq`, signed by the forged key. */
export function fakePrune(db: Database.Database, key: ForgedKey | undefined, throughSeq: number, anchorCheckpointId: number): void {
  db.prepare('DELETE FROM audit_events WHERE seq <= ?').run(throughSeq);
  const at = new Date().toISOString();
  const jws = key ? key.jws({ typ: 'audit-prune', iss: 'forged', throughSeq, anchorCheckpointId, anchorHash: '0'.repeat(64), anchorHeadHash: '0'.repeat(64), entries: throughSeq, at }, PRUNE_TYP) : null;
  db.prepare('INSERT INTO audit_prunes (through_seq, anchor_checkpoint_id, at, jws) VALUES (?, ?, ?, ?)').run(throughSeq, anchorCheckpointId, at, jws);
}
