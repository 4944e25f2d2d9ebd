/**
 * The SCIM 2.0 service provider (RFC 7643, RFC 7644) as an Express router over its ports. Mount
 * it where `baseUrl` says (e.g. app.use('/scim/v2', createScimRouter(...))); it never listens and
 * keeps no state of its own.
 *
 * Order: bearer token first (RFC 6750 §3: 401 with WWW-Authenticate), so an unauthenticated request
 * never gets its body read; then the endpoint, its media type and body limit; every refusal is a
 * SCIM Error message (RFC 7644 §3.12) with scimType, sent to the audit sink, and never a 5xx:
 * only a failure of the gateway itself is a 500, with detail in the log alone.
 */
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { credentialsFor } from '../oidc/authScheme.js';
import { DEFAULT_RESOURCE_LIMITS, type ResourceLimits } from './canonicalise.js';
import { type DiscoveryOptions, listResponse, resourceTypes, schemas, serviceProviderConfig } from './discovery.js';
import { ScimError } from './errors.js';
import { DEFAULT_FILTER_LIMITS, type FilterLimits } from './filter.js';
import { type GroupRoleTable, roleForGroup } from './groupRoles.js';
import { type ScimGroup, type ScimUser, groupFromJson, groupToJson, renderGroup, renderUser, userFromJson, userToJson } from './model.js';
import type { ScimAuditSink, ScimGroupDirectory, ScimPrincipal, ScimTokenVerifier, ScimUserDirectory, TokenRefusal } from './ports.js';
import { resourceRouter } from './resourceRoutes.js';
import { DEFAULT_SCIM_HTTP_LIMITS, type ScimHttpLimits, fromParserError, sendScim, sendScimError } from './scimHttp.js';

export interface ScimRouterOptions {
  users: ScimUserDirectory;
  /** While the `groupRoles` table is not empty, /Groups is served. */
  groups?: ScimGroupDirectory;
  /** The table, or how to get the one in force at each request (it may change while the gateway runs). */
  groupRoles?: GroupRoleTable | (() => GroupRoleTable);
  verifier: ScimTokenVerifier;
  audit: ScimAuditSink;
  /** The public absolute URL of the mount point, e.g. https://idp.example.dk/scim/v2 (meta.location). */
  baseUrl: string;
  limits?: Partial<ScimHttpLimits>;
  resourceLimits?: Partial<ResourceLimits>;
  filterLimits?: Partial<FilterLimits>;
  documentationUri?: string;
  /** Unexpected failures (answered 500); log them with the request. */
  onError?: (err: unknown, req: Request) => void;
}

const REALM = 'Bearer realm="scim"';

const noEndpoint = (method: string, path: string) => new ScimError(404, undefined, `There is no SCIM endpoint ${method} ${path}.`);

