/**
 * The attributes this service provider understands, as ONE table (RFC 7643 §2.2 characteristics,
 * §4.1, §4.2, §4.3, §8.7.1). The same rows serve /Schemas, the case-insensitive name lookup of
 * filters, PATCH paths and bodies (RFC 7643 §2.1: attribute names are case-insensitive), and the
 * case sensitivity of comparisons (caseExact).
 *
 * `kept: false` marks an attribute of the standard schemas that a client may send (Entra's default
 * mappings send several) but that the gateway does not store: it is accepted and ignored (RFC 7644
 * §3.3: the service provider may ignore POSTed content), never listed in /Schemas, and not
 * filterable. Anything in no row is refused as unknown.
 */
import { SCHEMA_ENTERPRISE_USER, SCHEMA_GROUP, SCHEMA_USER } from './constants.js';

export type AttributeType = 'string' | 'boolean' | 'complex' | 'reference' | 'dateTime';
export type Mutability = 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';

export interface AttributeDef {
  readonly name: string;
  readonly type: AttributeType;
  readonly multiValued: boolean;
  readonly description: string;
  readonly required: boolean;
  readonly caseExact: boolean;
  readonly mutability: Mutability;
  readonly returned: 'always' | 'never' | 'default' | 'request';
  readonly uniqueness: 'none' | 'server' | 'global';
  readonly kept: boolean;
  readonly subAttributes?: readonly AttributeDef[];
  readonly canonicalValues?: readonly string[];
  readonly referenceTypes?: readonly string[];
}

export interface SchemaDef {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly attributes: readonly AttributeDef[];
}

type Opt = Partial<Omit<AttributeDef, 'name' | 'type' | 'description'>>;

function attr(name: string, type: AttributeType, description: string, opt: Opt = {}): AttributeDef {
  return {
    name,
    type,
    description,
    multiValued: false,
    required: false,
    caseExact: false,
    mutability: 'readWrite',
    returned: 'default',
    uniqueness: 'none',
    kept: true,
    ...opt,
  };
}

/** Accepted, ignored (not stored). */
const ignored = (name: string, type: AttributeType = 'string', multiValued = false): AttributeDef =>
  attr(name, type, 'Accepted and ignored by this service provider.', { kept: false, multiValued });

export const USER_SCHEMA: SchemaDef = {
  id: SCHEMA_USER,
  name: 'User',
  description: 'A person bound to the organisation (NSIS 5.2); each becomes an identity of the gateway.',
  attributes: [
    attr('userName', 'string', 'Unique identifier of the person at the provisioning client, e.g. the user principal name. REQUIRED.', {
      required: true,
      uniqueness: 'server',
    }),
    attr('name', 'complex', "The person's name; the gateway keeps formatted, givenName, middleName and familyName.", {
      subAttributes: [
        attr('formatted', 'string', 'The full name, as displayed.'),
        attr('familyName', 'string', 'The family name.'),
        attr('givenName', 'string', 'The given name.'),
        attr('middleName', 'string', 'The middle name(s).'),
        ignored('honorificPrefix'),
        ignored('honorificSuffix'),
      ],
    }),
    attr('displayName', 'string', 'The name shown to the person and to staff.'),
    attr('active', 'boolean', "false suspends every key of the person (NSIS 3.2.3); true lifts that suspension."),
    attr('emails', 'complex', 'Email addresses; the work address is the contact address for notifications.', {
      multiValued: true,
      subAttributes: [
        attr('value', 'string', 'The email address.'),
        attr('type', 'string', 'work, home or other.', { canonicalValues: ['work', 'home', 'other'] }),
        attr('primary', 'boolean', 'The preferred address; at most one is primary.'),
        ignored('display'),
      ],
    }),
    // RFC 7643 §4.1.2 writeOnly password: refused, not ignored (see model.ts): the gateway holds none.
    ignored('nickName'),
    ignored('profileUrl', 'reference'),
    ignored('title'),
    ignored('userType'),
    attr('preferredLanguage', 'string', "The person's preferred language (Accept-Language syntax, e.g. da-DK); the first the gateway has (da, en) is the language of their mails (issue 16)."),
    attr('locale', 'string', 'A language tag (e.g. da-DK); used for the language of their mails when preferredLanguage names none the gateway has.'),
    ignored('timezone'),
    ignored('phoneNumbers', 'complex', true),
    ignored('ims', 'complex', true),
    ignored('photos', 'complex', true),
    ignored('addresses', 'complex', true),
    ignored('entitlements', 'complex', true),
    ignored('roles', 'complex', true),
    ignored('x509Certificates', 'complex', true),
    // readOnly at the service provider (RFC 7643 §4.1.2): membership is managed through /Groups.
    attr('groups', 'complex', 'Groups the person belongs to (read only).', { multiValued: true, mutability: 'readOnly', kept: false }),
  ],
};

