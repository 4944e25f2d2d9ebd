/**
 * The discovery resources (RFC 7644 §4; RFC 7643 §5, §6, §7), rendered from the schema table so
 * they cannot drift from what the router accepts. Only the attributes the gateway keeps are
 * listed (Microsoft Learn: property values camel-cased, no null values, list responses).
 */
import {
  SCHEMA_RESOURCE_TYPE,
  SCHEMA_SCHEMA,
  SCHEMA_SERVICE_PROVIDER_CONFIG,
  SCIM_LIST_RESPONSE,
} from './constants.js';
import type { Json } from './canonicalise.js';
import { type AttributeDef, COMMON_ATTRIBUTES, ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, type ResourceKind, RESOURCE_SCHEMAS, type SchemaDef, USER_SCHEMA } from './schemaTable.js';

export interface DiscoveryOptions {
  baseUrl: string;
  /** Whether /Groups is served (a group-to-role table is configured). */
  groups: boolean;
  maxResults: number;
  maxOperations: number;
  maxPayloadBytes: number;
  documentationUri?: string;
}

export function serviceProviderConfig(o: DiscoveryOptions): Json {
  return {
    schemas: [SCHEMA_SERVICE_PROVIDER_CONFIG],
    ...(o.documentationUri ? { documentationUri: o.documentationUri } : {}),
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: o.maxResults },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: true },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'OAuth Bearer Token',
        description: 'A token issued by an organisation administrator for this provisioning client (RFC 6750).',
        specUri: 'https://www.rfc-editor.org/rfc/rfc6750',
        primary: true,
      },
    ],
    meta: { resourceType: 'ServiceProviderConfig', location: `${o.baseUrl}/ServiceProviderConfig` },
  };
}

function resourceType(kind: ResourceKind, baseUrl: string): Json {
  const { core, extensions } = RESOURCE_SCHEMAS[kind];
  return {
    schemas: [SCHEMA_RESOURCE_TYPE],
    id: kind,
    name: kind,
    endpoint: `/${kind}s`,
    description: core.description,
    schema: core.id,
    schemaExtensions: extensions.map((e) => ({ schema: e.id, required: false })),
    meta: { resourceType: 'ResourceType', location: `${baseUrl}/ResourceTypes/${kind}` },
  };
}

export function resourceTypes(o: DiscoveryOptions): Json[] {
  const kinds: ResourceKind[] = o.groups ? ['User', 'Group'] : ['User'];
  return kinds.map((k) => resourceType(k, o.baseUrl));
}

function renderAttribute(a: AttributeDef): Json {
  const subs = a.subAttributes?.filter((s) => s.kept);
  return {
    name: a.name,
    type: a.type,
    multiValued: a.multiValued,
    description: a.description,
    required: a.required,
    ...(a.type === 'string' || a.type === 'reference' ? { caseExact: a.caseExact } : {}),
    mutability: a.mutability,
    returned: a.returned,
    uniqueness: a.uniqueness,
    ...(a.canonicalValues ? { canonicalValues: a.canonicalValues } : {}),
    ...(a.referenceTypes ? { referenceTypes: a.referenceTypes } : {}),
    ...(subs && subs.length > 0 ? { subAttributes: subs.map(renderAttribute) } : {}),
  };
}

function renderSchema(s: SchemaDef, baseUrl: string): Json {
  // RFC 7643 §7: common attributes (id, externalId, meta) are not part of a schema's list.
  const common = new Set(COMMON_ATTRIBUTES.map((a) => a.name));
  return {
    schemas: [SCHEMA_SCHEMA],
    id: s.id,
    name: s.name,
    description: s.description,
    attributes: s.attributes.filter((a) => a.kept && !common.has(a.name)).map(renderAttribute),
    meta: { resourceType: 'Schema', location: `${baseUrl}/Schemas/${s.id}` },
  };
}

export function schemas(o: DiscoveryOptions): Json[] {
  const list = o.groups ? [USER_SCHEMA, ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA] : [USER_SCHEMA, ENTERPRISE_USER_SCHEMA];
  return list.map((s) => renderSchema(s, o.baseUrl));
}

export function listResponse(resources: Json[], totalResults: number, startIndex: number): Json {
  return { schemas: [SCIM_LIST_RESPONSE], totalResults, startIndex, itemsPerPage: resources.length, Resources: resources };
}
