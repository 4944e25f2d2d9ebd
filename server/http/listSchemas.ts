/**
 * Query parameters of the staff lists (issue 16): one zod schema per list validates the query
 * and renders its OpenAPI parameters (registry.ts). Unknown parameters are refused, the sort
 * column is one of a whitelist, and a page never holds more than LIST_PAGE_CAP rows.
 */
import { z } from 'zod';
import { ASSIGNED_ROLES, CREDENTIAL_STATES, IDENTITY_ASSURANCE_LEVELS, REASON_CODES } from '../domain/types.js';
import { APPROVAL_SORTS, DIRECTORY_REQUEST_SORTS, KEY_SORTS, LIST_PAGE_CAP, PEOPLE_SORTS } from '../ports/lists.js';

/** An instant (ISO 8601 with offset, or a date taken as midnight UTC), normalised to toISOString(). */
const instant = z
  .string()
  .max(40)
  .refine((s) => /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2}))?$/.test(s) && !Number.isNaN(Date.parse(s)), { message: 'must be a date (YYYY-MM-DD) or an ISO 8601 instant' })
  .transform((s) => new Date(s).toISOString());

const paging = {
  direction: z.enum(['asc', 'desc']).default('asc'),
  limit: z.coerce.number().int().min(1).max(LIST_PAGE_CAP).default(25),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
};

const text = z.string().trim().max(200);
const flag = z.enum(['true', 'false']).transform((v) => v === 'true');

export const peopleListQuery = z.strictObject({
  q: text.optional(),
  binding: z.enum(['active', 'ended']).optional(),
  role: z.enum(ASSIGNED_ROLES).optional(),
  noActiveKey: flag.optional(),
  sort: z.enum(PEOPLE_SORTS).default('name'),
  ...paging,
});

export const keyListQuery = z.strictObject({
  q: text.optional(),
  state: z
    .string()
    .max(100)
    .transform((s) => s.split(',').filter((x) => x !== ''))
    .pipe(z.array(z.enum(CREDENTIAL_STATES)).max(CREDENTIAL_STATES.length))
    .optional(),
  model: text.optional(),
  aal: z.enum(IDENTITY_ASSURANCE_LEVELS).optional(),
  reason: z.enum(REASON_CODES).optional(),
  lastUsedBefore: instant.optional(),
  lastUsedAfter: instant.optional(),
  /** Keys in use whose validity ends within this many days. */
  expiringWithinDays: z.coerce.number().int().min(0).max(3650).optional(),
  sort: z.enum(KEY_SORTS).default('holder'),
  ...paging,
});

export const activationListQuery = z.strictObject({
  q: text.optional(),
  sort: z.enum(KEY_SORTS).default('createdAt'),
  ...paging,
});

export const approvalListQuery = z.strictObject({
  sort: z.enum(APPROVAL_SORTS).default('requestedAt'),
  ...paging,
});

export const directoryRequestListQuery = z.strictObject({
  sort: z.enum(DIRECTORY_REQUEST_SORTS).default('name'),
  ...paging,
});
