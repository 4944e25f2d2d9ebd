/**
 * Request schemas: the single source for validation at the edge AND for the OpenAPI document
 * (CONVENTIONS 6), so the two cannot drift.
 */
import { z } from 'zod';
import { LANGUAGES } from '../../i18n/index.js';
import { IDENTITY_ASSURANCE_LEVELS, REASON_CODES, ASSIGNED_ROLES } from '../domain/types.js';

const b64url = (max: number) => z.string().min(1).max(max).regex(/^[A-Za-z0-9_-]+$/, 'must be base64url');

const transports = z.array(z.enum(['ble', 'hybrid', 'internal', 'nfc', 'usb', 'cable', 'smart-card'])).max(8);

/** Credential ids are at most 1023 bytes (WebAuthn §5.1.4) = 1364 base64url characters. */
const credentialIdSchema = b64url(1364);

export const registrationResponseSchema = z.object({
  id: credentialIdSchema,
  rawId: credentialIdSchema,
  type: z.literal('public-key'),
  response: z.object({
    clientDataJSON: b64url(4096),
    attestationObject: b64url(32768),
    authenticatorData: b64url(16384).optional(),
    transports: transports.optional(),
    publicKeyAlgorithm: z.number().int().optional(),
    publicKey: b64url(4096).optional(),
  }),
  authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
  clientExtensionResults: z.object({}),
});

export const authenticationResponseSchema = z.object({
  id: credentialIdSchema,
  rawId: credentialIdSchema,
  type: z.literal('public-key'),
  response: z.object({
    clientDataJSON: b64url(4096),
    authenticatorData: b64url(16384),
    signature: b64url(1024),
    userHandle: b64url(512).optional(),
  }),
  authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
  clientExtensionResults: z.object({}),
});

const email = z.string().trim().max(254).email();
const enrolmentToken = b64url(128);
const note = z.string().trim().max(500).optional();

export const schemas = {
  enrolmentOptions: z.object({ token: enrolmentToken }).strict(),
  enrolmentVerify: z.object({ token: enrolmentToken, label: z.string().max(200), response: registrationResponseSchema }).strict(),
  activationOptions: z.object({ email }).strict(),
  activationVerify: z
    .object({ code: z.string().max(32).regex(/^[0-9\s-]+$/, 'must be digits'), response: authenticationResponseSchema })
    .strict(),
  signinOptions: z.object({ email: email.optional() }).strict(),
  signinVerify: z.object({ response: authenticationResponseSchema, audience: z.string().min(1).max(300).optional() }).strict(),
  tokenRequest: z.object({ audience: z.string().min(1).max(300) }).strict(),
  keyRequest: z
    .object({
      kind: z.enum(['rotation', 'emergency-rotation', 'destroy']),
      targetKid: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be a JWK thumbprint').optional(),
      reason: z.string().trim().min(3).max(500),
    })
    .strict(),
  empty: z.object({}).strict(),
  signout: z.object({ everywhere: z.boolean().optional() }).strict(),
  rename: z.object({ label: z.string().max(200) }).strict(),
  ownKeyVerify: z.object({ label: z.string().max(200), response: registrationResponseSchema }).strict(),
  reportLost: z.object({ note }).strict(),
  staffAction: z.object({ reason: z.enum(REASON_CODES), note }).strict(),
  createIdentity: z
    .object({
      name: z.string().trim().min(1).max(200),
      email,
      ial: z.enum(IDENTITY_ASSURANCE_LEVELS),
      proofingMethod: z.string().trim().min(3).max(300),
      roles: z.array(z.enum(ASSIGNED_ROLES)).max(4).default([]),
      /** Issue 16: the language of the person's mails; absent: the organisation's. */
      language: z.enum(LANGUAGES).optional(),
    })
    .strict(),
  replacement: z
    .object({
      basis: z.enum(['active-key', 'second-approval']),
      replacesCredentialId: z.string().uuid().optional(),
      revokeNow: z.boolean().optional(),
      note,
      /** NSIS 3.2.2 (High) 3: by mail to the bound address unless handing over in person is chosen. */
      delivery: z.enum(['mail', 'handover']).optional(),
    })
    .strict(),
  enrolmentIssue: z.object({ delivery: z.enum(['mail', 'handover']).optional() }).strict(),
  bulk: z
    .object({
      action: z.enum(['suspend', 'revoke']),
      credentialIds: z.array(z.string().uuid()).min(1).max(500),
      reason: z.enum(REASON_CODES),
      note,
    })
    .strict(),
  updateIdentity: z
    .object({ email: email.optional(), name: z.string().trim().min(1).max(200).optional(), note })
    .strict()
    .refine((v) => v.email !== undefined || v.name !== undefined, { message: 'give email or name' }),
  setRole: z.object({ role: z.enum(ASSIGNED_ROLES), grant: z.boolean() }).strict(),
  importCsv: z.object({ csv: z.string().min(1).max(1_000_000) }).strict(),
  language: z.object({ language: z.enum(LANGUAGES) }).strict(),
  endBinding: z
    .object({ reason: z.enum(['employment-ended', 'agreement-ended', 'holder-ceased', 'data-error', 'other']), note })
    .strict(),
} as const;

export const idParam = z.string().uuid();
