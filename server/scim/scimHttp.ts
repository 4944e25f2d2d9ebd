/**
 * HTTP details of the SCIM edge: the media type (RFC 7644 §3.1 and §8.1), list query parameters
 * (§3.4.2), entity tags (§3.14), and the body reader with its limits.
 */
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { Json } from './canonicalise.js';
import { SCIM_MEDIA_TYPE } from './constants.js';
import { ScimError, scimErrorBody } from './errors.js';
import { etagOf } from './model.js';

export interface ScimHttpLimits {
  /** Largest request body (bytes). */
  bodyBytes: number;
  /** Most resources in one list response (ServiceProviderConfig filter.maxResults). */
  maxResults: number;
  /** Page size when the client gives no `count`. */
  defaultCount: number;
  /** Most PATCH operations in one request. */
  maxOperations: number;
}

export const DEFAULT_SCIM_HTTP_LIMITS: Readonly<ScimHttpLimits> = Object.freeze({ bodyBytes: 256 * 1024, maxResults: 200, defaultCount: 100, maxOperations: 100 });

export function sendScim(res: Response, status: number, body: Json | undefined, headers: Record<string, string> = {}): void {
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  res.setHeader('Cache-Control', 'no-store');
  if (body === undefined) {
    res.status(status).end();
    return;
  }
  res.status(status).type(SCIM_MEDIA_TYPE).send(JSON.stringify(body));
}

export function sendScimError(res: Response, err: ScimError): void {
  sendScim(res, err.status, scimErrorBody(err), { ...err.headers });
}

/** One query parameter as a string; a repeated parameter is refused. */
export function queryParam(req: Request, name: string): string | undefined {
  const entry = Object.entries(req.query).find(([k]) => k.toLowerCase() === name.toLowerCase());
  const v = entry?.[1];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw ScimError.of('invalidValue', `The query parameter "${name}" must be given once, as text.`);
  return v;
}

function integerParam(req: Request, name: string): number | undefined {
  const raw = queryParam(req, name);
  if (raw === undefined || raw === '') return undefined;
  if (!/^-?\d{1,9}$/.test(raw)) throw ScimError.of('invalidValue', `"${name}" must be an integer.`);
  return Number(raw);
}

export interface Paging {
  startIndex: number;
  count: number;
}

/** RFC 7644 §3.4.2.4: startIndex below 1 is 1; a negative count is 0; count is capped. */
export function pagingOf(req: Request, limits: ScimHttpLimits): Paging {
  const startIndex = Math.max(1, integerParam(req, 'startIndex') ?? 1);
  const count = Math.min(limits.maxResults, Math.max(0, integerParam(req, 'count') ?? limits.defaultCount));
  return { startIndex, count };
}

export function attributeListParam(req: Request, name: string): string[] | undefined {
  const raw = queryParam(req, name);
  if (raw === undefined) return undefined;
  const list = raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (list.length > 50 || list.some((s) => s.length > 300)) throw ScimError.of('invalidValue', `"${name}" lists too many or too long attribute names.`);
  return list;
}

/**
 * An If-Match / If-None-Match header: `*`, or the versions its entity tags name. SCIM uses weak
 * tags in If-Match (RFC 7644 §3.14 example), so tags compare weakly: W/"3" and "3" are version 3.
 * A tag that is not one of ours names no version (and so never matches).
 */
export function parseEntityTags(header: string | undefined): 'any' | number[] | undefined {
  if (header === undefined) return undefined;
  const h = header.trim();
  if (h === '*') return 'any';
  const versions: number[] = [];
  for (const m of h.matchAll(/(?:W\/)?"([^"]*)"/g)) {
    const v = m[1] ?? '';
    if (/^\d{1,15}$/.test(v)) versions.push(Number(v));
  }
  return versions;
}

export function etagMatches(tags: 'any' | number[], version: number): boolean {
  return tags === 'any' || tags.includes(version);
}

export function etagHeader(version: number): Record<string, string> {
  return { ETag: etagOf(version) };
}

/** Body-parser failures that outside input causes, as SCIM errors (never a 5xx). */
export function fromParserError(err: unknown, limit: number): ScimError | undefined {
  if (typeof err !== 'object' || err === null || !('type' in err)) return undefined;
  switch (err.type) {
    case 'entity.too.large':
      return new ScimError(413, undefined, `The request body is larger than ${limit} bytes.`);
    case 'entity.parse.failed':
      return ScimError.of('invalidSyntax', 'The request body is not valid JSON.');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new ScimError(415, undefined, 'Send the body as uncompressed UTF-8 JSON.');
    case 'request.aborted':
    case 'request.size.invalid':
    case 'stream.encoding.set':
      return ScimError.of('invalidSyntax', 'The request body could not be read.');
    default:
      return undefined;
  }
}

/**
 * Reads a JSON body of type application/scim+json (or application/json, which clients also send)
 * within the limit; anything else is 415. The body lands in `req.body`.
 */
export function scimBody(limit: number): RequestHandler[] {
  const parse = express.json({ limit, strict: true, inflate: false, type: () => true });
  return [
    (req: Request, _res: Response, next: NextFunction) => {
      // null: no body at all (the handler then refuses the missing resource as invalidSyntax).
      if (req.is([SCIM_MEDIA_TYPE, 'application/json']) === false) {
        next(new ScimError(415, undefined, `Send the body as ${SCIM_MEDIA_TYPE}.`));
        return;
      }
      next();
    },
    parse,
  ];
}
