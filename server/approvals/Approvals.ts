/**
 * The one approvals mechanism (NSIS 3.2.2 (High) 3, 3.2.3 (Low) 2, 3.2.4, 5.1, 6 (Substantial) 11):
 * every sensitive action of the duties table is asked for here. The table decides whether it is
 * carried out at once (or alone, in bootstrap) or waits for a second person; a waiting request is
 * approved by identity (not the requester, not a subject, not a person the requester set up), with
 * both people's roles checked again when it is carried out; the people the row names are told.
 * The flows register how each kind is carried out (an executor) and never re-implement a rule.
 */
import { randomUUID } from 'node:crypto';
import type { JsonValue } from '../audit/canonicalJson.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { Actor, Identity } from '../domain/types.js';
import {
  decideRequest,
  dutyRow,
  isStaffRole,
  isApprovalKind,
  type ApprovalKind,
  type DutyAction,
  type Recipient,
  type RequestFacts,
  type StaffRole,
} from '../duties/index.js';
import { dutiesStatus, decideFor, listApprovals, roleOf, type ApprovalView, type DutiesStatus } from './views.js';
import { queueDutyNotices, type Told } from './notify.js';
import { refusalError } from './refusals.js';
import { ForbiddenError, NotFoundError } from '../errors.js';
import type { ApprovalRecord } from '../domain/approvals.js';
import { appendAudit } from '../flows/shared/audit.js';
import type { ReadTx, Store, WriteTx } from '../ports/store.js';
import { askApprovers } from './askApprovers.js';
import type { Language } from '../../i18n/index.js';

export interface Outcome {
  /** What was done, in words (kept with the approval; never a secret such as a link). */
  result: string;
  /** A one-time enrolment link the person who carried it out is to hand over (handover only). */
  link?: string;
  expiresAt?: string;
  /** Anything else the flow answers its caller with. */
  detail?: { [key: string]: JsonValue };
}

export interface Execution {
  kind: DutyAction;
  /** The flow's own parameters, parsed from JSON (the executor parses them with its schema). */
  payload: unknown;
  approvalId: string | null;
  /** The requester, in the role they asked in (held now: checked before this runs). */
  requester: Actor;
  /** The second person, in the approver role they hold now; null when carried out at once. */
  approver: Actor | null;
  bootstrap: boolean;
  /** Queues the row's "told when done" mails; call it inside the transaction that does the change. */
  tell: (tx: WriteTx) => Promise<void>;
}

export type Executor = (e: Execution) => Promise<Outcome>;

export interface RequestInput {
  kind: DutyAction;
  actor: Actor;
  subjects: string[];
  payload: { [key: string]: JsonValue };
  /** One line naming the action and the people, e.g. "Suspend 3 keys of Freja Frost". */
  summary: string;
  /** Exactly what will happen, one line per person or key, by name. */
  items: string[];
  /** The address a contact change replaces: it is told, with who asked and how to object. */
  oldAddress?: string;
  facts?: Pick<RequestFacts, 'bulkSize' | 'bulkThreshold' | 'hasOtherActiveKey'>;
  /**
   * Checked in the same transaction that records the request (throws to refuse it), so that a
   * limit such as "one such request at a time" holds atomically.
   */
  precondition?: (tx: ReadTx) => Promise<void>;
}

export type RequestOutcome = { state: 'done'; outcome: Outcome; bootstrap: boolean } | { state: 'pending'; approval: ApprovalRecord };

export type { ApprovalView, DutiesStatus } from './views.js';

export interface ApprovalPorts {
  store: Store;
  clock: Clock;
  config: Readonly<Config>;
  kickOutbox: () => void;
}

export class Approvals {
  private readonly executors = new Map<DutyAction, Executor>();

  constructor(private readonly ports: ApprovalPorts) {}

  /** A flow says how a kind is carried out; one executor per kind. */
  register(kind: DutyAction, executor: Executor): void {
    if (this.executors.has(kind)) throw new TypeError(`an executor for ${kind} is registered already`);
    this.executors.set(kind, executor);
  }

  private now(): string {
    return this.ports.clock.now().toISOString();
  }

  private executor(kind: DutyAction): Executor {
    const e = this.executors.get(kind);
    if (!e) throw new TypeError(`no executor for ${kind}`);
    return e;
  }

  private audit(tx: WriteTx, type: string, actor: Actor, subjectId: string | null, data: { [k: string]: JsonValue }): Promise<unknown> {
    return appendAudit(tx, this.now(), type, actor, subjectId, data);
  }

  // --- asking ----------------------------------------------------------------------------------

