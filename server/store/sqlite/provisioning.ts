/** Provisioning clients, their tokens and the SCIM Users they manage (issue 18). */
import type { ProvisioningClient, ProvisioningToken, ScimUserLookup, ScimUserRecord } from '../../domain/provisioning.js';
import { IDENTITY_ASSURANCE_LEVELS } from '../../domain/types.js';
import type { ProvisioningRepo, ScimUserRepo } from '../../ports/provisioning.js';
import type { Connection } from './connection.js';
import { storeErrorOf } from './errors.js';
import { num, oneOf, str, strOrNull } from './rows.js';

function client(r: unknown): ProvisioningClient {
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

function token(r: unknown): ProvisioningToken {
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

function scimUser(r: unknown): ScimUserRecord {
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

/** A unique-constraint failure as the port's StoreConflict, at the statement (the caller may go on). */
function run<T>(statement: () => T): T {
  try {
    return statement();
  } catch (err) {
    throw storeErrorOf(err);
  }
}

export class SqliteProvisioning implements ProvisioningRepo {
  constructor(private readonly db: Connection) {}

  async client(id: string): Promise<ProvisioningClient | undefined> {
    const r = this.db.prepare('SELECT * FROM provisioning_clients WHERE id = ?').get(id);
    return r === undefined ? undefined : client(r);
  }

  async clients(organisationId: string): Promise<ProvisioningClient[]> {
    return this.db.prepare('SELECT * FROM provisioning_clients WHERE organisation_id = ? ORDER BY created_at, rowid').all(organisationId).map(client);
  }

  async token(tokenId: string): Promise<ProvisioningToken | undefined> {
    const r = this.db.prepare('SELECT * FROM provisioning_tokens WHERE token_id = ?').get(tokenId);
    return r === undefined ? undefined : token(r);
  }

  async tokensOf(clientId: string): Promise<ProvisioningToken[]> {
    return this.db.prepare('SELECT * FROM provisioning_tokens WHERE client_id = ? ORDER BY created_at, rowid').all(clientId).map(token);
  }

  async insertClient(c: ProvisioningClient): Promise<void> {
    run(() =>
      this.db
        .prepare('INSERT INTO provisioning_clients (id, organisation_id, label, ial, proofing_method, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(c.id, c.organisationId, c.label, c.ial, c.proofingMethod, c.createdBy, c.createdAt),
    );
  }

  async insertToken(t: ProvisioningToken): Promise<void> {
    run(() =>
      this.db
        .prepare('INSERT INTO provisioning_tokens (token_id, client_id, secret_hash, created_by, created_at, not_after, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(t.tokenId, t.clientId, t.secretHash, t.createdBy, t.createdAt, t.notAfter, t.revokedAt),
    );
  }

  async revokeToken(tokenId: string, at: string): Promise<boolean> {
    return this.db.prepare('UPDATE provisioning_tokens SET revoked_at = ? WHERE token_id = ? AND revoked_at IS NULL').run(at, tokenId).changes === 1;
  }
}

export class SqliteScimUsers implements ScimUserRepo {
  constructor(private readonly db: Connection) {}

  async get(organisationId: string, id: string): Promise<ScimUserRecord | undefined> {
    const r = this.db.prepare('SELECT * FROM scim_users WHERE id = ? AND organisation_id = ?').get(id, organisationId);
    return r === undefined ? undefined : scimUser(r);
  }

  async byIdentity(identityId: string): Promise<ScimUserRecord | undefined> {
    const r = this.db.prepare('SELECT * FROM scim_users WHERE identity_id = ?').get(identityId);
    return r === undefined ? undefined : scimUser(r);
  }

  async find(organisationId: string, lookup: ScimUserLookup): Promise<ScimUserRecord[]> {
    return this.db
      .prepare(
        `SELECT * FROM scim_users WHERE organisation_id = ?
           AND (? IS NULL OR id = ?) AND (? IS NULL OR user_name_key = ?) AND (? IS NULL OR external_id = ?)
         ORDER BY created_at, rowid`,
      )
      .all(organisationId, lookup.id ?? null, lookup.id ?? null, lookup.userNameKey ?? null, lookup.userNameKey ?? null, lookup.externalId ?? null, lookup.externalId ?? null)
      .map(scimUser);
  }

  async countByClient(organisationId: string): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const r of this.db.prepare('SELECT client_id, COUNT(*) AS n FROM scim_users WHERE organisation_id = ? GROUP BY client_id').all(organisationId)) {
      out[str(r, 'client_id')] = num(r, 'n');
    }
    return out;
  }

  async insert(u: ScimUserRecord): Promise<void> {
    run(() =>
      this.db
        .prepare(
          `INSERT INTO scim_users (id, organisation_id, client_id, identity_id, user_name_key, external_id, version, created_at, last_modified, resource)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(u.id, u.organisationId, u.clientId, u.identityId, u.userNameKey, u.externalId, u.version, u.createdAt, u.lastModified, u.resource),
    );
  }

  async replace(id: string, expectedVersion: number, next: Pick<ScimUserRecord, 'userNameKey' | 'externalId' | 'resource' | 'lastModified'>): Promise<boolean> {
    return (
      run(() =>
        this.db
          .prepare('UPDATE scim_users SET user_name_key = ?, external_id = ?, resource = ?, last_modified = ?, version = version + 1 WHERE id = ? AND version = ?')
          .run(next.userNameKey, next.externalId, next.resource, next.lastModified, id, expectedVersion),
      ).changes === 1
    );
  }

  async remove(id: string, expectedVersion: number | null): Promise<boolean> {
    return this.db.prepare('DELETE FROM scim_users WHERE id = ? AND (? IS NULL OR version = ?)').run(id, expectedVersion, expectedVersion).changes === 1;
  }
}
