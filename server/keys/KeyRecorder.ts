/**
 * Signs and stores the signed record of each signing-key change (keyRecords.ts): signed with the
 * HSM before the change's transaction, stored inside it, after a read-back check that the row
 * the transaction left is exactly the state the record signs.
 */
import type { KeyRecordEvent } from '../domain/signingKeys.js';
import type { WriteTx } from '../ports/store.js';
import { sha256Hex } from '../audit/compactJws.js';
import { signCompactJws, type SigningPort } from '../tokens/jws.js';
import { KEY_RECORD_TYP, keyRecordClaims, snapshotDifferences, type KeySnapshot } from './keyRecords.js';

export interface PendingKeyRecord {
  kid: string;
  event: KeyRecordEvent;
  at: string;
  signerKid: string;
  jws: string;
  /** SHA-256 (hex) of the JWS: the audit event of the change names it. */
  hash: string;
  snapshot: KeySnapshot;
}

export class KeyRecorder {
  constructor(private readonly iss: string) {}

  /** Signs the key's state after `event` with `signer` (the key active after the change). */
  async sign(event: KeyRecordEvent, at: string, snapshot: KeySnapshot, signer: SigningPort, basis?: string): Promise<PendingKeyRecord> {
    const jws = await signCompactJws(signer, keyRecordClaims(this.iss, event, at, snapshot, basis), KEY_RECORD_TYP);
    return { kid: snapshot.kid, event, at, signerKid: signer.kid, jws, hash: sha256Hex(jws), snapshot };
  }

  /**
   * Inside the change's transaction, after the row was changed and the audit event appended:
   * refuses (throws, so the transaction rolls back) if the row is not what the record signs.
   */
  async commit(tx: WriteTx, record: PendingKeyRecord, auditSeq: number): Promise<void> {
    const row = await tx.signingKeys.get(record.kid);
    if (!row) throw new Error(`signing key ${record.kid} vanished inside its own transaction`);
    const diff = snapshotDifferences(row, record.snapshot);
    if (diff.length > 0) throw new Error(`signing key ${record.kid}: the change does not match its signed record (${diff.join(', ')})`);
    await tx.signingKeys.addRecord({
      kid: record.kid,
      event: record.event,
      at: record.at,
      signerKid: record.signerKid,
      jws: record.jws,
      hash: record.hash,
      auditSeq,
    });
  }
}
