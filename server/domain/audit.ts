/** The audit trail's records (the hash chain itself lives in server/audit/hashChain.ts). No I/O. */
import type { AuditEntry, AuditEntryBody } from '../audit/hashChain.js';

export type { AuditEntry, AuditEntryBody } from '../audit/hashChain.js';

/** An event to append: the store gives it its sequence number and chains it. */
export type AuditInput = Omit<AuditEntryBody, 'seq'>;

/** The head of the chain: the newest entry's sequence number and hash (0 and the genesis hash when empty). */
export type AuditHead = Pick<AuditEntry, 'seq' | 'hash'>;

/**
 * A filter over the trail (the readable audit view and its export). Every field narrows; absent
 * fields do not. `personId` matches events about the person, by them, and about their keys.
 * Times are ISO 8601 instants: `from` inclusive, `to` exclusive. `afterSeq` / `beforeSeq` are the
 * paging cursors (exclusive).
 */
export interface AuditQuery {
  personId?: string | undefined;
  keyId?: string | undefined;
  actorId?: string | undefined;
  types?: readonly string[] | undefined;
  from?: string | undefined;
  to?: string | undefined;
  afterSeq?: number | undefined;
  beforeSeq?: number | undefined;
}

/** The first and last sequence numbers of the entries in a time range (undefined when it holds none). */
export interface AuditSeqRange {
  firstSeq: number;
  lastSeq: number;
}
