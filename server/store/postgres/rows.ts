/**
 * Typed accessors for the rows node-postgres returns (pool.ts sets the parsers: timestamptz as
 * Date.toISOString() text, bigint as a number, json as its text, jsonb parsed, bytea a Buffer).
 * Every column is read through one of these, so a schema drift fails loudly instead of leaking a
 * wrong type into the domain.
 */
import type { JsonValue } from '../../audit/canonicalJson.js';
import type { Row } from './pool.js';

function field(row: Row, key: string): unknown {
  if (!(key in row)) throw new TypeError(`store: row has no column ${key}`);
  return row[key];
}

export function str(row: Row, key: string): string {
  const v = field(row, key);
  if (typeof v !== 'string') throw new TypeError(`store: column ${key} is not text`);
  return v;
}

export function strOrNull(row: Row, key: string): string | null {
  const v = field(row, key);
  if (v === null) return null;
  if (typeof v !== 'string') throw new TypeError(`store: column ${key} is not text`);
  return v;
}

export function num(row: Row, key: string): number {
  const v = field(row, key);
  if (typeof v !== 'number') throw new TypeError(`store: column ${key} is not a number`);
  return v;
}

export function numOrNull(row: Row, key: string): number | null {
  const v = field(row, key);
  return v === null ? null : num(row, key);
}

export function bool(row: Row, key: string): boolean {
  const v = field(row, key);
  if (typeof v !== 'boolean') throw new TypeError(`store: column ${key} is not a boolean`);
  return v;
}

export function bytes(row: Row, key: string): Uint8Array {
  const v = field(row, key);
  if (!(v instanceof Uint8Array)) throw new TypeError(`store: column ${key} is not bytea`);
  return new Uint8Array(v);
}

export function oneOf<T extends string>(row: Row, key: string, allowed: readonly T[]): T {
  const v = str(row, key);
  const hit = allowed.find((a) => a === v);
  if (hit === undefined) throw new TypeError(`store: column ${key} has unexpected value ${v}`);
  return hit;
}

export function oneOfOrNull<T extends string>(row: Row, key: string, allowed: readonly T[]): T | null {
  return field(row, key) === null ? null : oneOf(row, key, allowed);
}

/** A jsonb array of strings (parsed by the driver). */
export function strings(row: Row, key: string): string[] {
  const v = field(row, key);
  if (!Array.isArray(v) || !v.every((x): x is string => typeof x === 'string')) throw new TypeError(`store: column ${key} is not an array of strings`);
  return v;
}

/** A json column (its text as stored) holding an object. */
export function jsonObject(row: Row, key: string): { [key: string]: JsonValue } {
  const parsed: unknown = JSON.parse(str(row, key));
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new TypeError(`store: column ${key} is not a JSON object`);
  return parsed as { [key: string]: JsonValue };
}

/** A jsonb object whose values are strings (a public JWK); other members are left out. */
export function stringRecord(row: Row, key: string): Record<string, string> {
  const v = field(row, key);
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new TypeError(`store: column ${key} is not an object`);
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x;
  return out;
}

/** The only row of a statement that returns one, or undefined. */
export function first(rows: readonly Row[]): Row | undefined {
  return rows[0];
}

/** The count of `SELECT count(*) AS n`. */
export function countOf(rows: readonly Row[]): number {
  const r = rows[0];
  return r === undefined ? 0 : num(r, 'n');
}
