/**
 * Where a sign-in's milliseconds go under load, from the CPU profiles of the gateway's processes:
 * every sample is charged to ONE cost: that of the innermost JavaScript frame on its stack outside
 * Node's own modules (native calls and node:* frames belong to whoever called them: a SQLite
 * statement run by the rate limiter's store counts as the ephemeral store, a socket write under
 * Express as HTTP, a stack of node:* frames only, such as the HTTP parser, as HTTP), and each cost
 * is divided by the ceremonies completed while the profiler ran. V8 samples the JavaScript thread, so a blocking native call (SQLite's fsync at
 * COMMIT, C_Sign) counts as the time the event loop stood still in it.
 *
 * V8 samples by the clock, not by CPU: a thread that waits for a core (the machine oversubscribed:
 * two gateway workers, two load generators and whatever else runs, on two cores) keeps collecting
 * samples where it was preempted. Measured in one run: a gateway worker's samples added up to
 * 6.3 s while its JavaScript thread used 2.1 s of CPU (/proc), the reference's 6.7 s for 4.6 s of
 * CPU: the raw samples made the gateway's costs look three times their size and the two servers
 * incomparable. So each process's samples are scaled to its JavaScript thread's CPU over the same
 * window (processProbe.ts records it in the profile as `benchCpu`), and the CPU of its other
 * threads (libuv's pool: WebCrypto's jobs, file syncs; V8's GC and compiler threads) is a cost of
 * its own: the costs then add up to the processes' /proc CPU. Preemption still lands more often
 * where a thread wakes another (a socket write, a job handed to the pool), which scaling cannot
 * undo: the parts of HTTP and WebAuthn (profileParts.ts) show those places.
 */
import fs from 'node:fs';
import path from 'node:path';
import { partOf, type StackFrame } from './profileParts.js';
import { repoRoot } from './serverProcess.js';
import { PRIMARY, THREAD_KINDS, type ThreadKind } from './threadKinds.js';

interface Frame {
  functionName: string;
  url: string;
}
interface Node {
  id: number;
  callFrame: Frame;
  children?: number[];
}

/** The costs, tried on each frame from the leaf up; the first that matches takes the sample. */
const COSTS: [string, (file: string, fn: string) => boolean][] = [
  ['HSM signature of the token (PKCS#11, SoftHSM)', (f) => f.startsWith('hsm/') || f.includes('graphene-pk11') || f.includes('pkcs11js')],
  ['WebAuthn verification (SimpleWebAuthn, WebCrypto key import, P-256)', (f) => f.includes('@simplewebauthn/') || f.includes('@peculiar/') || f.includes('/asn1js/') || f.includes('@hexagon/base64') || f.includes('cbor')],
  ['Durable write transaction (statements, COMMIT and its fsync)', (f) => f === 'server/store/sqlite/writer.ts' || f === 'server/store/postgres/transaction.ts'],
  ['Ephemeral store (challenge, rate-limit counters)', (f) => /^server\/store\/[a-z]+\/ephemeral\.ts$/.test(f)],
  ['Store reads and other statements (driver included)', (f) => f.startsWith('server/store/') || f.includes('/pg') || f.includes('better-sqlite3')],
  ['Audit event hashing (canonical JSON, SHA-256)', (f) => f.startsWith('server/audit/')],
  ['Logging (pino, request log)', (f) => f.includes('/pino') || f.includes('@pinojs/') || f === 'server/http/requestLog.ts' || f === 'server/logger.ts' || f.includes('sonic-boom')],
  ['Metrics (prom-client)', (f) => f.includes('prom-client') || f === 'server/http/metrics.ts'],
  ['Rate limiting (per IP and per account, without its store)', (f) => f.includes('express-rate-limit') || f === 'server/http/rateLimit.ts' || f === 'server/http/windowLimiter.ts' || f === 'server/http/credentialHolders.ts'],
  ['Input parsing (zod)', (f) => f.includes('/zod/')],
  ['Security headers (helmet)', (f) => f.includes('/helmet/') || f === 'server/http/securityHeaders.ts'],
  ['Tokens and cookies (claims, JWS, MACs)', (f) => f.startsWith('server/tokens/') || f.includes('/jose/') || f === 'server/http/deviceCookie.ts' || f === 'server/http/cookies.ts'],
  ['Flows and routes (the server\'s own logic)', (f) => (f.startsWith('server/') && f !== 'server/http/exactRoutes.ts') || f === 'scripts/bench/reference-server.ts'],
  ['The benchmark\'s own probe (event-loop histogram, profiler)', (f) => f.startsWith('scripts/bench/')],
  ['HTTP (Node http, Express, router, body parser)', (f) => f === 'server/http/exactRoutes.ts' || /node_modules\/(express|router|body-parser|raw-body|finalhandler|send|on-finished|content-type|iconv-lite|qs|cookie|parseurl|type-is|etag|forwarded|debug|path-to-regexp|proxy-addr|fresh|vary|depd|mime)/.test(f)],
];
const HTTP = 'HTTP (Node http, Express, router, body parser)';
/** The CPU of a profiled process's threads other than its JavaScript thread (/proc minus the thread's). */
export const OTHER_THREADS = "Other threads of the server's processes (libuv pool: WebCrypto jobs, file syncs; V8 GC and compiler)";

