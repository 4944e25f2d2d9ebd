/**
 * What must hold in a gateway database whatever happened to the process (kill -9 in the middle of
 * a storm of sign-ins and lifecycle transitions, NSIS 3.2.3 and 6 (Low) 7), checked from the
 * database alone, read-only, in one snapshot (consistent even while the gateway serves), through
 * an InvariantSource (invariantSources.ts: the store port's ReadTx and a few bulk listings, which
 * each engine's source implements):
 *
 * 1. The audit trail verifies: hash chain, signed checkpoints, no truncation.
 * 2. Every state-history row has its audit event (same key, type, actor, from/to) and every
 *    transition audit event has exactly one history row: no transition without its audit event
 *    or the reverse (Gateway.recordTransition writes both in one transaction).
 * 3. Every key's history starts with `issue` and each step is a row of the lifecycle table (from
 *    the previous step's state, by a role and for a reason the row allows); the key's current
 *    state is the last step's: no key in a state its history does not explain.
 * 4. The mails that commit with a transition are there: one notice or receipt per suspension,
 *    revocation, activation and reactivation; one code mail and one stored code per
 *    `activation-code.issued`.
 * 5. Every session has its `signin.succeeded` event and the reverse, and, replaying the audit
 *    trail in order, no sign-in succeeded with a key that was not active at that point: once a
 *    suspension or revocation commits, no later sign-in with the key succeeds.
 *
 * Shared by test/integration/crash-safety.test.ts and scripts/soak.ts.
 */
import { verifyAudit } from '../../server/audit/verifyAudit.js';
import type { AuditEntry } from '../../server/domain/audit.js';
import type { CredentialEvent } from '../../server/domain/keys.js';
import type { CredentialState } from '../../server/domain/types.js';
import { auditTypeOf } from '../../server/lifecycle/applyTransition.js';
import { LIFECYCLE_TABLE } from '../../server/lifecycle/index.js';
import type { ReadTx } from '../../server/ports/store.js';
import type { StoreRef } from './backend.js';
import { invariantSourceOf, type InvariantSource } from './invariantSources.js';

export type { InvariantSource } from './invariantSources.js';

export interface InvariantCounts {
  keys: number;
  /** State-history rows after each key's issue. */
  transitions: number;
  signIns: number;
  sessions: number;
  auditEvents: number;
  checkpoints: number;
  mails: number;
}

export interface InvariantReport {
  ok: boolean;
  /** Every broken invariant, named (at most 100 listed; `violationCount` has them all). */
  violations: string[];
  violationCount: number;
  counts: InvariantCounts;
}

const TRANSITION_TYPES = new Set(['issue', ...LIFECYCLE_TABLE.map((r) => r.action)].map(auditTypeOf));

/** The outbox kind a transition's mail carries, and the audit type that must match it one to one. */
const MAIL_FOR: readonly { kinds: readonly string[]; auditType: string }[] = [
  { kinds: ['suspend-notice'], auditType: 'credential.suspend' },
  { kinds: ['revocation-receipt'], auditType: 'credential.revoke' },
  { kinds: ['activate-notice'], auditType: 'credential.activate' },
  { kinds: ['reactivate-notice'], auditType: 'credential.reactivate' },
  { kinds: ['activation-code', 'reactivation-code'], auditType: 'activation-code.issued' },
];

function allowedStep(e: CredentialEvent): boolean {
  return LIFECYCLE_TABLE.some(
    (r) =>
      e.fromState !== null &&
      r.from.includes(e.fromState) &&
      r.action === e.action &&
      r.to === e.toState &&
      r.roles.some((role) => role === e.actorRole) &&
      r.reasons.includes(e.reason),
  );
}

/** Every audit entry the transaction sees, in order. */
async function allEntries(tx: ReadTx): Promise<AuditEntry[]> {
  const out: AuditEntry[] = [];
  for (let from = 1; ; ) {
    const page = await tx.audit.page(from, 5000);
    if (page.length === 0) return out;
    out.push(...page);
    from = (page[page.length - 1]?.seq ?? from) + 1;
  }
}

