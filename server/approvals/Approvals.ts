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
  APPROVAL_REFUSAL_TEXT,
  decideApproval,
  decideRequest,
  dutyRow,
  isStaffRole,
  twoPersonControls,
  STAFF_ROLES,
  isApprovalKind,
  type ApprovalDecision,
  type ApprovalKind,
  type DutyAction,
  type ControlStatus,
  type Recipient,
  type RequestFacts,
  type StaffRole,
} from '../duties/index.js';
import { queueDutyNotices, type Told } from './notify.js';
import { refusalError } from './refusals.js';
import { ForbiddenError, NotFoundError } from '../errors.js';
import type { OutboxDispatcher } from '../outbox/index.js';
import type { ApprovalRecord, Store } from '../store/index.js';

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
  tell: () => void;
}

export type Executor = (e: Execution) => Outcome | Promise<Outcome>;

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
  precondition?: () => void;
}

export type RequestOutcome = { state: 'done'; outcome: Outcome; bootstrap: boolean } | { state: 'pending'; approval: ApprovalRecord };

export interface ApprovalView extends Omit<ApprovalRecord, 'payload'> {
  title: string;
  approverRoles: readonly StaffRole[];
  requestedByName: string | null;
  decidedByName: string | null;
  /** Whether the person asking may approve it now, and if not, why (the server decides). */
  canApprove: boolean;
  cannotApprove: string | null;
  /** Pending only: how many people could approve it now. */
  eligibleApprovers: number | null;
}

export interface DutiesStatus {
  orgAdmins: number;
  securityOfficers: number;
  helpdesk: number;
  controls: ControlStatus[];
}


export class Approvals {
  private readonly executors = new Map<DutyAction, Executor>();

  constructor(private readonly ports: { store: Store; clock: Clock; config: Readonly<Config>; outbox: OutboxDispatcher }) {}

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

  private audit(type: string, actor: Actor, subjectId: string | null, data: { [k: string]: JsonValue }): void {
    this.ports.store.appendAudit({ at: this.now(), type, actorId: actor.identityId, actorRole: actor.role, subjectId, data });
  }

  private nameOf(id: string | null): string | null {
    return id ? (this.ports.store.getIdentity(id)?.name ?? null) : null;
  }

  /** The role a person acts in on a request of this kind: an approver role they hold, else any staff role. */
  private roleOf(kind: ApprovalKind, person: Identity | undefined): Actor['role'] {
    const held = (r: StaffRole) => person?.bindingState === 'active' && person.roles.includes(r);
    return dutyRow(kind).approvers.find(held) ?? STAFF_ROLES.find(held) ?? 'holder';
  }

