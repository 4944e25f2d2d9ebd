/**
 * Use cases of the helpdesk and organisation-admin consoles: finding people, replacements, bulk
 * actions, contact and identifying data, roles, and CSV import. Every sensitive action asks the
 * duties table through the one approvals mechanism (server/approvals), which carries it out at
 * once or waits for a second person; staffDuties.ts says how each is carried out. Every change to
 * a key goes through Gateway.transition (the lifecycle table, segregation of duties, rate limit).
 */
import type { JsonValue } from '../audit/canonicalJson.js';
import type { Approvals, RequestOutcome } from '../approvals/Approvals.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import {
  ASSIGNED_ROLES,
  IDENTITY_ASSURANCE_LEVELS,
  type Actor,
  type AssignedRole,
  type AssuranceLevel,
  type Credential,
  type Identity,
  type ReasonCode,
} from '../domain/types.js';
import { isStaffRole, type StaffRole } from '../duties/index.js';
import { GatewayError, NotFoundError, SegregationError, ValidationError } from '../errors.js';
import type { ApprovalRecord, Store } from '../store/index.js';
import type { Gateway } from './Gateway.js';
import { parseCsv } from './csv.js';
import { registerStaffExecutors, type BulkResult, type ReplacementPayload } from './staffDuties.js';

export type { BulkResult } from './staffDuties.js';
export type BulkAction = 'suspend' | 'revoke';

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

const ROLE_WORDS: Readonly<Record<StaffRole, string>> = { 'org-admin': 'administrator (org-admin)', helpdesk: 'helpdesk', 'security-officer': 'security officer' };

/** A staff-role grant: carried out (alone, in bootstrap) or waiting for a second org-admin. */
export type RoleOutcome = { state: 'granted'; bootstrap: boolean } | { state: 'pending'; approval: ApprovalRecord };

/** "Name <email>": how a person is named in what an approver is shown. */
function who(i: Identity): string {
  return `${i.name} <${i.email}>`;
}

function keyWords(k: Credential): string {
  return `“${k.label}”${k.model ? ` (${k.model})` : ''}, ${k.state}`;
}

export class StaffConsole {
  constructor(private readonly ports: { store: Store; gateway: Gateway; clock: Clock; config: Readonly<Config>; approvals: Approvals }) {
    registerStaffExecutors({ store: ports.store, gateway: ports.gateway, clock: ports.clock, approvals: ports.approvals });
  }

  private now(): string {
    return this.ports.clock.now().toISOString();
  }

  private audit(type: string, actor: Actor, subjectId: string | null, data: { [k: string]: JsonValue }): void {
    this.ports.store.appendAudit({ at: this.now(), type, actorId: actor.identityId, actorRole: actor.role, subjectId, data });
  }

  private nameOf(id: string | null): string | null {
    return id ? (this.ports.store.getIdentity(id)?.name ?? null) : null;
  }

  private staff(actor: Actor): Identity {
    const id = actor.identityId;
    if (!id || (actor.role !== 'helpdesk' && actor.role !== 'org-admin')) throw new TypeError('a staff actor is needed');
    return this.ports.gateway.requireRole(id, actor.role);
  }

  private notSelf(actor: Actor, identityId: string, what: string): void {
    if (actor.identityId === identityId) throw new SegregationError(`You cannot ${what} for yourself; ask a colleague.`);
  }

  private boundIdentity(identityId: string): Identity {
    const identity = this.ports.store.getIdentity(identityId);
    if (!identity || identity.bindingState !== 'active') throw new NotFoundError('Unknown identity.');
    return identity;
  }

  // --- finding people -----------------------------------------------------------------------

  search(actor: Actor, query: string) {
    const me = this.staff(actor);
    return this.ports.store.searchIdentities(me.organisationId, query).map((i) => {
      // Revoked and expired keys are history, not keys the person has: they are not counted.
      const keys = this.ports.store.listCredentialsOfIdentity(i.id).filter((k) => k.state !== 'revoked' && k.state !== 'expired');
      return { ...i, keyCount: keys.length, activeKeyCount: keys.filter((k) => k.state === 'active').length };
    });
  }

  detail(actor: Actor, identityId: string) {
    const me = this.staff(actor);
    const identity = this.ports.store.getIdentity(identityId);
    if (!identity || identity.organisationId !== me.organisationId) throw new NotFoundError('Unknown identity.');
    const credentials = this.ports.store.listCredentialsOfIdentity(identityId).map((c) => ({
      ...c,
      history: this.ports.store.listCredentialEvents(c.id).map((e) => ({ ...e, actorName: this.nameOf(e.actorId) })),
    }));
    return { identity, proofedByName: this.nameOf(identity.proofedBy), credentials };
  }

