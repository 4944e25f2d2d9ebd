/**
 * The endpoints of one resource type (RFC 7644 §3.3 create, §3.4 retrieve and query, §3.5.1
 * replace, §3.5.2 modify, §3.6 delete), generic over Users and Groups. Every write is a
 * compare-and-set on the resource version through the directory port: an If-Match that does not
 * name the current version is 412 (§3.14); without If-Match a PATCH that lost a race is re-read
 * and re-applied. Input is fully checked before the port is called, so nothing is half-applied.
 */
import express, { type Request, type Response, type Router } from 'express';
import { type Json, type ResourceLimits, canonicaliseResource } from './canonicalise.js';
import { listResponse } from './discovery.js';
import { ScimError } from './errors.js';
import { type FilterLimits, parseFilter } from './filter.js';
import { type Stored, project } from './model.js';
import { applyPatch, parsePatchRequest } from './patch.js';
import type { ScimPrincipal, ScimResourceDirectory, WriteResult } from './ports.js';
import type { ResourceKind } from './schemaTable.js';
import {
  type ScimHttpLimits,
  attributeListParam,
  etagHeader,
  etagMatches,
  pagingOf,
  parseEntityTags,
  queryParam,
  scimBody,
  sendScim,
} from './scimHttp.js';

export interface ResourceSpec<T> {
  kind: ResourceKind;
  directory: ScimResourceDirectory<T>;
  fromJson(json: Json): T;
  toJson(resource: T): Json;
  render(stored: Stored<T>): Json;
  /** Checks beyond the schema (groups: the displayName is in the role table). */
  check(resource: T): void;
  /** PATCH answer: Users 200 with the resource; Groups 204 (Microsoft Learn: "Update Group"). */
  patchAnswer: 'resource' | 'no-content';
  principalOf(req: Request): ScimPrincipal;
  http: ScimHttpLimits;
  resource: ResourceLimits;
  filter: FilterLimits;
}

/** A PATCH without If-Match re-reads and re-applies this often when it loses a race. */
const PATCH_ATTEMPTS = 3;

const ID = /^[\x21-\x7e]{1,256}$/;

function idOf(req: Request, kind: ResourceKind): string {
  const id = typeof req.params['id'] === 'string' ? req.params['id'] : '';
  if (!ID.test(id)) throw new ScimError(404, undefined, `No ${kind} with that id.`);
  return id;
}

const notFound = (kind: ResourceKind) => new ScimError(404, undefined, `No ${kind} with that id.`);
const preconditionFailed = (kind: ResourceKind) => new ScimError(412, undefined, `The ${kind} has changed since the version named in If-Match; read it again.`);

function methodNotAllowed(allow: string) {
  return (_req: Request, _res: Response) => {
    throw new ScimError(405, undefined, `Allowed here: ${allow}.`, { headers: { Allow: allow } });
  };
}

