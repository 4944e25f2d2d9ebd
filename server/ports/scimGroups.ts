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
}
export interface ScimGroupRepo extends ScimGroupReader {
  /** displayName (as displayNameKey) or externalId taken in the organisation: StoreConflict. */
  insert(r: ScimGroupRecord): Promise<void>;
  /**
   * Compare-and-set: true only when the row still has `expectedVersion`; it then has
   * `expectedVersion + 1`. A uniqueness clash is a StoreConflict (the transaction stays usable).
   */
  replace(id: string, expectedVersion: number, next: Pick<ScimGroupRecord, 'displayNameKey' | 'externalId' | 'resource' | 'lastModified'>): Promise<boolean>;
  /** Compare-and-set (any version when null): true only for the one caller that removed it. */
  remove(id: string, expectedVersion: number | null): Promise<boolean>;
}
