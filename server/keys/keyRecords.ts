/**
 * Signed records of the signing keys' life cycle (NSIS 4.1.6 (Substantial) 6: cryptographic
 * material protected from tampering; NSIS 6 (Low) 7: an integrity-protected log).
 *
 * The signing_keys table holds mutable state (pending -> active -> retired -> destroyed). Each
 * change is also written, in the same transaction, as an append-only record: a compact JWS over
 * the key's whole state after the change, signed by the HSM key that is active after it (the
 * first key signs its own record). Its SHA-256 is named in the change's audit event, so the
 * hash chain and its witnessed checkpoints cover the records too.
 *
 * Who vouches for whom: a rotation's new key is vouched for by the key active when it was
 * generated; a retired or destroyed key by its successor. So, from any key the trust anchor
 * holds (the HSM token or an exported anchor file), the records reach every key the gateway ever
 * used; a key row without such a record exists only in the database and is reported.
 *
 * Pure: no I/O. The KeyManager signs and stores; the verifier resolves trust here.
 */
import { z } from 'zod';
import { jwkThumbprint } from '../../hsm/jwk.js';
import { sha256Hex, verifyEs256Jws } from '../audit/compactJws.js';
import type { KeyRecordEvent, KeyRecordRow, SigningKeyRecord } from '../domain/signingKeys.js';

export const KEY_RECORD_TYP = 'signing-key-record+jwt';

/** Basis of a 'registered' record: how a key that predates the records was taken in. */
export const REGISTERED_ON_HSM = 'held by the HSM when key records were introduced';
export const REGISTERED_ADOPTED = 'adopted from the database when key records were introduced (the HSM no longer holds it)';

/** A key's whole state after a change, as its record signs it. */
export type KeySnapshot = SigningKeyRecord;

export interface KeyRecordClaims {
  typ: 'signing-key-record';
  iss: string;
  event: KeyRecordEvent;
  at: string;
  key: KeySnapshot;
  basis?: string;
}

const nullableString = z.string().nullable();
const claimsSchema = z.object({
  typ: z.literal('signing-key-record'),
  iss: z.string(),
  event: z.enum(['generated', 'activated', 'retired', 'destroyed', 'registered']),
  at: z.string(),
  basis: z.string().optional(),
  key: z.object({
    kid: z.string(),
    ckaId: z.string(),
    label: z.string(),
    alg: z.literal('ES256'),
    publicJwk: z.object({ kty: z.literal('EC'), crv: z.literal('P-256'), x: z.string(), y: z.string() }),
    state: z.enum(['pending', 'active', 'retired', 'destroyed']),
    createdAt: z.string(),
    promoteAt: nullableString,
    activatedAt: nullableString,
    retiredAt: nullableString,
    publishedUntil: nullableString,
    destroyedAt: nullableString,
    compromisedAt: nullableString,
  }),
});

export function keyRecordClaims(iss: string, event: KeyRecordEvent, at: string, key: KeySnapshot, basis?: string): KeyRecordClaims {
  return { typ: 'signing-key-record', iss, event, at, key: { ...key, publicJwk: { ...key.publicJwk } }, ...(basis ? { basis } : {}) };
}

const SNAPSHOT_FIELDS = ['kid', 'ckaId', 'label', 'alg', 'state', 'createdAt', 'promoteAt', 'activatedAt', 'retiredAt', 'publishedUntil', 'destroyedAt', 'compromisedAt'] as const;

/** The fields in which a key row differs from a snapshot (the public JWK compared by thumbprint). */
export function snapshotDifferences(row: KeySnapshot, snapshot: KeySnapshot): string[] {
  const out: string[] = [];
  for (const f of SNAPSHOT_FIELDS) if (row[f] !== snapshot[f]) out.push(`${f} ${String(row[f])} (signed: ${String(snapshot[f])})`);
  const thumb = (j: Record<string, string>) => (j['kty'] === 'EC' && j['crv'] === 'P-256' && j['x'] && j['y'] ? jwkThumbprint({ kty: 'EC', crv: 'P-256', x: j['x'], y: j['y'] }) : '');
  if (thumb(row.publicJwk) !== thumb(snapshot.publicJwk)) out.push('publicJwk');
  return out;
}

/** Thumbprint of an EC P-256 JWK, or undefined if it is not one. */
export function ecThumbprint(jwk: Readonly<Record<string, string>>): string | undefined {
  const { kty, crv, x, y } = jwk;
  return kty === 'EC' && crv === 'P-256' && x && y ? jwkThumbprint({ kty, crv, x, y }) : undefined;
}

export interface TrustedKey {
  kid: string;
  jwk: Record<string, string>;
  /** anchor: the trust anchor holds it; record: a record signed by a trusted key vouches for it; database: no anchor was given. */
  via: 'anchor' | 'record' | 'database';
  /** Vouched for only by a 'registered' record that adopted it from the database at the upgrade. */
  adopted: boolean;
  /** The key's state after its newest verified record. */
  state: KeySnapshot | undefined;
}

export interface KeyTrustReport {
  keys: Map<string, TrustedKey>;
  /** Verified records, by record id. */
  verifiedRecords: Map<number, KeyRecordClaims>;
  problems: string[];
  notes: string[];
}

interface DecodedRecord {
  row: KeyRecordRow;
  claims: KeyRecordClaims;
}

/**
 * Which keys are trusted, and their signed state. `anchor` maps kid -> public JWK of the keys the
 * trust anchor holds; null means no anchor (the database's own key rows are taken as the start:
 * internal consistency only, reported as such by the caller).
 */
