/**
 * A storm of concurrent sign-ins and lifecycle transitions against a running gateway, over HTTP
 * the way browsers and the consoles drive it, for the crash-safety test and the soak:
 *
 * - each employee's loop signs in with their key (one ceremony at a time, as a real key does),
 *   sometimes reports the key lost, reactivates it with the code the second channel delivered,
 *   and enrols a new key (through a fresh link from the admin) when the old one was revoked;
 * - each helpdesk operator's loop suspends, starts reactivation of, and (rarely) revokes random
 *   employees' keys, racing the holders.
 *
 * Every acknowledged change (a 2xx answer) is recorded per key and audit type, so after a crash
 * the caller can check that none was lost (`checkAcknowledged` in invariants.ts).
 */
import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { ApiClient, field, type ApiResponse } from './apiClient.js';
import { codeOf, readOutbox } from './childGateway.js';
import { activate, activeAdmin, activeEmployee, enrol, signIn, type SeededGateway } from './journeys.js';
import { SoftAuthenticator } from './softAuthenticator.js';

/** Limits a storm needs raised: one operator takes thousands of staff actions, clients sign in non-stop. */
export const STORM_ENV: Readonly<Record<string, string>> = {
  // Gateway.checkRateLimit: suspensions and revocations per operator and hour (NSIS 3.2.3 (Low) 2).
  GATEWAY_HELPDESK_ACTIONS_PER_HOUR: '10000',
  GATEWAY_STEP_UP_MINUTES: '60',
  GATEWAY_SESSION_IDLE_MINUTES: '600',
  GATEWAY_SESSION_ABSOLUTE_MINUTES: '6000',
  // Every client of the storm is one IP, and each account signs in many times a minute.
  GATEWAY_RATE_LIMIT_IP_PER_MINUTE: '10000000',
  GATEWAY_RATE_LIMIT_ACCOUNT_PER_MINUTE: '10000000',
  GATEWAY_RATE_LIMIT_ACCOUNT_SOFT_PER_MINUTE: '10000000',
};

export interface Staff {
  client: ApiClient;
  auth: SoftAuthenticator;
  keyId: string;
  email: string;
}

export interface Person {
  email: string;
  identityId: string;
  client: ApiClient;
  auth: SoftAuthenticator;
  /** The person's current key (a new one after a revocation). */
  keyId: string;
  /** Code mails already tried (a code is single use). */
  triedCodes: Set<string>;
}

export interface Population {
  admin: Staff;
  operators: Staff[];
  people: Person[];
}

/** A gateway the storm can drive: origin, seed, and the file outbox's directory. */
export interface StormTarget extends SeededGateway {
  outboxDir: string;
}

/**
 * The seeded administrator (org-admin, helpdesk), `operators` helpdesk staff and `people`
 * employees, each enrolled and activated over HTTP with their own software authenticator.
 */
export async function buildPopulation(gw: StormTarget, opts: { people: number; operators: number; tag?: string }): Promise<Population> {
  const tag = opts.tag ?? 'p';
  const admin = await activeAdmin(gw);
  const operators: Staff[] = [];
  for (let i = 0; i < opts.operators; i++) {
    const op = await activeEmployee(gw, admin.client, `${tag}-helpdesk${i}@demo.example`, `Helpdesk ${tag} ${i}`);
    const granted = await admin.client.post(`/api/admin/identities/${op.identityId}/roles`, { role: 'helpdesk', grant: true });
    if (granted.status !== 200) throw new Error(`granting helpdesk failed: ${granted.status} ${JSON.stringify(granted.body)}`);
    operators.push({ client: op.client, auth: op.auth, keyId: op.keyId, email: op.email });
  }
  const people = await enrolPeople(gw, admin.client, opts.people, `${tag}-emp`);
  return { admin: { client: admin.client, auth: admin.auth, keyId: admin.keyId, email: admin.email }, operators, people };
}

