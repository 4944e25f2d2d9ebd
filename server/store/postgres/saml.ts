/**
 * OIOSAML 3 identity-provider state (issue 15) on PostgreSQL: the twin of sqlite/saml.ts.
 */
import { SAML_KEY_STATES, type SamlKeyRecord, type SamlParticipant, type SamlPendingRequest, type SamlServiceProviderRecord } from '../../domain/saml.js';
import type { SamlRepo } from '../../ports/repositories.js';
import { inSavepoint, insertOrConflict } from './conflict.js';
import type { Row, Sql } from './pool.js';
import { str, strOrNull } from './rows.js';

function serviceProvider(r: Row): SamlServiceProviderRecord {
  const source = str(r, 'source');
  if (source !== 'config' && source !== 'admin') throw new TypeError(`store: saml source ${source}`);
  return {
    entityId: str(r, 'entity_id'),
    serviceProvider: str(r, 'service_provider'),
    settings: str(r, 'settings'),
    metadataXml: str(r, 'metadata_xml'),
    source,
    updatedBy: strOrNull(r, 'updated_by'),
    createdAt: str(r, 'created_at'),
    updatedAt: str(r, 'updated_at'),
  };
}

function participant(r: Row): SamlParticipant {
  return {
    sessionHash: str(r, 'session_hash'),
    entityId: str(r, 'entity_id'),
    nameId: str(r, 'name_id'),
    nameIdFormat: str(r, 'name_id_format'),
    sessionIndex: str(r, 'session_index'),
    createdAt: str(r, 'created_at'),
  };
}

function key(r: Row): SamlKeyRecord {
  const state = SAML_KEY_STATES.find((s) => s === str(r, 'state'));
  if (!state) throw new TypeError('store: saml key state');
  return {
    kid: str(r, 'kid'),
    ckaId: str(r, 'cka_id'),
    state,
    certificatePem: str(r, 'certificate_pem'),
    createdAt: str(r, 'created_at'),
    activatedAt: strOrNull(r, 'activated_at'),
    retiredAt: strOrNull(r, 'retired_at'),
    destroyedAt: strOrNull(r, 'destroyed_at'),
  };
}

export class PgSaml implements SamlRepo {
  constructor(private readonly sql: Sql) {}

  async serviceProvider(entityId: string): Promise<SamlServiceProviderRecord | undefined> {
    const [r] = await this.sql.rows('SELECT * FROM saml_service_providers WHERE entity_id = $1', [entityId]);
    return r === undefined ? undefined : serviceProvider(r);
  }

  async serviceProviders(): Promise<SamlServiceProviderRecord[]> {
    return (await this.sql.rows('SELECT * FROM saml_service_providers ORDER BY entity_id COLLATE "C"')).map(serviceProvider);
  }