  auditTrail(actor: Actor, identityId: string) {
    this.detail(actor, identityId);
    return this.ports.store.listAuditForIdentity(identityId).map((e) => ({ ...e, actorName: this.nameOf(e.actorId) }));
  }

  fleetReport() {
    return this.ports.store.fleetReport();
  }

  // --- replacement (NSIS 3.2.4, 5.1) ---------------------------------------------------------

  /**
   * A new key for someone who lost one, without new identity proofing: either the person still
   * holds another active key (a valid means), or a second person approves (recorded). The link
   * goes by mail to the bound address unless handing it over in person is chosen.
   */
  async requestReplacement(
    actor: Actor,
    identityId: string,
    input: { basis: 'active-key' | 'second-approval'; replacesCredentialId: string | null; revokeNow: boolean; note: string | null; delivery: 'mail' | 'handover' },
  ): Promise<{ delivery: 'mail' | 'handover'; link?: string; sentTo: string | null; expiresAt: string } | { approval: ApprovalRecord }> {
    this.staff(actor);
    this.notSelf(actor, identityId, 'issue a replacement key');
    const identity = this.boundIdentity(identityId);
    const keys = this.ports.store.listCredentialsOfIdentity(identityId);
    const replaced = input.replacesCredentialId === null ? undefined : keys.find((k) => k.id === input.replacesCredentialId);
    if (input.replacesCredentialId !== null && !replaced) {
      throw new ValidationError('The key to replace does not belong to this person.', [{ path: 'replacesCredentialId', message: 'not this person’s key' }]);
    }
    const valid = keys.some((k) => k.state === 'active' && k.id !== input.replacesCredentialId);
    if (input.basis === 'active-key' && !valid) {
      throw new GatewayError('CONFLICT', 409, 'The person holds no other active key; ask a second person to approve the replacement instead.');
    }
    const payload: ReplacementPayload = { identityId, replacesCredentialId: input.replacesCredentialId, revokeNow: input.revokeNow, note: input.note, delivery: input.delivery };
    const asked = await this.ports.approvals.request({
      kind: 'replacement',
      actor,
      subjects: [identityId],
      payload: { ...payload },
      summary: `Replacement key for ${who(identity)}`,
      items: [
        input.delivery === 'mail'
          ? `A one-time enrolment link for ${identity.name}, mailed to ${identity.email}`
          : `A one-time enrolment link for ${identity.name}, shown once to the approver to hand over in person`,
        ...(replaced ? [input.revokeNow ? `Revoke ${keyWords(replaced)} of ${identity.name} now (reason: replaced)` : `Revoke ${keyWords(replaced)} of ${identity.name} when the new key is active (reason: replaced)`] : []),
      ],
      facts: { hasOtherActiveKey: input.basis === 'active-key' },
    });
    if (asked.state === 'pending') return { approval: asked.approval };
    const sentTo = asked.outcome.detail?.['sentTo'];
    return {
      delivery: input.delivery,
      ...(asked.outcome.link ? { link: asked.outcome.link } : {}),
      sentTo: typeof sentTo === 'string' ? sentTo : null,
      expiresAt: asked.outcome.expiresAt ?? '',
    };
  }

  // --- bulk actions (NSIS 3.2.3 (Low) 2) -----------------------------------------------------