/** `n` employees bound by the admin, each enrolled and activated with their own authenticator. */
export async function enrolPeople(gw: StormTarget, admin: ApiClient, n: number, tag: string): Promise<Person[]> {
  const people: Person[] = [];
  // A few at a time: each is a registration and an activation ceremony.
  for (let i = 0; i < n; i += 4) {
    const batch = await Promise.all(Array.from({ length: Math.min(4, n - i) }, (_, j) => activeEmployee(gw, admin, `${tag}${i + j}@demo.example`, `Employee ${tag} ${i + j}`)));
    for (const e of batch) people.push({ email: e.email, identityId: e.identityId, client: e.client, auth: e.auth, keyId: e.keyId, triedCodes: new Set() });
  }
  return people;
}

export interface StormStats {
  signIns: number;
  signInsRefused: number;
  /** Acknowledged transitions by who and what, e.g. `helpdesk:suspend`, `holder:reactivate`. */
  transitions: Record<string, number>;
  /** Refusals by problem code (lifecycle table, concurrent change, ...). */
  refusals: Record<string, number>;
  /** Requests that got no answer (the gateway was killed under them) or broke a journey step. */
  failures: number;
  /** The first few distinct failure messages, for the diagnostics. */
  failureSamples: string[];
}

export interface Storm {
  readonly stats: StormStats;
  /** Acknowledged changes, keyed `<key id>|<audit type>`. */
  readonly acked: Map<string, number>;
  /** Acknowledged transitions so far. */
  transitionCount(): number;
  /** Resolves once `n` transitions were acknowledged (or after `timeoutMs`). */
  until(n: number, timeoutMs: number): Promise<void>;
  /** Stops every loop and waits for them. */
  stop(): Promise<StormStats>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A small deterministic generator, so a failing storm can be replayed by its seed. */
function random(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s >>> 8) / 0x1000000;
  };
}

export interface StormOptions {
  seed: number;
  /** Share of helpdesk actions that revoke (terminal; default 0.02). */
  revokeShare?: number;
  /** A helpdesk operator's pause between actions, min and max (default 10-40 ms). */
  operatorPauseMs?: [number, number];
}