  /**
   * Asks the duties table about an action. Carried out at once (through the kind's executor) when
   * no second person is needed, or alone in bootstrap; otherwise recorded as a pending approval
   * and the row's people are told.
   */
  async request(input: RequestInput): Promise<RequestOutcome> {
    const row = dutyRow(input.kind);
    const role = input.actor.role;
    const requesterId = input.actor.identityId;
    if (requesterId === null || !isStaffRole(role)) throw new TypeError('a request is made by a staff member in a staff role');
    const pool = await this.ports.store.read((tx) => tx.identities.countActiveWithAnyRole(row.approvers));
    const decision = decideRequest(input.kind, { role, approverPool: pool, ...input.facts });
    if (decision.kind === 'refused') throw new ForbiddenError('ROLE_REQUIRED', `Asking for this needs the ${row.requesters.join(' or ')} role.`);
    if (decision.kind === 'alone') {
      await this.ports.store.write(async (tx) => {
        await input.precondition?.(tx);
        if (!decision.bootstrap) return;
        await this.audit(tx, 'duty.bootstrap', input.actor, input.subjects[0] ?? null, {
          action: input.kind,
          approvers: [...row.approvers],
          pool: await tx.identities.countActiveWithAnyRole(row.approvers),
          summary: input.summary,
          clause: row.clause,
        });
      });
      const told: Told = { ...input, oldAddress: input.oldAddress, requester: input.actor, approver: null, reference: null, bootstrap: decision.bootstrap };
      const outcome = await this.executor(input.kind)({
        kind: input.kind,
        payload: JSON.parse(JSON.stringify(input.payload)),
        approvalId: null,
        requester: input.actor,
        approver: null,
        bootstrap: decision.bootstrap,
        tell: (tx) => this.tell(tx, row.notify.onExecution, told),
      });
      this.ports.kickOutbox();
      return { state: 'done', outcome, bootstrap: decision.bootstrap };
    }
    const kind = input.kind;
    if (!isApprovalKind(kind)) throw new TypeError(`${kind} never waits for a second person`);
    const record = {
      id: randomUUID(),
      kind,
      payload: JSON.stringify(input.oldAddress !== undefined ? { ...input.payload, oldAddress: input.oldAddress } : input.payload),
      summary: input.summary,
      items: input.items,
      subjects: input.subjects,
      requestedBy: requesterId,
      requestedRole: role,
      requestedAt: this.now(),
    };
    const created = await this.ports.store.write(async (tx) => {
      await input.precondition?.(tx);
      await tx.approvals.insert(record);
      const inserted = await tx.approvals.get(record.id);
      if (!inserted) throw new Error('approval vanished');
      // Issue 16: everyone who may approve it is told that it waits, in the same commit.
      const asked = await askApprovers(tx, inserted, this.ports.config, this.now());
      await this.audit(tx, 'approval.requested', input.actor, record.id, {
        kind: input.kind,
        summary: input.summary,
        items: input.items,
        subjects: input.subjects,
        requesterRole: role,
        approvers: [...row.approvers],
        approversTold: asked.size,
        clause: row.clause,
      });
      const told: Told = { ...input, oldAddress: input.oldAddress, requester: input.actor, approver: null, reference: record.id, bootstrap: false };
      await queueDutyNotices(tx, this.now(), row.notify.onRequest, told, 'requested', this.ports.config, asked);
      return inserted;
    });
    this.ports.kickOutbox();
    if (!created) throw new Error('approval vanished');
    return { state: 'pending', approval: created };
  }

  // --- deciding --------------------------------------------------------------------------------