  async bulk(actor: Actor, input: { action: BulkAction; credentialIds: string[]; reason: ReasonCode; note: string | null }): Promise<{ results: BulkResult[] } | { approval: ApprovalRecord }> {
    this.staff(actor);
    const ids = Array.from(new Set(input.credentialIds));
    const items: string[] = [];
    const holders = new Map<string, Identity>();
    for (const id of ids) {
      const key = this.ports.store.getCredential(id);
      if (!key) throw new NotFoundError(`Unknown security key ${id}.`);
      if (key.identityId === actor.identityId) throw new SegregationError('Staff powers do not apply to your own keys.');
      const holder = this.ports.store.getIdentity(key.identityId);
      if (!holder) throw new NotFoundError(`Unknown security key ${id}.`);
      holders.set(holder.id, holder);
      items.push(`${input.action === 'suspend' ? 'Suspend' : 'Revoke'} ${keyWords(key)} of ${who(holder)}`);
    }
    const people = [...holders.values()];
    const verb = input.action === 'suspend' ? 'Suspend' : 'Revoke';
    const asked = await this.ports.approvals.request({
      kind: 'bulk',
      actor,
      subjects: people.map((p) => p.id),
      payload: { action: input.action, credentialIds: ids, reason: input.reason, note: input.note },
      summary: `${verb} ${ids.length === 1 ? '1 key' : `${ids.length} keys`} of ${people.length === 1 ? people[0]?.name ?? '' : `${people.length} people (${people.map((p) => p.name).join(', ')})`} (reason ${input.reason})`,
      items,
      facts: { bulkSize: ids.length, bulkThreshold: this.ports.config.bulkApprovalThreshold },
    });
    if (asked.state === 'pending') return { approval: asked.approval };
    const results = asked.outcome.detail?.['results'];
    return { results: Array.isArray(results) ? results.map(bulkResultOf) : [] };
  }

  // --- organisation admin --------------------------------------------------------------------

  /**
   * Binds a person (NSIS 5.2) as an employee at once. Staff roles asked for at the same time are
   * a role grant (duties table): carried out only with a second org-admin, or alone in bootstrap.
   */
  async createIdentity(
    actor: Actor,
    input: { name: string; email: string; ial: AssuranceLevel; proofingMethod: string; roles: AssignedRole[] },
  ): Promise<{ identity: Identity; roles: RoleOutcome | null }> {
    const me = this.staff(actor);
    const identity = this.ports.gateway.createIdentity(actor, { ...input, organisationId: me.organisationId, roles: input.roles.filter((r) => !isStaffRole(r)) });
    const roles = await this.grantRoles(actor, identity, input.roles.filter(isStaffRole), 'creation');
    return { identity: this.boundIdentity(identity.id), roles };
  }

  /** Inside the request's transaction: one waiting request of this kind per person. */
  private noneWaiting(kind: 'contact-change' | 'role-grant', identityId: string, detail: string): void {
    if (this.ports.store.approvals.pending().some((a) => a.kind === kind && a.subjects.includes(identityId))) throw new GatewayError('CONFLICT', 409, detail);
  }

  /** Asks the duties table for staff roles; null when there are none to grant. */
  private async grantRoles(actor: Actor, identity: Identity, wanted: StaffRole[], via: 'grant' | 'creation' | 'import'): Promise<RoleOutcome | null> {
    const roles = Array.from(new Set(wanted)).filter((r) => !identity.roles.includes(r));
    if (roles.length === 0) return null;
    const asked: RequestOutcome = await this.ports.approvals.request({
      kind: 'role-grant',
      actor,
      subjects: [identity.id],
      payload: { identityId: identity.id, roles, via },
      precondition: () => this.noneWaiting('role-grant', identity.id, 'A staff-role grant for this person is already waiting for approval.'),
      summary: `Grant ${roles.map((r) => ROLE_WORDS[r]).join(' and ')} to ${who(identity)}`,
      items: roles.map((r) => `${identity.name} <${identity.email}> becomes ${ROLE_WORDS[r]}`),
    });
    return asked.state === 'pending' ? { state: 'pending', approval: asked.approval } : { state: 'granted', bootstrap: asked.bootstrap };
  }

