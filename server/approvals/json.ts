/** Turns a value parsed from outside input into JSON for an approval's payload (undefined fields dropped). */
import type { JsonValue } from '../audit/canonicalJson.js';

export function toJson(v: unknown): JsonValue {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (Array.isArray(v)) return v.map(toJson);
  if (typeof v === 'object') {
    const out: { [key: string]: JsonValue } = {};
    for (const [k, value] of Object.entries(v)) if (value !== undefined) out[k] = toJson(value);
    return out;
  }
  throw new TypeError(`not JSON: ${typeof v}`);
}

export function toJsonObject(v: unknown): { [key: string]: JsonValue } {
  const j = toJson(v);
  if (j === null || typeof j !== 'object' || Array.isArray(j)) throw new TypeError('not a JSON object');
  return j;
}
