import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { Store } from '../store/index.js';
import { SECRET_PLACEHOLDER, type OutboxSink, type SecretMinter } from './types.js';

const BATCH = 50;
const MAX_BACKOFF_SECONDS = 300;
/** A claimed message is retried by anyone after this long if its deliverer died. */
const LEASE_MS = 60_000;

/**
 * Delivers committed outbox rows through the sink, retrying with backoff. `kick()` after a commit
 * delivers at once; a timer catches up on anything left (e.g. after a crash or an SMTP outage).
 */
export class OutboxDispatcher {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private closed = false;

  /**
   * Mints the one-time secret a mail refers to, just before delivery (issue 13, 5: the stored mail
   * holds a placeholder, never the secret). Set by the runtime to the core's minter.
   */
  secretMinter: SecretMinter | undefined;

  /** Signs receipt claims with the HSM key at delivery time (set once the key manager runs). */
  receiptSigner: ((claims: Record<string, unknown>) => Promise<string>) | undefined;

  constructor(
    private readonly store: Store,
    private readonly sink: OutboxSink,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  /** The mail text, with the HSM-signed receipt appended when the message carries one. */
  private async textOf(body: string, receiptClaims: string | null): Promise<string> {
    if (receiptClaims === null) return body;
    const parsed: unknown = JSON.parse(receiptClaims);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new TypeError('receipt claims are not an object');
    if (!this.receiptSigner) return `${body}\n\n(This receipt is not signed: no signing key is configured.)`;
    const jws = await this.receiptSigner({ ...parsed });
    return `${body}\n\nSigned receipt (a JWS; verify it with the keys at /.well-known/jwks.json):\n${jws}`;
  }

  get description(): string {
    return this.sink.description;
  }

  start(intervalMs = 2000): void {
    this.timer ??= setInterval(() => void this.flush(), intervalMs);
    this.timer.unref();
  }

  /** Asks for a delivery round without waiting for it. */
  kick(): void {
    void this.flush();
  }

  /** Delivers everything due; concurrent calls share one round (and trigger one more). */
  flush(): Promise<void> {
    // Once closed, no new round starts: the store may already be closed.
    if (this.closed) return this.running ?? Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.round().finally(() => {
      this.running = undefined;
      if (this.again && !this.closed) {
        this.again = false;
        void this.flush();
      }
    });
    return this.running;
  }

  private async round(): Promise<void> {
    for (;;) {
      const due = this.store.dueOutbox(this.clock.now().toISOString(), BATCH);
      if (due.length === 0) return;
      for (const m of due) {
        if (m.body === null) continue;
        const now = this.clock.now();
        if (!this.store.claimOutbox(m.id, now.toISOString(), new Date(now.getTime() + LEASE_MS).toISOString())) continue;
        try {
          let text = await this.textOf(m.body, m.receiptClaims);
          if (m.secretRef !== null) {
            if (!this.secretMinter) throw new Error('no secret minter: the mail waits');
            // Minted now, its hash committed before the mail leaves; the secret stays in memory.
            const secret = this.secretMinter(m.secretRef);
            if (secret === undefined) {
              this.store.markOutboxWithdrawn(m.id, this.clock.now().toISOString(), 'the code was replaced, used or expired before delivery');
              this.log.info({ messageId: m.id, kind: m.kind }, 'outbox: message withdrawn, its code is no longer open');
              continue;
            }
            text = text.replace(SECRET_PLACEHOLDER, secret);
          }
          await this.sink.deliver({ id: m.id, to: m.recipient, subject: m.subject, text, kind: m.kind });
          this.store.markOutboxSent(m.id, this.clock.now().toISOString());
          this.log.info({ messageId: m.id, kind: m.kind, to: m.recipient, sink: this.sink.description }, 'outbox: message delivered');
        } catch (err) {
          const backoff = Math.min(MAX_BACKOFF_SECONDS, 2 ** Math.min(m.attempts, 8));
          const next = new Date(this.clock.now().getTime() + backoff * 1000).toISOString();
          this.store.markOutboxFailed(m.id, err instanceof Error ? err.message : String(err), next);
          this.log.warn({ messageId: m.id, kind: m.kind, err: err instanceof Error ? err.message : String(err) }, 'outbox: delivery failed, will retry');
          return;
        }
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
    await this.sink.close?.();
  }
}
