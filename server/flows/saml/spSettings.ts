/**
 * Per-SP settings where the two reference implementations disagree (issue 15): OS2faktor-Login
 * and OIOSAML.Java differ on the NameID format an SP expects, on the encryption algorithms
 * (OIOSAML.Net's metadata asks for the legacy rsa-oaep-mgf1p + AES-256-CBC pair), and each SP may
 * be given extra attributes.
 */
import { z } from 'zod';
import { ALG, NAMEID_FORMAT, OIOSAML, type EncryptionChoice } from '../../saml/index.js';

const RESERVED: ReadonlySet<string> = new Set([OIOSAML.specVersionName, OIOSAML.loaName, OIOSAML.cvrName, OIOSAML.orgNameName]);

/** OIOSAML 3 professional NameID: the person's UUID as a URI (OIOSAML.Java validateSubject). */
export const PROFESSIONAL_UUID_NAMEID = 'https://data.gov.dk/model/core/eid/professional/uuid/{identityId}';

/**
 * The person's subject name id (issue 18: one value per person, the LocalIdentityProvider id at
 * MitID Erhverv, which NemLog-in matches with the assertion's persistent NameID); for a person
 * who has none (the outbound sync is off) the professional UUID form above.
 */
export const DEFAULT_NAMEID_TEMPLATE = '{subjectNameId}';

/** Where an extra attribute's value comes from. */
export const EXTRA_ATTRIBUTE_SOURCES = ['email', 'name', 'identityId'] as const;

export const SpSettingsSchema = z
  .object({
    /** The name the sign-in page shows for the SP (issue 16); its entityID when absent. */
    displayName: z.string().trim().min(1).max(100).optional(),
    /** Disabled by an org-admin (issue 16): its requests are refused as from an unknown SP. */
    disabled: z.boolean().optional(),
    /** The NameID Format in the assertion (default persistent, as NemLog-in expects). */
    nameIdFormat: z.string().min(1).max(256).default(NAMEID_FORMAT.persistent),
    /**
     * The NameID value, from the person's record: `{subjectNameId}`, `{identityId}` and `{email}`
     * are replaced. The default `{subjectNameId}` is the subject name id registered for the person
     * in MitID Erhverv (OIOSAML 3 towards NemLog-in: persistent, the LocalIdentityProvider id), or,
     * for a person without one, the OIOSAML 3 professional UUID form OIOSAML.Java checks for
     * (`https://data.gov.dk/model/core/eid/professional/uuid/<uuid>`, the gateway's stable id).
     */
    nameIdTemplate: z.string().min(1).max(256).default(DEFAULT_NAMEID_TEMPLATE),
    /**
     * `metadata`: the SP's md:EncryptionMethod list decides (modern unless it lists only legacy);
     * `modern`: AES-256-GCM + RSA-OAEP (xmlenc11, SHA-256, MGF1-SHA-256) always;
     * `legacy`: AES-256-CBC + rsa-oaep-mgf1p (only for an SP that cannot do better).
     */
    encryption: z.enum(['metadata', 'modern', 'legacy']).default('metadata'),
    /** Extra URI-named attributes and their source. */
    extraAttributes: z
      .array(z.object({ name: z.string().url().max(512), source: z.enum(EXTRA_ATTRIBUTE_SOURCES) }))
      .max(20)
      .default([])
      .refine((a) => a.every((x) => !RESERVED.has(x.name)), 'an extra attribute may not replace one the IdP sets'),
  })
  .strict();
export type SpSettings = z.infer<typeof SpSettingsSchema>;

/** The encryption a setting asks for; undefined leaves it to the SP's metadata. */
export function encryptionFor(settings: SpSettings): EncryptionChoice | undefined {
  if (settings.encryption === 'modern') return { content: ALG.aes256Gcm, keyTransport: ALG.rsaOaep11 };
  if (settings.encryption === 'legacy') return { content: ALG.aes256Cbc, keyTransport: ALG.rsaOaepMgf1p };
  return undefined;
}

/** The NameID value for a person under an SP's template (`subjectNameId`: theirs, if they have one). */
export function nameIdFor(settings: SpSettings, person: { id: string; email: string; subjectNameId: string | null }): string {
  const subjectNameId = person.subjectNameId ?? PROFESSIONAL_UUID_NAMEID.replaceAll('{identityId}', person.id);
  return settings.nameIdTemplate.replaceAll('{subjectNameId}', subjectNameId).replaceAll('{identityId}', person.id).replaceAll('{email}', person.email);
}
