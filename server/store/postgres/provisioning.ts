/** Provisioning clients, their tokens and the SCIM Users they manage (issue 18). */
import type { ProvisioningClient, ProvisioningToken, ScimUserLookup, ScimUserRecord } from '../../domain/provisioning.js';
import { IDENTITY_ASSURANCE_LEVELS } from '../../domain/types.js';
import type { ProvisioningRepo, ScimUserRepo } from '../../ports/provisioning.js';
import { inSavepoint, insertOrConflict } from './conflict.js';
import type { Row, Sql } from './pool.js';
import { num, oneOf, str, strOrNull } from './rows.js';

function client(r: Row): ProvisioningClient {
  return {
    id: str(r, 'id'),
    organisationId: str(r, 'organisation_id'),
    label: str(r, 'label'),
    ial: oneOf(r, 'ial', IDENTITY_ASSURANCE_LEVELS),
    proofingMethod: str(r, 'proofing_method'),
    createdBy: strOrNull(r, 'created_by'),
    createdAt: str(r, 'created_at'),
  };
}

function token(r: Row): ProvisioningToken {
  return {
    tokenId: str(r, 'token_id'),
    clientId: str(r, 'client_id'),
    secretHash: str(r, 'secret_hash'),
    createdBy: strOrNull(r, 'created_by'),
    createdAt: str(r, 'created_at'),
    notAfter: strOrNull(r, 'not_after'),
    revokedAt: strOrNull(r, 'revoked_at'),
  };
}

function scimUser(r: Row): ScimUserRecord {
  return {
    id: str(r, 'id'),
    organisationId: str(r, 'organisation_id'),
    clientId: str(r, 'client_id'),
    identityId: str(r, 'identity_id'),
    userNameKey: str(r, 'user_name_key'),
    externalId: strOrNull(r, 'external_id'),
    version: num(r, 'version'),
    createdAt: str(r, 'created_at'),
    lastModified: str(r, 'last_modified'),
    resource: str(r, 'resource'),
  };
}

export class PgProvisioning implements ProvisioningRepo {
  constructor(private readonly sql: Sql) {}

  async client(id: string): Promise<ProvisioningClient | undefined> {
    const [r] = await this.sql.rows('SELECT * FROM provisioning_clients WHERE id = $1', [id]);
    return r === undefined ? undefined : client(r);
  }

  async clients(organisationId: string): Promise<ProvisioningClient[]> {
    return (await this.sql.rows('SELECT * FROM provisioning_clients WHERE organisation_id = $1 ORDER BY created_at, id COLLATE "C"', [organisationId])).map(client);
  }

  async token(tokenId: string): Promise<ProvisioningToken | undefined> {
    const [r] = await this.sql.rows('SELECT * FROM provisioning_tokens WHERE token_id = $1', [tokenId]);
    return r === undefined ? undefined : token(r);
  }

  async tokensOf(clientId: string): Promise<ProvisioningToken[]> {
    return (await this.sql.rows('SELECT * FROM provisioning_tokens WHERE client_id = $1 ORDER BY created_at, token_id COLLATE "C"', [clientId])).map(token);
  }

  async insertClient(c: ProvisioningClient): Promise<void> {
    await insertOrConflict(
      this.sql,
      'INSERT INTO provisioning_clients (id, organisation_id, label, ial, proofing_method, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING',
      [c.id, c.organisationId, c.label, c.ial, c.proofingMethod, c.createdBy, c.createdAt],
    );
  }

  async insertToken(t: ProvisioningToken): Promise<void> {
    await insertOrConflict(
      this.sql,
      'INSERT INTO provisioning_tokens (token_id, client_id, secret_hash, created_by, created_at, not_after, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING',
      [t.tokenId, t.clientId, t.secretHash, t.createdBy, t.createdAt, t.notAfter, t.revokedAt],
    );
  }

  async revokeToken(tokenId: string, at: string): Promise<boolean> {
    return (await this.sql.count('UPDATE provisioning_tokens SET revoked_at = $1 WHERE token_id = $2 AND revoked_at IS NULL', [at, tokenId])) === 1;
  }
}

export class PgScimUsers implements ScimUserRepo {
  constructor(private readonly sql: Sql) {}

  async get(organisationId: string, id: string): Promise<ScimUserRecord | undefined> {
    const [r] = await this.sql.rows('SELECT * FROM scim_users WHERE id = $1 AND organisation_id = $2', [id, organisationId]);
    return r === undefined ? undefined : scimUser(r);
  }

  async byIdentity(identityId: string): Promise<ScimUserRecord | undefined> {
    const [r] = await this.sql.rows('SELECT * FROM scim_users WHERE identity_id = $1', [identityId]);
    return r === undefined ? undefined : scimUser(r);
  }

  async find(organisationId: string, lookup: ScimUserLookup): Promise<ScimUserRecord[]> {
    const rows = await this.sql.rows(
      `SELECT * FROM scim_users WHERE organisation_id = $1
         AND ($2::text IS NULL OR id = $2) AND ($3::text IS NULL OR user_name_key = $3) AND ($4::text IS NULL OR external_id = $4)
       ORDER BY created_at, id COLLATE "C"`,
      [organisationId, lookup.id ?? null, lookup.userNameKey ?? null, lookup.externalId ?? null],
    );
    return rows.map(scimUser);
  }

  async countByClient(organisationId: string): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const r of await this.sql.rows('SELECT client_id, COUNT(*) AS n FROM scim_users WHERE organisation_id = $1 GROUP BY client_id', [organisationId])) {
      out[str(r, 'client_id')] = num(r, 'n');
    }
    return out;
  }

  async insert(u: ScimUserRecord): Promise<void> {
    await insertOrConflict(
      this.sql,
      `INSERT INTO scim_users (id, organisation_id, client_id, identity_id, user_name_key, external_id, version, created_at, last_modified, resource)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING`,
      [u.id, u.organisationId, u.clientId, u.identityId, u.userNameKey, u.externalId, u.version, u.createdAt, u.lastModified, u.resource],
    );
  }

  async replace(id: string, expectedVersion: number, next: Pick<ScimUserRecord, 'userNameKey' | 'externalId' | 'resource' | 'lastModified'>): Promise<boolean> {
    // A userName or externalId another row took meanwhile is a StoreConflict; the savepoint keeps
    // the transaction usable after it (conflict.ts).
    const n = await inSavepoint(this.sql, () =>
      this.sql.count('UPDATE scim_users SET user_name_key = $1, external_id = $2, resource = $3, last_modified = $4, version = version + 1 WHERE id = $5 AND version = $6', [
        next.userNameKey,
        next.externalId,
        next.resource,
        next.lastModified,
        id,
        expectedVersion,
      ]),
    );
    return n === 1;
  }

  async remove(id: string, expectedVersion: number | null): Promise<boolean> {
    return (await this.sql.count('DELETE FROM scim_users WHERE id = $1 AND ($2::integer IS NULL OR version = $2)', [id, expectedVersion])) === 1;
  }
}