export interface CostLine {
  cost: string;
  msPerCeremony: number;
  share: number;
  /** HTTP and WebAuthn: the cost split into its parts (profileParts.ts), largest first. */
  parts?: { part: string; msPerCeremony: number }[];
}

export interface CeremonyCosts {
  lines: CostLine[];
  /**
   * The lines' total per ceremony: with `scaled`, the processes' CPU (JavaScript thread and other
   * threads, /proc); without (a profile recorded without `benchCpu`), the raw sampled time.
   */
  busyMsPerCeremony: number;
  /** The raw samples (clock time of the JavaScript threads while not idle) per ceremony. */
  sampledMsPerCeremony?: number;
  /** Whether every profile was scaled to its thread's CPU. */
  scaled?: boolean;
}

interface BenchCpu {
  threadMs: number;
  processMs: number;
  /** The other threads' CPU by kind (threadKinds.ts), when the probe could take its census. */
  threads?: Partial<Record<ThreadKind, number>>;
  role?: string;
}

/** The CPU a profile's process used while it was recorded (processProbe.ts), ms. */
function benchCpuOf(raw: object): BenchCpu | undefined {
  if (!('benchCpu' in raw) || typeof raw.benchCpu !== 'object' || raw.benchCpu === null) return undefined;
  const c = raw.benchCpu as Record<string, unknown>;
  if (typeof c['threadMs'] !== 'number' || typeof c['processMs'] !== 'number') return undefined;
  const t = c['threads'];
  const threads = typeof t === 'object' && t !== null ? (Object.fromEntries(Object.entries(t).filter(([k, v]) => k in THREAD_KINDS && typeof v === 'number')) as Partial<Record<ThreadKind, number>>) : undefined;
  return { threadMs: c['threadMs'], processMs: c['processMs'], ...(threads ? { threads } : {}), ...(typeof c['role'] === 'string' ? { role: c['role'] } : {}) };
}

/**
 * The other threads' CPU (µs) split by kind, the cluster primary's apart; what the live threads'
 * readings do not cover (a thread that ended, rounding) is the remainder, so the kinds add up to
 * the row (getrusage's CPU less the JavaScript thread's).
 */
export function threadParts(cpu: BenchCpu, otherUs: number): [string, number][] {
  const prefix = cpu.role === 'primary' ? PRIMARY : '';
  if (!cpu.threads) return [[`${prefix}${THREAD_KINDS.rest}`, otherUs]];
  const kinds = Object.entries(cpu.threads).filter(([k]) => k !== 'rest') as [ThreadKind, number][];
  const measured = kinds.reduce((sum, [, ms]) => sum + ms * 1000, 0);
  return [...kinds.map(([k, ms]): [string, number] => [`${prefix}${THREAD_KINDS[k]}`, ms * 1000]), [`${prefix}${THREAD_KINDS.rest}`, otherUs - measured]];
}

function relative(url: string): string {
  const file = url.startsWith('file://') ? decodeURIComponent(new URL(url).pathname) : url;
  return file.startsWith(repoRoot) ? path.relative(repoRoot, file) : file;
}

