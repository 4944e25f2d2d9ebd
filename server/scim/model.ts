/**
 * The SCIM resources the gateway keeps, typed, and their wire form. A User is what the
 * organisation's directory says about a person; a Group a directory group mapped to a role.
 * Conversions are pure: canonical JSON (canonicalise.ts) -> typed resource -> rendered JSON with
 * `meta` (RFC 7643 §3.1) and the weak ETag of its version (RFC 7644 §3.14).
 */
import { SCHEMA_ENTERPRISE_USER, SCHEMA_GROUP, SCHEMA_USER } from './constants.js';
import { ScimError } from './errors.js';
import { type Json, isJsonObject } from './canonicalise.js';

export interface ScimName {
  formatted: string | null;
  givenName: string | null;
  middleName: string | null;
  familyName: string | null;
}

export interface ScimEmail {
  value: string;
  /** work, home, other (compared case-insensitively). */
  type: string | null;
  primary: boolean;
}

export interface ScimUser {
  userName: string;
  externalId: string | null;
  /** false: the person is suspended (NSIS 3.2.3); the resource stays. */
  active: boolean;
  displayName: string | null;
  name: ScimName;
  emails: ScimEmail[];
  /** Enterprise extension employeeNumber. */
  employeeNumber: string | null;
  /** RFC 7643 §4.1.1 preferredLanguage (Accept-Language syntax) and locale (a language tag): the person's language (issue 16). */
  preferredLanguage?: string | null;
  locale?: string | null;
}

export interface ScimGroup {
  displayName: string;
  externalId: string | null;
  /** ids of member Users. */
  members: string[];
}

/** A resource as the directory port stores it: id, version (the ETag), timestamps. */
export interface Stored<T> {
  id: string;
  /** Increases with every change; the weak ETag is W/"<version>". */
  version: number;
  created: string;
  lastModified: string;
  resource: T;
}

const str = (v: unknown): string | null => (typeof v === 'string' && v.trim().length > 0 ? v : null);

/** A typed User from canonical JSON; refuses what the schema alone cannot (required, primary once). */
export function userFromJson(json: Json): ScimUser {
  const userName = str(json['userName']);
  if (userName === null) throw ScimError.of('invalidValue', '"userName" is required and must not be empty.');
  if (userName.length > 256) throw ScimError.of('invalidValue', '"userName" is longer than 256 characters.');
  const nameJson = isJsonObject(json['name']) ? json['name'] : {};
  const emails: ScimEmail[] = [];
  const types = new Set<string>();
  for (const el of Array.isArray(json['emails']) ? json['emails'] : []) {
    if (!isJsonObject(el)) continue;
    const value = str(el['value']);
    if (value === null) throw ScimError.of('invalidValue', 'Every email needs a "value".');
    const type = str(el['type']);
    // Microsoft Entra ID: the "type" of a multi-valued attribute's values must be unique.
    if (type !== null) {
      if (types.has(type.toLowerCase())) throw ScimError.of('invalidValue', `Two emails have the type "${type}".`);
      types.add(type.toLowerCase());
    }
    emails.push({ value, type, primary: el['primary'] === true });
  }
  // RFC 7643 §2.4: "primary" true at most once.
  if (emails.filter((e) => e.primary).length > 1) throw ScimError.of('invalidValue', 'At most one email may be primary.');
  const ext = json[SCHEMA_ENTERPRISE_USER];
  return {
    userName,
    externalId: str(json['externalId']),
    active: json['active'] === undefined ? true : json['active'] === true,
    displayName: str(json['displayName']),
    name: {
      formatted: str(nameJson['formatted']),
      givenName: str(nameJson['givenName']),
      middleName: str(nameJson['middleName']),
      familyName: str(nameJson['familyName']),
    },
    emails,
    employeeNumber: isJsonObject(ext) ? str(ext['employeeNumber']) : null,
    preferredLanguage: str(json['preferredLanguage']),
    locale: str(json['locale']),
  };
}

