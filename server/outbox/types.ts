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

export interface OutboxSink {
  /** Human description for logs and /api/health, e.g. "file var/outbox" or "smtp mail.example:587". */
  readonly description: string;
  deliver(mail: OutgoingMail): Promise<void>;
  close?(): Promise<void> | void;
}
