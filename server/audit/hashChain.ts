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
 * A streaming fold over the chain in order: `next(e)` answers the verdict as soon as an entry's
 * sequence, link or hash does not hold, `done()` the verdict of the whole when none failed.
 */
export class ChainFold {
  private prev: string;
  private expectedSeq: number;
  private count = 0;

  constructor(startPrevHash = GENESIS_HASH, startSeq = 1) {
    this.prev = startPrevHash;
    this.expectedSeq = startSeq;
  }

  next(e: AuditEntry): ChainVerdict | undefined {
    if (e.seq !== this.expectedSeq) {
      return { ok: false, entries: this.count, firstBrokenSeq: this.expectedSeq, problem: `entry ${this.expectedSeq} is missing (found ${e.seq})` };
    }
    if (e.prevHash !== this.prev) {
      return { ok: false, entries: this.count, firstBrokenSeq: e.seq, problem: `entry ${e.seq} does not link to the previous entry` };
    }
    if (entryHash(this.prev, e) !== e.hash) {
      return { ok: false, entries: this.count, firstBrokenSeq: e.seq, problem: `entry ${e.seq} was altered (hash mismatch)` };
    }
    this.prev = e.hash;
    this.expectedSeq++;
    this.count++;
    return undefined;
  }

  done(): ChainVerdict {
    return { ok: true, entries: this.count, headHash: this.prev };
  }
}

/** Verifies entries in order (pass an iterator for big chains). Names the first entry that does not hold. */
export function verifyChain(entries: Iterable<AuditEntry>, startPrevHash = GENESIS_HASH, startSeq = 1): ChainVerdict {
  const fold = new ChainFold(startPrevHash, startSeq);
  for (const e of entries) {
    const broken = fold.next(e);
    if (broken) return broken;
  }
  return fold.done();
}
