/**
 * A load-generator process (forked by generatorPool.ts; never the gateway's process). It holds a
 * slice of the population's keys, one software authenticator per key, and on command runs N
 * virtual browsers, each with its OWN key (the gateway reads out-of-order counters from one key as
 * a clone and suspends it), its own cookie jar, on one keep-alive agent per phase.
 */
import http from 'node:http';
import { SoftAuthenticator } from '../../test/support/softAuthenticator.js';
import { BrowserClient, REQUEST_TIMEOUT_MS } from './browserClient.js';
import { type CeremonyOutcome, enrolCeremony, signInCeremony } from './ceremonies.js';
import { type BenchCredential, type FromGenerator, type PhaseResult, type PhaseWindow, parseToGenerator } from './protocol.js';

/**
 * BENCH_TRACE_GENERATORS=1: each generator says on stderr when it takes a command and when it
 * sends a result (with the time), for hunting a phase that never ends.
 */
const trace = process.env['BENCH_TRACE_GENERATORS'] === '1' ? (line: string) => process.stderr.write(`load generator ${process.pid} ${new Date().toISOString()}: ${line}\n`) : () => undefined;

const send = (m: FromGenerator): void => {
  if (m.type === 'result') trace(`${m.phase}: result sent (${m.latenciesMs.length} measured, ${Object.values(m.errors).reduce((a, b) => a + b, 0)} errors)`);
  const queued = process.send?.(m, undefined, undefined, (err: Error | null) => {
    if (err) process.stderr.write(`load generator ${process.pid}: sending a ${m.type} message failed: ${err.message}\n`);
  });
  if (queued === false) trace(`the ${m.type} message waits in the IPC queue`);
};

interface Member {
  email: string;
  auth: SoftAuthenticator;
}

let members: Member[] = [];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

function errorKey(err: unknown): string {
  if (err && typeof err === 'object' && 'code' in err && typeof err.code === 'string') return `socket: ${err.code}`;
  return `exception: ${err instanceof Error ? err.message.slice(0, 80) : String(err).slice(0, 80)}`;
}

/**
 * Runs `clients` loops of `ceremony` inside the window. A ceremony counts (throughput and
 * latency) when it finishes inside [measureFrom, measureUntil]; every failure counts as an error.
 */
async function runPhase(
  phase: string,
  clients: number,
  window: PhaseWindow,
  ceremony: (client: number, agent: http.Agent) => Promise<CeremonyOutcome | 'exhausted'>,
  step: (client: number) => string | undefined,
): Promise<PhaseResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: Math.max(1, clients) });
  const latenciesMs: number[] = [];
  const errors: Record<string, number> = {};
  let authenticatorMs = 0;
  let warmupCompleted = 0;
  let exhausted = false;
  await sleep(window.startAt - Date.now());
  const cpu = process.cpuUsage();
  // Each client's ceremony in flight (its start), for the watchdog below.
  const since = new Map<number, number>();
  // A phase still running well past its window (every request is bounded, REQUEST_TIMEOUT_MS)
  // says on stderr which clients are still in a ceremony, at which request, and since when: the
  // bench's deadline error repeats the last lines, so a hang names its step.
  const watchdog = setInterval(() => {
    if (Date.now() < window.measureUntil + REQUEST_TIMEOUT_MS + 5_000) return;
    const stuck = [...since].map(([i, t]) => `client ${i}: ${step(i) ?? 'between requests'}, ceremony started ${((Date.now() - t) / 1000).toFixed(1)} s ago`);
    process.stderr.write(`load generator ${process.pid}, ${phase}: ${since.size} of ${clients} clients still in a ceremony ${((Date.now() - window.measureUntil) / 1000).toFixed(0)} s after the window${stuck.length > 0 ? `:\n  ${stuck.join('\n  ')}` : ''}\n`);
  }, 5_000);
  await Promise.all(
    Array.from({ length: clients }, async (_, index) => {
      while (Date.now() < window.measureUntil) {
        const t0 = performance.now();
        let outcome: CeremonyOutcome | 'exhausted';
        since.set(index, Date.now());
        try {
          outcome = await ceremony(index, agent);
        } catch (err) {
          outcome = { ok: false, error: errorKey(err) };
        } finally {
          since.delete(index);
        }
        if (outcome === 'exhausted') {
          exhausted = true;
          return;
        }
        const elapsed = performance.now() - t0;
        const now = Date.now();
        if (!outcome.ok) {
          errors[outcome.error] = (errors[outcome.error] ?? 0) + 1;
          // Do not spin on a failing server; the error is counted either way.
          await sleep(5);
          continue;
        }
        if (now < window.measureFrom) warmupCompleted += 1;
        else if (now <= window.measureUntil) {
          latenciesMs.push(elapsed);
          authenticatorMs += outcome.authenticatorMs;
        }
      }
    }),
  ).finally(() => clearInterval(watchdog));
  agent.destroy();
  const used = process.cpuUsage(cpu);
  return {
    phase,
    latenciesMs,
    windowMs: window.measureUntil - window.measureFrom,
    authenticatorMs,
    errors,
    warmupCompleted,
    exhausted,
    cpuMs: (used.user + used.system) / 1000,
  };
}

function init(credentials: BenchCredential[]): void {
  members = credentials.map(({ email, credential }) => {
    const auth = new SoftAuthenticator();
    auth.importCredential(credential);
    return { email, auth };
  });
}

process.on('message', (raw: unknown) => {
  const msg = parseToGenerator(raw);
  trace(`took ${msg ? `${msg.type}${'phase' in msg ? ` ${msg.phase}` : ''}${'clients' in msg ? ` with ${msg.clients} clients` : ''}` : 'an unparseable message'}`);
  if (!msg) {
    send({ type: 'fatal', message: 'unparseable message from the bench' });
    return;
  }
  if (msg.type === 'exit') {
    process.exit(0);
  }
  if (msg.type === 'init') {
    init(msg.credentials);
    send({ type: 'ready' });
    return;
  }
  if (msg.type === 'signin') {
    if (msg.clients > members.length) {
      send({ type: 'fatal', message: `asked for ${msg.clients} clients but holds ${members.length} keys` });
      return;
    }
    const browsers: BrowserClient[] = [];
    void runPhase(msg.phase, msg.clients, msg.window, async (i, agent) => {
      const member = members[i];
      if (!member) throw new Error('no key for this client');
      browsers[i] ??= new BrowserClient(msg.origins[i % msg.origins.length] ?? '', agent);
      return signInCeremony(browsers[i], member.auth, member.email, msg.audience);
    }, (i) => browsers[i]?.inFlight).then((result) => send({ type: 'result', ...result }));
    return;
  }
  // Enrolment: every ceremony consumes one fresh one-time link; a fresh authenticator per person.
  const tokens = [...msg.tokens];
  const browsers: BrowserClient[] = [];
  void runPhase(msg.phase, msg.clients, msg.window, async (i, agent) => {
    const token = tokens.pop();
    if (token === undefined) return 'exhausted';
    browsers[i] ??= new BrowserClient(msg.origin, agent);
    return enrolCeremony(browsers[i], new SoftAuthenticator(), token, 'Bench key');
  }, (i) => browsers[i]?.inFlight).then((result) => send({ type: 'result', ...result }));
});

process.on('disconnect', () => process.exit(0));
