/** NSIS levels as OIOSAML 3 names them: the loa attribute value and the AuthnContextClassRef URIs. */
import { IDENTITY_ASSURANCE_LEVELS, type AssuranceLevel } from '../domain/types.js';
import { OIOSAML } from './constants.js';

const NAMES: Readonly<Record<AssuranceLevel, 'Low' | 'Substantial' | 'High'>> = { low: 'Low', substantial: 'Substantial', high: 'High' };
const BY_URI: ReadonlyMap<string, AssuranceLevel> = new Map([
  [OIOSAML.loaLow, 'low'],
  [OIOSAML.loaSubstantial, 'substantial'],
  [OIOSAML.loaHigh, 'high'],
]);

/** The value of https://data.gov.dk/concept/core/nsis/loa: "Low", "Substantial" or "High". */
export function loaName(level: AssuranceLevel): 'Low' | 'Substantial' | 'High' {
  return NAMES[level];
}

/** The level of an NSIS LoA name ("Substantial"), or undefined. */
export function levelFromName(name: string): AssuranceLevel | undefined {
  return IDENTITY_ASSURANCE_LEVELS.find((l) => NAMES[l] === name);
}

/** The level an NSIS AuthnContextClassRef URI names, or undefined for other URIs. */
export function levelFromClassRef(uri: string): AssuranceLevel | undefined {
  return BY_URI.get(uri);
}

export function rank(level: AssuranceLevel): number {
  return IDENTITY_ASSURANCE_LEVELS.indexOf(level);
}

export function atLeast(level: AssuranceLevel, minimum: AssuranceLevel): boolean {
  return rank(level) >= rank(minimum);
}
