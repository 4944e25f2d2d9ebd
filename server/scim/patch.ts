/**
 * SCIM PATCH (RFC 7644 §3.5.2) as a pure function over a resource's canonical JSON. All
 * operations apply to a copy, in order; the first that fails throws and nothing is applied.
 *
 * Microsoft Entra ID's forms are accepted (Microsoft Learn, "Develop and plan provisioning for a
 * SCIM endpoint" and "Known issues ... SCIM 2.0 protocol compliance"): `op` in any case ("Add",
 * "Replace", "Remove"), attribute names in any case, `"value": "False"` for booleans, a path-less
 * replace whose value keys are paths (`"name.givenName"`, `"urn:...:enterprise:2.0:User:
 * employeeNumber"`), `Replace emails[type eq "work"].value` creating the work address when there
 * is none, and `Remove members` with the members to remove in `value`.
 */
import { SCIM_PATCH_OP } from './constants.js';
import { type Json, type ResourceLimits, DEFAULT_RESOURCE_LIMITS, attributeValue, isJsonObject, simpleValue } from './canonicalise.js';
import { ScimError } from './errors.js';
import { elementMatches } from './evaluateFilter.js';
import { type Filter, type PatchPath, parsePatchPath } from './filter.js';
import { type ResourceKind, extensionSchema } from './schemaTable.js';

export type PatchOpName = 'add' | 'remove' | 'replace';

export interface PatchOperation {
  readonly op: PatchOpName;
  readonly path: PatchPath | undefined;
  readonly value: unknown;
}

export interface PatchLimits {
  maxOperations: number;
}

export const DEFAULT_PATCH_LIMITS: Readonly<PatchLimits> = Object.freeze({ maxOperations: 100 });

const fail = (scimType: 'invalidValue' | 'invalidSyntax' | 'noTarget' | 'mutability', detail: string): never => {
  throw ScimError.of(scimType, detail);
};

/** Reads a PatchOp message (RFC 7644 §3.5.2): schemas, Operations with op, path, value. */
export function parsePatchRequest(kind: ResourceKind, body: unknown, limits: PatchLimits = DEFAULT_PATCH_LIMITS): PatchOperation[] {
  if (!isJsonObject(body)) return fail('invalidSyntax', 'The body must be a PatchOp message.');
  const entries = Object.entries(body);
  const schemas = entries.find(([k]) => k.toLowerCase() === 'schemas')?.[1];
  if (!Array.isArray(schemas) || !schemas.some((s) => typeof s === 'string' && s.toLowerCase() === SCIM_PATCH_OP.toLowerCase())) {
    fail('invalidSyntax', `"schemas" must contain ${SCIM_PATCH_OP}.`);
  }
  const raw = entries.find(([k]) => k.toLowerCase() === 'operations')?.[1];
  if (!Array.isArray(raw) || raw.length === 0) return fail('invalidSyntax', '"Operations" must be a non-empty array.');
  if (raw.length > limits.maxOperations) return fail('invalidValue', `At most ${limits.maxOperations} operations per request.`);
  return raw.map((item, i) => {
    if (!isJsonObject(item)) return fail('invalidSyntax', `Operation ${i + 1} must be an object.`);
    const field = (name: string) => Object.entries(item).find(([k]) => k.toLowerCase() === name)?.[1];
    const opRaw = field('op');
    const op = typeof opRaw === 'string' ? opRaw.toLowerCase() : '';
    if (op !== 'add' && op !== 'remove' && op !== 'replace') return fail('invalidSyntax', `Operation ${i + 1}: "op" must be add, remove or replace.`);
    const pathRaw = field('path');
    if (pathRaw !== undefined && pathRaw !== null && typeof pathRaw !== 'string') return fail('invalidSyntax', `Operation ${i + 1}: "path" must be a string.`);
    const path = typeof pathRaw === 'string' && pathRaw.trim() !== '' ? parsePatchPath(kind, pathRaw) : undefined;
    const value = field('value');
    if (op === 'remove' && path === undefined) return fail('noTarget', `Operation ${i + 1}: remove needs a "path".`);
    if (op !== 'remove' && value === undefined) return fail('invalidValue', `Operation ${i + 1}: ${op} needs a "value".`);
    return { op, path, value };
  });
}

