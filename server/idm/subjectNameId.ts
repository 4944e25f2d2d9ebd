/**
 * The subject name id: ONE value per person, fixed when the person is bound, shown to admins,
 * sent to MitID Erhverv as the LocalIdentityProvider authenticator's id and used as the persistent
 * NameID of the gateway's SAML assertions (MitID Erhverv Local IdP: NemLog-in matches the two).
 *
 * Proposal: derived by a configured rule from the first source that has a value, then frozen
 * (stored with the identity; later changes of the source do not change it, reconciliation reports
 * a difference). OS2faktor-Login uses sAMAccountName plus a domain suffix; the equivalents here
 * are the SCIM `externalId` (Entra's default mapping: the object's mailNickname, or its immutable
 * objectId if so mapped) or `userName` (the UPN, which changes on a name change), with an optional
 * suffix. The gateway's own identity id is the fallback that always exists (people bound by hand).
 *
 *   GATEWAY_IDM_SUBJECT_NAME_ID_SOURCES=externalId,identityId   (default)
 *   GATEWAY_IDM_SUBJECT_NAME_ID_SUFFIX=@kommune.dk              (optional)
 */
import { subjectNameIdSchema } from './schemas.js';

export const SUBJECT_NAME_ID_SOURCES = ['externalId', 'userName', 'employeeNumber', 'identityId'] as const;
export type SubjectNameIdSource = (typeof SUBJECT_NAME_ID_SOURCES)[number];

export interface SubjectNameIdRule {
  /** Tried in order; the first with a value is used. */
  sources: readonly SubjectNameIdSource[];
  /** Appended to the value (e.g. "@kommune.dk" after a bare account name). */
  suffix: string;
  /** Lower-case the result (NameIDs are compared exactly by some SPs). */
  lowercase: boolean;
}

const DEFAULT_SOURCES: readonly SubjectNameIdSource[] = ['externalId', 'identityId'];
export const DEFAULT_SUBJECT_NAME_ID_RULE: Readonly<SubjectNameIdRule> = Object.freeze({ sources: DEFAULT_SOURCES, suffix: '', lowercase: false });

export interface SubjectNameIdInput {
  identityId: string;
  userName: string | null;
  externalId: string | null;
  employeeNumber: string | null;
}

export class SubjectNameIdError extends Error {
  override readonly name = 'SubjectNameIdError';
}

/** Parses the configured rule; throws SubjectNameIdError naming what is wrong. */
export function parseSubjectNameIdRule(sourcesText: string | undefined, suffix: string | undefined, lowercase: boolean): SubjectNameIdRule {
  const list = (sourcesText ?? '').split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  const sources: SubjectNameIdSource[] = [];
  for (const s of list) {
    const hit = SUBJECT_NAME_ID_SOURCES.find((x) => x.toLowerCase() === s.toLowerCase());
    if (!hit) throw new SubjectNameIdError(`"${s}" is not a source (use ${SUBJECT_NAME_ID_SOURCES.join(', ')})`);
    if (!sources.includes(hit)) sources.push(hit);
  }
  const sfx = suffix ?? '';
  if (sfx !== '' && !/^[\x21-\x7e]{1,64}$/.test(sfx)) throw new SubjectNameIdError('the suffix must be printable ASCII without spaces, at most 64 characters');
  return { sources: sources.length > 0 ? sources : DEFAULT_SUBJECT_NAME_ID_RULE.sources, suffix: sfx, lowercase };
}

/** The subject name id for a person under a rule; throws when no source yields a valid value. */
export function deriveSubjectNameId(rule: SubjectNameIdRule, input: SubjectNameIdInput): string {
  for (const source of rule.sources) {
    const raw = input[source]?.trim() ?? '';
    if (raw === '') continue;
    let value = `${raw}${rule.suffix}`;
    if (rule.lowercase) value = value.toLowerCase();
    if (!subjectNameIdSchema.safeParse(value).success) {
      throw new SubjectNameIdError(`the ${source} "${raw.slice(0, 60)}" gives no valid subject name id (printable ASCII without spaces, at most 256 characters)`);
    }
    return value;
  }
  throw new SubjectNameIdError(`none of ${rule.sources.join(', ')} has a value`);
}

/** NameIDs compare case-insensitively here, as MitID Erhverv clients match them (OS2faktor). */
export function sameSubjectNameId(a: string | null | undefined, b: string | null | undefined): boolean {
  return typeof a === 'string' && typeof b === 'string' && a.toLowerCase() === b.toLowerCase();
}
