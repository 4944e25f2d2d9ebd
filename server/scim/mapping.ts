/**
 * From what the organisation's directory says (a SCIM User) to the fields of a gateway identity,
 * as pure functions. The identity assurance is not in the SCIM data: the organisation declares it
 * for the provisioning source, with how its process proofs people (NSIS 3.1: proofing is the
 * organisation's process; the source must say how it was done), and every identity created
 * through that source carries it.
 */
import { z } from 'zod';
import { languageOfTag, parseAcceptLanguage, type Language } from '../../i18n/index.js';
import { IDENTITY_ASSURANCE_LEVELS, type AssuranceLevel } from '../domain/types.js';
import { ScimError } from './errors.js';
import type { ScimUser } from './model.js';

/** What an organisation admin declares when registering a provisioning client. */
export interface ProvisioningSource {
  /** NSIS 3.1.2 identity assurance of the people this source delivers. */
  ial: AssuranceLevel;
  /** How they were proofed, recorded with each identity, e.g. "HR onboarding: passport checked". */
  proofingMethod: string;
}

export const provisioningSourceSchema = z
  .object({ ial: z.enum(IDENTITY_ASSURANCE_LEVELS), proofingMethod: z.string().trim().min(3).max(300) })
  .strict();

/** The identity fields one SCIM User yields. */
export interface IdentityFields {
  /** The person's full name as the gateway shows and signs it. */
  name: string;
  givenName: string | null;
  familyName: string | null;
  /** The contact address: the work email, else the primary one, else the first. */
  email: string;
  userName: string;
  externalId: string | null;
  employeeNumber: string | null;
  active: boolean;
  ial: AssuranceLevel;
  proofingMethod: string;
  /** Issue 16: from preferredLanguage, else locale; null when neither names a language of ours. */
  language: Language | null;
}

/** The person's language from preferredLanguage (best first), else locale; null when neither is one of ours. */
export function languageOfUser(user: ScimUser): Language | null {
  for (const tag of parseAcceptLanguage(user.preferredLanguage ?? '')) {
    const language = languageOfTag(tag);
    if (language) return language;
  }
  return languageOfTag(user.locale ?? '') ?? null;
}

const emailSchema = z.string().trim().max(254).email();

const tidy = (s: string | null): string | null => {
  const t = s?.replace(/\s+/g, ' ').trim() ?? '';
  return t.length > 0 ? t : null;
};

/** The full name: name.formatted, else the parts joined, else displayName. */
export function fullNameOf(user: ScimUser): string | null {
  const parts = [user.name.givenName, user.name.middleName, user.name.familyName].map(tidy).filter((p): p is string => p !== null);
  return tidy(user.name.formatted) ?? (parts.length > 0 ? parts.join(' ') : null) ?? tidy(user.displayName);
}

/** The contact email: type work first, then primary, then the first listed. */
export function contactEmailOf(user: ScimUser): string | null {
  const work = user.emails.find((e) => e.type?.toLowerCase() === 'work');
  return (work ?? user.emails.find((e) => e.primary) ?? user.emails[0])?.value.trim() ?? null;
}

/**
 * The identity fields of a SCIM User under a source's declaration. Throws ScimError invalidValue
 * when the directory did not give what a binding needs (a name, a valid email).
 */
export function identityFieldsOf(user: ScimUser, source: ProvisioningSource): IdentityFields {
  const name = fullNameOf(user);
  if (name === null) throw ScimError.of('invalidValue', 'A name is needed: send name.formatted, name.givenName/familyName or displayName.');
  if (name.length > 200) throw ScimError.of('invalidValue', 'The name is longer than 200 characters.');
  const email = contactEmailOf(user);
  if (email === null) throw ScimError.of('invalidValue', 'An email is needed (emails[type eq "work"].value): activation codes and notices go there.');
  const parsed = emailSchema.safeParse(email);
  if (!parsed.success) throw ScimError.of('invalidValue', `"${email.slice(0, 100)}" is not an email address.`);
  return {
    name,
    givenName: tidy(user.name.givenName),
    familyName: tidy(user.name.familyName),
    email: parsed.data,
    userName: user.userName,
    externalId: user.externalId,
    employeeNumber: user.employeeNumber,
    active: user.active,
    ial: source.ial,
    proofingMethod: source.proofingMethod,
    language: languageOfUser(user),
  };
}

/** What a change from the directory means for the gateway (and for MitID Erhverv). */
export interface IdentityChange {
  /** NSIS 3.2.3: `suspend` when active went false, `reactivate` when it went true again. */
  activity: 'suspend' | 'reactivate' | null;
  /** The name changed: an identifying-data correction (keys revoked `data-error`, with approval). */
  identifying: boolean;
  /** The contact email changed. */
  contact: boolean;
  /** userName, externalId or employeeNumber changed (no effect on keys; the subject name id stays). */
  keys: boolean;
}

export function identityChange(before: IdentityFields, after: IdentityFields): IdentityChange {
  return {
    activity: before.active === after.active ? null : after.active ? 'reactivate' : 'suspend',
    identifying: before.name !== after.name,
    contact: before.email.toLowerCase() !== after.email.toLowerCase(),
    keys: before.userName !== after.userName || before.externalId !== after.externalId || before.employeeNumber !== after.employeeNumber,
  };
}
