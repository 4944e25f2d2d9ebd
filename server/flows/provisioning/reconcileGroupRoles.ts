/**
 * The organisation's table of directory groups to roles (GATEWAY_SCIM_GROUP_ROLES_FILE) as read at
 * start or when the file changed (groupRoleFileWatcher.ts), against the one the SCIM Groups were
 * last reconciled with (issue 18). A row removed (or
 * mapped to another role) stops asking for its role: every person who holds a role that only such
 * a row asked for loses it at once, audited (`role.revoked`, via the directory, cause
 * `role-table`) with the person and the org-admins told, exactly as when the directory takes them
 * out of the group (groupEntitlements.ts: NSIS 4.1.5 (Substantial) 7, role-revoke is protective
 * and immediate). A row added asks for its role (`scim.group-role-asked`); it grants nothing (NSIS
 * 5.2 (Substantial) 8). The table itself is recorded with the change (`scim.group-roles-changed`).
 *
 * Once across instances: ONE write holds every organisation's group lock (the lock of the group
 * writes), reads the recorded table again under them, applies, and records the new table by
 * compare-and-set; an instance that comes second finds the table recorded and does nothing, and
 * one that loses the compare-and-set (no organisation has groups yet, so no lock was taken) rolls
 * back whole. The first start with a table records it as the baseline: what a table before it
 * asked for is not known, so nothing is withdrawn then.
 */
import { SYSTEM_ACTOR } from '../../domain/types.js';
import type { WriteTx } from '../../ports/store.js';
import { type GroupRoleTable, parseGroupRoleTable } from '../../scim/groupRoles.js';
import type { CoreDeps } from '../deps.js';
import { kickAfterCommit, recordEvent } from '../shared/audit.js';
import { applyEntitlementChange, entitlementsOf } from './groupEntitlements.js';

export interface GroupRoleReconciliation {
  /** False when the recorded table already was this one (or another instance recorded it first). */
  changed: boolean;
  /** The first table recorded: nothing compared, nothing withdrawn. */
  baseline: boolean;
  asked: number;
  revoked: number;
}

const UNCHANGED: GroupRoleReconciliation = { changed: false, baseline: false, asked: 0, revoked: 0 };

/** The table as recorded: rows by lower-cased displayName, so a reordered file is the same table. */
export function canonicalRoleTable(table: GroupRoleTable): string {
  const rows = [...table].map((r) => ({ displayName: r.displayName, role: r.role }));
  rows.sort((a, b) => (a.displayName.toLowerCase() < b.displayName.toLowerCase() ? -1 : a.displayName.toLowerCase() > b.displayName.toLowerCase() ? 1 : 0));
  return JSON.stringify(rows);
}

/** Thrown inside the write to roll it back: another instance recorded a table first. */
class RecordedElsewhere extends Error {}

async function apply(deps: CoreDeps, tx: WriteTx, table: GroupRoleTable, rules: string): Promise<GroupRoleReconciliation> {
  // The group writes' lock of every organisation with groups, in one order (no deadlock between two starts).
  const organisations = await tx.scimGroups.organisations();
  for (const organisationId of organisations) await tx.scimGroups.lockOrganisation(organisationId);
  const recorded = await tx.scimGroups.appliedRoleTable();
  if (recorded === rules) return UNCHANGED;
  const previous = recorded === undefined ? undefined : parseGroupRoleTable(JSON.parse(recorded) as unknown);
  let asked = 0;
  let revoked = 0;
  if (previous !== undefined) {
    for (const organisationId of organisations) {
      const before = await entitlementsOf(tx, organisationId, previous);
      const after = await entitlementsOf(tx, organisationId, table);
      const effects = await applyEntitlementChange(deps, tx, SYSTEM_ACTOR, organisationId, { kind: 'role-table' }, before, after);
      asked += effects.asked;
      revoked += effects.revoked;
    }
  }
  const at = deps.clock.now().toISOString();
  if (!(await tx.scimGroups.setAppliedRoleTable(recorded, rules, at))) throw new RecordedElsewhere();
  await recordEvent(deps, tx, 'scim.group-roles-changed', SYSTEM_ACTOR, null, {
    before: previous === undefined ? null : previous.map((r) => ({ displayName: r.displayName, role: r.role })),
    after: table.map((r) => ({ displayName: r.displayName, role: r.role })),
    baseline: previous === undefined,
    asked,
    revoked,
    clause: 'NSIS 4.1.5 (Substantial) 7; 5.2 (Substantial) 8',
  });
  kickAfterCommit(deps, tx);
  return { changed: true, baseline: previous === undefined, asked, revoked };
}

/** At start (every instance) and after a change of the file (one process per instance): see the module comment. */
export async function reconcileGroupRoles(deps: CoreDeps, table: GroupRoleTable): Promise<GroupRoleReconciliation> {
  const rules = canonicalRoleTable(table);
  const recorded = await deps.store.read((tx) => tx.scimGroups.appliedRoleTable());
  // Nothing to do: the same table, or no table now and none ever recorded (SCIM Groups never used).
  if (recorded === rules || (recorded === undefined && table.length === 0)) return UNCHANGED;
  try {
    const result = await deps.store.write((tx) => apply(deps, tx, table, rules));
    if (result.changed) deps.log.info({ event: 'scim.group-roles-changed', baseline: result.baseline, asked: result.asked, revoked: result.revoked }, 'directory group-role table reconciled');
    return result;
  } catch (err) {
    if (err instanceof RecordedElsewhere) return UNCHANGED;
    throw err;
  }
}