  /**
   * Identifying data (the name) on which keys were issued is corrected, and those keys are revoked
   * with reason data-error (NSIS 3.2.3 (Low) 4). Contact data (the email, the second channel)
   * changes only when a different staff member approves (duties table, contact-change): the old
   * address is told at once who asked and how to object.
   */
  async updateIdentity(
    actor: Actor,
    identityId: string,
    input: { email?: string; name?: string; note: string | null },
  ): Promise<{ identity: Identity; revokedKeys: number; approval: ApprovalRecord | null }> {
    this.staff(actor);
    this.notSelf(actor, identityId, 'change identity data');
    const identity = this.boundIdentity(identityId);
    let revokedKeys = 0;
    let approval: ApprovalRecord | null = null;
    if (input.email !== undefined && input.email !== identity.email) {
      const taken = this.ports.store.findActiveIdentityByEmail(input.email);
      if (taken && taken.id !== identityId) throw new GatewayError('CONFLICT', 409, 'Another employee is bound with this email address.');
      const asked = await this.ports.approvals.request({
        kind: 'contact-change',
        actor,
        subjects: [identityId],
        payload: { identityId, from: identity.email, to: input.email, note: input.note },
        oldAddress: identity.email,
        precondition: () => this.noneWaiting('contact-change', identityId, 'A change of this person’s email address is already waiting for approval.'),
        summary: `Change the email address of ${identity.name} from ${identity.email} to ${input.email}`,
        items: [
          `Email of ${identity.name}: ${identity.email} → ${input.email}`,
          `Open activation and reactivation codes and open enrolment links of ${identity.name} are withdrawn`,
        ],
      });
      if (asked.state === 'pending') approval = asked.approval;
    }
    if (input.name !== undefined && input.name !== identity.name) {
      const name = input.name;
      this.ports.store.transaction(() => {
        this.ports.store.setIdentityName(identityId, name);
        this.ports.store.setups.record({ identityId, aspect: 'name', detail: name, setBy: actor.identityId, approvedBy: null, at: this.now() });
        this.audit('identity.identifying-data-corrected', actor, identityId, { field: 'name', from: identity.name, to: name, note: input.note, clause: 'NSIS 3.2.3 (Low) 4' });
      });
      for (const key of this.ports.store.listCredentialsOfIdentity(identityId)) {
        if (key.state === 'revoked' || key.state === 'expired') continue;
        // One correction, however many keys: the admin's decision, not an operator's hourly count.
        this.ports.gateway.transition(actor, key.id, 'revoke', 'data-error', input.note ?? 'identifying data corrected', { approved: true });
        revokedKeys++;
      }
    }
    return { identity: this.boundIdentity(identityId), revokedKeys, approval };
  }

  /** Grants (through the duties table) or withdraws (at once) a role. */
  async setRole(actor: Actor, identityId: string, role: AssignedRole, grant: boolean): Promise<{ identity: Identity; approval: ApprovalRecord | null }> {
    this.staff(actor);
    this.notSelf(actor, identityId, 'change roles');
    const identity = this.boundIdentity(identityId);
    if (isStaffRole(role)) {
      if (grant) {
        const outcome = await this.grantRoles(actor, identity, [role], 'grant');
        return { identity: this.boundIdentity(identityId), approval: outcome?.state === 'pending' ? outcome.approval : null };
      }
      if (identity.roles.includes(role)) {
        await this.ports.approvals.request({
          kind: 'role-revoke',
          actor,
          subjects: [identityId],
          payload: { identityId, roles: [role], via: 'grant' },
          summary: `Withdraw ${ROLE_WORDS[role]} from ${who(identity)}`,
          items: [`${identity.name} is no longer ${ROLE_WORDS[role]}; their pending requests made as ${ROLE_WORDS[role]} are withdrawn`],
        });
      }
      return { identity: this.boundIdentity(identityId), approval: null };
    }
    this.ports.store.transaction(() => {
      if (grant) this.ports.store.grantRole(identityId, role, actor.identityId, this.now());
      else this.ports.store.revokeRole(identityId, role);
      this.audit(grant ? 'role.granted' : 'role.revoked', actor, identityId, { role });
    });
    return { identity: this.boundIdentity(identityId), approval: null };
  }

