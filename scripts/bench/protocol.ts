/**
 * The messages between the benchmark (parent) and its load-generator processes (children, over
 * the fork IPC channel). Every message crossing the process boundary is parsed from `unknown`.
 */
import type { ExportedSoftCredential } from '../../test/support/softAuthenticator.js';

/** One employee of the population: the email to sign in with and the key (private part included). */
export interface BenchCredential {
  email: string;
  credential: ExportedSoftCredential;
}

/** Time window of a phase, in epoch milliseconds (same clock in every process of the machine). */
export interface PhaseWindow {
  /** Clients start here (warm-up begins). */
  startAt: number;
  /** Ceremonies finishing from here on are measured. */
  measureFrom: number;
  /** No new ceremony starts after this; ceremonies still running are not counted. */
  measureUntil: number;
}

export type ToGenerator =
  | { type: 'init'; credentials: BenchCredential[] }
  /** Sign-in: client i talks to origins[i % origins.length] (several gateway instances behind no balancer). */
  | { type: 'signin'; phase: string; origins: string[]; audience: string; clients: number; window: PhaseWindow }
  | { type: 'enrol'; phase: string; origin: string; clients: number; window: PhaseWindow; tokens: string[] }
  | { type: 'exit' };

export interface PhaseResult {
  phase: string;
  /** Latency of each ceremony completed inside the measured window, ms. */
  latenciesMs: number[];
  /** Length of the measured window as this process saw it, ms. */
  windowMs: number;
  /** Time the software authenticator spent (creating or signing), summed over measured ceremonies, ms. */
  authenticatorMs: number;
  /** Failures over the whole phase (warm-up included), keyed `status CODE` or the socket error. */
  errors: Record<string, number>;
  /** Ceremonies completed in the warm-up (not measured). */
  warmupCompleted: number;
  /** For enrolment: the process ran out of one-time links before the window ended. */
  exhausted: boolean;
  /** CPU time this generator process used over the whole phase (user + system), ms. */
  cpuMs: number;
}

export type FromGenerator = { type: 'ready' } | ({ type: 'result' } & PhaseResult) | { type: 'fatal'; message: string };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isString = (v: unknown): v is string => typeof v === 'string';

function parseWindow(v: unknown): PhaseWindow | undefined {
  if (!isRecord(v) || !isNumber(v['startAt']) || !isNumber(v['measureFrom']) || !isNumber(v['measureUntil'])) return undefined;
  return { startAt: v['startAt'], measureFrom: v['measureFrom'], measureUntil: v['measureUntil'] };
}

export function parseCredential(v: unknown): BenchCredential | undefined {
  if (!isRecord(v) || !isString(v['email']) || !isRecord(v['credential'])) return undefined;
  const c = v['credential'];
  if (!isString(c['id']) || !isString(c['privateKeyPkcs8']) || !isString(c['rpId']) || !isString(c['userHandle'])) return undefined;
  if (!isNumber(c['signCount']) || typeof c['discoverable'] !== 'boolean') return undefined;
  return {
    email: v['email'],
    credential: { id: c['id'], privateKeyPkcs8: c['privateKeyPkcs8'], rpId: c['rpId'], userHandle: c['userHandle'], signCount: c['signCount'], discoverable: c['discoverable'] },
  };
}

export function parseToGenerator(v: unknown): ToGenerator | undefined {
  if (!isRecord(v)) return undefined;
  switch (v['type']) {
    case 'init': {
      if (!Array.isArray(v['credentials'])) return undefined;
      const credentials = v['credentials'].map(parseCredential);
      if (credentials.some((c) => c === undefined)) return undefined;
      return { type: 'init', credentials: credentials.filter((c): c is BenchCredential => c !== undefined) };
    }
    case 'signin': {
      const window = parseWindow(v['window']);
      const origins = v['origins'];
      if (!Array.isArray(origins) || origins.length === 0 || !origins.every(isString)) return undefined;
      if (!window || !isString(v['phase']) || !isString(v['audience']) || !isNumber(v['clients'])) return undefined;
      return { type: 'signin', phase: v['phase'], origins, audience: v['audience'], clients: v['clients'], window };
    }
    case 'enrol': {
      const window = parseWindow(v['window']);
      const tokens = v['tokens'];
      if (!window || !isString(v['phase']) || !isString(v['origin']) || !isNumber(v['clients'])) return undefined;
      if (!Array.isArray(tokens) || !tokens.every(isString)) return undefined;
      return { type: 'enrol', phase: v['phase'], origin: v['origin'], clients: v['clients'], window, tokens };
    }
    case 'exit':
      return { type: 'exit' };
    default:
      return undefined;
  }
}

export function parseFromGenerator(v: unknown): FromGenerator | undefined {
  if (!isRecord(v)) return undefined;
  if (v['type'] === 'ready') return { type: 'ready' };
  if (v['type'] === 'fatal') return { type: 'fatal', message: isString(v['message']) ? v['message'] : 'unknown failure' };
  if (v['type'] !== 'result') return undefined;
  const latencies = v['latenciesMs'];
  const errors = v['errors'];
  if (!isString(v['phase']) || !Array.isArray(latencies) || !latencies.every(isNumber) || !isRecord(errors)) return undefined;
  if (!isNumber(v['windowMs']) || !isNumber(v['authenticatorMs']) || !isNumber(v['warmupCompleted']) || typeof v['exhausted'] !== 'boolean') return undefined;
  if (!isNumber(v['cpuMs'])) return undefined;
  const errorCounts: Record<string, number> = {};
  for (const [k, n] of Object.entries(errors)) {
    if (!isNumber(n)) return undefined;
    errorCounts[k] = n;
  }
  return {
    type: 'result',
    phase: v['phase'],
    latenciesMs: latencies,
    windowMs: v['windowMs'],
    authenticatorMs: v['authenticatorMs'],
    errors: errorCounts,
    warmupCompleted: v['warmupCompleted'],
    exhausted: v['exhausted'],
    cpuMs: v['cpuMs'],
  };
}
