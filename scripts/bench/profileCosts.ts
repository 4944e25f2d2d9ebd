/**
 * Where a sign-in's milliseconds go under load, from the CPU profiles of the gateway's processes:
 * every sample is charged to ONE cost: that of the innermost JavaScript frame on its stack outside
 * Node's own modules (native calls and node:* frames belong to whoever called them: a SQLite
 * statement run by the rate limiter's store counts as the ephemeral store, a socket write under
 * Express as HTTP, a stack of node:* frames only, such as the HTTP parser, as HTTP), and each cost
 * is divided by the ceremonies completed while the profiler ran. V8 samples the JavaScript thread, so a blocking native call (SQLite's fsync at
 * COMMIT, C_Sign) counts as the time the event loop stood still in it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from './serverProcess.js';

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

export interface CostLine {
  cost: string;
  msPerCeremony: number;
  share: number;
}

function relative(url: string): string {
  const file = url.startsWith('file://') ? decodeURIComponent(new URL(url).pathname) : url;
  return file.startsWith(repoRoot) ? path.relative(repoRoot, file) : file;
}

/** Per-ceremony cost lines from the profiles of one phase in which `ceremonies` completed. */
export function costsPerCeremony(files: string[], ceremonies: number): { lines: CostLine[]; busyMsPerCeremony: number } {
  const totals = new Map<string, number>();
  let busy = 0;
  for (const file of files) {
    const raw: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
    if (typeof raw !== 'object' || raw === null || !('nodes' in raw) || !('samples' in raw) || !('timeDeltas' in raw)) continue;
    const nodes = raw.nodes as Node[];
    const samples = raw.samples as number[];
    const deltas = raw.timeDeltas as number[];
    const byId = new Map(nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const memo = new Map<number, string>();
    const costOf = (id: number): string => {
      const known = memo.get(id);
      if (known) return known;
      const leaf = byId.get(id)?.callFrame.functionName ?? '';
      let found = leaf === '(garbage collector)' ? 'Garbage collection' : 'Other (V8 outside JavaScript, npm helpers)';
      let sawNode = false;
      for (let cur: number | undefined = id; cur !== undefined && !leaf.startsWith('('); cur = parent.get(cur)) {
        const frame = byId.get(cur)?.callFrame;
        if (!frame) continue;
        const f = relative(frame.url);
        if (f === '' || f.startsWith('node:')) {
          sawNode ||= f.startsWith('node:');
          continue;
        }
        found = COSTS.find(([, test]) => test(f, frame.functionName))?.[0] ?? found;
        break;
      }
      if (found.startsWith('Other') && sawNode) found = HTTP;
      memo.set(id, found);
      return found;
    };
    for (let i = 0; i < samples.length; i += 1) {
      const id = samples[i] ?? -1;
      const us = deltas[i + 1] ?? 0;
      const node = byId.get(id);
      if (!node || us <= 0 || node.callFrame.functionName === '(idle)') continue;
      busy += us;
      const cost = costOf(id);
      totals.set(cost, (totals.get(cost) ?? 0) + us);
    }
  }
  const n = Math.max(1, ceremonies);
  return {
    busyMsPerCeremony: busy / 1000 / n,
    lines: [...totals]
      .sort((a, b) => b[1] - a[1])
      .map(([cost, us]) => ({ cost, msPerCeremony: us / 1000 / n, share: busy > 0 ? us / busy : 0 })),
  };
}