  /**
   * A second person approves; the request is carried out at once in the requester's name (and
   * role, checked again now). Refusals are audited and answered with stable codes.
   */
  async approve(actor: Actor, id: string): Promise<{ approval: ApprovalRecord; outcome: Outcome }> {
    const approverId = actor.identityId;
    if (approverId === null) throw new TypeError('an approval is made by a person');
    const verdict = await this.ports.store.write(async (tx): Promise<{ approval: ApprovalRecord; role: StaffRole } | { refused: string }> => {
      const approval = await tx.approvals.get(id);
      if (!approval) throw new NotFoundError('Unknown request.');
      if (approval.state !== 'pending') return { refused: approval.state === 'withdrawn' ? 'withdrawn' : 'decided' };
      const person = await tx.identities.get(approverId);
      const decision = await decideFor(tx, approval, person, approverId);
      if (!decision.ok) {
        // Recorded with the role the person actually holds, never one they were assumed to have.
        const who: Actor = { identityId: approverId, role: roleOf(approval.kind, person) };
        if (decision.refusal === 'requester-lost-role') {
          // Losing the role withdraws the request (normally when the role goes; here as a second line).
          await tx.approvals.withdraw(id, this.now(), 'requester-lost-role');
          await this.audit(tx, 'approval.withdrawn', who, id, { kind: approval.kind, reason: 'requester-lost-role', requestedBy: approval.requestedBy, requestedRole: approval.requestedRole });
        } else {
          await this.audit(tx, 'approval.refused', who, id, { kind: approval.kind, reason: decision.refusal, requestedBy: approval.requestedBy });
        }
        return { refused: decision.refusal };
      }
      if (!(await tx.approvals.decide(id, 'executed', approverId, decision.approverRole, this.now(), null))) return { refused: 'decided' };
      await this.audit(tx, 'approval.approved', { identityId: approverId, role: decision.approverRole }, id, {
        kind: approval.kind,
        summary: approval.summary,
        items: approval.items,
        requestedBy: approval.requestedBy,
        requesterRole: approval.requestedRole,
        approverRole: decision.approverRole,
        // Allowed (the rule is about the approver being set up by the requester), but recorded:
        // a person set up by the approver is asking, which an auditor may want to look at.
        approverSetUpRequester: await tx.setups.setUpBy(approval.requestedBy, approverId),
        clause: dutyRow(approval.kind).clause,
      });
      return { approval, role: decision.approverRole };
    });
    if ('refused' in verdict) throw refusalError(verdict.refused);
    const { approval, role } = verdict;
    const approver: Actor = { identityId: approverId, role };
    const requester: Actor = { identityId: approval.requestedBy, role: approval.requestedRole };
    const payload: unknown = JSON.parse(approval.payload);
    const oldAddress = typeof payload === 'object' && payload !== null && 'oldAddress' in payload && typeof payload.oldAddress === 'string' ? payload.oldAddress : undefined;
    const told: Told = { summary: approval.summary, items: approval.items, subjects: approval.subjects, oldAddress, requester, approver, reference: id, bootstrap: false };
    let outcome: Outcome;
    try {
      outcome = await this.executor(approval.kind)({
        kind: approval.kind,
        payload,
        approvalId: id,
        requester,
        approver,
        bootstrap: false,
        tell: (tx) => this.tell(tx, dutyRow(approval.kind).notify.onExecution, told),
      });
    } catch (err) {
      const message = (err instanceof Error ? err.message : String(err)).slice(0, 300);
      await this.ports.store.write(async (tx) => {
        await tx.approvals.setResult(id, 'failed', message);
        await this.audit(tx, 'approval.failed', approver, id, { kind: approval.kind, error: message });
      });
      throw err;
    }
    const done = await this.ports.store.write(async (tx) => {
      await tx.approvals.setResult(id, 'executed', outcome.result);
      return tx.approvals.get(id);
    });
    this.ports.kickOutbox();
    if (!done) throw new Error('approval vanished');
    return { approval: done, outcome };
  }

  /**
   * Rejects a pending request: its requester (who changed their mind) or anyone who may approve
   * that kind. Nothing is carried out.
   */
  reject(actor: Actor, id: string): Promise<ApprovalRecord> {
    const by = actor.identityId;
    if (by === null) throw new TypeError('a rejection is made by a person');
    return this.ports.store.write(async (tx) => {
      const approval = await tx.approvals.get(id);
      if (!approval) throw new NotFoundError('Unknown request.');
      const person = await tx.identities.get(by);
      const own = approval.requestedBy === by;
      const role = own ? approval.requestedRole : dutyRow(approval.kind).approvers.find((r) => person?.bindingState === 'active' && person.roles.includes(r));
      if (!role) throw new ForbiddenError('ROLE_REQUIRED', `Rejecting this request needs the ${dutyRow(approval.kind).approvers.join(' or ')} role.`);
      if (!(await tx.approvals.decide(id, 'rejected', by, role, this.now(), own ? 'withdrawn by the requester' : 'rejected'))) {
        throw approval.state === 'withdrawn' ? refusalError('withdrawn') : refusalError('decided');
      }
      await this.audit(tx, 'approval.rejected', { identityId: by, role }, id, { kind: approval.kind, requestedBy: approval.requestedBy, byRequester: own });
      const done = await tx.approvals.get(id);
      if (!done) throw new Error('approval vanished');
      return done;
    });
  }

  // --- reading ---------------------------------------------------------------------------------

  /** The requests `viewer` may see, with the server's answer to "may I approve this?" (views.ts). */
  list(viewer: Identity, kinds?: readonly ApprovalKind[], language?: Language): Promise<ApprovalView[]> {
    return this.ports.store.read((tx) => listApprovals(tx, viewer, kinds, language));
  }

  /** How many people hold each staff role, and which two-person controls are on (the banners). */
  status(): Promise<DutiesStatus> {
    return this.ports.store.read((tx) => dutiesStatus(tx));
  }

  // --- telling ---------------------------------------------------------------------------------

  /** Inside a transaction: mails the row's recipients (never the requester or approver themselves). */
  private tell(tx: WriteTx, recipients: readonly Recipient[], t: Told, phase: 'requested' | 'executed' = 'executed'): Promise<void> {
    return queueDutyNotices(tx, this.now(), recipients, t, phase, this.ports.config);
  }
}
