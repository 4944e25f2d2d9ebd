/**
 * One "process" of a concurrency test (a worker thread with its own connections to the database,
 * as another gateway process or instance would have): opens the store the spec names, says
 * ready, waits for the go (so that every worker starts at once), runs `count` operations at the
 * same time and reports what each got.
 */
import { randomUUID } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { newKey, openSpec, type StoreSpec } from './adapters.js';

export type Operation =
  | { op: 'consume-challenge'; challenge: string; at: string }
  | { op: 'consume-code'; codeId: string; at: string }
  | { op: 'count-code-attempt'; codeId: string; max: number; at: string }
  | { op: 'consume-enrolment'; enrolmentId: string; at: string }
  | { op: 'consume-oidc-code'; codeHash: string; at: string }
  | { op: 'consume-oidc-request'; requestId: string; at: string }
  | { op: 'use-assertion-jti'; jti: string; at: string }
  | { op: 'decide-approval'; approvalId: string; by: string; at: string }
  | { op: 'record-use'; credentialId: string; expected: number; next: number; at: string }
  | { op: 'set-state'; credentialId: string; at: string }
  | { op: 'staff-action'; actorId: string; credentialId: string; cap: number; since: string; at: string }
  | { op: 'add-key-within-cap'; identityId: string; cap: number }
  | { op: 'claim-outbox'; at: string; leaseUntil: string }
  | { op: 'append-audit'; tag: string; at: string }
  | { op: 'add-audit-with-history'; tag: string; credentialId: string; at: string }
  | { op: 'limit-hit'; key: string; windowMs: number; at: number }
  | { op: 'acquire-lease'; name: string; until: string; at: string };

export interface WorkerJob {
  spec: StoreSpec;
  operation: Operation;
  count: number;
}

/** What one operation got: whether it "won", and anything it claimed or counted. */
export interface OperationResult {
  won: boolean;
  value?: number | string | string[];
}

async function runOperation(store: Awaited<ReturnType<typeof openSpec>>, o: Operation): Promise<OperationResult> {
  switch (o.op) {
    case 'consume-challenge':
      return { won: (await store.ephemeral.challenges.consume(o.challenge, o.at)) !== undefined };
    case 'consume-code':
      return { won: await store.write((tx) => tx.codes.consume(o.codeId, o.at)) };
    case 'count-code-attempt': {
      const a = await store.write((tx) => tx.codes.countAttempt(o.codeId, o.max, o.at));
      return a.counted ? { won: true, value: a.attempts } : { won: false, value: a.why };
    }
    case 'consume-enrolment':
      return { won: await store.write((tx) => tx.enrolments.consume(o.enrolmentId, o.at)) };
    case 'consume-oidc-code': {
      const c = await store.write((tx) => tx.oidc.consumeCode(o.codeHash, o.at));
      return { won: c !== undefined && !c.consumedBefore };
    }
    case 'consume-oidc-request':
      return { won: (await store.write((tx) => tx.oidc.consumeRequest(o.requestId, o.at))) !== undefined };
    case 'use-assertion-jti':
      return { won: await store.write((tx) => tx.oidc.useAssertionJti(o.jti, 'client', o.at)) };
    case 'decide-approval':
      return { won: await store.write((tx) => tx.approvals.decide(o.approvalId, 'executed', o.by, 'helpdesk', o.at, null)) };
    case 'record-use':
      return { won: await store.write((tx) => tx.credentials.recordUse(o.credentialId, o.expected, o.next, false, o.at)) };
    case 'set-state':
      return { won: await store.write((tx) => tx.credentials.setState(o.credentialId, 'active', 'suspended', 'lost', o.at)) };
    case 'staff-action':
      // The cap is checked and counted in the transaction that takes the action (NSIS 3.2.3 (Low) 2).
      return {
        won: await store.write(async (tx) => {
          const times = await tx.staffActions.timesSince(o.actorId, o.since);
          if (times.length >= o.cap) return false;
          const seq = (await tx.audit.append({ at: o.at, type: 'credential.suspend', actorId: o.actorId, actorRole: 'helpdesk', subjectId: o.credentialId, data: {} })).seq;
          await tx.credentials.addEvent({
            credentialId: o.credentialId,
            action: 'suspend',
            fromState: 'active',
            toState: 'suspended',
            actorId: o.actorId,
            actorRole: 'helpdesk',
            reason: 'lost',
            note: null,
            clause: 'test',
            at: o.at,
            auditSeq: seq,
          });
          return true;
        }),
      };
    case 'add-key-within-cap':
      return { won: await store.write((tx) => tx.credentials.insertWithinCap(newKey(o.identityId, { state: 'issued' }), o.cap)) };
    case 'claim-outbox': {
      const claimed: string[] = [];
      for (;;) {
        const batch = await store.write((tx) => tx.outbox.claimDue(o.at, o.leaseUntil, 3));
        if (batch.length === 0) break;
        claimed.push(...batch.map((m) => m.id));
      }
      return { won: claimed.length > 0, value: claimed };
    }
    case 'append-audit': {
      const e = await store.write((tx) => tx.audit.append({ at: o.at, type: 'test.appended', actorId: null, actorRole: 'system', subjectId: null, data: { tag: o.tag, n: randomUUID() } }));
      return { won: true, value: e.seq };
    }
    case 'add-audit-with-history': {
      // Two entries held back to the commit (PostgreSQL) and a history row naming the first.
      const [first, second] = await store.write(async (tx) => {
        const data = { tag: o.tag, n: randomUUID() };
        const first = await tx.audit.add({ at: o.at, type: 'test.added', actorId: null, actorRole: 'system', subjectId: o.credentialId, data });
        await tx.credentials.addEventFor(first, { credentialId: o.credentialId, action: 'suspend', fromState: 'active', toState: 'suspended', actorId: null, actorRole: 'system', reason: 'lost', note: data.n, clause: 'test', at: o.at });
        const second = await tx.audit.add({ at: o.at, type: 'test.added', actorId: null, actorRole: 'system', subjectId: o.credentialId, data: { ...data, second: true } });
        return [first, second];
      });
      const a = await first.chained();
      const b = await second.chained();
      return { won: true, value: [String(a.seq), String(b.seq), String(a.data['n'])] };
    }
    case 'limit-hit': {
      const w = await store.ephemeral.limits.hit(o.key, o.windowMs, o.at);
      return { won: true, value: w.hits };
    }
    case 'acquire-lease':
      return { won: await store.write((tx) => tx.leases.acquire(o.name, `holder-${randomUUID()}`, o.until, o.at)) };
  }
}

const job = workerData as WorkerJob & { entry: string };
const store = await openSpec(job.spec);
parentPort?.postMessage({ ready: true });
await new Promise<void>((resolve) => parentPort?.once('message', () => resolve()));
const results = await Promise.all(Array.from({ length: job.count }, () => runOperation(store, job.operation).catch((err: unknown) => ({ won: false, value: `error: ${err instanceof Error ? `${err.name} ${err.message}` : String(err)}` }))));
await store.close();
parentPort?.postMessage({ results });
