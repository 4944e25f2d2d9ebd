import fs from 'node:fs';
import path from 'node:path';
import type { OutboxSink, OutgoingMail } from './types.js';

/**
 * Development sink: each message becomes an RFC 5322 file in the outbox directory (0600). The log
 * names the file, never its content (it may hold an activation code).
 */
export class FileSink implements OutboxSink {
  readonly description: string;
  /** Delivery order within one millisecond: file names sort in the order mails were delivered. */
  private sequence = 0;

  constructor(
    private readonly dir: string,
    private readonly from: string,
  ) {
    this.description = `file ${dir}`;
  }

  async deliver(mail: OutgoingMail): Promise<void> {
    await fs.promises.mkdir(this.dir, { recursive: true, mode: 0o700 });
    const order = String(++this.sequence).padStart(9, '0');
    const file = path.join(this.dir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${order}-${mail.id}.eml`);
    const content = [
      `From: ${this.from}`,
      `To: ${mail.to}`,
      `Subject: ${mail.subject}`,
      `Message-ID: <${mail.id}@gateway>`,
      `X-Gateway-Kind: ${mail.kind}`,
      'Content-Type: text/plain; charset=utf-8',
      '',
      mail.text,
      '',
    ].join('\r\n');
    await fs.promises.writeFile(file, content, { mode: 0o600 });
  }
}
