/**
 * Route registry: each API route is declared once with its schema, access rule and responses.
 * The router validates with the schema and the OpenAPI document is rendered from the same list.
 */
import type { Request, Response } from 'express';
import { z } from 'zod';
import type { AssignedRole } from '../domain/types.js';
import { ValidationError } from '../errors.js';
import { fieldProblems } from './fieldMessages.js';

export type Access = { kind: 'public' } | { kind: 'session' } | { kind: 'role'; role: AssignedRole };

export interface RouteSpec<B extends z.ZodType = z.ZodType> {
  method: 'get' | 'post' | 'patch';
  path: string;
  summary: string;
  tag: string;
  access: Access;
  /** Changes someone's key, binding or role: needs a recent security-key sign-in (step-up). */
  stepUp?: boolean;
  body?: B;
  /** Query parameters: rendered into OpenAPI; the handler parses them with parseQuery. */
  query?: z.ZodObject;
  responses: Record<number, string>;
  /** Media type of a response whose body is not problem+json (e.g. a health report, metrics text). */
  contentTypes?: Record<number, string>;
  clause?: string;
  /**
   * The audit event type of this route's refusals (role, step-up, validation, flow): each one is
   * in the audit trail, with its problem code, before it is answered.
   */
  auditRefusal?: string;
  handler: (ctx: { req: Request; res: Response; body: z.infer<B> }) => Promise<void> | void;
}

export function route<B extends z.ZodType>(spec: RouteSpec<B>): RouteSpec {
  return spec as unknown as RouteSpec;
}

/** Parses a body with its schema; every problem names its path. */
export function parseBody<B extends z.ZodType>(schema: B, body: unknown): z.infer<B> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const errors = fieldProblems(result.error.issues, body, 'field', '(body)');
  throw new ValidationError(`The request body is not valid: ${errors.map((e) => `${e.path} ${e.message}`).join('; ')}`, errors);
}

/** Parses a query string with its schema (a parameter given twice is refused, not merged). */
export function parseQuery<Q extends z.ZodType>(schema: Q, query: unknown): z.infer<Q> {
  const result = schema.safeParse(query);
  if (result.success) return result.data;
  const errors = fieldProblems(result.error.issues, query, 'parameter', '(query)');
  throw new ValidationError(`The query is not valid: ${errors.map((e) => `${e.path} ${e.message}`).join('; ')}`, errors);
}

/** OpenAPI parameters of a query schema, one per property. */
function queryParameters(schema: z.ZodObject): object[] {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
  const properties = typeof json === 'object' && json !== null && 'properties' in json && typeof json.properties === 'object' && json.properties !== null ? json.properties : {};
  return Object.entries(properties).map(([name, s]) => ({ name, in: 'query', required: false, schema: s }));
}

export function openApiDocument(routes: readonly RouteSpec[], info: { title: string; version: string; serverUrl: string }): object {
  const paths: Record<string, Record<string, object>> = {};
  for (const r of routes) {
    const p = r.path.replace(/:([A-Za-z]+)/g, '{$1}');
    const params: object[] = [...r.path.matchAll(/:([A-Za-z]+)/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: { type: 'string', format: 'uuid' },
    }));
    if (r.query) params.push(...queryParameters(r.query));
    const responses: Record<string, object> = {};
    for (const [status, description] of Object.entries(r.responses)) {
      const mediaType = r.contentTypes?.[Number(status)];
      responses[status] = mediaType
        ? { description, content: { [mediaType]: {} } }
        : Number(status) >= 400
          ? { description, content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } }
          : { description };
    }
    paths[p] ??= {};
    paths[p][r.method] = {
      summary: r.summary,
      tags: [r.tag],
      ...(r.clause ? { description: r.clause } : {}),
      ...(params.length > 0 ? { parameters: params } : {}),
      ...(r.body
        ? { requestBody: { required: true, content: { 'application/json': { schema: z.toJSONSchema(r.body, { io: 'input', unrepresentable: 'any' }) } } } }
        : {}),
      security: r.access.kind === 'public' ? [] : [{ sessionCookie: [] }],
      ...(r.access.kind === 'role' ? { 'x-required-role': r.access.role } : {}),
      ...(r.stepUp ? { 'x-step-up': 'security-key sign-in within GATEWAY_STEP_UP_MINUTES at Substantial or higher' } : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: info.title, version: info.version },
    servers: [{ url: info.serverUrl }],
    paths,
    components: {
      securitySchemes: { sessionCookie: { type: 'apiKey', in: 'cookie', name: 'gw_session' } },
      schemas: {
        Problem: {
          type: 'object',
          description:
            'RFC 9457 problem details with a stable code; title and detail in the request’s language (the gw_lang cookie, else Accept-Language, else the signed-in person’s, else GATEWAY_DEFAULT_LANGUAGE; Content-Language names it).',
          required: ['type', 'title', 'status', 'detail', 'code'],
          properties: {
            type: { type: 'string' },
            title: { type: 'string' },
            status: { type: 'integer' },
            detail: { type: 'string' },
            englishDetail: { type: 'string', description: 'In an answer not in English: the server’s own English words, which may carry facts such as the attempts left.' },
            code: { type: 'string' },
            instance: { type: 'string' },
            requestId: { type: 'string', description: 'The X-Request-Id of the request, as in the gateway log.' },
            errors: { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } } },
          },
        },
      },
    },
  };
}
