/**
 * Signs the head of the audit chain with the HSM key every N events or T seconds, as a chained
 * C2SP checkpoint note (checkpointNote.ts), and writes it to the witnesses outside the database
 * (witness.ts), so a truncated, rewritten or re-chained log is detectable by anyone holding the
 * public keys (NSIS 6 (Low) 7; 4.1.7 (Low) 3: audits need a trail that can be checked).
 *
 * Before signing, it proves that the head extends the last checkpoint it signed: the database's
 * last checkpoint must be the one its witness holds (or, if the database is ahead of the
 * witness, verify with an HSM key and link to it), and the entries after it must re-hash, link
 * by link, to the head. Otherwise it signs nothing and raises the alarm (alarm.ts): after an
 * offline re-chain, the running gateway never signs the forged head.
 */
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { KeyManager } from '../keys/KeyManager.js';
import type { Logger } from '../logger.js';
import { randomUUID } from 'node:crypto';
import type { CheckpointRecord } from '../domain/checkpoints.js';
import type { Store } from '../ports/store.js';
import type { AuditAlarm, AuditAlarms } from './alarm.js';
import { checkpointOrigin, checkpointTextHash, signCheckpointNote, verifyCheckpointNote } from './checkpointNote.js';
import { GENESIS_HASH, entryHash } from './hashChain.js';
import { WitnessConflictError, type DirectoryWitness, type HttpWitness } from './witness.js';

/** typ of the JWS checkpoints made before migration 9 (still verified). */
export const CHECKPOINT_TYP = 'audit-checkpoint+jwt';

/** Entries re-hashed per turn of the event loop while checking the chain. */
const CHUNK = 2000;
/** While an alarm stands, the (costly) check is repeated at most this often unless forced. */
const ALARM_RECHECK_MS = 30_000;
/** The one process (or instance) that signs the next checkpoint holds this lease while it does. */
const LEASE = 'audit-checkpoint';
const LEASE_MS = 30_000;

export interface CheckpointerPorts {
  store: Store;
  keys: KeyManager;
  clock: Clock;
  config: Readonly<Config>;
  log: Logger;
  witness: DirectoryWitness;
  remote?: HttpWitness | undefined;
  alarms: AuditAlarms;
  /** A witness could not be written (metrics); retried at the next run. */
  onWitnessFailure?: (sink: 'directory' | 'url') => void;
}

