/**
 * The store port's repositories for inbound provisioning (issue 18): provisioning clients and
 * their tokens, and the SCIM Users they manage. Compare-and-set methods say so and are atomic
 * across processes and instances.
 */
import type { ProvisioningClient, ProvisioningToken, ScimUserLookup, ScimUserRecord } from '../domain/provisioning.js';

export interface ProvisioningReader {
  client(id: string): Promise<ProvisioningClient | undefined>;
  /** Oldest first. */
  clients(organisationId: string): Promise<ProvisioningClient[]>;
  token(tokenId: string): Promise<ProvisioningToken | undefined>;
  /** Oldest first. */
  tokensOf(clientId: string): Promise<ProvisioningToken[]>;
}
export interface ProvisioningRepo extends ProvisioningReader {
  /** A client id used already is refused (StoreConflict). */
  insertClient(c: ProvisioningClient): Promise<void>;
  insertToken(t: ProvisioningToken): Promise<void>;
  /** Guarded: true only for the caller that revoked a token not yet revoked. */
  revokeToken(tokenId: string, at: string): Promise<boolean>;
}

export interface ScimUserReader {
  get(organisationId: string, id: string): Promise<ScimUserRecord | undefined>;
  byIdentity(identityId: string): Promise<ScimUserRecord | undefined>;
  /** The organisation's Users matching every given key, oldest first. */
  find(organisationId: string, lookup: ScimUserLookup): Promise<ScimUserRecord[]>;
  /** How many Users each client of the organisation manages. */
  countByClient(organisationId: string): Promise<Record<string, number>>;
}
export interface ScimUserRepo extends ScimUserReader {
  /** userName (as userNameKey) or externalId taken in the organisation: StoreConflict. */
  insert(r: ScimUserRecord): Promise<void>;
  /**
   * Compare-and-set: true only when the row still has `expectedVersion`; it then has
   * `expectedVersion + 1`. A uniqueness clash is a StoreConflict.
   */
  replace(id: string, expectedVersion: number, next: Pick<ScimUserRecord, 'userNameKey' | 'externalId' | 'resource' | 'lastModified'>): Promise<boolean>;
  /** Compare-and-set (any version when null): true only for the one caller that removed it. */
  remove(id: string, expectedVersion: number | null): Promise<boolean>;
}