const clone = (json: Json): Json => structuredClone(json);

/** The object an attribute lives in: the resource, or its extension object (created for writes). */
function holderOf(json: Json, extension: string | undefined, create: boolean): Json | undefined {
  if (extension === undefined) return json;
  const existing = json[extension];
  if (isJsonObject(existing)) return existing;
  if (!create) return undefined;
  const made: Json = {};
  json[extension] = made;
  return made;
}

/** A filter `type eq "v"`: the element to create when a replace/add by that filter finds none. */
function seedOf(filter: Filter): Json | undefined {
  if (filter.kind === 'compare' && filter.op === 'eq' && filter.path.attribute === 'type' && typeof filter.value === 'string') return { type: filter.value };
  return undefined;
}

const describe = (p: PatchPath) => `${p.attribute.name}${p.valueFilter ? '[...]' : ''}${p.subAttribute ? `.${p.subAttribute.name}` : ''}`;

/** Elements equal for de-duplication: same "value" (and "type" when both have one). */
function sameElement(a: unknown, b: unknown): boolean {
  if (!isJsonObject(a) || !isJsonObject(b)) return a === b;
  const va = typeof a['value'] === 'string' ? a['value'].toLowerCase() : a['value'];
  const vb = typeof b['value'] === 'string' ? b['value'].toLowerCase() : b['value'];
  return va === vb && (a['type'] === undefined || b['type'] === undefined || a['type'] === b['type']);
}

class Patcher {
  constructor(
    private readonly kind: ResourceKind,
    private readonly json: Json,
    private readonly limits: ResourceLimits,
  ) {}

  apply(op: PatchOperation): void {
    if (op.path === undefined) return this.applyWithoutPath(op);
    this.applyAt(op.op, op.path, op.value);
  }

  /** add/replace with no path: every key of the value object is a path (RFC 7644 §3.5.2.1, .3). */
  private applyWithoutPath(op: PatchOperation): void {
    if (!isJsonObject(op.value)) return fail('invalidValue', `${op.op} without a "path" needs an object "value".`);
    for (const [key, v] of Object.entries(op.value)) {
      const ext = extensionSchema(this.kind, key);
      if (ext) {
        if (!isJsonObject(v)) return fail('invalidValue', `"${ext.id}" must be an object.`);
        for (const [k2, v2] of Object.entries(v)) this.applyAt(op.op, parsePatchPath(this.kind, `${ext.id}:${k2}`), v2);
        continue;
      }
      if (key.toLowerCase() === 'schemas') continue;
      this.applyAt(op.op, parsePatchPath(this.kind, key), v);
    }
  }

  private applyAt(op: PatchOpName, path: PatchPath, value: unknown): void {
    const def = path.attribute;
    if (def.mutability === 'readOnly' || path.subAttribute?.mutability === 'readOnly') {
      return fail('mutability', `"${describe(path)}" is read only.`);
    }
    // Attributes of the standard schemas the gateway does not keep: accepted, ignored.
    if (!def.kept || (path.subAttribute && !path.subAttribute.kept)) return;
    const holder = holderOf(this.json, path.extension, op !== 'remove');
    if (!holder) return;
    if (def.multiValued) return this.multiValued(op, path, holder, value);
    if (path.subAttribute) {
      const current = isJsonObject(holder[def.name]) ? (holder[def.name] as Json) : {};
      if (op === 'remove') delete current[path.subAttribute.name];
      else current[path.subAttribute.name] = simpleValue(path.subAttribute, value, describe(path), this.limits);
      holder[def.name] = current;
      return;
    }
    if (op === 'remove' || value === null) {
      delete holder[def.name];
      return;
    }
    const next = attributeValue(def, value, def.name, this.limits);
    // RFC 7644 §3.5.2.3: sub-attributes of a complex attribute not in the value stay.
    holder[def.name] = def.type === 'complex' && isJsonObject(holder[def.name]) && isJsonObject(next) ? { ...(holder[def.name] as Json), ...next } : next;
  }