  private pool(roles: readonly StaffRole[]): number {
    return this.ports.store.countActiveIdentitiesWithAnyRole(roles);
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
    const decision = decideRequest(input.kind, { role, approverPool: this.pool(row.approvers), ...input.facts });
    if (decision.kind === 'refused') throw new ForbiddenError('ROLE_REQUIRED', `Asking for this needs the ${row.requesters.join(' or ')} role.`);
    if (decision.kind === 'alone') {
      this.ports.store.transaction(() => {
        input.precondition?.();
        if (!decision.bootstrap) return;
        this.audit('duty.bootstrap', input.actor, input.subjects[0] ?? null, {
          action: input.kind,
          approvers: [...row.approvers],
          pool: this.pool(row.approvers),
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
        tell: () => this.tell(row.notify.onExecution, told),
      });
      this.ports.outbox.kick();
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
    this.ports.store.transaction(() => {
      input.precondition?.();
      this.ports.store.approvals.insert(record);
      this.audit('approval.requested', input.actor, record.id, {
        kind: input.kind,
        summary: input.summary,
        items: input.items,
        subjects: input.subjects,
        requesterRole: role,
        approvers: [...row.approvers],
        clause: row.clause,
      });
      this.tell(row.notify.onRequest, { ...input, oldAddress: input.oldAddress, requester: input.actor, approver: null, reference: record.id, bootstrap: false }, 'requested');
    });
    this.ports.outbox.kick();
    const created = this.ports.store.approvals.get(record.id);
    if (!created) throw new Error('approval vanished');
    return { state: 'pending', approval: created };
  }

  // --- deciding --------------------------------------------------------------------------------

  /** What decideApproval needs, read now. */
  private decideFor(approval: ApprovalRecord, approver: Identity | undefined, approverId: string): ApprovalDecision {
    const requester = this.ports.store.getIdentity(approval.requestedBy);
    return decideApproval(approval.kind, {
      requesterId: approval.requestedBy,
      requesterBound: requester?.bindingState === 'active',
      requesterHoldsRole: requester?.roles.includes(approval.requestedRole) ?? false,
      approverId,
      approverBound: approver?.bindingState === 'active',
      approverRoles: approver?.roles ?? [],
      subjectIds: approval.subjects,
      approverSetUpByRequester: this.ports.store.setups.setUpBy(approverId, approval.requestedBy),
    });
  }

  /**
   * A second person approves; the request is carried out at once in the requester's name (and
   * role, checked again now). Refusals are audited and answered with stable codes.
   */
  async approve(actor: Actor, id: string): Promise<{ approval: ApprovalRecord; outcome: Outcome }> {
    const approverId = actor.identityId;
    if (approverId === null) throw new TypeError('an approval is made by a person');
    if (!this.ports.store.approvals.get(id)) throw new NotFoundError('Unknown request.');
    const verdict = this.ports.store.transaction((): { approval: ApprovalRecord; role: StaffRole } | { refused: string } => {
      const approval = this.ports.store.approvals.get(id);
      if (!approval) throw new NotFoundError('Unknown request.');
      if (approval.state !== 'pending') return { refused: approval.state === 'withdrawn' ? 'withdrawn' : 'decided' };
      const person = this.ports.store.getIdentity(approverId);
      const decision = this.decideFor(approval, person, approverId);
      if (!decision.ok) {
        // Recorded with the role the person actually holds, never one they were assumed to have.
        const who: Actor = { identityId: approverId, role: this.roleOf(approval.kind, person) };
        if (decision.refusal === 'requester-lost-role') {
          // Losing the role withdraws the request (normally when the role goes; here as a second line).
          this.ports.store.approvals.withdraw(id, this.now(), 'requester-lost-role');
          this.audit('approval.withdrawn', who, id, { kind: approval.kind, reason: 'requester-lost-role', requestedBy: approval.requestedBy, requestedRole: approval.requestedRole });
        } else {
          this.audit('approval.refused', who, id, { kind: approval.kind, reason: decision.refusal, requestedBy: approval.requestedBy });
        }
        return { refused: decision.refusal };
      }
      if (!this.ports.store.approvals.decide(id, 'executed', approverId, decision.approverRole, this.now(), null)) return { refused: 'decided' };
      this.audit('approval.approved', { identityId: approverId, role: decision.approverRole }, id, {
        kind: approval.kind,
        summary: approval.summary,
        items: approval.items,
        requestedBy: approval.requestedBy,
        requesterRole: approval.requestedRole,
        approverRole: decision.approverRole,
        // Allowed (the rule is about the approver being set up by the requester), but recorded:
        // a person set up by the approver is asking, which an auditor may want to look at.
        approverSetUpRequester: this.ports.store.setups.setUpBy(approval.requestedBy, approverId),
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
    let outcome: Outcome;
    try {
      outcome = await this.executor(approval.kind)({
        kind: approval.kind,
        payload,
        approvalId: id,
        requester,
        approver,
        bootstrap: false,
        tell: () =>
          this.tell(dutyRow(approval.kind).notify.onExecution, {
            summary: approval.summary,
            items: approval.items,
            subjects: approval.subjects,
            oldAddress,
            requester,
            approver,
            reference: id,
            bootstrap: false,
          }),
      });
    } catch (err) {
      const message = (err instanceof Error ? err.message : String(err)).slice(0, 300);
      this.ports.store.transaction(() => {
        this.ports.store.approvals.setResult(id, 'failed', message);
        this.audit('approval.failed', approver, id, { kind: approval.kind, error: message });
      });
      throw err;
    }
    this.ports.store.transaction(() => this.ports.store.approvals.setResult(id, 'executed', outcome.result));
    this.ports.outbox.kick();
    const done = this.ports.store.approvals.get(id);
    if (!done) throw new Error('approval vanished');
    return { approval: done, outcome };
  }

  /**
   * Rejects a pending request: its requester (who changed their mind) or anyone who may approve
   * that kind. Nothing is carried out.
   */
  reject(actor: Actor, id: string): ApprovalRecord {
    const by = actor.identityId;
    if (by === null) throw new TypeError('a rejection is made by a person');
    return this.ports.store.transaction(() => {
      const approval = this.ports.store.approvals.get(id);
      if (!approval) throw new NotFoundError('Unknown request.');
      const person = this.ports.store.getIdentity(by);
      const own = approval.requestedBy === by;
      const role = own ? approval.requestedRole : dutyRow(approval.kind).approvers.find((r) => person?.bindingState === 'active' && person.roles.includes(r));
      if (!role) throw new ForbiddenError('ROLE_REQUIRED', `Rejecting this request needs the ${dutyRow(approval.kind).approvers.join(' or ')} role.`);
      if (!this.ports.store.approvals.decide(id, 'rejected', by, role, this.now(), own ? 'withdrawn by the requester' : 'rejected')) {
        throw approval.state === 'withdrawn' ? refusalError('withdrawn') : refusalError('decided');
      }
      this.audit('approval.rejected', { identityId: by, role }, id, { kind: approval.kind, requestedBy: approval.requestedBy, byRequester: own });
      const done = this.ports.store.approvals.get(id);
      if (!done) throw new Error('approval vanished');
      return done;
    });
  }

  // --- reading ---------------------------------------------------------------------------------

  /**
   * The requests a staff member may see (their own, and those they could approve), newest first,
   * with the server's answer to "may I approve this?".
   */
  list(viewer: Identity, kinds?: readonly ApprovalKind[]): ApprovalView[] {
    const staff = this.ports.store.approvals.list(kinds);
    const candidates = (roles: readonly StaffRole[]) => {
      const seen = new Map<string, Identity>();
      for (const r of roles) for (const i of this.ports.store.listActiveIdentitiesWithRole(r)) seen.set(i.id, i);
      return [...seen.values()];
    };
    return staff
      .filter((a) => a.requestedBy === viewer.id || dutyRow(a.kind).approvers.some((r) => viewer.roles.includes(r)))
      .map(({ payload: _payload, ...a }) => {
        const row = dutyRow(a.kind);
        const pending = a.state === 'pending';
        const mine = pending ? this.decideFor({ ...a, payload: '' }, viewer, viewer.id) : undefined;
        return {
          ...a,
          title: row.title,
          approverRoles: row.approvers,
          requestedByName: this.nameOf(a.requestedBy),
          decidedByName: this.nameOf(a.decidedBy),
          canApprove: mine?.ok === true,
          cannotApprove: mine && !mine.ok ? APPROVAL_REFUSAL_TEXT[mine.refusal] : null,
          eligibleApprovers: pending ? candidates(row.approvers).filter((c) => this.decideFor({ ...a, payload: '' }, c, c.id).ok).length : null,
        };
      });
  }

  /** How many people hold each staff role, and which two-person controls are on (the banners). */
  status(): DutiesStatus {
    return {
      orgAdmins: this.pool(['org-admin']),
      securityOfficers: this.pool(['security-officer']),
      helpdesk: this.pool(['helpdesk']),
      controls: twoPersonControls((roles) => this.pool(roles)),
    };
  }

  // --- telling ---------------------------------------------------------------------------------

  /** Inside a transaction: mails the row's recipients (never the requester or approver themselves). */
  private tell(recipients: readonly Recipient[], t: Told, phase: 'requested' | 'executed' = 'executed'): void {
    queueDutyNotices(this.ports.store, this.now(), recipients, t, phase);
  }
}