export function resolveKeyTrust(input: { anchor: ReadonlyMap<string, Readonly<Record<string, string>>> | null; records: readonly KeyRecordRow[]; rows: readonly SigningKeyRecord[] }): KeyTrustReport {
  const problems: string[] = [];
  const notes: string[] = [];
  const keys = new Map<string, TrustedKey>();
  const trust = (kid: string, jwk: Readonly<Record<string, string>>, via: TrustedKey['via'], adopted: boolean) => {
    const existing = keys.get(kid);
    if (existing) {
      if (existing.adopted && !adopted) existing.adopted = false;
      return false;
    }
    keys.set(kid, { kid, jwk: { ...jwk }, via, adopted, state: undefined });
    return true;
  };
  if (input.anchor) {
    for (const [kid, jwk] of input.anchor) if (ecThumbprint(jwk) === kid) trust(kid, jwk, 'anchor', false);
  } else {
    for (const r of input.rows) if (ecThumbprint(r.publicJwk) === r.kid) trust(r.kid, r.publicJwk, 'database', false);
  }

  // Decode every record; the structure must hold before any signature is tried.
  const decoded: DecodedRecord[] = [];
  for (const row of input.records) {
    const where = `signing-key record ${row.id} (${row.event} of key ${row.kid})`;
    if (sha256Hex(row.jws) !== row.hash) {
      problems.push(`${where}: its hash does not match its content`);
      continue;
    }
    const [, payloadPart = ''] = row.jws.split('.');
    let payload: unknown;
    try {
      payload = JSON.parse(Buffer.from(payloadPart, 'base64url').toString('utf8'));
    } catch {
      payload = undefined;
    }
    const parsed = claimsSchema.safeParse(payload);
    if (!parsed.success) {
      problems.push(`${where}: not a signed key record`);
      continue;
    }
    const { basis, ...rest } = parsed.data;
    const claims: KeyRecordClaims = { ...rest, ...(basis !== undefined ? { basis } : {}) };
    if (claims.key.kid !== row.kid || claims.event !== row.event || claims.at !== row.at || ecThumbprint(claims.key.publicJwk) !== row.kid) {
      problems.push(`${where}: the signed content differs from the row, or the kid is not the key's RFC 7638 thumbprint`);
      continue;
    }
    decoded.push({ row, claims });
  }

  // Fixpoint: a record signed by a trusted key makes its subject trusted.
  const verified = new Map<number, KeyRecordClaims>();
  const failed = new Map<number, string>();
  for (let changed = true; changed; ) {
    changed = false;
    for (const d of decoded) {
      if (verified.has(d.row.id) || failed.has(d.row.id)) continue;
      const signer = keys.get(d.row.signerKid);
      if (!signer) continue;
      const v = verifyEs256Jws(d.row.jws, d.row.signerKid, signer.jwk, KEY_RECORD_TYP);
      if ('problem' in v) {
        failed.set(d.row.id, v.problem);
        continue;
      }
      verified.set(d.row.id, d.claims);
      const adopted = d.claims.event === 'registered' && d.claims.basis === REGISTERED_ADOPTED;
      if (trust(d.claims.key.kid, d.claims.key.publicJwk, 'record', adopted || signer.adopted)) changed = true;
    }
  }
  for (const d of decoded) {
    if (verified.has(d.row.id)) continue;
    const where = `signing-key record ${d.row.id} (${d.row.event} of key ${d.row.kid})`;
    problems.push(`${where}: ${failed.get(d.row.id) ?? `signed by key ${d.row.signerKid}, which neither the trust anchor nor any trusted record vouches for`}`);
  }

  // Each key's state is that of its newest verified record.
  for (const d of decoded) {
    const claims = verified.get(d.row.id);
    const key = claims ? keys.get(claims.key.kid) : undefined;
    if (claims && key) key.state = claims.key;
  }
  // A key retired as compromised vouches for nothing it signed from then on.
  for (const d of decoded) {
    if (!verified.has(d.row.id)) continue;
    const compromisedAt = keys.get(d.row.signerKid)?.state?.compromisedAt;
    if (compromisedAt && d.row.at > compromisedAt) {
      problems.push(`signing-key record ${d.row.id} was signed by key ${d.row.signerKid} after that key was retired as compromised (${compromisedAt})`);
    }
  }

  for (const row of input.rows) {
    const key = keys.get(row.kid);
    if (!key || ecThumbprint(row.publicJwk) !== row.kid) {
      problems.push(
        `key ${row.kid} exists only in the database: ${input.anchor ? 'the trust anchor does not hold it and no record signed by a trusted key vouches for it' : 'its kid is not the thumbprint of its public key'} (a forged key row)`,
      );
      continue;
    }
    if (!key.state) {
      problems.push(`key ${row.kid} has no signed record (start the gateway once with its HSM to register keys made before records existed)`);
      continue;
    }
    const diff = snapshotDifferences(row, key.state);
    if (diff.length > 0) problems.push(`key ${row.kid}: the database row differs from its newest signed record: ${diff.join(', ')}`);
  }
  for (const key of keys.values()) {
    if (key.adopted) notes.push(`key ${key.kid} was adopted from the database when key records were introduced; its trust rests on that upgrade`);
  }
  return { keys, verifiedRecords: verified, problems, notes };
}

/** Whether `key` could sign at `at`: active then, and not yet compromised. */
export function validAt(key: TrustedKey, at: string): string | undefined {
  const s = key.state;
  if (!s) return `key ${key.kid} has no signed record`;
  if (!s.activatedAt || s.activatedAt > at) return `key ${key.kid} was not active yet at ${at}`;
  if (s.retiredAt && s.retiredAt < at) return `key ${key.kid} was already retired at ${at}`;
  if (s.compromisedAt && s.compromisedAt <= at) return `key ${key.kid} was compromised at ${s.compromisedAt}`;
  return undefined;
}
