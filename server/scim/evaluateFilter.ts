/**
 * Evaluates a parsed filter against a resource in its SCIM JSON form (as renderUser/renderGroup
 * produce it), with the comparison rules of RFC 7644 §3.4.2.2: strings compare case-insensitively
 * unless the attribute is caseExact; a multi-valued attribute matches when one of its values does.
 *
 * A store adapter can use `lookupKeys` to answer the filters provisioning clients actually send
 * (Entra: `userName eq`, `externalId eq`, `emails[type eq "work"].value eq`, `displayName eq`) by
 * index, and fall back to `matchesFilter` for the rest.
 */
import type { AttrRef, CompareOp, Filter, FilterValue } from './filter.js';
import { type AttributeDef, type ResourceKind, resolveAttribute, resolveSubAttribute } from './schemaTable.js';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function compareScalar(actual: unknown, op: CompareOp, expected: FilterValue, def: AttributeDef | undefined): boolean {
  if (expected === null) {
    const absent = actual === undefined || actual === null;
    return op === 'eq' ? absent : !absent;
  }
  if (actual === undefined || actual === null) return op === 'ne';
  if (typeof expected === 'boolean' || typeof actual === 'boolean') {
    const same = actual === expected;
    return op === 'eq' ? same : op === 'ne' ? !same : false;
  }
  if (typeof actual !== 'string' || typeof expected !== 'string') return false;
  if (def?.type === 'dateTime') {
    const a = Date.parse(actual);
    const b = Date.parse(expected);
    if (Number.isNaN(a) || Number.isNaN(b)) return false;
    return ordered(op, a === b ? 0 : a < b ? -1 : 1);
  }
  const exact = def?.caseExact ?? false;
  const a = exact ? actual : actual.toLowerCase();
  const b = exact ? expected : expected.toLowerCase();
  switch (op) {
    case 'co':
      return a.includes(b);
    case 'sw':
      return a.startsWith(b);
    case 'ew':
      return a.endsWith(b);
    default:
      return ordered(op, a === b ? 0 : a < b ? -1 : 1);
  }
}

function ordered(op: CompareOp, cmp: number): boolean {
  switch (op) {
    case 'eq':
      return cmp === 0;
    case 'ne':
      return cmp !== 0;
    case 'gt':
      return cmp > 0;
    case 'ge':
      return cmp >= 0;
    case 'lt':
      return cmp < 0;
    case 'le':
      return cmp <= 0;
    default:
      return false;
  }
}

function present(v: unknown): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v === 'string') return v.length > 0;
  if (Array.isArray(v)) return v.some(present);
  if (isObject(v)) return Object.values(v).some(present);
  return true;
}

/** The values at a path: a list, because a multi-valued attribute yields one per element. */
function valuesAt(resource: Json, ref: AttrRef): unknown[] {
  const holder = ref.extension ? resource[ref.extension] : resource;
  if (!isObject(holder)) return [];
  const top = holder[ref.attribute];
  const items = Array.isArray(top) ? top : [top];
  if (ref.subAttribute === undefined) return items;
  const sub = ref.subAttribute;
  return items.map((it) => (isObject(it) ? it[sub] : undefined));
}

function defOf(kind: ResourceKind, ref: AttrRef, parent: AttributeDef | undefined): AttributeDef | undefined {
  if (parent) return resolveSubAttribute(parent, ref.attribute);
  const top = resolveAttribute(kind, ref.extension, ref.attribute)?.def;
  return top && ref.subAttribute !== undefined ? resolveSubAttribute(top, ref.subAttribute) : top;
}

function evaluate(kind: ResourceKind, filter: Filter, target: Json, parent: AttributeDef | undefined): boolean {
  switch (filter.kind) {
    case 'and':
      return evaluate(kind, filter.left, target, parent) && evaluate(kind, filter.right, target, parent);
    case 'or':
      return evaluate(kind, filter.left, target, parent) || evaluate(kind, filter.right, target, parent);
    case 'not':
      return !evaluate(kind, filter.filter, target, parent);
    case 'present':
      return valuesAt(target, filter.path).some(present);
    case 'compare': {
      const def = defOf(kind, filter.path, parent);
      const values = valuesAt(target, filter.path);
      // ne on a multi-valued attribute: no value equals (the negation of "some value equals").
      if (filter.op === 'ne') return !values.some((v) => compareScalar(v, 'eq', filter.value, def));
      return values.some((v) => compareScalar(v, filter.op, filter.value, def));
    }
    case 'valuePath': {
      const def = resolveAttribute(kind, filter.path.extension, filter.path.attribute)?.def;
      const holder = filter.path.extension ? target[filter.path.extension] : target;
      const list = isObject(holder) ? holder[filter.path.attribute] : undefined;
      return Array.isArray(list) && list.some((el) => isObject(el) && evaluate(kind, filter.filter, el, def));
    }
  }
}

/** Does the resource (SCIM JSON) satisfy the filter? */
export function matchesFilter(kind: ResourceKind, filter: Filter, resource: Json): boolean {
  return evaluate(kind, filter, resource, undefined);
}

/** Elements of a multi-valued attribute that satisfy a PATCH value filter. */
export function elementMatches(kind: ResourceKind, parent: AttributeDef, filter: Filter, element: unknown): boolean {
  return isObject(element) && evaluate(kind, filter, element, parent);
}

/** Equality keys a store can answer by index. Values compare as the attribute's caseExact says. */
export interface LookupKeys {
  id?: string;
  userName?: string;
  externalId?: string;
  /** emails[type eq "work"].value */
  workEmail?: string;
  displayName?: string;
}

function collect(filter: Filter, into: LookupKeys): boolean {
  if (filter.kind === 'and') return collect(filter.left, into) && collect(filter.right, into);
  if (filter.kind === 'compare' && filter.op === 'eq' && typeof filter.value === 'string' && !filter.path.extension && !filter.path.subAttribute) {
    const key = filter.path.attribute;
    if (key === 'id' || key === 'userName' || key === 'externalId' || key === 'displayName') {
      if (into[key] !== undefined && into[key] !== filter.value) return false;
      into[key] = filter.value;
      return true;
    }
    return false;
  }
  if (filter.kind === 'valuePath' && filter.path.attribute === 'emails' && filter.filter.kind === 'and') {
    const { left, right } = filter.filter;
    const isType = (f: Filter) => f.kind === 'compare' && f.op === 'eq' && f.path.attribute === 'type' && typeof f.value === 'string' && f.value.toLowerCase() === 'work';
    const valueOf = (f: Filter) => (f.kind === 'compare' && f.op === 'eq' && f.path.attribute === 'value' && typeof f.value === 'string' ? f.value : undefined);
    const value = isType(left) ? valueOf(right) : isType(right) ? valueOf(left) : undefined;
    if (value === undefined) return false;
    into.workEmail = value;
    return true;
  }
  return false;
}

/**
 * When the filter is a conjunction of equalities on indexed keys, those keys; otherwise null and
 * the store evaluates the filter itself (or answers tooMany).
 */
export function lookupKeys(filter: Filter): LookupKeys | null {
  const keys: LookupKeys = {};
  return collect(filter, keys) ? keys : null;
}