/** Opens a gateway database (a SQLite file, or a StoreRef of either engine) read-only and checks every invariant above. */
export async function checkInvariants(target: string | StoreRef): Promise<InvariantReport> {
  const source = await invariantSourceOf(target);
  try {
    return await checkInvariantsOf(source);
  } finally {
    await source.close();
  }
}

export async function checkInvariantsOf(source: InvariantSource): Promise<InvariantReport> {
  const violations: string[] = [];
  let violationCount = 0;
  const fail = (message: string) => {
    violationCount++;
    if (violations.length < 100) violations.push(message);
  };

  // 1. The audit trail as an auditor verifies it.
  const audit = await verifyAudit(source.tx);
  for (const p of audit.problems) fail(`audit: ${p}`);

  const events = await allEntries(source.tx);
  const bySeq = new Map(events.map((e) => [e.seq, e]));
  const history = await source.credentialEvents();
  const keys = await source.credentials();

  // 2. History row <-> audit event, one to one.
  const historyBySeq = new Map<number, CredentialEvent>();
  for (const h of history) {
    if (historyBySeq.has(h.auditSeq)) fail(`history ${h.id}: audit event ${h.auditSeq} is claimed by two history rows`);
    historyBySeq.set(h.auditSeq, h);
    const e = bySeq.get(h.auditSeq);
    if (!e) {
      fail(`history ${h.id} (key ${h.credentialId} ${h.action}): its audit event ${h.auditSeq} does not exist`);
      continue;
    }
    const expected = auditTypeOf(h.action);
    if (e.type !== expected) fail(`history ${h.id}: audit event ${e.seq} is ${e.type}, expected ${expected}`);
    if (e.subjectId !== h.credentialId) fail(`history ${h.id}: audit event ${e.seq} is about ${String(e.subjectId)}, not key ${h.credentialId}`);
    if (e.actorId !== h.actorId || e.actorRole !== h.actorRole) fail(`history ${h.id}: audit event ${e.seq} names another actor`);
    if (h.action !== 'issue' && (e.data['from'] !== h.fromState || e.data['to'] !== h.toState)) {
      fail(`history ${h.id}: ${String(h.fromState)} -> ${h.toState} but audit event ${e.seq} says ${String(e.data['from'])} -> ${String(e.data['to'])}`);
    }
  }
  for (const e of events) {
    if (TRANSITION_TYPES.has(e.type) && !historyBySeq.has(e.seq)) fail(`audit event ${e.seq} (${e.type} of ${String(e.subjectId)}) has no state-history row`);
  }

  // 3. Each key's history is a path through the lifecycle table ending in its current state.
  const historyOf = new Map<string, CredentialEvent[]>();
  for (const h of history) {
    const list = historyOf.get(h.credentialId) ?? [];
    list.push(h);
    historyOf.set(h.credentialId, list);
  }
  let transitions = 0;
  for (const k of keys) {
    const steps = historyOf.get(k.id) ?? [];
    historyOf.delete(k.id);
    const [first, ...rest] = steps;
    if (!first || first.action !== 'issue' || first.fromState !== null || first.toState !== 'issued') {
      fail(`key ${k.id}: its history does not start with issue -> issued`);
      continue;
    }
    let state: CredentialState = first.toState;
    for (const step of rest) {
      if (step.fromState !== state) fail(`key ${k.id}: history ${step.id} starts in ${String(step.fromState)}, the previous step ended in ${state}`);
      else if (!allowedStep(step)) fail(`key ${k.id}: history ${step.id} ${String(step.fromState)} -${step.action}-> ${step.toState} by ${step.actorRole} for ${step.reason} is not in the lifecycle table`);
      state = step.toState;
      transitions++;
    }
    if (k.state !== state) fail(`key ${k.id}: is ${k.state} but its history ends in ${state}`);
  }
  for (const [id] of historyOf) fail(`history rows for key ${id}, which does not exist`);

  // 4. Mails and codes that commit with their event.
  const typeCount = new Map<string, number>();
  for (const e of events) typeCount.set(e.type, (typeCount.get(e.type) ?? 0) + 1);
  const kindCount = await source.outboxKinds();
  for (const m of MAIL_FOR) {
    const mails = m.kinds.reduce((a, k) => a + (kindCount.get(k) ?? 0), 0);
    const audited = typeCount.get(m.auditType) ?? 0;
    if (mails !== audited) fail(`${audited} ${m.auditType} events but ${mails} ${m.kinds.join('/')} mails in the outbox`);
  }
  const codes = await source.activationCodeCount();
  const codeEvents = typeCount.get('activation-code.issued') ?? 0;
  if (codes !== codeEvents) fail(`${codeEvents} activation-code.issued events but ${codes} stored codes`);

  // 5. Sessions <-> sign-ins, and no sign-in with a key that was not active at that point.
  const sessionHashes = await source.sessionHashes();
  const sessionPrefixes = new Map<string, number>();
  for (const hash of sessionHashes) {
    const p = hash.slice(0, 16);
    sessionPrefixes.set(p, (sessionPrefixes.get(p) ?? 0) + 1);
  }
  const stateAt = new Map<string, string>();
  let signIns = 0;
  for (const e of events) {
    if (e.subjectId === null) continue;
    if (e.type === 'credential.issued') stateAt.set(e.subjectId, 'issued');
    else if (TRANSITION_TYPES.has(e.type) && typeof e.data['to'] === 'string') stateAt.set(e.subjectId, e.data['to']);
    else if (e.type === 'signin.succeeded') {
      signIns++;
      const state = stateAt.get(e.subjectId);
      if (state !== 'active') fail(`audit event ${e.seq}: a sign-in succeeded with key ${e.subjectId} while it was ${String(state)}`);
      const session = e.data['session'];
      const n = typeof session === 'string' ? (sessionPrefixes.get(session) ?? 0) : 0;
      if (n !== 1) fail(`audit event ${e.seq}: sign-in with ${n} matching sessions`);
      if (typeof session === 'string') sessionPrefixes.delete(session);
    }
  }
  for (const [p] of sessionPrefixes) fail(`session ${p}… has no signin.succeeded event`);

  return {
    ok: violationCount === 0,
    violations,
    violationCount,
    counts: {
      keys: keys.length,
      transitions,
      signIns,
      sessions: sessionHashes.length,
      auditEvents: events.length,
      checkpoints: audit.checkpoints.length,
      mails: [...kindCount.values()].reduce((a, b) => a + b, 0),
    },
  };
}

/**
 * Durability: every change a client saw acknowledged (a 2xx answer) is in the database after
 * the crash. `acked` counts acknowledgements per `<key id>|<audit type>`; the database must hold
 * at least as many such audit events (more is fine: the gateway may have committed a change whose
 * answer never reached the client). Returns the shortfalls.
 */
export async function checkAcknowledged(target: string | StoreRef, acked: ReadonlyMap<string, number>): Promise<string[]> {
  const source = await invariantSourceOf(target);
  try {
    return await checkAcknowledgedOf(source.tx, acked);
  } finally {
    await source.close();
  }
}

export async function checkAcknowledgedOf(tx: ReadTx, acked: ReadonlyMap<string, number>): Promise<string[]> {
  const stored = new Map<string, number>();
  for (const e of await allEntries(tx)) {
    const key = `${e.subjectId ?? ''}|${e.type}`;
    if (acked.has(key)) stored.set(key, (stored.get(key) ?? 0) + 1);
  }
  const lost: string[] = [];
  for (const [key, n] of acked) {
    const [subject = '', type = ''] = key.split('|');
    const count = stored.get(key) ?? 0;
    if (count < n) lost.push(`${type} of ${subject}: ${n} acknowledged, ${count} stored`);
  }
  return lost;
}