export function startStorm(gw: StormTarget, pop: Population, opts: StormOptions): Storm {
  const rnd = random(opts.seed);
  const revokeShare = opts.revokeShare ?? 0.02;
  const [pauseMin, pauseMax] = opts.operatorPauseMs ?? [10, 40];
  let running = true;
  const stats: StormStats = { signIns: 0, signInsRefused: 0, transitions: {}, refusals: {}, failures: 0, failureSamples: [] };
  const failed = (err: unknown) => {
    stats.failures++;
    const m = err instanceof Error ? `${err.message}${err.cause instanceof Error ? ` (${err.cause.message})` : ''}`.slice(0, 160) : String(err);
    if (stats.failureSamples.length < 5 && !stats.failureSamples.includes(m)) stats.failureSamples.push(m);
  };
  const acked = new Map<string, number>();
  let transitions = 0;
  const ack = (who: string, what: string, keyId: string, auditType: string) => {
    stats.transitions[`${who}:${what}`] = (stats.transitions[`${who}:${what}`] ?? 0) + 1;
    acked.set(`${keyId}|${auditType}`, (acked.get(`${keyId}|${auditType}`) ?? 0) + 1);
    transitions++;
  };
  const refused = (res: ApiResponse) => {
    const code = res.code ?? String(res.status);
    stats.refusals[code] = (stats.refusals[code] ?? 0) + 1;
  };

  /** The newest code mailed to the person that was not tried yet. */
  const freshCode = (p: Person): string | undefined => {
    const mails = readOutbox(gw.outboxDir, p.email).filter((m) => codeOf(m) !== undefined);
    const last = mails[mails.length - 1];
    if (!last || p.triedCodes.has(last.file)) return undefined;
    p.triedCodes.add(last.file);
    return codeOf(last);
  };

  /** What a holder whose sign-in was refused does: looks at the key (through the helpdesk) and acts. */
  const recover = async (p: Person): Promise<boolean> => {
    const res = await pop.admin.client.get(`/api/helpdesk/identities/${p.identityId}/credentials`);
    if (res.status !== 200) {
      refused(res);
      return false;
    }
    const keys = field<{ id: string; state: string }[]>(res.body, 'credentials');
    const state = keys.find((k) => k.id === p.keyId)?.state;
    if (state === 'active') return true;
    if (state === 'suspended' || state === 'issued') {
      const code = freshCode(p);
      if (code) {
        const act = await activate(gw, p.client, p.auth, p.email, code);
        if (act.status === 200) {
          ack('holder', state === 'issued' ? 'activate' : 'reactivate', p.keyId, state === 'issued' ? 'credential.activate' : 'credential.reactivate');
          stats.signIns++;
          return true;
        }
        refused(act);
      } else {
        // No fresh code: the holder calls the helpdesk ("I found it" / "my code is gone"), which
        // sends one through the second channel; the holder uses it on the next round.
        const codeMails = () => readOutbox(gw.outboxDir, p.email).filter((m) => codeOf(m) !== undefined).length;
        const before = codeMails();
        const resend = await pop.admin.client.post(`/api/helpdesk/credentials/${p.keyId}/reactivate`, { reason: state === 'issued' ? 'holder-request' : 'found' });
        if (resend.status === 200) {
          ack('helpdesk', 'code-on-request', p.keyId, 'credential.reactivation-requested');
          const until = Date.now() + 3000;
          while (running && codeMails() === before && Date.now() < until) await sleep(10);
        } else refused(resend);
      }
      await sleep(5);
      return false;
    }
    // Revoked (or expired): the admin issues a new enrolment link and the person enrols a new key.
    // Handed over in person (an explicit choice): the storm's admin gives the link to the person.
    const link = await pop.admin.client.post(`/api/admin/identities/${p.identityId}/enrolments`, { delivery: 'handover' });
    if (link.status !== 201) {
      refused(link);
      return false;
    }
    const auth = new SoftAuthenticator();
    const keyId = await enrol(gw, p.client, auth, field<string>(link.body, 'link'), 'Replacement');
    p.auth = auth;
    p.keyId = keyId;
    ack('holder', 'enrol', keyId, 'credential.issued');
    return false;
  };

  const personLoop = async (p: Person) => {
    let active = true;
    while (running) {
      try {
        if (!active) {
          active = await recover(p);
        } else if (rnd() < 0.95) {
          const keyId = p.keyId;
          const res = await signIn(gw, p.client, p.auth, p.email);
          if (res.status === 200) {
            stats.signIns++;
            acked.set(`${keyId}|signin.succeeded`, (acked.get(`${keyId}|signin.succeeded`) ?? 0) + 1);
          } else {
            stats.signInsRefused++;
            active = false;
          }
        } else {
          const res = await p.client.post(`/api/me/credentials/${p.keyId}/report-lost`, {});
          if (res.status === 200) ack('holder', 'report-lost', p.keyId, 'credential.suspend');
          else refused(res);
          active = false;
        }
      } catch (err) {
        // No answer (the gateway died under the request) or a journey step refused midway.
        failed(err);
        active = false;
        await sleep(10);
      }
    }
  };

  const operatorLoop = async (op: Staff) => {
    while (running) {
      const p = pop.people[Math.floor(rnd() * pop.people.length)];
      if (!p) break;
      const r = rnd();
      // Mostly suspensions; an unrequested reactivation now and then races the holder's own code.
      const action = r < revokeShare ? 'revoke' : r < 0.85 ? 'suspend' : 'reactivate';
      const reason = action === 'reactivate' ? 'found' : 'lost';
      const keyId = p.keyId;
      try {
        const res = await op.client.post(`/api/helpdesk/credentials/${keyId}/${action}`, { reason });
        if (res.status === 200) {
          ack('helpdesk', action, keyId, action === 'reactivate' ? 'credential.reactivation-requested' : `credential.${action}`);
        } else refused(res);
      } catch (err) {
        failed(err);
        await sleep(10);
      }
      // A person at a console, not a script: a breath between actions lets the holders act too.
      await sleep(pauseMin + Math.floor(rnd() * (pauseMax - pauseMin)));
    }
  };

  const loops = [...pop.people.map(personLoop), ...[pop.admin, ...pop.operators].map(operatorLoop)];
  return {
    stats,
    acked,
    transitionCount: () => transitions,
    async until(n, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (transitions < n && Date.now() < deadline) await sleep(5);
    },
    async stop() {
      running = false;
      await Promise.all(loops);
      return stats;
    },
  };
}

