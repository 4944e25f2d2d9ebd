/** The SCIM Groups the organisation's directory manages (issue 18): groups mapped to gateway roles. */
import type { ScimGroupLookup, ScimGroupRecord } from '../../domain/provisioning.js';
import type { ScimGroupRepo } from '../../ports/scimGroups.js';
import type { Connection } from './connection.js';
import { storeErrorOf } from './errors.js';
import { num, str, strOrNull } from './rows.js';

function scimGroup(r: unknown): ScimGroupRecord {
  return {
    id: str(r, 'id'),
    organisationId: str(r, 'organisation_id'),
    clientId: str(r, 'client_id'),
    displayNameKey: str(r, 'display_name_key'),
    externalId: strOrNull(r, 'external_id'),
    version: num(r, 'version'),
    createdAt: str(r, 'created_at'),
    lastModified: str(r, 'last_modified'),
    resource: str(r, 'resource'),
  };
}

/** A unique-constraint failure as the port's StoreConflict, at the statement (the caller may go on). */
function run<T>(statement: () => T): T {
  try {
    return statement();
  } catch (err) {
    throw storeErrorOf(err);
  }
}

export class SqliteScimGroups implements ScimGroupRepo {
  constructor(private readonly db: Connection) {}

  async get(organisationId: string, id: string): Promise<ScimGroupRecord | undefined> {
    const r = this.db.prepare('SELECT * FROM scim_groups WHERE id = ? AND organisation_id = ?').get(id, organisationId);
    return r === undefined ? undefined : scimGroup(r);
  }

  async find(organisationId: string, lookup: ScimGroupLookup): Promise<ScimGroupRecord[]> {
    return this.db
      .prepare(
        `SELECT * FROM scim_groups WHERE organisation_id = ?
           AND (? IS NULL OR id = ?) AND (? IS NULL OR display_name_key = ?) AND (? IS NULL OR external_id = ?)
         ORDER BY created_at, rowid`,
      )
      .all(organisationId, lookup.id ?? null, lookup.id ?? null, lookup.displayNameKey ?? null, lookup.displayNameKey ?? null, lookup.externalId ?? null, lookup.externalId ?? null)
      .map(scimGroup);
  }

  async organisations(): Promise<string[]> {
    return this.db
      .prepare('SELECT DISTINCT organisation_id FROM scim_groups ORDER BY organisation_id')
      .all()
      .map((r) => str(r, 'organisation_id'));
  }

  async appliedRoleTable(): Promise<string | undefined> {
    const r = this.db.prepare('SELECT rules FROM scim_group_roles_applied WHERE id = 1').get();
    return r === undefined ? undefined : str(r, 'rules');
  }

  async setAppliedRoleTable(expected: string | undefined, rules: string, at: string): Promise<boolean> {
    const changes =
      expected === undefined
        ? this.db.prepare('INSERT INTO scim_group_roles_applied (id, rules, applied_at) VALUES (1, ?, ?) ON CONFLICT (id) DO NOTHING').run(rules, at).changes
        : this.db.prepare('UPDATE scim_group_roles_applied SET rules = ?, applied_at = ? WHERE id = 1 AND rules = ?').run(rules, at, expected).changes;
    return changes === 1;
  }

  async insert(g: ScimGroupRecord): Promise<void> {
    run(() =>
      this.db
        .prepare(
          `INSERT INTO scim_groups (id, organisation_id, client_id, display_name_key, external_id, version, created_at, last_modified, resource)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(g.id, g.organisationId, g.clientId, g.displayNameKey, g.externalId, g.version, g.createdAt, g.lastModified, g.resource),
    );
  }

  async replace(id: string, expectedVersion: number, next: Pick<ScimGroupRecord, 'displayNameKey' | 'externalId' | 'resource' | 'lastModified'>): Promise<boolean> {
    return (
      run(() =>
        this.db
          .prepare('UPDATE scim_groups SET display_name_key = ?, external_id = ?, resource = ?, last_modified = ?, version = version + 1 WHERE id = ? AND version = ?')
          .run(next.displayNameKey, next.externalId, next.resource, next.lastModified, id, expectedVersion),
      ).changes === 1
    );
  }

  async lockOrganisation(_organisationId: string): Promise<void> {
    // SQLite has one writer at a time: a write transaction already excludes every other.
  }

  async remove(id: string, expectedVersion: number | null): Promise<boolean> {
    return this.db.prepare('DELETE FROM scim_groups WHERE id = ? AND (? IS NULL OR version = ?)').run(id, expectedVersion, expectedVersion).changes === 1;
  }
}
