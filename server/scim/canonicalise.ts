/**
 * Reads a SCIM resource body of unknown shape into its canonical JSON: attribute names spelled as
 * in the schema table (clients may use any case, RFC 7643 §2.1), only the attributes the gateway
 * keeps, values of the declared types. Everything else is refused with a SCIM error naming the
 * attribute, or ignored where the RFC says so (readOnly attributes, RFC 7643 §2.2; attributes of
 * the standard schemas the gateway does not keep, RFC 7644 §3.3).
 *
 * Microsoft Entra ID sends booleans as the strings "True"/"False" unless the tenant URL carries
 * `aadOptscim062020` (Microsoft Learn, "Known issues ... SCIM 2.0 protocol compliance"): a boolean
 * attribute accepts "true"/"false" in any case, and nothing else.
 */
import { ScimError } from './errors.js';
import { type AttributeDef, type ResourceKind, RESOURCE_SCHEMAS, extensionSchema, resolveAttribute, resolveSubAttribute } from './schemaTable.js';

export type Json = Record<string, unknown>;

export const isJsonObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface ResourceLimits {
  /** Longest string value (characters). */
  maxString: number;
  /** Most values of a multi-valued attribute (members of a group excepted). */
  maxValues: number;
  /** Most members of a group. */
  maxMembers: number;
}

export const DEFAULT_RESOURCE_LIMITS: Readonly<ResourceLimits> = Object.freeze({ maxString: 1024, maxValues: 20, maxMembers: 10_000 });

const invalid = (detail: string): never => {
  throw ScimError.of('invalidValue', detail);
};
const syntax = (detail: string): never => {
  throw ScimError.of('invalidSyntax', detail);
};

/** Coerces a boolean, accepting Entra's "True"/"False" strings. */
export function booleanValue(value: unknown, where: string): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    const v = value.toLowerCase();
    if (v === 'true') return true;
    if (v === 'false') return false;
  }
  return invalid(`"${where}" must be true or false.`);
}

/** One value of a simple attribute, checked against its type; null means unassigned. */
export function simpleValue(def: AttributeDef, value: unknown, where: string, limits: ResourceLimits): unknown {
  if (value === null) return null;
  switch (def.type) {
    case 'boolean':
      return booleanValue(value, where);
    case 'string':
    case 'reference':
    case 'dateTime':
      if (typeof value !== 'string') return invalid(`"${where}" must be a string.`);
      if (value.length > limits.maxString) return invalid(`"${where}" is longer than ${limits.maxString} characters.`);
      if (/[\u0000-\u001f\u007f]/.test(value)) return invalid(`"${where}" contains control characters.`);
      return value;
    case 'complex':
      return invalid(`"${where}" is complex: send an object.`);
  }
}

/** Groups an object's keys by lower case, refusing two spellings of one name. */
function keysOf(obj: Json, where: string): [string, unknown][] {
  const seen = new Set<string>();
  const out: [string, unknown][] = [];
  for (const [k, v] of Object.entries(obj)) {
    const low = k.toLowerCase();
    if (seen.has(low)) syntax(`"${k}" appears twice in ${where} (names are case-insensitive).`);
    seen.add(low);
    out.push([k, v]);
  }
  return out;
}

function complexValue(def: AttributeDef, value: unknown, where: string, limits: ResourceLimits): Json | null {
  if (value === null) return null;
  if (!isJsonObject(value)) return invalid(`"${where}" must be an object.`);
  const out: Json = {};
  for (const [key, v] of keysOf(value, where)) {
    const sub = resolveSubAttribute(def, key);
    if (!sub) return syntax(`"${where}.${key}" is not a sub-attribute of ${def.name}.`);
    if (!sub.kept || sub.mutability === 'readOnly' || v === null) continue;
    out[sub.name] = simpleValue(sub, v, `${where}.${sub.name}`, limits);
  }
  return out;
}

/** The canonical value of one attribute (simple, complex or multi-valued). */
export function attributeValue(def: AttributeDef, value: unknown, where: string, limits: ResourceLimits): unknown {
  if (!def.multiValued) return def.type === 'complex' ? complexValue(def, value, where, limits) : simpleValue(def, value, where, limits);
  if (value === null) return [];
  if (!Array.isArray(value)) return invalid(`"${where}" is multi-valued: send an array.`);
  const max = def.name === 'members' ? limits.maxMembers : limits.maxValues;
  if (value.length > max) return invalid(`"${where}" has more than ${max} values.`);
  return value.map((el, i) => (def.type === 'complex' ? complexValue(def, el, `${where}[${i}]`, limits) : simpleValue(def, el, `${where}[${i}]`, limits))).filter((el) => el !== null);
}

function checkSchemas(kind: ResourceKind, value: unknown): void {
  if (!Array.isArray(value) || value.some((s) => typeof s !== 'string')) syntax('"schemas" must be an array of schema URNs.');
  const list = value as string[];
  const core = RESOURCE_SCHEMAS[kind].core.id.toLowerCase();
  if (!list.some((s) => s.toLowerCase() === core)) invalid(`"schemas" must contain ${RESOURCE_SCHEMAS[kind].core.id}.`);
  for (const s of list) {
    if (s.toLowerCase() !== core && !extensionSchema(kind, s)) invalid(`The schema ${s.slice(0, 200)} is not supported for ${kind}.`);
  }
}

/**
 * The canonical JSON of a resource body (POST or PUT): kept attributes only, under their
 * canonical names; extension attributes under the extension URN. `schemas` is required
 * (RFC 7643 §3).
 */
export function canonicaliseResource(kind: ResourceKind, body: unknown, limits: ResourceLimits = DEFAULT_RESOURCE_LIMITS): Json {
  if (!isJsonObject(body)) return syntax(`The body must be a ${kind} object.`);
  const out: Json = {};
  let sawSchemas = false;
  for (const [key, value] of keysOf(body, 'the resource')) {
    if (key.toLowerCase() === 'schemas') {
      checkSchemas(kind, value);
      sawSchemas = true;
      continue;
    }
    if (kind === 'User' && key.toLowerCase() === 'password') invalid('"password": this service provider holds no passwords (its people sign in with security keys).');
    const ext = extensionSchema(kind, key);
    if (ext) {
      if (value === null) continue;
      if (!isJsonObject(value)) return invalid(`"${ext.id}" must be an object.`);
      const extOut: Json = {};
      for (const [k, v] of keysOf(value, ext.id)) {
        const hit = resolveAttribute(kind, ext.id, k);
        if (!hit) return syntax(`"${ext.id}:${k}" is not an attribute of ${ext.name}.`);
        if (!hit.def.kept || hit.def.mutability === 'readOnly' || v === null) continue;
        extOut[hit.def.name] = attributeValue(hit.def, v, `${ext.id}:${hit.def.name}`, limits);
      }
      if (Object.keys(extOut).length > 0) out[ext.id] = extOut;
      continue;
    }
    const hit = resolveAttribute(kind, undefined, key);
    if (!hit) return syntax(`"${key.slice(0, 100)}" is not an attribute of ${kind}.`);
    if (!hit.def.kept || hit.def.mutability === 'readOnly' || value === null) continue;
    out[hit.def.name] = attributeValue(hit.def, value, hit.def.name, limits);
  }
  if (!sawSchemas) syntax('"schemas" is missing.');
  return out;
}
