/**
 * The SCIM Groups of the organisation's directory over the store (issue 18): the port
 * server/scim/ports.ts asks for. Only a group whose displayName the organisation mapped to a role
 * is stored (the router refuses the rest). Each write is ONE transaction holding the
 * compare-and-set on the group's version (RFC 7644 §3.14), the check of its members (Users this
 * same client provisioned, still bound: anything else is 400 invalidValue and nothing is stored),
 * the directory role requests it adds and the roles it withdraws (groupEntitlements.ts), and the
 * audit events.
 */
import { randomUUID } from 'node:crypto';
import type { ScimGroupRecord } from '../../domain/provisioning.js';
import { StoreConflict, type ReadTx, type WriteTx } from '../../ports/store.js';
import { lookupKeys, matchesFilter } from '../../scim/evaluateFilter.js';
import type { GroupRoleTable } from '../../scim/groupRoles.js';
import { roleForGroup } from '../../scim/groupRoles.js';
import { type ScimGroup, type Stored, groupToJson } from '../../scim/model.js';
import type { DeleteResult, ListQuery, ListResult, ScimGroupDirectory, ScimPrincipal, WriteResult } from '../../scim/ports.js';
import type { CoreDeps } from '../deps.js';
import { kickAfterCommit, recordEvent } from '../shared/audit.js';
import { applyEntitlementChange, entitlementsOf } from './groupEntitlements.js';
import { PROVISIONING_ACTOR } from './scimDirectory.js';
import { storedGroupOf } from './storedGroup.js';

/** Thrown inside a write to roll it back and answer with a result kind. */
class Outcome extends Error {
  constructor(readonly result: WriteResult<ScimGroup>) {
    super(result.kind);
  }
}

async function settle(write: Promise<WriteResult<ScimGroup>>): Promise<WriteResult<ScimGroup>> {
  try {
    return await write;
  } catch (err) {
    if (err instanceof Outcome) return err.result;
    // A uniqueness a concurrent request took between our check and our write (PostgreSQL).
    if (err instanceof StoreConflict) return { kind: 'conflict', attribute: 'displayName' };
    throw err;
  }
}

async function clash(tx: ReadTx, organisationId: string, group: ScimGroup, exceptId: string | null): Promise<string | null> {
  if ((await tx.scimGroups.find(organisationId, { displayNameKey: group.displayName.trim().toLowerCase() })).some((r) => r.id !== exceptId)) return 'displayName';
  if (group.externalId !== null && (await tx.scimGroups.find(organisationId, { externalId: group.externalId })).some((r) => r.id !== exceptId)) return 'externalId';
  return null;
}

/**
 * Members the write adds that are no User this client provisioned, or whose person is no longer
 * bound. Members already stored are not checked again: a User the directory deleted since must not
 * lock the group against every later write (such a member asks for nothing: groupEntitlements.ts).
 */
async function unknownMembers(tx: ReadTx, p: ScimPrincipal, group: ScimGroup, stored: readonly string[]): Promise<string[]> {
  const unknown: string[] = [];
  for (const member of group.members) {
    if (stored.includes(member)) continue;
    const row = await tx.scimUsers.get(p.organisationId, member);
    const identity = row && row.clientId === p.clientId ? await tx.identities.get(row.identityId) : undefined;
    if (!identity || identity.bindingState !== 'active') unknown.push(member);
  }
  return unknown;
}

function roleOf(table: GroupRoleTable, group: ScimGroup): string {
  return roleForGroup(table, group.displayName) ?? 'none';
}

