/** Organisations, identities with their roles, and who set each identity up. */
import type { Language } from '../../../i18n/languages.js';
import { normaliseEmail, type NewIdentity, type SetupRecord } from '../../domain/identities.js';
import type { AssignedRole, Identity, Organisation } from '../../domain/types.js';
import type { IdentityRepo, OrganisationRepo, SetupRepo } from '../../ports/repositories.js';
import type { Connection } from './connection.js';
import { setup } from './recordRows.js';
import * as rows from './rows.js';

export class SqliteOrganisations implements OrganisationRepo {
  constructor(private readonly db: Connection) {}

  async insert(o: Organisation): Promise<void> {
    this.db.prepare('INSERT INTO organisations (id, cvr, name, created_at) VALUES (?, ?, ?, ?)').run(o.id, o.cvr, o.name, o.createdAt);
  }

  async get(id: string): Promise<Organisation | undefined> {
    const r = this.db.prepare('SELECT * FROM organisations WHERE id = ?').get(id);
    return r === undefined ? undefined : rows.organisation(r);
  }

  async byCvr(cvr: string): Promise<Organisation | undefined> {
    const r = this.db.prepare('SELECT * FROM organisations WHERE cvr = ?').get(cvr);
    return r === undefined ? undefined : rows.organisation(r);
  }
}

/** The roles of identity `i`, sorted (binary), as a JSON array: read with the identity's row, in one statement. */
export const ROLES_JSON = '(SELECT json_group_array(role) FROM (SELECT r.role FROM identity_roles r WHERE r.identity_id = i.id ORDER BY r.role))';

/** The roles of a ROLES_JSON column, each checked. */
export function rolesOfJson(r: unknown, column: string): AssignedRole[] {
  const parsed: unknown = JSON.parse(rows.str(r, column));
  if (!Array.isArray(parsed)) throw new TypeError(`column ${column} is not a JSON array`);
  return parsed.map((role: unknown) => rows.role({ role }));
}

export class SqliteIdentities implements IdentityRepo {
  constructor(private readonly db: Connection) {}

  /** An identity row with its roles (ROLES_JSON) read in the same statement (issue 17: one statement, not two). */
  private withRolesJson(r: unknown): Identity {
    return rows.identity(r, rolesOfJson(r, 'roles_json'));
  }

  private rolesOf(identityId: string): AssignedRole[] {
    return this.db
      .prepare('SELECT role FROM identity_roles WHERE identity_id = ? ORDER BY role')
      .all(identityId)
      .map((r) => rows.role(r));
  }

  private withRoles(r: unknown): Identity {
    return rows.identity(r, this.rolesOf(rows.str(r, 'id')));
  }