export function createScimRouter(options: ScimRouterOptions): Router {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  if (!/^https?:\/\//.test(baseUrl)) throw new TypeError('baseUrl must be an absolute http(s) URL');
  const http: ScimHttpLimits = { ...DEFAULT_SCIM_HTTP_LIMITS, ...options.limits };
  const resource: ResourceLimits = { ...DEFAULT_RESOURCE_LIMITS, ...options.resourceLimits };
  const filter: FilterLimits = { ...DEFAULT_FILTER_LIMITS, ...options.filterLimits };
  const tableOption = options.groupRoles ?? [];
  const table = typeof tableOption === 'function' ? tableOption : () => tableOption;
  const groups = options.groups;
  const servesGroups = () => groups !== undefined && table().length > 0;

  const principals = new WeakMap<Request, ScimPrincipal>();
  const principalOf = (req: Request): ScimPrincipal => {
    const p = principals.get(req);
    if (!p) throw new TypeError('SCIM handler reached without an authenticated principal');
    return p;
  };

  const router = express.Router({ caseSensitive: false });

  // RFC 6750 §2.1 / §3: Bearer credentials; the scheme is case-insensitive (RFC 7235 §2.1).
  router.use(async (req: Request, res: Response, next: NextFunction) => {
    const token = credentialsFor(req.header('authorization'), 'bearer');
    const refuse = async (detail: string, reason: 'missing' | TokenRefusal): Promise<void> => {
      const err = new ScimError(401, undefined, detail, {
        headers: { 'WWW-Authenticate': reason === 'missing' ? REALM : `${REALM}, error="invalid_token"` },
      });
      await options.audit.refused({
        clientId: null,
        method: req.method,
        path: req.baseUrl + req.path,
        status: 401,
        scimType: null,
        detail,
        ...(reason === 'missing' ? {} : { tokenRefusal: reason }),
      });
      sendScimError(res, err);
    };
    if (token === undefined) {
      await refuse('A bearer token is required.', 'missing');
      return;
    }
    const check = await options.verifier.verify(token);
    if (!check.ok) {
      await refuse('The bearer token is not valid.', check.reason);
      return;
    }
    principals.set(req, check.principal);
    next();
  });

  // Whether Group is announced follows the table in force (issue 18: the table is reloaded).
  const discovery = (): DiscoveryOptions => ({
    baseUrl,
    groups: servesGroups(),
    maxResults: http.maxResults,
    maxOperations: http.maxOperations,
    maxPayloadBytes: http.bodyBytes,
    ...(options.documentationUri ? { documentationUri: options.documentationUri } : {}),
  });
  const byId = (list: Record<string, unknown>[], id: string) => list.find((r) => typeof r['id'] === 'string' && r['id'].toLowerCase() === id.toLowerCase());
  const oneOf = (list: () => Record<string, unknown>[], what: string) => (req: Request, res: Response) => {
    const hit = byId(list(), String(req.params['id'] ?? ''));
    if (!hit) throw new ScimError(404, undefined, `No ${what} with that id.`);
    sendScim(res, 200, hit);
  };
  const types = () => resourceTypes(discovery());
  const schemaList = () => schemas(discovery());
  const all = (list: () => Record<string, unknown>[]) => (_req: Request, res: Response) => {
    const items = list();
    sendScim(res, 200, listResponse(items, items.length, 1));
  };
  router.get('/ServiceProviderConfig', (_req, res) => sendScim(res, 200, serviceProviderConfig(discovery())));
  router.get('/ResourceTypes', all(types));
  router.get('/ResourceTypes/:id', oneOf(types, 'resource type'));
  router.get('/Schemas', all(schemaList));
  router.get('/Schemas/:id', oneOf(schemaList, 'schema'));

  const common = { principalOf, http, resource, filter };
  router.use(
    '/Users',
    resourceRouter<ScimUser>({
      kind: 'User',
      directory: options.users,
      fromJson: userFromJson,
      toJson: userToJson,
      render: (s) => renderUser(s, baseUrl),
      check: () => undefined,
      patchAnswer: 'resource',
      ...common,
    }),
  );
  if (groups) {
    // No table in force (now): /Groups is not served (404 below), as without a directory.
    router.use('/Groups', (req: Request, _res: Response, next: NextFunction) => {
      if (!servesGroups()) throw noEndpoint(req.method, `/Groups${req.path === '/' ? '' : req.path}`);
      next();
    });
    router.use(
      '/Groups',
      resourceRouter<ScimGroup>({
        kind: 'Group',
        directory: groups,
        fromJson: groupFromJson,
        toJson: groupToJson,
        render: (s) => renderGroup(s, baseUrl),
        check: (g) => {
          if (roleForGroup(table(), g.displayName) === null) {
            throw ScimError.of('invalidValue', `The group "${g.displayName.slice(0, 100)}" is not mapped to a gateway role; ask the organisation's administrator to map it, or do not provision it.`);
          }
        },
        patchAnswer: 'no-content',
        ...common,
      }),
    );
  }

  router.use((req: Request) => {
    throw noEndpoint(req.method, req.path);
  });

  router.use(async (err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const scim = err instanceof ScimError ? err : fromParserError(err, http.bodyBytes);
    if (!scim) {
      options.onError?.(err, req);
      sendScimError(res, new ScimError(500, undefined, 'The gateway could not handle this request.'));
      return;
    }
    await options.audit.refused({
      clientId: principals.get(req)?.clientId ?? null,
      method: req.method,
      path: req.baseUrl + req.path,
      status: scim.status,
      scimType: scim.scimType ?? null,
      detail: scim.detail,
    });
    sendScimError(res, scim);
  });
  return router;
}