/** `tableInForce`: read once per write, so a write's before and after use one table. */
export function scimGroupDirectory(deps: CoreDeps, tableInForce: () => GroupRoleTable): ScimGroupDirectory {
  const actor = PROVISIONING_ACTOR;
  return {
    async get(p: ScimPrincipal, id: string): Promise<Stored<ScimGroup> | null> {
      const row = await deps.store.read((tx) => tx.scimGroups.get(p.organisationId, id));
      return row ? storedGroupOf(row) : null;
    },

    async list(p: ScimPrincipal, q: ListQuery): Promise<ListResult<ScimGroup>> {
      const keys = q.filter ? lookupKeys(q.filter) : null;
      const rows = await deps.store.read((tx) =>
        tx.scimGroups.find(p.organisationId, {
          ...(keys?.id !== undefined ? { id: keys.id } : {}),
          ...(keys?.displayName !== undefined ? { displayNameKey: keys.displayName.trim().toLowerCase() } : {}),
          ...(keys?.externalId !== undefined ? { externalId: keys.externalId } : {}),
        }),
      );
      const filter = q.filter;
      const all = rows
        .map(storedGroupOf)
        .filter((s) => filter === null || matchesFilter('Group', filter, { id: s.id, ...groupToJson(s.resource), meta: { created: s.created, lastModified: s.lastModified } }));
      return { totalResults: all.length, resources: all.slice(q.startIndex - 1, q.startIndex - 1 + q.count) };
    },

    async create(p: ScimPrincipal, group: ScimGroup): Promise<WriteResult<ScimGroup>> {
      return settle(
        deps.store.write(async (tx: WriteTx): Promise<WriteResult<ScimGroup>> => {
          await tx.scimGroups.lockOrganisation(p.organisationId);
          const table = tableInForce();
          const attribute = await clash(tx, p.organisationId, group, null);
          if (attribute) return { kind: 'conflict', attribute };
          const unknown = await unknownMembers(tx, p, group, []);
          if (unknown.length > 0) return { kind: 'unknown-members', ids: unknown };
          const at = deps.clock.now().toISOString();
          const row: ScimGroupRecord = {
            id: randomUUID(),
            organisationId: p.organisationId,
            clientId: p.clientId,
            displayNameKey: group.displayName.trim().toLowerCase(),
            externalId: group.externalId,
            version: 1,
            createdAt: at,
            lastModified: at,
            resource: JSON.stringify(groupToJson(group)),
          };
          const before = await entitlementsOf(tx, p.organisationId, table);
          await tx.scimGroups.insert(row);
          const after = await entitlementsOf(tx, p.organisationId, table);
          const effects = await applyEntitlementChange(deps, tx, actor, p.organisationId, { kind: 'group-write', clientId: p.clientId, group: { id: row.id, displayName: group.displayName } }, before, after);
          await recordEvent(deps, tx, 'scim.group-created', actor, null, {
            clientId: p.clientId,
            client: p.label,
            scimGroupId: row.id,
            displayName: group.displayName,
            role: roleOf(table, group),
            members: group.members.length,
            asked: effects.asked,
            clause: 'RFC 7644 §3.3; NSIS 5.2 (Substantial) 8',
          });
          kickAfterCommit(deps, tx);
          return { kind: 'ok', stored: storedGroupOf(row) };
        }),
      );
    },

    async replace(p: ScimPrincipal, id: string, group: ScimGroup, expectedVersion: number): Promise<WriteResult<ScimGroup>> {
      return settle(
        deps.store.write(async (tx: WriteTx): Promise<WriteResult<ScimGroup>> => {
          await tx.scimGroups.lockOrganisation(p.organisationId);
          const table = tableInForce();
          const row = await tx.scimGroups.get(p.organisationId, id);
          if (!row) return { kind: 'not-found' };
          if (row.version !== expectedVersion) return { kind: 'version-mismatch' };
          const attribute = await clash(tx, p.organisationId, group, id);
          if (attribute) return { kind: 'conflict', attribute };
          const unknown = await unknownMembers(tx, p, group, storedGroupOf(row).resource.members);
          if (unknown.length > 0) return { kind: 'unknown-members', ids: unknown };
          const before = await entitlementsOf(tx, p.organisationId, table);
          const at = deps.clock.now().toISOString();
          const next = { displayNameKey: group.displayName.trim().toLowerCase(), externalId: group.externalId, resource: JSON.stringify(groupToJson(group)), lastModified: at };
          if (!(await tx.scimGroups.replace(id, expectedVersion, next))) throw new Outcome({ kind: 'version-mismatch' });
          const after = await entitlementsOf(tx, p.organisationId, table);
          const effects = await applyEntitlementChange(deps, tx, actor, p.organisationId, { kind: 'group-write', clientId: p.clientId, group: { id, displayName: group.displayName } }, before, after);
          await recordEvent(deps, tx, 'scim.group-replaced', actor, null, {
            clientId: p.clientId,
            scimGroupId: id,
            displayName: group.displayName,
            role: roleOf(table, group),
            version: expectedVersion + 1,
            members: group.members.length,
            asked: effects.asked,
            revoked: effects.revoked,
            clause: 'RFC 7644 §3.5; NSIS 4.1.5 (Substantial) 7',
          });
          kickAfterCommit(deps, tx);
          return { kind: 'ok', stored: { id, version: expectedVersion + 1, created: row.createdAt, lastModified: at, resource: group } };
        }),
      );
    },

    async delete(p: ScimPrincipal, id: string, expectedVersion: number | null): Promise<DeleteResult> {
      return deps.store.write(async (tx): Promise<DeleteResult> => {
        await tx.scimGroups.lockOrganisation(p.organisationId);
        const table = tableInForce();
        const row = await tx.scimGroups.get(p.organisationId, id);
        if (!row) return { kind: 'not-found' };
        if (expectedVersion !== null && row.version !== expectedVersion) return { kind: 'version-mismatch' };
        const before = await entitlementsOf(tx, p.organisationId, table);
        if (!(await tx.scimGroups.remove(id, row.version))) return { kind: 'version-mismatch' };
        const after = await entitlementsOf(tx, p.organisationId, table);
        const group = storedGroupOf(row).resource;
        const effects = await applyEntitlementChange(deps, tx, actor, p.organisationId, { kind: 'group-write', clientId: p.clientId, group: { id, displayName: group.displayName } }, before, after);
        await recordEvent(deps, tx, 'scim.group-deleted', actor, null, {
          clientId: p.clientId,
          scimGroupId: id,
          displayName: group.displayName,
          revoked: effects.revoked,
          clause: 'RFC 7644 §3.6; NSIS 4.1.5 (Substantial) 7',
        });
        kickAfterCommit(deps, tx);
        return { kind: 'deleted' };
      });
    },
  };
}
