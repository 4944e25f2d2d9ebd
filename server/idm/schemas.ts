/**
 * The shapes of the MitID Erhverv IdM API calls the gateway makes, as zod schemas: requests are
 * built to match them (and the contract server in the tests refuses anything else), answers are
 * parsed with them (unknown fields ignored, missing or mistyped ones refused).
 *
 * Source: the calls as a working client makes them (OS2faktor-Login's NemLoginService and its
 * model classes); the authoritative source is the "IdM and Certificate API" documentation package
 * distributed to connected organisations (V1.12 at the time of writing).
 */
import { z } from 'zod';

export const PATHS = {
  authenticate: '/api/administration/idmlogin/tls/authenticate',
  employees: '/api/administration/identity/employee',
  search: '/api/administration/identity/employee/search',
  employee: (uuid: string) => `/api/administration/identity/employee/${encodeURIComponent(uuid)}`,
  profile: (uuid: string) => `/api/administration/identity/employee/${encodeURIComponent(uuid)}/profile`,
  nonsensitive: (uuid: string) => `/api/administration/identity/employee/${encodeURIComponent(uuid)}/profile/nonsensitive`,
  suspend: (uuid: string) => `/api/administration/identity/employee/${encodeURIComponent(uuid)}/suspend`,
  reactivate: (uuid: string) => `/api/administration/identity/employee/${encodeURIComponent(uuid)}/reactivate`,
  authenticators: (uuid: string) => `/api/administration/identity/employee/${encodeURIComponent(uuid)}/authenticators`,
} as const;

/** MitID Erhverv identity assurance names. */
export const IAL_NAMES = ['Low', 'Substantial', 'High'] as const;
export type IalName = (typeof IAL_NAMES)[number];

/** The authenticator type naming the organisation's own Local IdP. */
export const LOCAL_IDP = 'LocalIdentityProvider';

const text = (max: number) => z.string().trim().min(1).max(max);

/** Subject name ids are printable ASCII without spaces, 1..256 (subjectNameId.ts derives them). */
export const subjectNameIdSchema = z.string().regex(/^[\x21-\x7e]{1,256}$/, 'printable ASCII without spaces, at most 256 characters');

export const tokenResponseSchema = z.object({
  accessToken: z.string().min(1).max(16384),
  tokenType: z.string().min(1).max(64),
  expiresIn: z.number().int().positive().max(7 * 24 * 3600),
});
export type TokenResponse = z.infer<typeof tokenResponseSchema>;

export const identityProfileSchema = z
  .object({
    /** Active: usable at once (Local IdM with Local IdP, NSIS-notified); Pending: activation at MitID. */
    status: z.enum(['Active', 'Pending']),
    registeredIal: z.enum(IAL_NAMES),
    targetIal: z.enum(IAL_NAMES),
    givenName: text(200),
    surname: text(200),
    emailAddress: z.string().trim().max(254).email(),
    /** The person's existing RID, to keep rights already granted in MitID Erhverv. */
    rid: z.string().regex(/^\d{1,12}$/).optional(),
  })
  .strict();

export const createEmployeeRequestSchema = z
  .object({
    identityProfile: identityProfileSchema,
    identityOrganizationProfile: z.object({ invoiceMethodUuid: z.string().uuid() }).strict(),
    identityAuthenticators: z.object({ authenticatorTypes: z.tuple([z.literal(LOCAL_IDP)]), subjectNameId: subjectNameIdSchema }).strict(),
  })
  .strict();
export type CreateEmployeeRequest = z.infer<typeof createEmployeeRequestSchema>;

export const createEmployeeResponseSchema = z.object({ employeeUuid: z.string().uuid() });

export const updateProfileRequestSchema = z
  .object({
    registeredIal: z.enum(IAL_NAMES),
    targetIal: z.enum(IAL_NAMES),
    givenName: text(200),
    surname: text(200),
    emailAddress: z.string().trim().max(254).email(),
  })
  .strict();
export type UpdateProfileRequest = z.infer<typeof updateProfileRequestSchema>;

export const nonsensitiveProfileRequestSchema = z.object({ emailAddress: z.string().trim().max(254).email() }).strict();

export const searchRequestSchema = z.object({ maxCount: z.number().int().min(0), removeUuidFromResultSet: z.boolean() }).strict();

/** Employee status as MitID Erhverv reports it ("Active", "Suspended", others passed through). */
export const employeeStatusSchema = z.string().min(1).max(64);

export const employeeSummarySchema = z.object({
  uuid: z.string().uuid(),
  status: employeeStatusSchema,
  emailAddress: z.string().max(254).nullish(),
  rid: z.string().max(32).nullish(),
  profile: z.object({ givenName: z.string().nullish(), surname: z.string().nullish() }).nullish(),
});
export type EmployeeSummary = z.infer<typeof employeeSummarySchema>;

export const searchResponseSchema = z.object({ employees: z.array(employeeSummarySchema).max(1_000_000) });

export const employeeDetailsSchema = z.object({
  uuid: z.string().uuid(),
  identityProfile: z.object({ status: employeeStatusSchema, rid: z.string().nullish(), emailAddress: z.string().nullish() }),
});
export type EmployeeDetails = z.infer<typeof employeeDetailsSchema>;

export const authenticatorSchema = z.object({
  uuid: z.string().nullish(),
  type: z.string().min(1).max(64),
  status: z.string().nullish(),
  /** For LocalIdentityProvider: the subject name id. */
  id: z.string().nullish(),
});
export type Authenticator = z.infer<typeof authenticatorSchema>;

export const authenticatorsResponseSchema = z.object({ authenticators: z.array(authenticatorSchema).max(1000) });
