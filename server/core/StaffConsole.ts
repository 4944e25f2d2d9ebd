/**
 * Use cases of the helpdesk and organisation-admin consoles: finding people, replacements, bulk
 * actions under four-eyes approval, contact and identifying data, roles, and CSV import. Every
 * change to a key goes through Gateway.transition (the lifecycle table, segregation of duties,
 * the rate limit); every other change is audited here in its own transaction.
 */
import { randomUUID } from 'node:crypto';
import type { JsonValue } from '../audit/canonicalJson.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import { ASSIGNED_ROLES, IDENTITY_ASSURANCE_LEVELS, type Actor, type AssignedRole, type AssuranceLevel, type Identity, type ReasonCode } from '../domain/types.js';
import { GatewayError, NotFoundError, SegregationError, ValidationError } from '../errors.js';
import type { ApprovalRecord, Store } from '../store/index.js';
import type { Gateway } from './Gateway.js';
import { parseCsv } from './csv.js';

export type BulkAction = 'suspend' | 'revoke';

export interface BulkResult {
  credentialId: string;
  ok: boolean;
  code?: string;
}

interface BulkPayload {
  action: BulkAction;
  credentialIds: string[];
  reason: ReasonCode;
  note: string | null;
}

interface ReplacementPayload {
  identityId: string;
  replacesCredentialId: string | null;
  revokeNow: boolean;
  note: string | null;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export class StaffConsole {
  constructor(private readonly ports: { store: Store; gateway: Gateway; clock: Clock; config: Readonly<Config> }) {}

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
   * holds another active key (a valid means), or a second person approves (recorded).
   */
  requestReplacement(
    actor: Actor,
    identityId: string,
    input: { basis: 'active-key' | 'second-approval'; replacesCredentialId: string | null; revokeNow: boolean; note: string | null },
  ): { link: string; expiresAt: string } | { approval: ApprovalRecord } {
    this.staff(actor);
    this.notSelf(actor, identityId, 'issue a replacement key');
    const identity = this.ports.store.getIdentity(identityId);
    if (!identity || identity.bindingState !== 'active') throw new NotFoundError('Unknown identity.');
    const keys = this.ports.store.listCredentialsOfIdentity(identityId);
    if (input.replacesCredentialId !== null && !keys.some((k) => k.id === input.replacesCredentialId)) {
      throw new ValidationError('The key to replace does not belong to this person.', [{ path: 'replacesCredentialId', message: 'not this person’s key' }]);
    }
    const payload: ReplacementPayload = { identityId, replacesCredentialId: input.replacesCredentialId, revokeNow: input.revokeNow, note: input.note };
    if (input.basis === 'active-key') {
      const valid = keys.some((k) => k.state === 'active' && k.id !== input.replacesCredentialId);
      if (!valid) {
        throw new GatewayError('CONFLICT', 409, 'The person holds no other active key; ask a second person to approve the replacement instead.');
      }
      return this.executeReplacement(actor, payload, 'active-key', false);
    }
    const approval = this.createApproval(actor, 'replacement', payload, `Replacement key for ${identity.name} <${identity.email}>`);
    return { approval };
  }

  private executeReplacement(actor: Actor, p: ReplacementPayload, basis: string, approved: boolean): { link: string; expiresAt: string } {
    if (p.revokeNow && p.replacesCredentialId) {
      const old = this.ports.store.getCredential(p.replacesCredentialId);
      if (old && old.state !== 'revoked' && old.state !== 'expired') this.ports.gateway.transition(actor, old.id, 'revoke', 'replaced', p.note, { approved });
    }
    const e = this.ports.gateway.issueEnrolment(actor, p.identityId, { replacesCredentialId: p.replacesCredentialId, basis });
    return { link: e.link, expiresAt: e.expiresAt };
  }

  // --- bulk actions (NSIS 3.2.3 (Low) 2) -----------------------------------------------------

  bulk(actor: Actor, input: BulkPayload): { results: BulkResult[] } | { approval: ApprovalRecord } {
    this.staff(actor);
    const ids = Array.from(new Set(input.credentialIds));
    for (const id of ids) {
      const key = this.ports.store.getCredential(id);
      if (!key) throw new NotFoundError(`Unknown security key ${id}.`);
      if (key.identityId === actor.identityId) throw new SegregationError('Staff powers do not apply to your own keys.');
    }
    const payload: BulkPayload = { ...input, credentialIds: ids };
    if (ids.length > this.ports.config.bulkApprovalThreshold) {
      return { approval: this.createApproval(actor, 'bulk', payload, `${input.action} ${ids.length} keys (reason ${input.reason})`) };
    }
    return { results: this.executeBulk(actor, payload, false) };
  }

  private executeBulk(actor: Actor, p: BulkPayload, approved: boolean): BulkResult[] {
    return p.credentialIds.map((credentialId) => {
      try {
        this.ports.gateway.transition(actor, credentialId, p.action, p.reason, p.note, { approved });
        return { credentialId, ok: true };
      } catch (err) {
        if (err instanceof GatewayError) return { credentialId, ok: false, code: err.code };
        throw err;
      }
    });
  }

  // --- four-eyes approvals -------------------------------------------------------------------

  private createApproval(actor: Actor, kind: 'bulk' | 'replacement', payload: BulkPayload | ReplacementPayload, summary: string): ApprovalRecord {
    const record = {
      id: randomUUID(),
      kind,
      payload: JSON.stringify(payload),
      summary,
      requestedBy: actor.identityId ?? '',
      requestedAt: this.now(),
    };
    this.ports.store.transaction(() => {
      this.ports.store.approvals.insert(record);
      this.audit('approval.requested', actor, record.id, { kind, summary });
    });
    const created = this.ports.store.approvals.get(record.id);
    if (!created) throw new Error('approval vanished');
    return created;
  }

  listApprovals(actor: Actor) {
    this.staff(actor);
    return this.ports.store.approvals.list().map(({ payload: _payload, ...a }) => ({
      ...a,
      requestedByName: this.nameOf(a.requestedBy),
      decidedByName: this.nameOf(a.decidedBy),
    }));
  }

  /** A second, different staff member approves; the action runs in the requester's name. */
  approve(actor: Actor, id: string): { approval: ApprovalRecord; link?: string } {
    this.staff(actor);
    const approval = this.ports.store.approvals.get(id);
    if (!approval) throw new NotFoundError('Unknown approval.');
    if (approval.requestedBy === actor.identityId) {
      this.ports.store.transaction(() => this.audit('approval.refused', actor, id, { reason: 'same-person' }));
      throw new SegregationError('Four eyes: a different person must approve this request.');
    }
    const payload: unknown = JSON.parse(approval.payload);
    const requester = this.ports.store.getIdentity(approval.requestedBy);
    if (!requester || requester.bindingState !== 'active') throw new GatewayError('CONFLICT', 409, 'The requester is no longer bound to the organisation.');
    const requesterRole: 'helpdesk' | 'org-admin' = requester.roles.includes('helpdesk') ? 'helpdesk' : 'org-admin';
    const requesterActor: Actor = { identityId: requester.id, role: requesterRole };
    if (!this.ports.store.transaction(() => this.ports.store.approvals.decide(id, 'executed', actor.identityId ?? '', this.now(), null))) {
      throw new GatewayError('CONFLICT', 409, 'This request has already been decided.');
    }
    let result: string;
    let link: string | undefined;
    try {
      if (approval.kind === 'bulk' && isBulk(payload)) {
        const results = this.executeBulk(requesterActor, { ...payload, note: `${payload.note ?? ''} (approved by ${this.nameOf(actor.identityId)})`.trim() }, true);
        result = `${results.filter((r) => r.ok).length} of ${results.length} keys: ${payload.action} done` + (results.some((r) => !r.ok) ? `; refused: ${results.filter((r) => !r.ok).map((r) => `${r.credentialId} ${r.code ?? ''}`).join(', ')}` : '');
      } else if (approval.kind === 'replacement' && isReplacement(payload)) {
        const e = this.executeReplacement(requesterActor, payload, `second-approval by ${actor.identityId ?? ''}`, true);
        // The one-time link goes to the approver's answer only, never into the shared list.
        link = e.link;
        result = `enrolment link issued, valid until ${e.expiresAt}`;
      } else {
        throw new Error(`approval ${id} has an unreadable payload`);
      }
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.ports.store.transaction(() => {
        this.ports.store.approvals.setResult(id, 'failed', message.slice(0, 300));
        this.audit('approval.failed', actor, id, { error: message.slice(0, 300) });
      });
      throw err;
    }
    this.ports.store.transaction(() => {
      this.ports.store.approvals.setResult(id, 'executed', result);
      this.audit('approval.approved', actor, id, { kind: approval.kind, requestedBy: approval.requestedBy, result });
    });
    const done = this.ports.store.approvals.get(id);
    if (!done) throw new Error('approval vanished');
    return { approval: done, ...(link ? { link } : {}) };
  }

  reject(actor: Actor, id: string): ApprovalRecord {
    this.staff(actor);
    const done = this.ports.store.transaction(() => {
      if (!this.ports.store.approvals.get(id)) throw new NotFoundError('Unknown approval.');
      if (!this.ports.store.approvals.decide(id, 'rejected', actor.identityId ?? '', this.now(), 'rejected')) {
        throw new GatewayError('CONFLICT', 409, 'This request has already been decided.');
      }
      this.audit('approval.rejected', actor, id, {});
      return this.ports.store.approvals.get(id);
    });
    if (!done) throw new Error('approval vanished');
    return done;
  }

  // --- organisation admin --------------------------------------------------------------------

  /**
   * Contact data (email) is corrected and audited. Identifying data (the name) on which keys were
   * issued is corrected, and those keys are revoked with reason data-error (NSIS 3.2.3 (Low) 4).
   */
  updateIdentity(actor: Actor, identityId: string, input: { email?: string; name?: string; note: string | null }): { identity: Identity; revokedKeys: number } {
    this.staff(actor);
    this.notSelf(actor, identityId, 'change identity data');
    const identity = this.ports.store.getIdentity(identityId);
    if (!identity || identity.bindingState !== 'active') throw new NotFoundError('Unknown identity.');
    let revokedKeys = 0;
    if (input.email !== undefined && input.email !== identity.email) {
      const email = input.email;
      this.ports.store.transaction(() => {
        const taken = this.ports.store.findActiveIdentityByEmail(email);
        if (taken && taken.id !== identityId) throw new GatewayError('CONFLICT', 409, 'Another employee is bound with this email address.');
        this.ports.store.setIdentityEmail(identityId, email);
        this.audit('identity.contact-changed', actor, identityId, { field: 'email', from: identity.email, to: email, note: input.note });
      });
    }
    if (input.name !== undefined && input.name !== identity.name) {
      const name = input.name;
      this.ports.store.transaction(() => {
        this.ports.store.setIdentityName(identityId, name);
        this.audit('identity.identifying-data-corrected', actor, identityId, { field: 'name', from: identity.name, to: name, note: input.note, clause: 'NSIS 3.2.3 (Low) 4' });
      });
      for (const key of this.ports.store.listCredentialsOfIdentity(identityId)) {
        if (key.state === 'revoked' || key.state === 'expired') continue;
        // One correction, however many keys: the admin's decision, not an operator's hourly count.
        this.ports.gateway.transition(actor, key.id, 'revoke', 'data-error', input.note ?? 'identifying data corrected', { approved: true });
        revokedKeys++;
      }
    }
    const updated = this.ports.store.getIdentity(identityId);
    if (!updated) throw new Error('identity vanished');
    return { identity: updated, revokedKeys };
  }

  setRole(actor: Actor, identityId: string, role: AssignedRole, grant: boolean): Identity {
    this.staff(actor);
    this.notSelf(actor, identityId, 'change roles');
    this.ports.store.transaction(() => {
      const identity = this.ports.store.getIdentity(identityId);
      if (!identity || identity.bindingState !== 'active') throw new NotFoundError('Unknown identity.');
      if (grant) this.ports.store.grantRole(identityId, role, actor.identityId, this.now());
      else this.ports.store.revokeRole(identityId, role);
      this.audit(grant ? 'role.granted' : 'role.revoked', actor, identityId, { role });
    });
    const updated = this.ports.store.getIdentity(identityId);
    if (!updated) throw new Error('identity vanished');
    return updated;
  }

  /**
   * Imports identities from CSV (name,email,ial,proofing_method[,roles]). Every row is checked
   * first; any invalid row refuses the whole import. Rows for people already bound are skipped
   * with the reason. The rest are created in one transaction: nothing is ever half-imported.
   */
  importCsv(actor: Actor, csv: string): { created: { row: number; id: string; email: string }[]; skipped: { row: number; email: string; reason: string }[] } {
    const me = this.staff(actor);
    const { rows, errors, headerOk } = parseImportCsv(csv);
    if (!headerOk) {
      throw new GatewayError('IMPORT_INVALID', 400, `The first line must be: ${IMPORT_HEADER.join(',')}[,roles]`, { errors });
    }
    if (errors.length > 0) {
      throw new GatewayError('IMPORT_INVALID', 400, `Nothing was imported: ${errors.length} problem(s) in the file.`, { errors: errors.slice(0, 100) });
    }
    return this.ports.store.transaction(() => {
      const created: { row: number; id: string; email: string }[] = [];
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
          roles: r.roles,
        });
        created.push({ row: r.row, id: identity.id, email: r.email });
      }
      this.audit('identities.imported', actor, null, { created: created.length, skipped: skipped.length });
      return { created, skipped };
    });
  }
}

function isBulk(v: unknown): v is BulkPayload {
  return typeof v === 'object' && v !== null && 'action' in v && 'credentialIds' in v && Array.isArray(v.credentialIds) && 'reason' in v;
}

function isReplacement(v: unknown): v is ReplacementPayload {
  return typeof v === 'object' && v !== null && 'identityId' in v && typeof v.identityId === 'string';
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
