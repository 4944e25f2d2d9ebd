/**
 * The parent's side of the load generators: forks 1-2 generator processes, gives each a disjoint
 * slice of the population's keys, splits a phase's virtual clients over them, starts them on one
 * shared time window and merges what they measured.
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { track, stopChild } from './children.js';
import { REQUEST_TIMEOUT_MS } from './browserClient.js';
import { LineTail, bounded } from './phaseGuard.js';
import { type BenchCredential, type PhaseResult, type PhaseWindow, type ToGenerator, parseFromGenerator } from './protocol.js';
import { type LatencySummary, perSecond, summarise } from './stats.js';

const here = path.dirname(fileURLToPath(import.meta.url));

export interface PhaseFigures {
  label: string;
  clients: number;
  /** Generator processes that carried this phase. */
  generators: number;
  completed: number;
  windowMs: number;
  perSecond: number;
  latency: LatencySummary;
  /** Mean time the software authenticator took per ceremony (client-side, included in latency). */
  authenticatorMeanMs: number;
  errors: Record<string, number>;
  errorCount: number;
  warmupCompleted: number;
  /** Enrolment only: the one-time links ran out before the window ended. */
  exhausted: boolean;
  /** CPU the load generators used over the phase (warm-up included), ms. */
  generatorCpuMs: number;
}

/**
 * A ceremony is two requests, each bounded by the generator's request timeout (browserClient.ts);
 * after the window closes every client finishes at most the ceremony it is in. Past this margin
 * the phase is declared hung.
 */
export const PHASE_GRACE_MS = 2 * REQUEST_TIMEOUT_MS + 30_000;

interface Generator {
  child: ChildProcess;
  stderr: LineTail;
  /** Keys held by this process. */
  capacity: number;
  pending: ((result: PhaseResult) => void) | undefined;
  failed: ((err: Error) => void) | undefined;
}

function split(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));
}

export class GeneratorPool {
  private constructor(private readonly generators: Generator[]) {}

