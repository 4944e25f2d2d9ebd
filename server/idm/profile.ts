/**
 * The profile MitID Erhverv gets for a person: given name and surname apart. When the directory
 * gave them (SCIM name.givenName / familyName) they are used as given; a name the gateway holds
 * only whole (people bound by hand) is split before its last word, as MitID Erhverv clients do.
 */
import type { AssuranceLevel } from '../domain/types.js';
import type { EmployeeProfile } from './client.js';

export interface PersonForProfile {
  name: string;
  givenName?: string | null;
  familyName?: string | null;
  email: string;
  ial: AssuranceLevel;
}

export function employeeProfileOf(p: PersonForProfile): EmployeeProfile {
  const given = p.givenName?.trim() ?? '';
  const family = p.familyName?.trim() ?? '';
  if (given !== '' && family !== '') return { givenName: given, surname: family, email: p.email, ial: p.ial };
  const words = p.name.trim().split(/\s+/).filter((w) => w.length > 0);
  const surname = words.length > 1 ? (words.at(-1) ?? '') : (words[0] ?? '');
  const givenName = words.length > 1 ? words.slice(0, -1).join(' ') : (words[0] ?? '');
  return { givenName, surname, email: p.email, ial: p.ial };
}
