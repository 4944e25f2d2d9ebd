/**
 * The broker's signing keys as recorded (NSIS 6 (Substantial) 11): the public JWK, the PKCS#11
 * CKA_ID and the key's life cycle; key material never leaves the HSM. And the signed,
 * append-only record of each change of a key. No I/O.
 */
export type SigningKeyState = 'pending' | 'active' | 'retired' | 'destroyed';
export const SIGNING_KEY_STATES = ['pending', 'active', 'retired', 'destroyed'] as const satisfies readonly SigningKeyState[];

export interface SigningKeyRecord {
  kid: string;
  ckaId: string;
  label: string;
  alg: string;
  publicJwk: Record<string, string>;
  state: SigningKeyState;
  createdAt: string;
  promoteAt: string | null;
  activatedAt: string | null;
  retiredAt: string | null;
  publishedUntil: string | null;
  destroyedAt: string | null;
  compromisedAt: string | null;
}

export type NewSigningKey = Omit<SigningKeyRecord, 'retiredAt' | 'publishedUntil' | 'destroyedAt' | 'compromisedAt'>;

/** What a signed key record says happened (server/keys/keyRecords.ts). */
export type KeyRecordEvent = 'generated' | 'activated' | 'retired' | 'destroyed' | 'registered';
export const KEY_RECORD_EVENTS = ['generated', 'activated', 'retired', 'destroyed', 'registered'] as const satisfies readonly KeyRecordEvent[];

/** A signed, append-only record of one change of a signing key. */
export interface KeyRecordRow {
  id: number;
  kid: string;
  event: KeyRecordEvent;
  at: string;
  signerKid: string;
  /** Compact JWS by the HSM key `signerKid` over the key's state after the change. */
  jws: string;
  /** SHA-256 (hex) of the JWS; the audit event of the change names it. */
  hash: string;
  /** The audit event recorded with the change. */
  auditSeq: number;
}

export type NewKeyRecord = Omit<KeyRecordRow, 'id'>;
