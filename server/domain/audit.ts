/** The audit trail's records (the hash chain itself lives in server/audit/hashChain.ts). No I/O. */
import type { AuditEntry, AuditEntryBody } from '../audit/hashChain.js';

export type { AuditEntry, AuditEntryBody } from '../audit/hashChain.js';

/** An event to append: the store gives it its sequence number and chains it. */
export type AuditInput = Omit<AuditEntryBody, 'seq'>;

/** The head of the chain: the newest entry's sequence number and hash (0 and the genesis hash when empty). */
export type AuditHead = Pick<AuditEntry, 'seq' | 'hash'>;