  async insert(i: NewIdentity): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO identities (id, organisation_id, name, email, email_norm, ial, proofing_method, proofed_by, binding_state, created_at, language)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?)`,
      )
      .run(i.id, i.organisationId, i.name, i.email, normaliseEmail(i.email), i.ial, i.proofingMethod, i.proofedBy, i.createdAt, i.language ?? null);
  }

  async get(id: string): Promise<Identity | undefined> {
    const r = this.db.prepare(`SELECT i.*, ${ROLES_JSON} AS roles_json FROM identities i WHERE i.id = ?`).get(id);
    return r === undefined ? undefined : this.withRolesJson(r);
  }

  async findActiveByEmail(email: string): Promise<Identity | undefined> {
    const r = this.db.prepare(`SELECT i.*, ${ROLES_JSON} AS roles_json FROM identities i WHERE i.email_norm = ? AND i.binding_state = 'active'`).get(normaliseEmail(email));
    return r === undefined ? undefined : this.withRolesJson(r);
  }

  async listActiveWithRole(role: AssignedRole): Promise<Identity[]> {
    return this.db
      .prepare(
        `SELECT i.* FROM identities i JOIN identity_roles r ON r.identity_id = i.id
         WHERE r.role = ? AND i.binding_state = 'active' ORDER BY i.created_at`,
      )
      .all(role)
      .map((r) => this.withRoles(r));
  }

  async countActiveWithAnyRole(roles: readonly AssignedRole[]): Promise<number> {
    const r = this.db
      .prepare(
        `SELECT count(DISTINCT i.id) AS n FROM identities i JOIN identity_roles r ON r.identity_id = i.id
         WHERE r.role IN (SELECT value FROM json_each(?)) AND i.binding_state = 'active'`,
      )
      .get(JSON.stringify(roles));
    return rows.num(r, 'n');
  }

  async search(organisationId: string, query: string, limit = 50): Promise<Identity[]> {
    const q = query.trim().toLowerCase();
    const like = `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    return this.db
      .prepare(
        `SELECT * FROM identities WHERE organisation_id = ?
           AND (? = '' OR id = ? OR email_norm LIKE ? ESCAPE '\\' OR lower(name) LIKE ? ESCAPE '\\')
         ORDER BY binding_state = 'active' DESC, created_at DESC LIMIT ?`,
      )
      .all(organisationId, q, q, like, like, limit)
      .map((r) => this.withRoles(r));
  }

  async grantRole(identityId: string, role: AssignedRole, grantedBy: string | null, at: string): Promise<void> {
    this.db
      .prepare('INSERT INTO identity_roles (identity_id, role, granted_by, granted_at) VALUES (?, ?, ?, ?) ON CONFLICT (identity_id, role) DO NOTHING')
      .run(identityId, role, grantedBy, at);
  }

  async revokeRole(identityId: string, role: AssignedRole): Promise<boolean> {
    return this.db.prepare('DELETE FROM identity_roles WHERE identity_id = ? AND role = ?').run(identityId, role).changes === 1;
  }

  async setEmail(identityId: string, email: string): Promise<boolean> {
    return (
      this.db
        .prepare("UPDATE identities SET email = ?, email_norm = ? WHERE id = ? AND binding_state = 'active'")
        .run(email, normaliseEmail(email), identityId).changes === 1
    );
  }

  async setName(identityId: string, name: string): Promise<boolean> {
    return this.db.prepare("UPDATE identities SET name = ? WHERE id = ? AND binding_state = 'active'").run(name, identityId).changes === 1;
  }

  async setLanguage(identityId: string, language: Language | null): Promise<boolean> {
    return this.db.prepare("UPDATE identities SET language = ? WHERE id = ? AND binding_state = 'active'").run(language, identityId).changes === 1;
  }

  async endBinding(identityId: string, at: string): Promise<boolean> {
    return (
      this.db
        .prepare("UPDATE identities SET binding_state = 'ended', binding_ended_at = ? WHERE id = ? AND binding_state = 'active'")
        .run(at, identityId).changes === 1
    );
  }
}

export class SqliteSetups implements SetupRepo {
  constructor(private readonly db: Connection) {}

  async record(s: SetupRecord): Promise<void> {
    this.db
      .prepare('INSERT INTO identity_setups (identity_id, aspect, detail, set_by, approved_by, at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(s.identityId, s.aspect, s.detail, s.setBy, s.approvedBy, s.at);
  }

  async setUpBy(identityId: string, by: string): Promise<boolean> {
    return this.db.prepare('SELECT 1 FROM identity_setups WHERE identity_id = ? AND set_by = ? LIMIT 1').get(identityId, by) !== undefined;
  }

  async lastContactChange(identityId: string): Promise<SetupRecord | undefined> {
    const r = this.db.prepare("SELECT * FROM identity_setups WHERE identity_id = ? AND aspect = 'contact' ORDER BY id DESC LIMIT 1").get(identityId);
    return r === undefined ? undefined : setup(r);
  }

  async listFor(identityId: string): Promise<SetupRecord[]> {
    return this.db.prepare('SELECT * FROM identity_setups WHERE identity_id = ? ORDER BY id').all(identityId).map(setup);
  }
}
