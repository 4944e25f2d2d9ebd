/**
 * The readable trail's filter from a query string (issue 16: filter by person, key, actor, event
 * and time): parsed with zod at the edge, every problem named; times normalised to
 * Date.toISOString() form, the form the store keeps (so both adapters compare them alike).
 */
import { z } from 'zod';
import type { AuditQuery } from '../../domain/audit.js';
import { ValidationError } from '../../errors.js';
import { LANGUAGES, type Language } from '../../../i18n/languages.js';

/** At most this many entries a page of the view. */
export const MAX_PAGE = 200;

const id = z.string().trim().min(1).max(200);
const instant = z
  .string()
  .trim()
  .max(40)
  .refine((s) => /^\d{4}-\d{2}-\d{2}/.test(s) && !Number.isNaN(new Date(s).getTime()), 'is not an ISO 8601 date or time')
  .transform((s) => new Date(s).toISOString());

const schema = z
  .object({
    person: id.optional(),
    key: id.optional(),
    actor: id.optional(),
    // One or more event kinds, comma-separated.
    event: z
      .string()
      .max(2000)
      .transform((s) => s.split(',').map((k) => k.trim()).filter((k) => k.length > 0))
      .pipe(z.array(z.string().regex(/^[a-z0-9][a-z0-9.-]{0,99}$/, 'is not an event kind')).max(50))
      .optional(),
    from: instant.optional(),
    to: instant.optional(),
    before: z.coerce.number().int().positive().optional(),
    limit: z.coerce.number().int().min(1).max(MAX_PAGE).optional(),
    lang: z.enum(LANGUAGES).optional(),
  })
  .strict()
  .refine((q) => q.from === undefined || q.to === undefined || q.from < q.to, { message: 'must be after from', path: ['to'] });

export interface TrailRequest {
  query: AuditQuery;
  limit: number;
  language: Language;
}

/** Parses `req.query` (strings only; a repeated parameter is refused). */
export function parseTrailQuery(raw: unknown): TrailRequest {
  const result = schema.safeParse(raw);
  if (!result.success) {
    const errors = result.error.issues.slice(0, 20).flatMap((i) =>
      i.code === 'unrecognized_keys' ? i.keys.map((k) => ({ path: k, message: 'is not a known parameter' })) : [{ path: i.path.map(String).join('.') || '(query)', message: i.message }],
    );
    throw new ValidationError(`The filter is not valid: ${errors.map((e) => `${e.path} ${e.message}`).join('; ')}`, errors);
  }
  const q = result.data;
  return {
    query: { personId: q.person, keyId: q.key, actorId: q.actor, types: q.event, from: q.from, to: q.to, beforeSeq: q.before },
    limit: q.limit ?? 50,
    language: q.lang ?? 'en',
  };
}