/** Canonical JSON of a User (no id, meta or schemas): what PATCH operates on. */
export function userToJson(user: ScimUser): Json {
  const out: Json = { userName: user.userName, active: user.active };
  if (user.externalId !== null) out['externalId'] = user.externalId;
  if (user.displayName !== null) out['displayName'] = user.displayName;
  const name: Json = {};
  for (const k of ['formatted', 'givenName', 'middleName', 'familyName'] as const) if (user.name[k] !== null) name[k] = user.name[k];
  if (Object.keys(name).length > 0) out['name'] = name;
  if (user.emails.length > 0) out['emails'] = user.emails.map((e) => ({ value: e.value, ...(e.type !== null ? { type: e.type } : {}), primary: e.primary }));
  if (user.employeeNumber !== null) out[SCHEMA_ENTERPRISE_USER] = { employeeNumber: user.employeeNumber };
  if (user.preferredLanguage) out['preferredLanguage'] = user.preferredLanguage;
  if (user.locale) out['locale'] = user.locale;
  return out;
}

export function groupFromJson(json: Json): ScimGroup {
  const displayName = str(json['displayName']);
  if (displayName === null) throw ScimError.of('invalidValue', '"displayName" is required and must not be empty.');
  const members: string[] = [];
  for (const el of Array.isArray(json['members']) ? json['members'] : []) {
    if (!isJsonObject(el)) continue;
    const value = str(el['value']);
    if (value === null) throw ScimError.of('invalidValue', 'Every member needs a "value" (the id of a User).');
    if (!members.includes(value)) members.push(value);
  }
  return { displayName, externalId: str(json['externalId']), members };
}

export function groupToJson(group: ScimGroup): Json {
  const out: Json = { displayName: group.displayName, members: group.members.map((value) => ({ value })) };
  if (group.externalId !== null) out['externalId'] = group.externalId;
  return out;
}

/** The weak entity tag of a version (RFC 7232 §2.3; RFC 7644 §3.14). */
export function etagOf(version: number): string {
  return `W/"${version}"`;
}

function meta(kind: 'User' | 'Group', stored: Stored<unknown>, baseUrl: string): Json {
  return {
    resourceType: kind,
    created: stored.created,
    lastModified: stored.lastModified,
    location: `${baseUrl}/${kind}s/${encodeURIComponent(stored.id)}`,
    version: etagOf(stored.version),
  };
}

export function renderUser(stored: Stored<ScimUser>, baseUrl: string): Json {
  const body = userToJson(stored.resource);
  const schemas = stored.resource.employeeNumber !== null ? [SCHEMA_USER, SCHEMA_ENTERPRISE_USER] : [SCHEMA_USER];
  return { schemas, id: stored.id, ...body, meta: meta('User', stored, baseUrl) };
}

export function renderGroup(stored: Stored<ScimGroup>, baseUrl: string): Json {
  const body = groupToJson(stored.resource);
  const members = stored.resource.members.map((value) => ({ value, $ref: `${baseUrl}/Users/${encodeURIComponent(value)}`, type: 'User' }));
  return { schemas: [SCHEMA_GROUP], id: stored.id, ...body, members, meta: meta('Group', stored, baseUrl) };
}

/** Does an `attributes` entry name this top-level key (a core name, or an extension URN)? */
function names(entry: string, key: string): boolean {
  const e = entry.toLowerCase();
  const k = key.toLowerCase();
  if (k.startsWith('urn:')) return e === k || e.startsWith(`${k}:`);
  let name = e;
  if (e.startsWith('urn:')) {
    if (!e.startsWith('urn:ietf:params:scim:schemas:core:2.0:')) return false;
    name = e.slice(e.lastIndexOf(':') + 1);
  }
  return name.split('.')[0] === k;
}

/**
 * RFC 7644 §3.4.2.5 `attributes` / `excludedAttributes` on top-level names (a sub-attribute path
 * selects its whole attribute); `id` and `schemas` are always returned.
 */
export function project(resource: Json, attributes: string[] | undefined, excluded: string[] | undefined): Json {
  const keep = (key: string): boolean => {
    if (key === 'id' || key === 'schemas') return true;
    if (attributes && attributes.length > 0) return attributes.some((a) => names(a, key));
    if (excluded && excluded.length > 0) return !excluded.some((a) => names(a, key));
    return true;
  };
  return Object.fromEntries(Object.entries(resource).filter(([k]) => keep(k)));
}
