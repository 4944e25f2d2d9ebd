import fs from 'node:fs';
import nodemailer, { type Transporter } from 'nodemailer';
import type { SmtpConfig } from '../config.js';
import type { OutboxSink, OutgoingMail } from './types.js';

/** Production sink: SMTP through nodemailer (STARTTLS or implicit TLS as configured). */
export class SmtpSink implements OutboxSink {
  readonly description: string;
  private readonly transport: Transporter;

  constructor(private readonly cfg: SmtpConfig) {
    this.description = `smtp ${cfg.host}:${cfg.port}`;
    const pass = cfg.passwordFile ? fs.readFileSync(cfg.passwordFile, 'utf8').trim() : undefined;
    this.transport = nodemailer.createTransport({
      host: cfg.host,
      port: cfg.port,
      secure: cfg.secure,
      auth: cfg.user ? { user: cfg.user, pass: pass ?? '' } : undefined,
      tls: { rejectUnauthorized: cfg.rejectUnauthorized },
    });
  }

  async deliver(mail: OutgoingMail): Promise<void> {
    await this.transport.sendMail({
      from: this.cfg.from,
      to: mail.to,
      subject: mail.subject,
      text: mail.text,
      messageId: `<${mail.id}@gateway>`,
      headers: { 'X-Gateway-Kind': mail.kind },
    });
  }

  close(): void {
    this.transport.close();
  }
}