  /** Forks `processes` generators and hands each its slice of `credentials`. */
  static async start(processes: number, credentials: BenchCredential[]): Promise<GeneratorPool> {
    const sizes = split(credentials.length, processes);
    const generators: Generator[] = [];
    let offset = 0;
    for (const size of sizes) {
      const slice = credentials.slice(offset, offset + size);
      offset += size;
      const child = track(fork(path.join(here, 'loadGenerator.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'pipe', 'ipc'] }));
      const gen: Generator = { child, stderr: new LineTail(), capacity: slice.length, pending: undefined, failed: undefined };
      // Passed through, and its last lines kept for the error when it dies.
      child.stderr?.setEncoding('utf8');
      child.stderr?.on('data', (chunk: string) => {
        gen.stderr.push(chunk);
        process.stderr.write(chunk);
      });
      generators.push(gen);
      const ready = new Promise<void>((resolve, reject) => {
        child.on('message', (raw: unknown) => {
          const msg = parseFromGenerator(raw);
          if (!msg) {
            // Never dropped in silence: the phase waiting for it would end at its deadline with no cause.
            const text = JSON.stringify(raw) ?? String(raw);
            process.stderr.write(`bench: an unparseable message from load generator ${child.pid}: ${text.slice(0, 400)}\n`);
            gen.stderr.push(`(the bench could not read this generator's message: ${text.slice(0, 200)})\n`);
            return;
          }
          if (msg.type === 'ready') resolve();
          else if (msg.type === 'fatal') {
            const err = new Error(`load generator: ${msg.message}`);
            reject(err);
            gen.failed?.(err);
          } else {
            const { type: _type, ...result } = msg;
            if (process.env['BENCH_TRACE_GENERATORS'] === '1') {
              process.stderr.write(`bench ${new Date().toISOString()}: result of ${result.phase} from load generator ${child.pid}${gen.pending ? '' : ', which no phase waits for'}\n`);
            }
            gen.pending?.(result);
          }
        });
        child.once('exit', (code, signal) => {
          const err = new Error(`load generator ${child.pid} exited (${code ?? signal}); its last stderr lines:\n${gen.stderr.text()}`);
          reject(err);
          gen.failed?.(err);
        });
      });
      const init: ToGenerator = { type: 'init', credentials: slice };
      child.send(init);
      await bounded('load generator start', () => ready, { deadlineMs: 120_000, watched: [{ name: 'load generator', child, lastLines: () => gen.stderr.text() }] });
    }
    return new GeneratorPool(generators);
  }

  get processes(): number {
    return this.generators.length;
  }

  get capacity(): number {
    return this.generators.reduce((s, g) => s + g.capacity, 0);
  }

  private window(warmupMs: number, durationMs: number): PhaseWindow {
    // A short lead so that every process has the command before the window opens.
    const startAt = Date.now() + 100;
    return { startAt, measureFrom: startAt + warmupMs, measureUntil: startAt + warmupMs + durationMs };
  }

  private async run(label: string, clients: number, window: PhaseWindow, command: (gen: number, share: number) => ToGenerator): Promise<PhaseFigures> {
    const shares = split(clients, this.generators.length);
    const active = this.generators.map((g, i) => ({ g, i, share: shares[i] ?? 0 })).filter((x) => x.share > 0);
    for (const { g, share } of active) {
      if (share > g.capacity) throw new Error(`${label}: ${share} clients on a generator holding ${g.capacity} keys`);
    }
    const all = () =>
      Promise.all(
        active.map(
          ({ g, i, share }) =>
            new Promise<PhaseResult>((resolve, reject) => {
              g.pending = (r) => {
                g.pending = undefined;
                resolve(r);
              };
              g.failed = reject;
              g.child.send(command(i, share));
            }),
        ),
      );
    const results = await bounded(label, all, {
      deadlineMs: window.measureUntil - Date.now() + PHASE_GRACE_MS,
      // A generator that never answers has a blocked event loop (its own watchdog would have spoken otherwise).
      stacks: true,
      watched: active.map(({ g }) => ({ name: 'load generator', child: g.child, lastLines: () => g.stderr.text() })),
    });
    const latencies = results.flatMap((r) => r.latenciesMs);
    const errors: Record<string, number> = {};
    for (const r of results) for (const [k, n] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + n;
    const windowMs = Math.max(...results.map((r) => r.windowMs));
    const authenticatorMs = results.reduce((s, r) => s + r.authenticatorMs, 0);
    return {
      label,
      clients,
      generators: active.length,
      completed: latencies.length,
      windowMs,
      perSecond: perSecond(latencies.length, windowMs),
      latency: summarise(latencies),
      authenticatorMeanMs: latencies.length > 0 ? authenticatorMs / latencies.length : Number.NaN,
      errors,
      errorCount: Object.values(errors).reduce((s, n) => s + n, 0),
      warmupCompleted: results.reduce((s, r) => s + r.warmupCompleted, 0),
      exhausted: results.some((r) => r.exhausted),
      generatorCpuMs: results.reduce((s, r) => s + r.cpuMs, 0),
    };
  }

  /** With several origins (gateway instances), the clients are spread over them evenly. */
  signIn(label: string, origin: string | string[], audience: string, clients: number, warmupMs: number, durationMs: number): Promise<PhaseFigures> {
    const window = this.window(warmupMs, durationMs);
    const all = Array.isArray(origin) ? origin : [origin];
    // Each generator starts its clients at 0: rotate the list so the two generators' clients alternate too.
    return this.run(label, clients, window, (gen, share) => ({ type: 'signin', phase: label, origins: all.map((_, k) => all[(k + gen) % all.length] ?? ''), audience, clients: share, window }));
  }

  /** Each generator gets a disjoint share of the one-time links, in proportion to its clients. */
  enrol(label: string, origin: string, clients: number, tokens: string[], warmupMs: number, durationMs: number): Promise<PhaseFigures> {
    const window = this.window(warmupMs, durationMs);
    const shares = split(clients, this.generators.length);
    const tokenShares = shares.map((s) => Math.floor((tokens.length * s) / clients));
    const offsets = tokenShares.map((_, i) => tokenShares.slice(0, i).reduce((a, b) => a + b, 0));
    return this.run(label, clients, window, (gen, share) => ({
      type: 'enrol',
      phase: label,
      origin,
      clients: share,
      window,
      tokens: tokens.slice(offsets[gen] ?? 0, (offsets[gen] ?? 0) + (tokenShares[gen] ?? 0)),
    }));
  }

  async close(): Promise<void> {
    for (const g of this.generators) {
      if (g.child.connected) g.child.send({ type: 'exit' } satisfies ToGenerator);
    }
    await Promise.all(this.generators.map((g) => stopChild(g.child, 'SIGTERM', 3000)));
  }
}
