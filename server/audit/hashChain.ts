/**
 * The audit trail is an append-only hash chain (NSIS 6 (Low) 7: an integrity-protected log).
 * Each entry's hash is SHA-256 over the previous hash and the entry's canonical JSON, so a
 * changed, removed or reordered entry breaks every hash after it.
 */
import { createHash } from 'node:crypto';
import { canonicalJson, type JsonValue } from './canonicalJson.js';

export const GENESIS_HASH = '0'.repeat(64);

export interface AuditEntryBody {
  seq: number;
  at: string;
  type: string;
  actorId: string | null;
  actorRole: string;
  subjectId: string | null;
  data: { [key: string]: JsonValue };
}

export interface AuditEntry extends AuditEntryBody {
  prevHash: string;
  hash: string;
}

export function entryHash(prevHash: string, body: AuditEntryBody): string {
  const canonical = canonicalJson({
    seq: body.seq,
    at: body.at,
    type: body.type,
    actorId: body.actorId,
    actorRole: body.actorRole,
    subjectId: body.subjectId,
    data: body.data,
  });
  return createHash('sha256').update(prevHash, 'utf8').update('\n').update(canonical, 'utf8').digest('hex');
}

export type ChainVerdict =
  | { ok: true; entries: number; headHash: string }
  | { ok: false; entries: number; firstBrokenSeq: number; problem: string };

/**
 * Verifies entries in order (a streaming fold: pass an iterator for big chains). Names the first
 * entry whose sequence, link or hash does not hold.
 */
export function verifyChain(entries: Iterable<AuditEntry>, startPrevHash = GENESIS_HASH, startSeq = 1): ChainVerdict {
  let prev = startPrevHash;
  let expectedSeq = startSeq;
  let count = 0;
  for (const e of entries) {
    if (e.seq !== expectedSeq) {
      return { ok: false, entries: count, firstBrokenSeq: expectedSeq, problem: `entry ${expectedSeq} is missing (found ${e.seq})` };
    }
    if (e.prevHash !== prev) {
      return { ok: false, entries: count, firstBrokenSeq: e.seq, problem: `entry ${e.seq} does not link to the previous entry` };
    }
    const h = entryHash(prev, e);
    if (h !== e.hash) {
      return { ok: false, entries: count, firstBrokenSeq: e.seq, problem: `entry ${e.seq} was altered (hash mismatch)` };
    }
    prev = e.hash;
    expectedSeq++;
    count++;
  }
  return { ok: true, entries: count, headHash: prev };
}
