/**
 * The table of directory groups to roles IN FORCE in this process (issue 18): what every request
 * reads (the SCIM Groups router and its writes, the org-admin's list of directory requests). It
 * starts as the file read at start, and changes only after a reconciliation recorded a new table
 * (reconcileGroupRoles.ts): in the process that reconciled, at once; in its sibling workers when
 * told (they take the table the store recorded), so no process serves a table the store has not
 * applied.
 */
import { ConfigError } from '../../configValues.js';
import type { Store } from '../../ports/store.js';
import { type GroupRoleTable, parseGroupRoleTable } from '../../scim/groupRoles.js';
import { canonicalRoleTable } from './reconcileGroupRoles.js';

export class GroupRoleTableInForce {
  #table: GroupRoleTable;
  #canonical: string;

  constructor(table: GroupRoleTable) {
    this.#table = table;
    this.#canonical = canonicalRoleTable(table);
  }

  current(): GroupRoleTable {
    return this.#table;
  }

  /** Puts `table` in force; false when it already was (the same rows in any order). */
  set(table: GroupRoleTable): boolean {
    const canonical = canonicalRoleTable(table);
    if (canonical === this.#canonical) return false;
    this.#table = table;
    this.#canonical = canonical;
    return true;
  }

  /** A sibling reconciled: the table the store recorded goes in force (none recorded: unchanged). */
  async refresh(store: Store): Promise<boolean> {
    const recorded = await readRecorded(store);
    return recorded === undefined ? false : this.set(recorded);
  }
}

/** The table the last reconciliation recorded in the store, if any. */
async function readRecorded(store: Store): Promise<GroupRoleTable | undefined> {
  const recorded = await store.read((tx) => tx.scimGroups.appliedRoleTable());
  return recorded === undefined ? undefined : parseGroupRoleTable(JSON.parse(recorded) as unknown);
}

/**
 * The table the store recorded at the last reconciliation: what a cluster worker starts with when
 * its file cannot be used (config.scim.groupRolesRefused, the reason given). Its siblings serve
 * that table, so the replacement serves what they do and reconciles nothing away. Nothing recorded
 * (no process ever applied a table): the start fails on the file, as a gateway's own start does.
 */
export async function recordedGroupRoleTable(store: Store, refused: string): Promise<GroupRoleTable> {
  const recorded = await readRecorded(store);
  if (recorded === undefined) throw new ConfigError('GATEWAY_SCIM_GROUP_ROLES_FILE', `${refused} (and no table is recorded for this worker to start with)`);
  return recorded;
}
