/**
 * The ports the SCIM service provider needs from its caller: interfaces only. Part 2 of issue 18
 * implements them over the core (identities, roles, audit, outbox); the tests implement them in
 * memory.
 *
 * Every call carries the authenticated provisioning client (`ScimPrincipal`): the implementation
 * scopes to its organisation and records it as the actor (a provisioning client is an actor of its
 * own kind for separation of duties).
 */
import type { ScimType } from './errors.js';
import type { Filter } from './filter.js';
import type { ProvisioningSource } from './mapping.js';
import type { ScimGroup, ScimUser, Stored } from './model.js';

/** A provisioning client (e.g. the organisation's Entra ID tenant), as its token identifies it. */
export interface ScimPrincipal {
  clientId: string;
  organisationId: string;
  /** Shown to admins and in the audit trail, e.g. "Entra ID (HR sync)". */
  label: string;
  /** The identity assurance the organisation declared for people from this client. */
  source: ProvisioningSource;
}

export type TokenRefusal = 'malformed' | 'unknown' | 'mismatch' | 'revoked' | 'expired';

export type TokenCheck = { ok: true; principal: ScimPrincipal } | { ok: false; reason: TokenRefusal };

/** Checks a presented bearer token (tokens.ts has the format and a verifier over a lookup). */
export interface ScimTokenVerifier {
  verify(presented: string): Promise<TokenCheck>;
}

export interface ListQuery {
  /** Parsed filter, or null for all. */
  filter: Filter | null;
  /** 1-based index of the first result (RFC 7644 §3.4.2.4). */
  startIndex: number;
  /** Most results to return; 0 asks for the total only. */
  count: number;
}

export interface ListResult<T> {
  totalResults: number;
  resources: Stored<T>[];
}

/** The outcome of a write; a refusal outside these the implementation throws as a ScimError. */
export type WriteResult<T> =
  | { kind: 'ok'; stored: Stored<T> }
  | { kind: 'not-found' }
  /** Compare-and-set failed: the stored version is not the expected one (-> 412 or a retry). */
  | { kind: 'version-mismatch' }
  /** A uniqueness rule (userName, externalId, displayName) -> 409 uniqueness. */
  | { kind: 'conflict'; attribute: string }
  /** Group members that are no User of this client -> 400 invalidValue. */
  | { kind: 'unknown-members'; ids: string[] };

export type DeleteResult = { kind: 'deleted' } | { kind: 'not-found' } | { kind: 'version-mismatch' };

/**
 * The directory of one resource type. Writes are compare-and-set on `version`, atomically with
 * their effects (CONVENTIONS: single use and compare-and-set are repository methods that say so).
 *
 * Users: `replace` with `active: false` is the soft delete (suspend the person's keys, NSIS 3.2.3);
 * `delete` ends the binding (NSIS 5.2 (Low) 3); mapping.ts `identityChange` says which effects a
 * replace has. Groups: a member asks for the role the group maps to (groupRoles.ts); the gateway
 * grants it only when an org-admin asks and a second approves, and withdraws it at once when no
 * group asks any more (server/flows/provisioning/groupEntitlements.ts).
 */
export interface ScimResourceDirectory<T> {
  get(principal: ScimPrincipal, id: string): Promise<Stored<T> | null>;
  list(principal: ScimPrincipal, query: ListQuery): Promise<ListResult<T>>;
  create(principal: ScimPrincipal, resource: T): Promise<WriteResult<T>>;
  replace(principal: ScimPrincipal, id: string, resource: T, expectedVersion: number): Promise<WriteResult<T>>;
  /** `expectedVersion` null: no If-Match was sent. */
  delete(principal: ScimPrincipal, id: string, expectedVersion: number | null): Promise<DeleteResult>;
}

export type ScimUserDirectory = ScimResourceDirectory<ScimUser>;
export type ScimGroupDirectory = ScimResourceDirectory<ScimGroup>;

/** A refused SCIM request, for the audit trail (never a token; the path without its query). */
export interface ScimRefusal {
  clientId: string | null;
  method: string;
  path: string;
  status: number;
  scimType: ScimType | null;
  detail: string;
  /** Why a token was refused (the client only ever learns "401"). */
  tokenRefusal?: TokenRefusal;
}

export interface ScimAuditSink {
  /**
   * Records a refusal. The answer waits for it, so a refusal is in the audit trail before the
   * client learns of it; a sink that cannot record logs that and resolves (never rejects).
   */
  refused(event: ScimRefusal): Promise<void>;
}
