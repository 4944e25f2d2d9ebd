/**
 * Reads activation codes from the gateway's file outbox (the second channel in development), as
 * an employee reads the mail: the newest activation or reactivation mail to that address. The
 * code is returned to the caller, never printed.
 */
import fs from 'node:fs';
import path from 'node:path';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class OutboxReader {
  private readonly seen = new Set<string>();
  private readonly codes = new Map<string, string>();

  constructor(private readonly dir: string) {}

  private scan(): void {
    if (!fs.existsSync(this.dir)) return;
    for (const file of fs.readdirSync(this.dir).sort()) {
      if (!file.endsWith('.eml') || this.seen.has(file)) continue;
      const raw = fs.readFileSync(path.join(this.dir, file), 'utf8');
      const [head = '', ...rest] = raw.split('\r\n\r\n');
      const header = (name: string) => new RegExp(`^${name}: (.*)$`, 'm').exec(head)?.[1] ?? '';
      const kind = header('X-Gateway-Kind');
      const code = /^\s+(\d{4}) (\d{4})\s*$/m.exec(rest.join('\r\n\r\n'));
      const isCode = kind === 'activation-code' || kind === 'reactivation-code';
      // The sink may still be writing the file: read it again on the next scan until it is whole.
      if (kind === '' || (isCode && !code)) continue;
      this.seen.add(file);
      if (isCode && code) this.codes.set(header('To'), `${code[1]}${code[2]}`);
    }
  }

  /** Waits (bounded) for the activation code mailed to `email`. */
  async codeFor(email: string, timeoutMs = 60_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const code = this.codes.get(email);
      if (code) {
        this.codes.delete(email);
        return code;
      }
      if (Date.now() > deadline) throw new Error(`no activation code reached ${email} through the outbox within ${timeoutMs / 1000} s`);
      await sleep(100);
      this.scan();
    }
  }
}