export function resourceRouter<T>(spec: ResourceSpec<T>): Router {
  const { kind, directory } = spec;
  const router = express.Router({ caseSensitive: false });
  const body = scimBody(spec.http.bodyBytes);
  const same = (a: T, b: T) => JSON.stringify(spec.toJson(a)) === JSON.stringify(spec.toJson(b));

  /** attributes / excludedAttributes, read before anything is written (a bad one changes nothing). */
  type View = { attributes: string[] | undefined; excluded: string[] | undefined };
  const viewOf = (req: Request): View => ({ attributes: attributeListParam(req, 'attributes'), excluded: attributeListParam(req, 'excludedAttributes') });
  const answer = (res: Response, status: number, stored: Stored<T>, view: View, extra: Record<string, string> = {}) => {
    sendScim(res, status, project(spec.render(stored), view.attributes, view.excluded), { ...etagHeader(stored.version), ...extra });
  };

  /** Turns a non-ok write result into its SCIM error. */
  const refuse = (result: Exclude<WriteResult<T>, { kind: 'ok' }>, ifMatch: boolean): ScimError => {
    switch (result.kind) {
      case 'not-found':
        return notFound(kind);
      case 'version-mismatch':
        return ifMatch ? preconditionFailed(kind) : new ScimError(409, undefined, `The ${kind} was changed by another request at the same time; try again.`);
      case 'conflict':
        return ScimError.of('uniqueness', `Another ${kind} already has this ${result.attribute}.`);
      case 'unknown-members':
        return ScimError.of('invalidValue', `No User with the id ${result.ids.slice(0, 5).join(', ')} was provisioned by this client.`);
    }
  };

  router.get('/', async (req, res) => {
    const principal = spec.principalOf(req);
    const filterText = queryParam(req, 'filter');
    const filter = filterText === undefined || filterText.trim() === '' ? null : parseFilter(kind, filterText, spec.filter);
    const paging = pagingOf(req, spec.http);
    const view = viewOf(req);
    const result = await directory.list(principal, { filter, ...paging });
    const resources = result.resources.slice(0, paging.count).map((s) => project(spec.render(s), view.attributes, view.excluded));
    sendScim(res, 200, listResponse(resources, result.totalResults, paging.startIndex));
  });

  router.post('/', ...body, async (req, res) => {
    const principal = spec.principalOf(req);
    const view = viewOf(req);
    const resource = spec.fromJson(canonicaliseResource(kind, req.body, spec.resource));
    spec.check(resource);
    const result = await directory.create(principal, resource);
    if (result.kind !== 'ok') throw refuse(result, false);
    answer(res, 201, result.stored, view, { Location: locationOf(spec.render(result.stored)) });
  });
  router.all('/', methodNotAllowed('GET, POST'));

  router.get('/:id', async (req, res) => {
    const view = viewOf(req);
    const stored = await directory.get(spec.principalOf(req), idOf(req, kind));
    if (!stored) throw notFound(kind);
    const noneMatch = parseEntityTags(req.header('if-none-match'));
    if (noneMatch !== undefined && etagMatches(noneMatch, stored.version)) {
      sendScim(res, 304, undefined, etagHeader(stored.version));
      return;
    }
    answer(res, 200, stored, view);
  });

  router.put('/:id', ...body, async (req, res) => {
    const principal = spec.principalOf(req);
    const id = idOf(req, kind);
    const view = viewOf(req);
    const resource = spec.fromJson(canonicaliseResource(kind, req.body, spec.resource));
    spec.check(resource);
    const ifMatch = parseEntityTags(req.header('if-match'));
    const current = await directory.get(principal, id);
    if (!current) throw notFound(kind);
    if (ifMatch !== undefined && !etagMatches(ifMatch, current.version)) throw preconditionFailed(kind);
    const result = await directory.replace(principal, id, resource, current.version);
    if (result.kind !== 'ok') throw refuse(result, ifMatch !== undefined);
    answer(res, 200, result.stored, view);
  });

  router.patch('/:id', ...body, async (req, res) => {
    const principal = spec.principalOf(req);
    const id = idOf(req, kind);
    const view = viewOf(req);
    const operations = parsePatchRequest(kind, req.body, { maxOperations: spec.http.maxOperations });
    const ifMatch = parseEntityTags(req.header('if-match'));
    for (let attempt = 1; ; attempt++) {
      const current = await directory.get(principal, id);
      if (!current) throw notFound(kind);
      if (ifMatch !== undefined && !etagMatches(ifMatch, current.version)) throw preconditionFailed(kind);
      const next = spec.fromJson(applyPatch(kind, spec.toJson(current.resource), operations, spec.resource));
      spec.check(next);
      let stored = current;
      if (!same(next, current.resource)) {
        const result = await directory.replace(principal, id, next, current.version);
        if (result.kind === 'version-mismatch' && ifMatch === undefined && attempt < PATCH_ATTEMPTS) continue;
        if (result.kind !== 'ok') throw refuse(result, ifMatch !== undefined);
        stored = result.stored;
      }
      if (spec.patchAnswer === 'no-content') sendScim(res, 204, undefined, etagHeader(stored.version));
      else answer(res, 200, stored, view);
      return;
    }
  });

  router.delete('/:id', async (req, res) => {
    const ifMatch = parseEntityTags(req.header('if-match'));
    const principal = spec.principalOf(req);
    const id = idOf(req, kind);
    let expected: number | null = null;
    if (ifMatch !== undefined) {
      const current = await directory.get(principal, id);
      if (!current) throw notFound(kind);
      if (!etagMatches(ifMatch, current.version)) throw preconditionFailed(kind);
      expected = current.version;
    }
    const result = await directory.delete(principal, id, expected);
    if (result.kind === 'not-found') throw notFound(kind);
    if (result.kind === 'version-mismatch') throw preconditionFailed(kind);
    sendScim(res, 204, undefined);
  });
  router.all('/:id', methodNotAllowed('GET, PUT, PATCH, DELETE'));
  return router;
}

function locationOf(rendered: Json): string {
  const meta = rendered['meta'];
  return typeof meta === 'object' && meta !== null && 'location' in meta && typeof meta.location === 'string' ? meta.location : '';
}
