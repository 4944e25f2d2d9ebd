/**
 * An in-memory implementation of the SCIM directory ports, for the conformance tests: the same
 * contract part 2 implements over the store (compare-and-set on version, uniqueness of userName
 * case-insensitively and of externalId, members that must be Users, mapping checked before any
 * write). It records every write so tests can assert that refused input changed nothing.
 */
import { randomUUID } from 'node:crypto';
import {
  type DeleteResult,
  type ListQuery,
  type ListResult,
  type ScimGroup,
  type ScimPrincipal,
  type ScimResourceDirectory,
  type ScimUser,
  type Stored,
  type WriteResult,
  groupToJson,
  identityFieldsOf,
  matchesFilter,
  userToJson,
} from '../../server/scim/index.js';
import type { ResourceKind } from '../../server/scim/index.js';

export interface WriteRecord {
  op: 'create' | 'replace' | 'delete';
  kind: ResourceKind;
  id: string;
  clientId: string;
}

class MemoryResources<T> implements ScimResourceDirectory<T> {
  readonly rows = new Map<string, Stored<T> & { organisationId: string }>();
  private clock = Date.parse('2026-01-05T08:00:00Z');

  constructor(
    private readonly kind: ResourceKind,
    private readonly toJson: (r: T) => Record<string, unknown>,
    private readonly unique: (r: T) => { attribute: string; value: string; caseExact: boolean }[],
    private readonly validate: (p: ScimPrincipal, r: T) => WriteResult<T> | undefined,
    private readonly writes: WriteRecord[],
  ) {}

  private tick(): string {
    this.clock += 1000;
    return new Date(this.clock).toISOString();
  }

  private mine(p: ScimPrincipal): (Stored<T> & { organisationId: string })[] {
    return [...this.rows.values()].filter((r) => r.organisationId === p.organisationId);
  }

  private clash(p: ScimPrincipal, r: T, exceptId: string | null): string | undefined {
    for (const key of this.unique(r)) {
      const norm = (v: string) => (key.caseExact ? v : v.toLowerCase());
      const hit = this.mine(p).find((row) => row.id !== exceptId && this.unique(row.resource).some((k) => k.attribute === key.attribute && norm(k.value) === norm(key.value)));
      if (hit) return key.attribute;
    }
    return undefined;
  }

  async get(p: ScimPrincipal, id: string): Promise<Stored<T> | null> {
    const row = this.rows.get(id);
    return row && row.organisationId === p.organisationId ? structuredClone(row) : null;
  }

  async list(p: ScimPrincipal, q: ListQuery): Promise<ListResult<T>> {
    const all = this.mine(p)
      .filter((row) => q.filter === null || matchesFilter(this.kind, q.filter, { id: row.id, ...this.toJson(row.resource), meta: { created: row.created, lastModified: row.lastModified } }))
      .sort((a, b) => a.created.localeCompare(b.created));
    return { totalResults: all.length, resources: all.slice(q.startIndex - 1, q.startIndex - 1 + q.count).map((r) => structuredClone(r)) };
  }

  async create(p: ScimPrincipal, resource: T): Promise<WriteResult<T>> {
    const refused = this.validate(p, resource);
    if (refused) return refused;
    const attribute = this.clash(p, resource, null);
    if (attribute) return { kind: 'conflict', attribute };
    const at = this.tick();
    const row = { id: randomUUID(), version: 1, created: at, lastModified: at, resource: structuredClone(resource), organisationId: p.organisationId };
    this.rows.set(row.id, row);
    this.writes.push({ op: 'create', kind: this.kind, id: row.id, clientId: p.clientId });
    return { kind: 'ok', stored: structuredClone(row) };
  }

  async replace(p: ScimPrincipal, id: string, resource: T, expectedVersion: number): Promise<WriteResult<T>> {
    const row = this.rows.get(id);
    if (!row || row.organisationId !== p.organisationId) return { kind: 'not-found' };
    if (row.version !== expectedVersion) return { kind: 'version-mismatch' };
    const refused = this.validate(p, resource);
    if (refused) return refused;
    const attribute = this.clash(p, resource, id);
    if (attribute) return { kind: 'conflict', attribute };
    const next = { ...row, version: row.version + 1, lastModified: this.tick(), resource: structuredClone(resource) };
    this.rows.set(id, next);
    this.writes.push({ op: 'replace', kind: this.kind, id, clientId: p.clientId });
    return { kind: 'ok', stored: structuredClone(next) };
  }

  async delete(p: ScimPrincipal, id: string, expectedVersion: number | null): Promise<DeleteResult> {
    const row = this.rows.get(id);
    if (!row || row.organisationId !== p.organisationId) return { kind: 'not-found' };
    if (expectedVersion !== null && row.version !== expectedVersion) return { kind: 'version-mismatch' };
    this.rows.delete(id);
    this.writes.push({ op: 'delete', kind: this.kind, id, clientId: p.clientId });
    return { kind: 'deleted' };
  }

  /** Changes a row behind the router's back (another request, another instance). */
  bump(id: string): void {
    const row = this.rows.get(id);
    if (row) this.rows.set(id, { ...row, version: row.version + 1, lastModified: this.tick() });
  }
}

export class MemoryScimDirectory {
  readonly writes: WriteRecord[] = [];
  readonly users: MemoryResources<ScimUser>;
  readonly groups: MemoryResources<ScimGroup>;

  constructor() {
    this.users = new MemoryResources<ScimUser>(
      'User',
      userToJson,
      (u) => [{ attribute: 'userName', value: u.userName, caseExact: false }, ...(u.externalId !== null ? [{ attribute: 'externalId', value: u.externalId, caseExact: true }] : [])],
      // As part 2 will: the mapping to identity fields must hold before anything is written.
      (p, u) => {
        identityFieldsOf(u, p.source);
        return undefined;
      },
      this.writes,
    );
    this.groups = new MemoryResources<ScimGroup>(
      'Group',
      groupToJson,
      (g) => [{ attribute: 'displayName', value: g.displayName, caseExact: false }],
      (p, g) => {
        const unknown = g.members.filter((m) => {
          const row = this.users.rows.get(m);
          return !row || row.organisationId !== p.organisationId;
        });
        return unknown.length > 0 ? { kind: 'unknown-members', ids: unknown } : undefined;
      },
      this.writes,
    );
  }
}