/** Signs `who` in again (a fresh key touch: staff actions need a recent one). */
export async function signInAgain(gw: SeededGateway, who: { client: ApiClient; auth: SoftAuthenticator; email: string }): Promise<ApiResponse> {
  return signIn(gw, who.client, who.auth, who.email);
}

export interface SuspensionUnderLoad {
  /** The victim's sign-ins that succeeded before the suspension was acknowledged. */
  before: number;
  /** The victim's sign-ins sent after the suspension was acknowledged that succeeded: must be 0. */
  afterAck: number;
  /** The victim's sign-ins sent after the acknowledgement that were refused. */
  refusedAfter: number;
  /** Sign-ins of everyone else meanwhile (the load). */
  load: number;
  victimKeyId: string;
}

/**
 * NSIS 3.2.3 (Low) 1 under load (as test/integration/busy-and-load.test.ts, over HTTP to a real
 * process): a new employee signs in non-stop while every other active employee does the same;
 * the helpdesk suspends the new employee's key mid-stream. Every sign-in whose verification was
 * sent after the suspension was acknowledged must be refused. The database side (no
 * `signin.succeeded` after the `credential.suspend` event) is invariant 5 of invariants.ts.
 */
export async function suspensionUnderLoad(gw: StormTarget, pop: Population, opts: { tag: string; loadMs?: number; load?: Person[] }): Promise<SuspensionUnderLoad> {
  const victim = await activeEmployee(gw, pop.admin.client, `${opts.tag}-victim@demo.example`, `Victim ${opts.tag}`);
  let running = true;
  let ackAt = Number.POSITIVE_INFINITY;
  const result: SuspensionUnderLoad = { before: 0, afterAck: 0, refusedAfter: 0, load: 0, victimKeyId: victim.keyId };
  const victimLoop = (async () => {
    while (running) {
      try {
        const options = await signInOptions(victim.client, victim.email);
        const response = await victim.auth.getAssertion(options, gw.origin);
        const sentAt = performance.now();
        const res = await victim.client.post('/api/signin/verify', { response });
        if (sentAt > ackAt) {
          if (res.status === 200) result.afterAck++;
          else result.refusedAfter++;
        } else if (res.status === 200) result.before++;
      } catch {
        // options or assertion failed: keep going
      }
    }
  })();
  // Employees the storm leaves alone sign in at full speed; the storm's own may be suspended.
  const loadLoops = (opts.load ?? pop.people).map(async (p) => {
    while (running) {
      try {
        if ((await signIn(gw, p.client, p.auth, p.email)).status === 200) result.load++;
        else await sleep(20);
      } catch {
        await sleep(20);
      }
    }
  });
  const loadMs = opts.loadMs ?? 500;
  await sleep(loadMs);
  const res = await pop.admin.client.post(`/api/helpdesk/credentials/${victim.keyId}/suspend`, { reason: 'lost' });
  if (res.status !== 200) {
    running = false;
    await Promise.all([victimLoop, ...loadLoops]);
    throw new Error(`the suspension was refused: ${res.status} ${JSON.stringify(res.body)}`);
  }
  ackAt = performance.now();
  await sleep(loadMs);
  running = false;
  await Promise.all([victimLoop, ...loadLoops]);
  return result;
}

/** The options of a sign-in, for callers that time the assertion themselves. */
async function signInOptions(client: ApiClient, email: string): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const opt = await client.post('/api/signin/options', { email });
  if (opt.status !== 200) throw new Error(`sign-in options: ${opt.status}`);
  return field<PublicKeyCredentialRequestOptionsJSON>(opt.body, 'options');
}