export const ENTERPRISE_USER_SCHEMA: SchemaDef = {
  id: SCHEMA_ENTERPRISE_USER,
  name: 'EnterpriseUser',
  description: 'Enterprise User extension (RFC 7643 §4.3); the gateway keeps employeeNumber.',
  attributes: [
    attr('employeeNumber', 'string', 'Identifier assigned by the organisation, e.g. the HR number.'),
    ignored('costCenter'),
    ignored('organization'),
    ignored('division'),
    ignored('department'),
    ignored('manager', 'complex'),
  ],
};

export const GROUP_SCHEMA: SchemaDef = {
  id: SCHEMA_GROUP,
  name: 'Group',
  description: "A group of the organisation's directory that its table maps to a gateway role.",
  attributes: [
    attr('displayName', 'string', 'The group name; must be one the organisation mapped to a role. REQUIRED.', {
      required: true,
      uniqueness: 'server',
    }),
    attr('members', 'complex', 'The Users in the group.', {
      multiValued: true,
      subAttributes: [
        attr('value', 'string', 'The id of the User.', { caseExact: true, mutability: 'immutable' }),
        attr('$ref', 'reference', 'The URI of the User.', { mutability: 'immutable', referenceTypes: ['User'] }),
        attr('display', 'string', 'The display name of the member.', { mutability: 'readOnly', kept: false }),
        attr('type', 'string', 'User (groups of groups are not supported).', { mutability: 'immutable', canonicalValues: ['User'], kept: false }),
      ],
    }),
  ],
};

/** Common attributes (RFC 7643 §3.1), valid in every resource and in filters. */
export const COMMON_ATTRIBUTES: readonly AttributeDef[] = [
  attr('id', 'string', 'Identifier assigned by the service provider.', { caseExact: true, mutability: 'readOnly', returned: 'always', uniqueness: 'server' }),
  attr('externalId', 'string', "The client's identifier of the resource.", { caseExact: true }),
  attr('meta', 'complex', 'Resource metadata.', {
    mutability: 'readOnly',
    subAttributes: [
      attr('resourceType', 'string', 'The resource type.', { caseExact: true, mutability: 'readOnly' }),
      attr('created', 'dateTime', 'When the resource was added.', { mutability: 'readOnly' }),
      attr('lastModified', 'dateTime', 'When the resource was last changed.', { mutability: 'readOnly' }),
      attr('location', 'reference', 'The URI of the resource.', { caseExact: true, mutability: 'readOnly' }),
      attr('version', 'string', 'The weak entity tag of the resource version.', { caseExact: true, mutability: 'readOnly' }),
    ],
  }),
];

export type ResourceKind = 'User' | 'Group';

export interface ResourceSchemas {
  readonly core: SchemaDef;
  readonly extensions: readonly SchemaDef[];
}

export const RESOURCE_SCHEMAS: Readonly<Record<ResourceKind, ResourceSchemas>> = {
  User: { core: USER_SCHEMA, extensions: [ENTERPRISE_USER_SCHEMA] },
  Group: { core: GROUP_SCHEMA, extensions: [] },
};

/** An attribute resolved by name: where it lives and its definition. */
export interface ResolvedAttribute {
  /** The schema URN of an extension attribute; undefined for core and common attributes. */
  readonly extension: string | undefined;
  readonly def: AttributeDef;
}

const lower = (s: string) => s.toLowerCase();

/**
 * Finds a top-level attribute of a resource kind by name, case-insensitively, optionally qualified
 * by its schema URN (`urn:...:User:userName`, `urn:...:enterprise:2.0:User:employeeNumber`).
 */
export function resolveAttribute(kind: ResourceKind, schemaUri: string | undefined, name: string): ResolvedAttribute | undefined {
  const { core, extensions } = RESOURCE_SCHEMAS[kind];
  const n = lower(name);
  if (schemaUri === undefined || lower(schemaUri) === lower(core.id)) {
    const def = COMMON_ATTRIBUTES.find((a) => lower(a.name) === n) ?? core.attributes.find((a) => lower(a.name) === n);
    if (def) return { extension: undefined, def };
    if (schemaUri !== undefined) return undefined;
  }
  for (const ext of extensions) {
    if (schemaUri !== undefined && lower(schemaUri) !== lower(ext.id)) continue;
    const def = ext.attributes.find((a) => lower(a.name) === n);
    if (def) return { extension: ext.id, def };
  }
  return undefined;
}

/** Finds an extension schema of a resource kind by URN, case-insensitively. */
export function extensionSchema(kind: ResourceKind, uri: string): SchemaDef | undefined {
  return RESOURCE_SCHEMAS[kind].extensions.find((e) => lower(e.id) === lower(uri));
}

/** Finds a sub-attribute by name, case-insensitively. */
export function resolveSubAttribute(parent: AttributeDef, name: string): AttributeDef | undefined {
  return parent.subAttributes?.find((a) => lower(a.name) === lower(name));
}
