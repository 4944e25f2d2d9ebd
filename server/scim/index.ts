/**
 * server/scim: the SCIM 2.0 service provider (RFC 7643, RFC 7644) through which the
 * organisation's directory (Entra ID, AD via a provisioning agent, an HR system) binds, changes,
 * suspends and ends people (NSIS 5.2, 3.2.3). Protocol only, over its ports (ports.ts); part 2 of
 * issue 18 implements the ports over the core.
 */
export * from './constants.js';
export { SCIM_TYPES, type ScimType, ScimError, isScimError, scimErrorBody } from './errors.js';
export {
  type AttributeDef,
  type SchemaDef,
  type ResourceKind,
  USER_SCHEMA,
  ENTERPRISE_USER_SCHEMA,
  GROUP_SCHEMA,
  COMMON_ATTRIBUTES,
  resolveAttribute,
} from './schemaTable.js';
export { type Filter, type AttrRef, type CompareOp, type FilterValue, type FilterLimits, type PatchPath, DEFAULT_FILTER_LIMITS, parseFilter, parsePatchPath } from './filter.js';
export { type LookupKeys, matchesFilter, lookupKeys } from './evaluateFilter.js';
export { type Json, type ResourceLimits, DEFAULT_RESOURCE_LIMITS, canonicaliseResource } from './canonicalise.js';
export {
  type ScimUser,
  type ScimName,
  type ScimEmail,
  type ScimGroup,
  type Stored,
  userFromJson,
  userToJson,
  groupFromJson,
  groupToJson,
  renderUser,
  renderGroup,
  etagOf,
} from './model.js';
export { type PatchOperation, type PatchOpName, type PatchLimits, DEFAULT_PATCH_LIMITS, parsePatchRequest, applyPatch } from './patch.js';
export {
  type ProvisioningSource,
  type IdentityFields,
  type IdentityChange,
  provisioningSourceSchema,
  identityFieldsOf,
  identityChange,
  fullNameOf,
  contactEmailOf,
} from './mapping.js';
export { type MappedRole, type GroupRoleRule, type GroupRoleTable, MAPPED_ROLES, groupRoleTableSchema, parseGroupRoleTable, roleForGroup } from './groupRoles.js';
export type {
  ScimPrincipal,
  TokenRefusal,
  TokenCheck,
  ScimTokenVerifier,
  ListQuery,
  ListResult,
  WriteResult,
  DeleteResult,
  ScimResourceDirectory,
  ScimUserDirectory,
  ScimGroupDirectory,
  ScimRefusal,
  ScimAuditSink,
} from './ports.js';
export { type IssuedScimToken, type StoredScimToken, SCIM_TOKEN_PREFIX, issueScimToken, parseScimToken, hashScimSecret, createTokenVerifier } from './tokens.js';
export { type ScimHttpLimits, DEFAULT_SCIM_HTTP_LIMITS } from './scimHttp.js';
export { type ScimRouterOptions, createScimRouter } from './router.js';
export { SCIM_CONFIG_KEYS, type ScimConfig, loadScimConfig } from './config.js';
