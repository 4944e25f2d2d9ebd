/**
 * Records of inbound provisioning (issue 18): the organisation's directories that bind people by
 * SCIM (provisioning clients, their bearer tokens) and the SCIM view of each person they manage.
 * No I/O.
 */
import type { AssuranceLevel } from './types.js';

/** A directory (Entra ID, AD through an agent, an HR system) an org-admin registered. */
export interface ProvisioningClient {
  id: string;
  organisationId: string;
  label: string;
  /** NSIS 3.1: the identity assurance the organisation declares for people from this source. */
  ial: AssuranceLevel;
  /** How the source's people were proofed (recorded with each identity it binds). */
  proofingMethod: string;
  createdBy: string | null;
  createdAt: string;
}

/** One bearer token of a client: only the keyed hash of its secret is kept. */
export interface ProvisioningToken {
  tokenId: string;
  clientId: string;
  secretHash: string;
  createdBy: string | null;
  createdAt: string;
  notAfter: string | null;
  revokedAt: string | null;
}

/** The SCIM User resource of a bound person (RFC 7643 §4.1), with its version for ETags. */
export interface ScimUserRecord {
  id: string;
  organisationId: string;
  /** The provisioning client that created it. */
  clientId: string;
  identityId: string;
  /** userName lower-cased: unique per organisation (RFC 7643 §4.1.1: not case-exact). */
  userNameKey: string;
  /** Unique per organisation, case-exact. */
  externalId: string | null;
  version: number;
  createdAt: string;
  lastModified: string;
  /** The resource as JSON (userToJson of server/scim/model.ts). */
  resource: string;
}

/** Lookup keys a list may use (an indexed equality); none: every resource of the organisation. */
export interface ScimUserLookup {
  id?: string;
  userNameKey?: string;
  externalId?: string;
}

/**
 * A SCIM Group the organisation's directory manages (RFC 7643 §4.2): only a group whose displayName
 * the organisation mapped to a gateway role (GATEWAY_SCIM_GROUP_ROLES_FILE) is ever stored.
 */
export interface ScimGroupRecord {
  id: string;
  organisationId: string;
  /** The provisioning client that created it. */
  clientId: string;
  /** displayName lower-cased: unique per organisation (RFC 7643 §4.2: not case-exact). */
  displayNameKey: string;
  /** Unique per organisation, case-exact. */
  externalId: string | null;
  version: number;
  createdAt: string;
  lastModified: string;
  /** The resource as JSON (groupToJson of server/scim/model.ts), members included. */
  resource: string;
}

export interface ScimGroupLookup {
  id?: string;
  displayNameKey?: string;
  externalId?: string;
}
