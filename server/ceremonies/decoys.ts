/**
 * Decoy credentials (issue 13, 8): sign-in and activation options for an address nobody holds
 * (or someone without keys) list credential ids that look like a real person's, so the options do
 * not answer "does this person exist?". A real person's list has as many ids as they have keys, of
 * the lengths their authenticators make, with the transports registered; so a decoy draws its
 * count from how many keys people have, and each id's length and transports from the keys
 * registered, in their proportions. Every draw comes from a keyed hash of the address: the same
 * address gets the same decoy (while the population keeps its shape), another address another.
 * Pure: the population is surveyed by the store, the caller caches it.
 */
import { createHmac } from 'node:crypto';

import type { KeyPopulation } from '../domain/keys.js';

export type { KeyPopulation } from '../domain/keys.js';

export interface DecoyCredential {
  id: string;
  transports: string[];
}

/** Before any key is registered every answer is a decoy; this shape is then the only one. */
const EMPTY_POPULATION: KeyPopulation = { keysPerPerson: [{ keys: 1, people: 1 }], shapes: [{ idBytes: 32, transports: ['usb'], keys: 1 }] };

/** Deterministic bytes for (address, purpose, index): HMAC-SHA-256 in counter mode. */
function stream(key: Buffer, address: string, purpose: string, length: number): Buffer {
  const out: Buffer[] = [];
  for (let block = 0; out.length * 32 < length; block++) {
    out.push(createHmac('sha256', key).update('decoy\0').update(purpose).update('\0').update(address).update('\0').update(String(block)).digest());
  }
  return Buffer.concat(out).subarray(0, length);
}

/** A uniform number in [0, 1) drawn for (address, purpose). */
function uniform(key: Buffer, address: string, purpose: string): number {
  return stream(key, address, purpose, 6).readUIntBE(0, 6) / 2 ** 48;
}

/** Picks an entry by weight with `u` in [0, 1); entries in a fixed order so the pick is stable. */
function pick<T>(entries: readonly T[], weight: (e: T) => number, u: number): T {
  const total = entries.reduce((a, e) => a + weight(e), 0);
  let target = u * total;
  for (const e of entries) {
    target -= weight(e);
    if (target < 0) return e;
  }
  const last = entries[entries.length - 1];
  if (last === undefined) throw new TypeError('pick from an empty list');
  return last;
}

/**
 * The decoy credentials of `address` (normalised by the caller) for sign-in options. Activation
 * options use the first of them: a real person's pending key is one of their keys too.
 */
export function decoyCredentials(key: Buffer, address: string, population: KeyPopulation): DecoyCredential[] {
  const pop = population.shapes.length > 0 && population.keysPerPerson.length > 0 ? population : EMPTY_POPULATION;
  const counts = [...pop.keysPerPerson].sort((a, b) => a.keys - b.keys);
  const shapes = [...pop.shapes].sort((a, b) => a.idBytes - b.idBytes || JSON.stringify(a.transports).localeCompare(JSON.stringify(b.transports)));
  const n = pick(counts, (c) => c.people, uniform(key, address, 'count')).keys;
  const decoys: DecoyCredential[] = [];
  for (let i = 0; i < n; i++) {
    const s = pick(shapes, (x) => x.keys, uniform(key, address, `shape:${i}`));
    decoys.push({ id: stream(key, address, `id:${i}`, s.idBytes).toString('base64url'), transports: [...s.transports] });
  }
  return decoys;
}
