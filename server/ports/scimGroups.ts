/**
 * The store port's repository of SCIM Groups (issue 18: directory groups mapped to gateway roles).
 * Writes are compare-and-set on the version (RFC 7644 §3.14), atomic across processes and
 * instances; displayName (without case) and externalId (with case) are unique per organisation.
 */
import type { ScimGroupLookup, ScimGroupRecord } from '../domain/provisioning.js';

export interface ScimGroupReader {
  get(organisationId: string, id: string): Promise<ScimGroupRecord | undefined>;
  /** The organisation's Groups matching every given key, oldest first. */
  find(organisationId: string, lookup: ScimGroupLookup): Promise<ScimGroupRecord[]>;
  /** The organisations that have any SCIM Group, by id. */
  organisations(): Promise<string[]>;
  /** The group-role table the groups were last reconciled with (as recorded), or undefined before the first. */
  appliedRoleTable(): Promise<string | undefined>;
}
export interface ScimGroupRepo extends ScimGroupReader {
  /** displayName (as displayNameKey) or externalId taken in the organisation: StoreConflict. */
  insert(r: ScimGroupRecord): Promise<void>;
  /**
   * Compare-and-set: true only when the row still has `expectedVersion`; it then has
   * `expectedVersion + 1`. A uniqueness clash is a StoreConflict (the transaction stays usable).
   */
  replace(id: string, expectedVersion: number, next: Pick<ScimGroupRecord, 'displayNameKey' | 'externalId' | 'resource' | 'lastModified'>): Promise<boolean>;
  /**
   * Serialises the organisation's group writes until the transaction ends (SQLite: the write
   * lock; PostgreSQL: a lock on the organisation). A group write decides from ALL the
   * organisation's groups whether a person still has a group asking for a role; without the lock
   * two writes removing the same person from two groups could each see the other group still
   * asking, and neither withdraw the role (write skew under READ COMMITTED).
   */
  lockOrganisation(organisationId: string): Promise<void>;
  /**
   * Compare-and-set: records `rules` as the applied group-role table only while the recorded one is
   * still `expected` (undefined: none recorded yet); false when another caller changed it first.
   */
  setAppliedRoleTable(expected: string | undefined, rules: string, at: string): Promise<boolean>;
  /** Compare-and-set (any version when null): true only for the one caller that removed it. */
  remove(id: string, expectedVersion: number | null): Promise<boolean>;
}
