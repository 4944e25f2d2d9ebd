/**
 * The primary process of a multi-worker gateway (GATEWAY_WORKERS > 1). It serves nothing
 * itself: it forks the workers (which share the listening port through node:cluster and the
 * SQLite file through WAL), restarts one that dies, relays peer messages, passes SIGHUP on, and
 * stops them all on SIGTERM/SIGINT. Every guarantee stays with SQLite: each lifecycle change is a guarded UPDATE in
 * an IMMEDIATE transaction with its audit event, whichever process makes it.
 */
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from '../logger.js';
import { isPeerMessage } from './peers.js';

export interface SupervisorOptions {
  workers: number;
  log: Logger;
  /** A worker that dies this soon after starting counts as a failed start. */
  minUptimeMs?: number;
  /** Failed starts in a row after which the primary gives up (exit 1). */
  maxFailedStarts?: number;
  /** Called once every worker is listening. */
  onListening?: () => void;
}

export function superviseWorkers(opts: SupervisorOptions): { stop(signal: string): void; signal(signal: 'SIGHUP'): void } {
  const { log } = opts;
  /*
   * The workers accept connections themselves, from the one listening socket the primary shares
   * with them (SCHED_NONE), instead of the primary accepting each and handing it on (Node's
   * round robin, the default on Linux). Node 20's round robin loses a connection it hands to a
   * worker that has just died: the primary keeps it open, unread, until the client gives up
   * (minutes), and a worker that crashes under load strands every connection that arrives before
   * the primary notices (test/integration/cluster.test.ts, "a worker killed while connections
   * arrive"). With a shared socket, a connection the dead worker had not yet accepted stays in
   * the kernel's queue for the other worker, and one it had accepted is reset: the client hears.
   * Set before the first fork.
   */
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  const minUptime = opts.minUptimeMs ?? 5_000;
  const maxFailed = opts.maxFailedStarts ?? 5;
  const byIndex = new Map<number, { worker: Worker; startedAt: number }>();
  const listening = new Set<number>();
  let failedStarts = 0;
  let stopping = false;

  const fork = (index: number, replacement = false): void => {
    const worker = cluster.fork({ GATEWAY_WORKER_INDEX: String(index) });
    byIndex.set(index, { worker, startedAt: Date.now() });
    worker.on('message', (m: unknown) => {
      if (!isPeerMessage(m)) return;
      for (const [i, w] of byIndex) if (i !== index && w.worker.isConnected()) w.worker.send(m);
    });
    worker.on('listening', () => {
      listening.add(index);
      if (replacement) log.warn({ worker: index, pid: worker.process.pid }, 'replacement gateway worker listening');
      if (listening.size === opts.workers) {
        failedStarts = 0;
        opts.onListening?.();
      }
    });
    worker.on('exit', (exitCode, signal) => {
      listening.delete(index);
      // Its start time is read before its entry goes (read after, every exit looked like a failed start).
      const startedAt = byIndex.get(index)?.worker === worker ? byIndex.get(index)?.startedAt : undefined;
      if (startedAt !== undefined) byIndex.delete(index);
      if (stopping) {
        if (byIndex.size === 0) process.exit(0);
        return;
      }
      const uptime = startedAt === undefined ? 0 : Date.now() - startedAt;
      // exitCode, not code: the logger redacts every "code" field (activation codes).
      log.error({ worker: index, pid: worker.process.pid, exitCode, signal, uptimeMs: uptime }, 'gateway worker exited; starting a new one');
      failedStarts = uptime < minUptime ? failedStarts + 1 : 0;
      if (failedStarts >= maxFailed) {
        log.fatal({ failedStarts }, 'gateway workers keep failing at start; giving up');
        process.stderr.write('Gateway workers keep failing at start; see the log above.\n');
        process.exit(1);
      }
      // Back off a little on repeated failures so a broken start does not spin.
      setTimeout(() => fork(index, true), Math.min(5_000, 200 * 2 ** failedStarts)).unref();
    });
  };

  for (let i = 0; i < opts.workers; i++) fork(i);

  return {
    /** Passes `signal` on to every worker (SIGHUP: worker 0 re-reads the group-role file). */
    signal(signal: 'SIGHUP') {
      if (stopping) return;
      for (const { worker } of byIndex.values()) worker.process.kill(signal);
    },
    stop(signal: string) {
      if (stopping) return;
      stopping = true;
      log.info({ signal, workers: byIndex.size }, 'stopping gateway workers');
      if (byIndex.size === 0) process.exit(0);
      // Each worker closes its server, finishes in-flight requests and closes HSM and database.
      for (const { worker } of byIndex.values()) worker.process.kill('SIGTERM');
      setTimeout(() => {
        for (const { worker } of byIndex.values()) worker.process.kill('SIGKILL');
        process.exit(1);
      }, 12_000).unref();
    },
  };
}