/** The text a checkpoint's signature covers: its note, or a pre-note checkpoint's JWS. */
export function signedTextOf(cp: CheckpointRecord): string {
  return cp.note ?? cp.jws;
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

export class AuditCheckpointer {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<CheckpointRecord | undefined> | undefined;
  private started = false;
  private remotePending = true;
  private lastAlarmCheck = 0;
  /** This checkpointer's name in the lease table. */
  private readonly holder = `checkpointer-${randomUUID()}`;

  constructor(private readonly ports: CheckpointerPorts) {}

  /** The chain head and the newest checkpoint, in one snapshot. */
  private headAndLast(): Promise<{ head: { seq: number; hash: string }; last: CheckpointRecord | undefined }> {
    return this.ports.store.read(async (tx) => ({ head: await tx.audit.head(), last: await tx.checkpoints.latest() }));
  }

  /** Writes a checkpoint when due (or when forced and the head moved). */
  checkpoint(force = false): Promise<CheckpointRecord | undefined> {
    this.running ??= this.run(force).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Checks, without signing, that the chain extends the last checkpoint; raises the alarm if not. */
  async verifyNow(): Promise<AuditAlarm | undefined> {
    const { head, last } = await this.headAndLast();
    const alarm = (await this.checkBase(last)) ?? (await this.checkChain(last, head));
    if (alarm) await this.ports.alarms.raise(alarm);
    return alarm;
  }

  private async run(force: boolean): Promise<CheckpointRecord | undefined> {
    const { store, keys, clock, config } = this.ports;
    const { head, last } = await this.headAndLast();
    if (head.seq === 0 || (last && last.seq === head.seq)) {
      await this.deliverRemote();
      return undefined;
    }
    const now = clock.now();
    const sinceLast = last ? (now.getTime() - new Date(last.at).getTime()) / 1000 : Infinity;
    const due = force || !last || head.seq - last.seq >= config.auditCheckpointEvery || sinceLast >= config.auditCheckpointSeconds;
    if (!due) {
      await this.deliverRemote();
      return undefined;
    }
    if (this.ports.alarms.active && !force && Date.now() - this.lastAlarmCheck < ALARM_RECHECK_MS) return undefined;
    this.lastAlarmCheck = Date.now();

    // 1. The last checkpoint is the one the gateway signed; 2. the head extends it.
    const alarm = (await this.checkBase(last)) ?? (await this.checkChain(last, head));
    if (alarm) {
      await this.ports.alarms.raise(alarm);
      return undefined;
    }

    // 3. Sign the next checkpoint of the chain, holding the lease: one signer at a time, whichever
    // process or instance it is.
    const until = new Date(now.getTime() + LEASE_MS).toISOString();
    if (!(await store.write((tx) => tx.leases.acquire(LEASE, this.holder, until, now.toISOString())))) return undefined;
    const signer = await keys.activeSigner();
    const at = now.toISOString();
    // The next number in the checkpoint chain (checkpoints from before notes are counted once).
    const n = (last?.n ?? (await store.read((tx) => tx.checkpoints.count()))) + 1;
    const prevHash = last ? checkpointTextHash(signedTextOf(last)) : null;
    const body = { origin: checkpointOrigin(config.origin), seq: head.seq, headHash: head.hash, n, prevHash, at, kid: signer.kid };
    const note = await signCheckpointNote(body, signer.publicJwk, (data) => signer.sign(data));
    const record = await store.write(async (tx): Promise<CheckpointRecord | undefined> => {
      await tx.leases.release(LEASE, this.holder);
      // Another process checkpointed meanwhile: its checkpoint stands, this one is dropped.
      if ((await tx.checkpoints.latest())?.id !== last?.id) return undefined;
      const fields = { seq: head.seq, headHash: head.hash, at, kid: signer.kid, jws: '', n, prevHash, note };
      return { id: await tx.checkpoints.insert(fields), ...fields };
    });
    if (!record) return undefined;
    this.ports.alarms.clear();

    // 4. The witnesses outside the database.
    this.writeWitness(n, note);
    this.remotePending = true;
    await this.deliverRemote();
    return record;
  }

  private writeWitness(n: number, note: string): void {
    try {
      this.ports.witness.write(n, note);
    } catch (err) {
      if (err instanceof WitnessConflictError) {
        void this.ports.alarms.raise({ reason: 'witness-conflict', detail: err.message });
        return;
      }
      this.ports.onWitnessFailure?.('directory');
      this.ports.log.error({ dir: this.ports.witness.dir, err: err instanceof Error ? err.message : String(err) }, 'audit witness directory not written; retried at the next checkpoint');
    }
  }

  /**
   * The database's last checkpoint must be the witness's last. A database behind the witness
   * lost checkpoints; one ahead of it (a crash between commit and witness write, another
   * worker's checkpoint, a new witness directory) is brought up to date, but only with
   * checkpoints that verify with a key the HSM holds and link one to the next.
   */
  private async checkBase(last: CheckpointRecord | undefined): Promise<AuditAlarm | undefined> {
    const { store, keys } = this.ports;
    let witnessed;
    try {
      witnessed = this.ports.witness.latest();
    } catch (err) {
      this.ports.onWitnessFailure?.('directory');
      this.ports.log.error({ dir: this.ports.witness.dir, err: err instanceof Error ? err.message : String(err) }, 'audit witness directory not readable');
      return undefined;
    }
    if (!last || last.n === null) {
      return witnessed
        ? { reason: 'checkpoints-removed', detail: `the witness holds checkpoint ${witnessed.n} but the database has ${last ? 'only checkpoints from before signed notes' : 'no checkpoint'}` }
        : undefined;
    }
    if (witnessed && witnessed.n > last.n) {
      return {
        reason: 'checkpoints-removed',
        detail: `the witness holds checkpoint ${witnessed.n} but the database's newest is ${last.n} (entry ${last.seq}): checkpoints were removed, or an older copy of the database was restored`,
      };
    }
    if (witnessed && witnessed.n === last.n) {
      return witnessed.note === last.note ? undefined : { reason: 'checkpoint-replaced', detail: `checkpoint ${last.n} in the database differs from the one the witness holds (${witnessed.file})` };
    }
    // The database is ahead of the witness.
    const all = await store.read((tx) => tx.checkpoints.list());
    let prevText = witnessed?.note;
    for (const cp of all) {
      if (cp.n === null || cp.n <= (witnessed?.n ?? 0)) {
        if (!witnessed) prevText = signedTextOf(cp);
        continue;
      }
      const jwk = await keys.hsmPublicJwkOf(cp.kid);
      const verdict = cp.note ? verifyCheckpointNote(cp.note, (kid) => (kid === cp.kid ? jwk : undefined)) : { problem: 'no note' };
      if ('problem' in verdict) return { reason: 'unverifiable-checkpoint', detail: `checkpoint ${cp.n} (entry ${cp.seq}) is not witnessed yet and ${verdict.problem}` };
      const b = verdict.body;
      const expectedPrev = prevText === undefined ? null : checkpointTextHash(prevText);
      if (b.n !== cp.n || b.seq !== cp.seq || b.headHash !== cp.headHash || b.at !== cp.at || b.prevHash !== cp.prevHash || b.prevHash !== expectedPrev) {
        return { reason: 'unverifiable-checkpoint', detail: `checkpoint ${cp.n} (entry ${cp.seq}) does not match its row or does not link to checkpoint ${cp.n - 1}` };
      }
      this.writeWitness(cp.n, cp.note ?? '');
      prevText = cp.note ?? undefined;
    }
    return undefined;
  }

  /** Re-hashes the entries from the last checkpoint to the head (in chunks, yielding between them). */
  private async checkChain(last: CheckpointRecord | undefined, head: { seq: number; hash: string }): Promise<AuditAlarm | undefined> {
    const { store } = this.ports;
    let seq = last?.seq ?? 0;
    let prev = last?.headHash ?? GENESIS_HASH;
    if (last) {
      const { at, prune } = await store.read(async (tx) => ({ at: await tx.audit.hashAt(last.seq), prune: await tx.checkpoints.latestPrune() }));
      const prunedAway = at === undefined && prune !== undefined && prune.anchorCheckpointId === last.id && prune.throughSeq === last.seq;
      if (!prunedAway && at !== last.headHash) {
        return { reason: 'chain-rewritten', detail: `entry ${last.seq} ${at === undefined ? 'is missing' : 'no longer has the hash'} the last checkpoint (${last.n ?? last.id}) signed` };
      }
    }
    while (seq < head.seq) {
      const from = seq + 1;
      const chunk = await store.read((tx) => tx.audit.page(from, CHUNK, head.seq));
      if (chunk.length === 0) break;
      for (const e of chunk) {
        if (e.seq !== seq + 1) return { reason: 'chain-rewritten', detail: `entry ${seq + 1} is missing after the last checkpoint` };
        if (e.prevHash !== prev || entryHash(prev, e) !== e.hash) {
          return { reason: 'chain-rewritten', detail: `entry ${e.seq} does not extend the chain the last checkpoint signed (altered, removed or re-chained)` };
        }
        prev = e.hash;
        seq = e.seq;
      }
      await tick();
    }
    if (seq !== head.seq || prev !== head.hash) return { reason: 'chain-rewritten', detail: `the chain from the last checkpoint does not reach the head ${head.seq}` };
    return undefined;
  }

  /** Delivers the checkpoints the remote sink has not acknowledged yet, in order. */
  private async deliverRemote(): Promise<void> {
    const { remote, store, clock, log } = this.ports;
    if (!remote || !this.remotePending) return;
    for (;;) {
      const pending = await store.read((tx) => tx.checkpoints.undelivered(remote.sink, 20));
      if (pending.length === 0) {
        this.remotePending = false;
        return;
      }
      for (const cp of pending) {
        try {
          await remote.deliver(cp.n ?? 0, cp.note ?? '');
        } catch (err) {
          this.ports.onWitnessFailure?.('url');
          log.warn({ url: remote.url, checkpoint: cp.n, err: err instanceof Error ? err.message : String(err) }, 'audit witness URL not reached; retried later');
          return;
        }
        await store.write((tx) => tx.checkpoints.markDelivered(cp.id, remote.sink, clock.now().toISOString()));
      }
    }
  }

  start(intervalMs = 1000): void {
    this.started = true;
    // At start: is the trail still the one last signed? (An offline re-chain is found here.)
    this.verifyNow().catch((err: unknown) => this.ports.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'audit integrity check at start failed; will retry'));
    this.timer ??= setInterval(() => {
      this.checkpoint().catch((err: unknown) => this.ports.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'audit checkpoint failed; will retry'));
    }, intervalMs);
    this.timer.unref();
  }

  /** Stops the schedule; a started checkpointer signs a last checkpoint, so a clean stop leaves nothing unanchored. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
    if (!this.started) return;
    this.started = false;
    await this.checkpoint(true).catch((err: unknown) => this.ports.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'final audit checkpoint failed'));
  }
}
