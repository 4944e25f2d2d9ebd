/** A message of the transactional outbox (the second channel, NSIS 3.2.2). No I/O. */
export interface OutboxMessage {
  id: string;
  channel: 'email';
  recipient: string;
  subject: string;
  body: string | null;
  kind: string;
  createdAt: string;
  attempts: number;
  nextAttemptAt: string;
  sentAt: string | null;
  lastError: string | null;
  /** Claims of a receipt the dispatcher has the HSM sign just before delivery. */
  receiptClaims: string | null;
  /** A one-time secret minted at delivery into the body's placeholder (never stored in clear). */
  secretRef: string | null;
}

export type NewOutboxMessage = Omit<OutboxMessage, 'attempts' | 'sentAt' | 'lastError'>;
