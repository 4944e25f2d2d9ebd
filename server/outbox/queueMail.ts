/**
 * Queues one mail in the transactional outbox. Call inside the transaction of the change the mail
 * tells about: it is delivered only if that change commits (and then at least once).
 */
import { randomUUID } from 'node:crypto';
import type { Mail } from '../lifecycle/mails.js';
import type { Store } from '../store/index.js';

export function queueMail(store: Store, mail: Mail, at: string): void {
  store.enqueueOutbox({
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
