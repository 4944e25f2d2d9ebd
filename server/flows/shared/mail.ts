/**
 * Queues one mail in the transactional outbox, inside the transaction of the change it tells
 * about: delivered only if that change commits (and then at least once).
 */
import { randomUUID } from 'node:crypto';
import type { Mail } from '../../lifecycle/mails.js';
import type { WriteTx } from '../../ports/store.js';

export function queueMail(tx: WriteTx, mail: Mail, at: string): Promise<void> {
  return tx.outbox.enqueue({
    id: randomUUID(),
    channel: 'email',
    recipient: mail.to,
    subject: mail.subject,
    body: mail.text,
    kind: mail.kind,
    createdAt: at,
    nextAttemptAt: at,
    receiptClaims: mail.receipt ? JSON.stringify(mail.receipt) : null,
    secretRef: mail.secretRef ?? null,
  });
}