  /**
   * Imports identities from CSV (name,email,ial,proofing_method[,roles]). Every row is checked
   * first; any invalid row refuses the whole import. Rows for people already bound are skipped
   * with the reason. The rest are bound in one transaction (never half-imported); staff roles in
   * the file are then role grants, each through the duties table.
   */
  async importCsv(
    actor: Actor,
    csv: string,
  ): Promise<{
    created: { row: number; id: string; email: string }[];
    skipped: { row: number; email: string; reason: string }[];
    roles: { row: number; email: string; roles: StaffRole[]; state: 'granted' | 'pending'; approvalId: string | null }[];
  }> {
    const me = this.staff(actor);
    const { rows, errors, headerOk } = parseImportCsv(csv);
    if (!headerOk) {
      throw new GatewayError('IMPORT_INVALID', 400, `The first line must be: ${IMPORT_HEADER.join(',')}[,roles]`, { errors });
    }
    if (errors.length > 0) {
      throw new GatewayError('IMPORT_INVALID', 400, `Nothing was imported: ${errors.length} problem(s) in the file.`, { errors: errors.slice(0, 100) });
    }
    const done = this.ports.store.transaction(() => {
      const created: { row: number; id: string; email: string; identity: Identity; staffRoles: StaffRole[] }[] = [];
      const skipped: { row: number; email: string; reason: string }[] = [];
      for (const r of rows) {
        if (this.ports.store.findActiveIdentityByEmail(r.email)) {
          skipped.push({ row: r.row, email: r.email, reason: 'already bound to the organisation' });
          continue;
        }
        const identity = this.ports.gateway.createIdentity(actor, {
          organisationId: me.organisationId,
          name: r.name,
          email: r.email,
          ial: r.ial,
          proofingMethod: r.proofing,
          roles: r.roles.filter((role) => !isStaffRole(role)),
        });
        created.push({ row: r.row, id: identity.id, email: r.email, identity, staffRoles: r.roles.filter(isStaffRole) });
      }
      this.audit('identities.imported', actor, null, { created: created.length, skipped: skipped.length });
      return { created, skipped };
    });
    const roles: { row: number; email: string; roles: StaffRole[]; state: 'granted' | 'pending'; approvalId: string | null }[] = [];
    for (const c of done.created) {
      const outcome = await this.grantRoles(actor, c.identity, c.staffRoles, 'import');
      if (outcome) roles.push({ row: c.row, email: c.email, roles: c.staffRoles, state: outcome.state, approvalId: outcome.state === 'pending' ? outcome.approval.id : null });
    }
    return { created: done.created.map(({ row, id, email }) => ({ row, id, email })), skipped: done.skipped, roles };
  }
}

function bulkResultOf(v: unknown): BulkResult {
  if (typeof v !== 'object' || v === null || !('credentialId' in v) || typeof v.credentialId !== 'string' || !('ok' in v) || typeof v.ok !== 'boolean') {
    throw new TypeError('a bulk result has a credential id and an outcome');
  }
  return { credentialId: v.credentialId, ok: v.ok, ...('code' in v && typeof v.code === 'string' ? { code: v.code } : {}) };
}

/** The first columns of an import file, in this order; a fifth, `roles`, is optional. */
export const IMPORT_HEADER = ['name', 'email', 'ial', 'proofing_method'] as const;

export interface ImportRow {
  /** The line's number in the file (the header is row 1). */
  row: number;
  name: string;
  email: string;
  ial: AssuranceLevel;
  proofing: string;
  roles: AssignedRole[];
}

/**
 * Parses and checks an import file without changing anything: the rows to import, or every
 * problem by row and field. The console's import refuses a file with any problem; `npm run
 * import` runs the same check on the whole file before it sends any part of it.
 */
export function parseImportCsv(csv: string): { rows: ImportRow[]; errors: { path: string; message: string }[]; headerOk: boolean } {
  const table = parseCsv(csv);
  const header = (table[0] ?? []).map((h) => h.trim().toLowerCase());
  if (IMPORT_HEADER.some((h, i) => header[i] !== h)) return { rows: [], errors: [{ path: 'row 1', message: 'unexpected header' }], headerOk: false };
  const errors: { path: string; message: string }[] = [];
  const rows: ImportRow[] = [];
  const seen = new Set<string>();
  table.slice(1).forEach((cells, i) => {
    const row = i + 2;
    if (cells.every((c) => c.trim() === '')) return;
    const [name = '', email = '', ial = '', proofing = '', rolesText = ''] = cells.map((c) => c.trim());
    if (name.length === 0 || name.length > 200) errors.push({ path: `row ${row} name`, message: 'a name of 1-200 characters is required' });
    if (!EMAIL.test(email) || email.length > 254) errors.push({ path: `row ${row} email`, message: 'not an email address' });
    else if (seen.has(email.toLowerCase())) errors.push({ path: `row ${row} email`, message: 'appears twice in the file' });
    seen.add(email.toLowerCase());
    const level = IDENTITY_ASSURANCE_LEVELS.find((l) => l === ial.toLowerCase());
    if (!level) errors.push({ path: `row ${row} ial`, message: 'must be low, substantial or high' });
    if (proofing.length < 3) errors.push({ path: `row ${row} proofing_method`, message: 'say how the identity was proofed' });
    const roles: AssignedRole[] = [];
    for (const r of rolesText.split(';').map((x) => x.trim()).filter((x) => x.length > 0)) {
      const role = ASSIGNED_ROLES.find((a) => a === r);
      if (role) roles.push(role);
      else errors.push({ path: `row ${row} roles`, message: `unknown role ${r}` });
    }
    if (level) rows.push({ row, name, email, ial: level, proofing, roles });
  });
  return { rows, errors, headerOk: true };
}
