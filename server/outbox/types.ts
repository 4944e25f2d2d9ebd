/**
 * The outbox port: the second, independent channel (NSIS 3.2.2) and every notification to a
 * holder (NSIS 3.2.3). Messages are written to the `outbox` table in the same transaction as the
 * change they announce, then delivered by the dispatcher through a sink: nothing is lost if the
 * process dies between commit and delivery.
 */
export interface OutgoingMail {
  id: string;
  to: string;
  subject: string;
  text: string;
  kind: string;
}

/**
 * Where a one-time secret goes in a stored mail body. The secret itself is never stored: the
 * dispatcher has it minted (its keyed hash committed) just before delivery and puts it here in
 * memory (issue 13, 5).
 */
export const SECRET_PLACEHOLDER = '{{one-time-secret}}';

/** Mints the secret a mail refers to; undefined when it was withdrawn, used or expired meanwhile. */
export type SecretMinter = (ref: string) => Promise<string | undefined>;

export interface OutboxSink {
  /** Human description for logs and /api/health, e.g. "file var/outbox" or "smtp mail.example:587". */
  readonly description: string;
  deliver(mail: OutgoingMail): Promise<void>;
  close?(): Promise<void> | void;
}