  async upsertServiceProvider(s: SamlServiceProviderRecord): Promise<void> {
    await this.sql.count(
      `INSERT INTO saml_service_providers (entity_id, service_provider, settings, metadata_xml, source, updated_by, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (entity_id) DO UPDATE SET service_provider = excluded.service_provider, settings = excluded.settings,
         metadata_xml = excluded.metadata_xml, source = excluded.source, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
      [s.entityId, s.serviceProvider, s.settings, s.metadataXml, s.source, s.updatedBy, s.createdAt, s.updatedAt],
    );
  }

  async insertRequest(r: Omit<SamlPendingRequest, 'consumed'>): Promise<void> {
    await insertOrConflict(this.sql, 'INSERT INTO saml_requests (id, entity_id, params, created_at, expires_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING', [
      r.id,
      r.entityId,
      r.params,
      r.createdAt,
      r.expiresAt,
    ]);
  }

  async request(id: string): Promise<SamlPendingRequest | undefined> {
    const [r] = await this.sql.rows('SELECT * FROM saml_requests WHERE id = $1', [id]);
    return r === undefined
      ? undefined
      : {
          id: str(r, 'id'),
          entityId: str(r, 'entity_id'),
          params: str(r, 'params'),
          createdAt: str(r, 'created_at'),
          expiresAt: str(r, 'expires_at'),
          consumed: strOrNull(r, 'consumed_at') !== null,
        };
  }

  async consumeRequest(id: string, at: string): Promise<Pick<SamlPendingRequest, 'entityId' | 'params' | 'createdAt'> | undefined> {
    const [r] = await this.sql.rows('UPDATE saml_requests SET consumed_at = $1 WHERE id = $2 AND consumed_at IS NULL AND expires_at > $1 RETURNING entity_id, params, created_at', [
      at,
      id,
    ]);
    return r === undefined ? undefined : { entityId: str(r, 'entity_id'), params: str(r, 'params'), createdAt: str(r, 'created_at') };
  }

  async useMessageId(messageKey: string, expiresAt: string): Promise<boolean> {
    // A caller that raced the first insert of the same key waits for it and then inserts nothing.
    return (await this.sql.count('INSERT INTO saml_message_ids (message_key, expires_at) VALUES ($1, $2) ON CONFLICT (message_key) DO NOTHING', [messageKey, expiresAt])) === 1;
  }

  async recordParticipant(p: SamlParticipant): Promise<void> {
    await this.sql.count(
      `INSERT INTO saml_participants (session_hash, entity_id, name_id, name_id_format, session_index, created_at) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (session_hash, entity_id) DO UPDATE SET name_id = excluded.name_id, name_id_format = excluded.name_id_format,
         session_index = excluded.session_index, created_at = excluded.created_at`,
      [p.sessionHash, p.entityId, p.nameId, p.nameIdFormat, p.sessionIndex, p.createdAt],
    );
  }

  async participantsOfSession(sessionHash: string): Promise<SamlParticipant[]> {
    return (await this.sql.rows('SELECT * FROM saml_participants WHERE session_hash = $1 ORDER BY entity_id COLLATE "C"', [sessionHash])).map(participant);
  }

  async participantByIndex(entityId: string, sessionIndex: string): Promise<SamlParticipant | undefined> {
    const [r] = await this.sql.rows('SELECT * FROM saml_participants WHERE entity_id = $1 AND session_index = $2', [entityId, sessionIndex]);
    return r === undefined ? undefined : participant(r);
  }

  async keys(): Promise<SamlKeyRecord[]> {
    return (await this.sql.rows('SELECT * FROM saml_keys ORDER BY created_at, kid COLLATE "C"')).map(key);
  }

  async insertKey(k: SamlKeyRecord): Promise<void> {
    await insertOrConflict(
      this.sql,
      'INSERT INTO saml_keys (kid, cka_id, state, certificate_pem, created_at, activated_at, retired_at, destroyed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING',
      [k.kid, k.ckaId, k.state, k.certificatePem, k.createdAt, k.activatedAt, k.retiredAt, k.destroyedAt],
    );
  }

  async setCertificate(kid: string, certificatePem: string): Promise<boolean> {
    return (await this.sql.count("UPDATE saml_keys SET certificate_pem = $1 WHERE kid = $2 AND state = 'pending'", [certificatePem, kid])) === 1;
  }

  async activateKey(kid: string, at: string): Promise<boolean> {
    // A second active key is a StoreConflict (saml_keys_one_active); the savepoint keeps the transaction usable.
    return (await inSavepoint(this.sql, () => this.sql.count("UPDATE saml_keys SET state = 'active', activated_at = $1 WHERE kid = $2 AND state = 'pending'", [at, kid]))) === 1;
  }

  async retireKey(kid: string, at: string): Promise<boolean> {
    return (await this.sql.count("UPDATE saml_keys SET state = 'retired', retired_at = $1 WHERE kid = $2 AND state = 'active'", [at, kid])) === 1;
  }

  async destroyKey(kid: string, at: string): Promise<boolean> {
    return (await this.sql.count("UPDATE saml_keys SET state = 'destroyed', destroyed_at = $1 WHERE kid = $2 AND state = 'retired'", [at, kid])) === 1;
  }

  async discardKey(kid: string, at: string): Promise<boolean> {
    return (await this.sql.count("UPDATE saml_keys SET state = 'destroyed', destroyed_at = $1 WHERE kid = $2 AND state = 'pending'", [at, kid])) === 1;
  }

  async pruneExpired(at: string): Promise<void> {
    await this.sql.count('DELETE FROM saml_message_ids WHERE expires_at < $1', [at]);
    await this.sql.count('DELETE FROM saml_requests WHERE expires_at < $1', [at]);
  }
}
