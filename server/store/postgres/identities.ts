/** Organisations, identities with their roles, and who set each identity up. */
import type { Language } from '../../../i18n/languages.js';
import { normaliseEmail, type NewIdentity, type SetupRecord } from '../../domain/identities.js';
import type { AssignedRole, Identity, Organisation } from '../../domain/types.js';
import type { IdentityRepo, OrganisationRepo, SetupRepo } from '../../ports/repositories.js';
import { inSavepoint, insertOrConflict } from './conflict.js';
import type { Sql } from './pool.js';
import * as records from './records.js';
import { countOf } from './rows.js';

export class PgOrganisations implements OrganisationRepo {
  constructor(private readonly sql: Sql) {}

  async insert(o: Organisation): Promise<void> {
    await insertOrConflict(this.sql, 'INSERT INTO organisations (id, cvr, name, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [
      o.id,
      o.cvr,
      o.name,
      o.createdAt,
    ]);
  }

  async get(id: string): Promise<Organisation | undefined> {
    const [r] = await this.sql.rows('SELECT * FROM organisations WHERE id = $1', [id]);
    return r === undefined ? undefined : records.organisation(r);
  }

  async byCvr(cvr: string): Promise<Organisation | undefined> {
    const [r] = await this.sql.rows('SELECT * FROM organisations WHERE cvr = $1', [cvr]);
    return r === undefined ? undefined : records.organisation(r);
  }
}

/** An identity row with its roles, sorted as SQLite sorts them (binary), in one statement. */
const WITH_ROLES = `i.*, ARRAY(SELECT r.role FROM identity_roles r WHERE r.identity_id = i.id ORDER BY r.role COLLATE "C") AS roles`;

export class PgIdentities implements IdentityRepo {
  constructor(private readonly sql: Sql) {}

  async insert(i: NewIdentity): Promise<void> {
    // ON CONFLICT DO NOTHING: an address bound already is a StoreConflict that leaves the
    // transaction usable, as SQLite's failed statement does (a unique violation would abort it).
    await insertOrConflict(
      this.sql,
      `INSERT INTO identities (id, organisation_id, name, email, email_norm, ial, proofing_method, proofed_by, binding_state, created_at, language)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'active', $9, $10) ON CONFLICT DO NOTHING`,
      [i.id, i.organisationId, i.name, i.email, normaliseEmail(i.email), i.ial, i.proofingMethod, i.proofedBy, i.createdAt, i.language ?? null],
    );
  }

  async get(id: string): Promise<Identity | undefined> {
    const [r] = await this.sql.rows(`SELECT ${WITH_ROLES} FROM identities i WHERE i.id = $1`, [id]);
    return r === undefined ? undefined : records.identity(r);
  }

  async findActiveByEmail(email: string): Promise<Identity | undefined> {
    const [r] = await this.sql.rows(`SELECT ${WITH_ROLES} FROM identities i WHERE i.email_norm = $1 AND i.binding_state = 'active'`, [normaliseEmail(email)]);
    return r === undefined ? undefined : records.identity(r);
  }

  async listActiveWithRole(role: AssignedRole): Promise<Identity[]> {
    const rows = await this.sql.rows(
      `SELECT ${WITH_ROLES} FROM identities i JOIN identity_roles g ON g.identity_id = i.id
       WHERE g.role = $1 AND i.binding_state = 'active' ORDER BY i.created_at, i.id COLLATE "C"`,
      [role],
    );
    return rows.map(records.identity);
  }

  async countActiveWithAnyRole(roles: readonly AssignedRole[]): Promise<number> {
    return countOf(
      await this.sql.rows(
        `SELECT count(DISTINCT i.id) AS n FROM identities i JOIN identity_roles r ON r.identity_id = i.id
         WHERE r.role = ANY($1::text[]) AND i.binding_state = 'active'`,
        [[...roles]],
      ),
    );
  }

  async search(organisationId: string, query: string, limit = 50): Promise<Identity[]> {
    const q = query.trim().toLowerCase();
    const like = `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const rows = await this.sql.rows(
      `SELECT ${WITH_ROLES} FROM identities i WHERE i.organisation_id = $1
         AND ($2 = '' OR i.id = $2 OR i.email_norm LIKE $3 ESCAPE '\\' OR lower(i.name) LIKE $3 ESCAPE '\\')
       ORDER BY i.binding_state = 'active' DESC, i.created_at DESC, i.id COLLATE "C" LIMIT $4`,
      [organisationId, q, like, limit],
    );
    return rows.map(records.identity);
  }

  async grantRole(identityId: string, role: AssignedRole, grantedBy: string | null, at: string): Promise<void> {
    await this.sql.count(
      'INSERT INTO identity_roles (identity_id, role, granted_by, granted_at) VALUES ($1, $2, $3, $4) ON CONFLICT (identity_id, role) DO NOTHING',
      [identityId, role, grantedBy, at],
    );
  }

  async revokeRole(identityId: string, role: AssignedRole): Promise<boolean> {
    return (await this.sql.count('DELETE FROM identity_roles WHERE identity_id = $1 AND role = $2', [identityId, role])) === 1;
  }

  async setEmail(identityId: string, email: string): Promise<boolean> {
    // An address another bound identity has is a StoreConflict; the savepoint keeps the
    // transaction usable after it (conflict.ts).
    const n = await inSavepoint(this.sql, () =>
      this.sql.count("UPDATE identities SET email = $1, email_norm = $2 WHERE id = $3 AND binding_state = 'active'", [email, normaliseEmail(email), identityId]),
    );
    return n === 1;
  }

  async setName(identityId: string, name: string): Promise<boolean> {
    return (await this.sql.count("UPDATE identities SET name = $1 WHERE id = $2 AND binding_state = 'active'", [name, identityId])) === 1;
  }

  async setLanguage(identityId: string, language: Language | null): Promise<boolean> {
    return (await this.sql.count("UPDATE identities SET language = $1 WHERE id = $2 AND binding_state = 'active'", [language, identityId])) === 1;
  }

  async endBinding(identityId: string, at: string): Promise<boolean> {
    return (
      (await this.sql.count("UPDATE identities SET binding_state = 'ended', binding_ended_at = $1 WHERE id = $2 AND binding_state = 'active'", [at, identityId])) === 1
    );
  }
}

export class PgSetups implements SetupRepo {
  constructor(private readonly sql: Sql) {}

  async record(s: SetupRecord): Promise<void> {
    await this.sql.count('INSERT INTO identity_setups (identity_id, aspect, detail, set_by, approved_by, at) VALUES ($1, $2, $3, $4, $5, $6)', [
      s.identityId,
      s.aspect,
      s.detail,
      s.setBy,
      s.approvedBy,
      s.at,
    ]);
  }

  async setUpBy(identityId: string, by: string): Promise<boolean> {
    return (await this.sql.rows('SELECT 1 AS found FROM identity_setups WHERE identity_id = $1 AND set_by = $2 LIMIT 1', [identityId, by])).length === 1;
  }

  async lastContactChange(identityId: string): Promise<SetupRecord | undefined> {
    const [r] = await this.sql.rows("SELECT * FROM identity_setups WHERE identity_id = $1 AND aspect = 'contact' ORDER BY id DESC LIMIT 1", [identityId]);
    return r === undefined ? undefined : records.setup(r);
  }

  async listFor(identityId: string): Promise<SetupRecord[]> {
    return (await this.sql.rows('SELECT * FROM identity_setups WHERE identity_id = $1 ORDER BY id', [identityId])).map(records.setup);
  }
}