/** Per-ceremony cost lines from the profiles of one phase in which `ceremonies` completed. */
export function costsPerCeremony(files: string[], ceremonies: number): CeremonyCosts {
  const totals = new Map<string, number>();
  const parts = new Map<string, Map<string, number>>();
  let busy = 0;
  let sampled = 0;
  let scaled = files.length > 0;
  for (const file of files) {
    const raw: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
    if (typeof raw !== 'object' || raw === null || !('nodes' in raw) || !('samples' in raw) || !('timeDeltas' in raw)) continue;
    const nodes = raw.nodes as Node[];
    const samples = raw.samples as number[];
    const deltas = raw.timeDeltas as number[];
    const byId = new Map(nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const memo = new Map<number, [string, string | undefined]>();
    const costOf = (id: number): [string, string | undefined] => {
      const known = memo.get(id);
      if (known) return known;
      const leaf = byId.get(id)?.callFrame.functionName ?? '';
      let found = leaf === '(garbage collector)' ? 'Garbage collection' : 'Other (V8 outside JavaScript, npm helpers)';
      let sawNode = false;
      const frames: StackFrame[] = [];
      for (let cur: number | undefined = id; cur !== undefined && !leaf.startsWith('('); cur = parent.get(cur)) {
        const frame = byId.get(cur)?.callFrame;
        if (!frame) continue;
        frames.push({ file: relative(frame.url), fn: frame.functionName });
      }
      for (const frame of frames) {
        const f = frame.file;
        if (f === '' || f.startsWith('node:')) {
          sawNode ||= f.startsWith('node:');
          continue;
        }
        found = COSTS.find(([, test]) => test(f, frame.fn))?.[0] ?? found;
        break;
      }
      if (found.startsWith('Other') && sawNode) found = HTTP;
      const result: [string, string | undefined] = [found, partOf(found, frames)];
      memo.set(id, result);
      return result;
    };
    // This process's samples, then scaled to its JavaScript thread's CPU (see the top of this file).
    const mine = new Map<string, number>();
    const mineParts = new Map<string, number>();
    let mineBusy = 0;
    for (let i = 0; i < samples.length; i += 1) {
      const id = samples[i] ?? -1;
      const us = deltas[i + 1] ?? 0;
      const node = byId.get(id);
      if (!node || us <= 0 || node.callFrame.functionName === '(idle)') continue;
      mineBusy += us;
      const [cost, part] = costOf(id);
      mine.set(cost, (mine.get(cost) ?? 0) + us);
      if (part !== undefined) mineParts.set(`${cost}\u0000${part}`, (mineParts.get(`${cost}\u0000${part}`) ?? 0) + us);
    }
    sampled += mineBusy;
    const cpu = benchCpuOf(raw);
    const factor = cpu && mineBusy > 0 ? (cpu.threadMs * 1000) / mineBusy : 1;
    if (!cpu) scaled = false;
    for (const [cost, us] of mine) totals.set(cost, (totals.get(cost) ?? 0) + us * factor);
    for (const [key, us] of mineParts) {
      const [cost = '', part = ''] = key.split('\u0000');
      const m = parts.get(cost) ?? new Map<string, number>();
      m.set(part, (m.get(part) ?? 0) + us * factor);
      parts.set(cost, m);
    }
    busy += mineBusy * factor;
    if (cpu) {
      const other = Math.max(0, cpu.processMs - cpu.threadMs) * 1000;
      totals.set(OTHER_THREADS, (totals.get(OTHER_THREADS) ?? 0) + other);
      busy += other;
      const m = parts.get(OTHER_THREADS) ?? new Map<string, number>();
      for (const [part, us] of threadParts(cpu, other)) m.set(part, (m.get(part) ?? 0) + us);
      parts.set(OTHER_THREADS, m);
    }
  }
  const n = Math.max(1, ceremonies);
  return {
    busyMsPerCeremony: busy / 1000 / n,
    sampledMsPerCeremony: sampled / 1000 / n,
    scaled,
    lines: [...totals]
      .sort((a, b) => b[1] - a[1])
      .map(([cost, us]) => {
        const split = parts.get(cost);
        return {
          cost,
          msPerCeremony: us / 1000 / n,
          share: busy > 0 ? us / busy : 0,
          ...(split ? { parts: [...split].sort((a, b) => b[1] - a[1]).map(([part, v]) => ({ part, msPerCeremony: v / 1000 / n })) } : {}),
        };
      }),
  };
}
