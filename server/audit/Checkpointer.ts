/**
 * Signs the head of the audit chain with the HSM key every N events or T seconds, so that a
 * truncated or rewritten log is detectable by anyone holding the public keys.
 */
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { KeyManager } from '../keys/KeyManager.js';
import type { Logger } from '../logger.js';
import type { CheckpointRecord, Store } from '../store/index.js';

export const CHECKPOINT_TYP = 'audit-checkpoint+jwt';

export interface CheckpointClaims {
  typ: 'audit-checkpoint';
  iss: string;
  seq: number;
  head: string;
  at: string;
}

export class AuditCheckpointer {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<CheckpointRecord | undefined> | undefined;

  constructor(private readonly ports: { store: Store; keys: KeyManager; clock: Clock; config: Readonly<Config>; log: Logger }) {}

  /** Writes a checkpoint when due (or when forced and the head moved). */
  checkpoint(force = false): Promise<CheckpointRecord | undefined> {
    this.running ??= this.run(force).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async run(force: boolean): Promise<CheckpointRecord | undefined> {
    const { store, keys, clock, config } = this.ports;
    const head = store.auditHead();
    const last = store.checkpoints.latest();
    if (head.seq === 0 || (last && last.seq === head.seq)) return undefined;
    const now = clock.now();
    const sinceLast = last ? (now.getTime() - new Date(last.at).getTime()) / 1000 : Infinity;
    const due = force || !last || head.seq - last.seq >= config.auditCheckpointEvery || sinceLast >= config.auditCheckpointSeconds;
    if (!due) return undefined;
    const claims: CheckpointClaims = { typ: 'audit-checkpoint', iss: config.origin, seq: head.seq, head: head.hash, at: now.toISOString() };
    const { jws, kid } = await keys.signJws(claims, CHECKPOINT_TYP);
    const id = store.transaction(() => store.checkpoints.insert({ seq: head.seq, headHash: head.hash, at: claims.at, kid, jws }));
    return { id, seq: head.seq, headHash: head.hash, at: claims.at, kid, jws };
  }

  start(intervalMs = 1000): void {
    this.timer ??= setInterval(() => {
      this.checkpoint().catch((err: unknown) => this.ports.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'audit checkpoint failed; will retry'));
    }, intervalMs);
    this.timer.unref();
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }
}
