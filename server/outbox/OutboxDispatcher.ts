import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { Store } from '../ports/store.js';
import { SECRET_PLACEHOLDER, type OutboxSink, type SecretMinter } from './types.js';

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
  private queued: Promise<void> | undefined;
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

  /**
   * Delivers everything due. A call during a round waits for one more round that starts after
   * it (concurrent calls share that one), so whatever was due when it was called is tried.
   */
  flush(): Promise<void> {
    // Once closed, no new round starts: the store may already be closed.
    if (this.closed) return this.running ?? Promise.resolve();
    if (!this.running) return this.startRound();
    this.queued ??= this.running.then(() => {
      this.queued = undefined;
      return this.closed ? undefined : (this.running ?? this.startRound());
    });
    return this.queued;
  }

  private startRound(): Promise<void> {
    const round: Promise<void> = this.round()
      .catch((err: unknown) => this.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'outbox: delivery round failed; will retry'))
      .finally(() => {
        if (this.running === round) this.running = undefined;
      });
    this.running = round;
    return round;
  }

  /**
   * Claims one due message at a time (with a lease, so that no other process or instance
   * delivers it meanwhile), delivers it, records the outcome; until none is due or one fails.
   */
  private async round(): Promise<void> {
    for (;;) {
      const now = this.clock.now();
      const [m] = await this.store.write((tx) => tx.outbox.claimDue(now.toISOString(), new Date(now.getTime() + LEASE_MS).toISOString(), 1));
      if (!m || m.body === null) return;
      try {
        let text = await this.textOf(m.body, m.receiptClaims);
        if (m.secretRef !== null) {
          if (!this.secretMinter) throw new Error('no secret minter: the mail waits');
          // Minted now, its hash committed before the mail leaves; the secret stays in memory.
          const secret = await this.secretMinter(m.secretRef);
          if (secret === undefined) {
            await this.store.write((tx) => tx.outbox.markWithdrawn(m.id, this.clock.now().toISOString(), 'the code was replaced, used or expired before delivery'));
            this.log.info({ messageId: m.id, kind: m.kind }, 'outbox: message withdrawn, its code is no longer open');
            continue;
          }
          text = text.replace(SECRET_PLACEHOLDER, secret);
        }
        await this.sink.deliver({ id: m.id, to: m.recipient, subject: m.subject, text, kind: m.kind });
        await this.store.write((tx) => tx.outbox.markSent(m.id, this.clock.now().toISOString()));
        this.log.info({ messageId: m.id, kind: m.kind, to: m.recipient, sink: this.sink.description }, 'outbox: message delivered');
      } catch (err) {
        const backoff = Math.min(MAX_BACKOFF_SECONDS, 2 ** Math.min(m.attempts, 8));
        const next = new Date(this.clock.now().getTime() + backoff * 1000).toISOString();
        await this.store.write((tx) => tx.outbox.markFailed(m.id, err instanceof Error ? err.message : String(err), next));
        this.log.warn({ messageId: m.id, kind: m.kind, err: err instanceof Error ? err.message : String(err) }, 'outbox: delivery failed, will retry');
        return;
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
