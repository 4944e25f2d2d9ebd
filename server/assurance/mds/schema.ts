/**
 * The shape of an MDS3 BLOB (FIDO Metadata Service 3.0, 3.1.6-3.1.7) as far as the gateway uses
 * it. Unknown fields are dropped; unknown authenticator statuses are kept as strings so that a
 * status the FIDO Alliance adds later does not make the whole BLOB unreadable.
 */
import { z } from 'zod';

const isoDate = z.string().refine((s) => Number.isFinite(Date.parse(s)), 'not an ISO-8601 date');

/** RFC 4648 base64 (standard alphabet), possibly with whitespace the publisher left in. */
const base64Der = z
  .string()
  .transform((s) => s.replace(/\s+/g, ''))
  .refine((s) => s.length > 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(s), 'not base64');

export const jwsHeaderSchema = z.object({
  alg: z.string().min(1),
  typ: z.string().optional(),
  x5c: z.array(base64Der).min(1).max(8),
});
export type JwsHeader = z.infer<typeof jwsHeaderSchema>;

export const statusReportSchema = z.object({
  status: z.string().min(1),
  effectiveDate: isoDate.optional(),
  authenticatorVersion: z.number().int().nonnegative().optional(),
  certificateNumber: z.string().optional(),
  certificationDescriptor: z.string().optional(),
  certificationPolicyVersion: z.string().optional(),
  certificationRequirementsVersion: z.string().optional(),
  url: z.string().optional(),
});
export type RawStatusReport = z.infer<typeof statusReportSchema>;

const aaguidString = z.string().regex(/^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/, 'not an AAGUID');

export const metadataStatementSchema = z.object({
  description: z.string(),
  aaguid: aaguidString.optional(),
  authenticatorVersion: z.number().int().nonnegative(),
  protocolFamily: z.string(),
  attestationRootCertificates: z.array(base64Der),
});

export const payloadEntrySchema = z.object({
  aaguid: aaguidString.optional(),
  aaid: z.string().optional(),
  attestationCertificateKeyIdentifiers: z.array(z.string()).optional(),
  metadataStatement: metadataStatementSchema.optional(),
  statusReports: z.array(statusReportSchema),
  timeOfLastStatusChange: isoDate.optional(),
});
export type RawEntry = z.infer<typeof payloadEntrySchema>;

export const blobPayloadSchema = z.object({
  legalHeader: z.string().optional(),
  no: z.number().int().nonnegative(),
  nextUpdate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'nextUpdate is not YYYY-MM-DD'),
  entries: z.array(payloadEntrySchema),
});
export type BlobPayload = z.infer<typeof blobPayloadSchema>;
