/** The SCIM Groups the organisation's directory manages (issue 18): groups mapped to gateway roles. */
import type { ScimGroupLookup, ScimGroupRecord } from '../../domain/provisioning.js';
import type { ScimGroupRepo } from '../../ports/scimGroups.js';
import { inSavepoint, insertOrConflict } from './conflict.js';
import { lockKeyForTransaction } from './advisoryLocks.js';
import type { Row, TxSql } from './pool.js';
import { num, str, strOrNull } from './rows.js';

function scimGroup(r: Row): ScimGroupRecord {
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

export class PgScimGroups implements ScimGroupRepo {
  constructor(private readonly sql: TxSql) {}

  async get(organisationId: string, id: string): Promise<ScimGroupRecord | undefined> {
    const [r] = await this.sql.rows('SELECT * FROM scim_groups WHERE id = $1 AND organisation_id = $2', [id, organisationId]);
    return r === undefined ? undefined : scimGroup(r);
  }

  async find(organisationId: string, lookup: ScimGroupLookup): Promise<ScimGroupRecord[]> {
    const rows = await this.sql.rows(
      `SELECT * FROM scim_groups WHERE organisation_id = $1
         AND ($2::text IS NULL OR id = $2) AND ($3::text IS NULL OR display_name_key = $3) AND ($4::text IS NULL OR external_id = $4)
       ORDER BY created_at, id COLLATE "C"`,
      [organisationId, lookup.id ?? null, lookup.displayNameKey ?? null, lookup.externalId ?? null],
    );
    return rows.map(scimGroup);
  }

  async organisations(): Promise<string[]> {
    return (await this.sql.rows('SELECT organisation_id FROM scim_groups GROUP BY organisation_id ORDER BY organisation_id COLLATE "C"')).map((r) => str(r, 'organisation_id'));
  }

  async appliedRoleTable(): Promise<string | undefined> {
    const [r] = await this.sql.rows('SELECT rules FROM scim_group_roles_applied WHERE id = 1');
    return r === undefined ? undefined : str(r, 'rules');
  }

  async setAppliedRoleTable(expected: string | undefined, rules: string, at: string): Promise<boolean> {
    const n =
      expected === undefined
        ? await this.sql.count('INSERT INTO scim_group_roles_applied (id, rules, applied_at) VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING', [rules, at])
        : await this.sql.count('UPDATE scim_group_roles_applied SET rules = $1, applied_at = $2 WHERE id = 1 AND rules = $3', [rules, at, expected]);
    return n === 1;
  }

  async insert(g: ScimGroupRecord): Promise<void> {
    await insertOrConflict(
      this.sql,
      `INSERT INTO scim_groups (id, organisation_id, client_id, display_name_key, external_id, version, created_at, last_modified, resource)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
      [g.id, g.organisationId, g.clientId, g.displayNameKey, g.externalId, g.version, g.createdAt, g.lastModified, g.resource],
    );
  }

  async replace(id: string, expectedVersion: number, next: Pick<ScimGroupRecord, 'displayNameKey' | 'externalId' | 'resource' | 'lastModified'>): Promise<boolean> {
    // A displayName or externalId another row took meanwhile is a StoreConflict; the savepoint
    // keeps the transaction usable after it (conflict.ts).
    const n = await inSavepoint(this.sql, () =>
      this.sql.count('UPDATE scim_groups SET display_name_key = $1, external_id = $2, resource = $3, last_modified = $4, version = version + 1 WHERE id = $5 AND version = $6', [
        next.displayNameKey,
        next.externalId,
        next.resource,
        next.lastModified,
        id,
        expectedVersion,
      ]),
    );
    return n === 1;
  }

  async lockOrganisation(organisationId: string): Promise<void> {
    await lockKeyForTransaction(this.sql, 'scimGroups', organisationId);
  }

  async remove(id: string, expectedVersion: number | null): Promise<boolean> {
    return (await this.sql.count('DELETE FROM scim_groups WHERE id = $1 AND ($2::integer IS NULL OR version = $2)', [id, expectedVersion])) === 1;
  }
}