  private multiValued(op: PatchOpName, path: PatchPath, holder: Json, value: unknown): void {
    const def = path.attribute;
    const list: unknown[] = Array.isArray(holder[def.name]) ? [...(holder[def.name] as unknown[])] : [];
    const selected = (el: unknown) => path.valueFilter === undefined || elementMatches(this.kind, def, path.valueFilter, el);
    const sub = path.subAttribute;

    if (path.valueFilter === undefined && sub === undefined) {
      if (op === 'remove') {
        // Entra without aadOptscim062020: Remove "members" with the members to remove as value.
        const gone = value === undefined || value === null ? undefined : (attributeValue(def, Array.isArray(value) ? value : [value], def.name, this.limits) as unknown[]);
        holder[def.name] = gone === undefined ? [] : list.filter((el) => !gone.some((g) => sameElement(el, g)));
        return;
      }
      const incoming = attributeValue(def, Array.isArray(value) ? value : [value], def.name, this.limits) as unknown[];
      if (op === 'replace') {
        holder[def.name] = incoming;
        return;
      }
      if (incoming.some((el) => isJsonObject(el) && el['primary'] === true)) {
        for (const el of list) if (isJsonObject(el)) el['primary'] = false;
      }
      for (const el of incoming) {
        const at = list.findIndex((old) => sameElement(old, el));
        if (at >= 0) list[at] = isJsonObject(list[at]) && isJsonObject(el) ? { ...(list[at] as Json), ...el } : el;
        else list.push(el);
      }
      holder[def.name] = attributeValue(def, list, def.name, this.limits);
      return;
    }

    const hits = list.filter(selected);
    if (op === 'remove') {
      // Removing the "value" of a selected element removes the element (Entra: the work email).
      holder[def.name] = sub === undefined || sub.name === 'value' ? list.filter((el) => !selected(el)) : list.map((el) => (selected(el) && isJsonObject(el) ? dropKey(el, sub.name) : el));
      return;
    }
    if (hits.length === 0) {
      const seed = path.valueFilter ? seedOf(path.valueFilter) : undefined;
      // RFC 7644 §3.5.2.3: no match for a value filter is noTarget; Entra's "type eq" creates it.
      if (!seed || sub === undefined) return fail('noTarget', `No value of "${def.name}" matches the filter of "${describe(path)}".`);
      list.push({ ...seed, [sub.name]: simpleValue(sub, value, describe(path), this.limits) });
      holder[def.name] = attributeValue(def, list, def.name, this.limits);
      return;
    }
    const patchOf = (): Json => {
      if (sub) return { [sub.name]: simpleValue(sub, value, describe(path), this.limits) };
      const merged = attributeValue({ ...def, multiValued: false }, value, describe(path), this.limits);
      return isJsonObject(merged) ? merged : fail('invalidValue', `"${describe(path)}" needs an object value.`);
    };
    const change = patchOf();
    holder[def.name] = attributeValue(
      def,
      list.map((el) => (selected(el) && isJsonObject(el) ? { ...el, ...change } : el)),
      def.name,
      this.limits,
    );
  }
}

function dropKey(obj: Json, key: string): Json {
  const copy = { ...obj };
  delete copy[key];
  return copy;
}

/** Applies the operations to a copy of `json` (canonical JSON of the resource) and returns it. */
export function applyPatch(kind: ResourceKind, json: Json, operations: readonly PatchOperation[], limits: ResourceLimits = DEFAULT_RESOURCE_LIMITS): Json {
  const copy = clone(json);
  const patcher = new Patcher(kind, copy, limits);
  for (const op of operations) patcher.apply(op);
  return copy;
}
