/**
 * OIOSAML 3 identity-provider state (issue 15): service providers, pending AuthnRequests, seen
 * message IDs, session participants and the SAML signing keys.
 */
import { SAML_KEY_STATES, type SamlKeyRecord, type SamlParticipant, type SamlPendingRequest, type SamlServiceProviderRecord } from '../../domain/saml.js';
import type { SamlRepo } from '../../ports/repositories.js';
import type { Connection } from './connection.js';
import * as rows from './rows.js';

function serviceProvider(r: unknown): SamlServiceProviderRecord {
  const source = rows.str(r, 'source');
  if (source !== 'config' && source !== 'admin') throw new TypeError(`store: saml source ${source}`);
  return {
    entityId: rows.str(r, 'entity_id'),
    serviceProvider: rows.str(r, 'service_provider'),
    settings: rows.str(r, 'settings'),
    metadataXml: rows.str(r, 'metadata_xml'),
    source,
    updatedBy: rows.strOrNull(r, 'updated_by'),
    createdAt: rows.str(r, 'created_at'),
    updatedAt: rows.str(r, 'updated_at'),
  };
}

function participant(r: unknown): SamlParticipant {
  return {
    sessionHash: rows.str(r, 'session_hash'),
    entityId: rows.str(r, 'entity_id'),
    nameId: rows.str(r, 'name_id'),
    nameIdFormat: rows.str(r, 'name_id_format'),
    sessionIndex: rows.str(r, 'session_index'),
    createdAt: rows.str(r, 'created_at'),
  };
}

function key(r: unknown): SamlKeyRecord {
  const state = SAML_KEY_STATES.find((s) => s === rows.str(r, 'state'));
  if (!state) throw new TypeError('store: saml key state');
  return {
    kid: rows.str(r, 'kid'),
    ckaId: rows.str(r, 'cka_id'),
    state,
    certificatePem: rows.str(r, 'certificate_pem'),
    createdAt: rows.str(r, 'created_at'),
    activatedAt: rows.strOrNull(r, 'activated_at'),
    retiredAt: rows.strOrNull(r, 'retired_at'),
    destroyedAt: rows.strOrNull(r, 'destroyed_at'),
  };
}

export class SqliteSaml implements SamlRepo {
  constructor(private readonly db: Connection) {}

  async serviceProvider(entityId: string): Promise<SamlServiceProviderRecord | undefined> {
    const r = this.db.prepare('SELECT * FROM saml_service_providers WHERE entity_id = ?').get(entityId);
    return r === undefined ? undefined : serviceProvider(r);
  }

  async serviceProviders(): Promise<SamlServiceProviderRecord[]> {
    return this.db.prepare('SELECT * FROM saml_service_providers ORDER BY entity_id').all().map(serviceProvider);
  }

  async upsertServiceProvider(s: SamlServiceProviderRecord): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO saml_service_providers (entity_id, service_provider, settings, metadata_xml, source, updated_by, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(entity_id) DO UPDATE SET service_provider = excluded.service_provider, settings = excluded.settings,
           metadata_xml = excluded.metadata_xml, source = excluded.source, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
      )
      .run(s.entityId, s.serviceProvider, s.settings, s.metadataXml, s.source, s.updatedBy, s.createdAt, s.updatedAt);
  }

  async insertRequest(r: Omit<SamlPendingRequest, 'consumed'>): Promise<void> {
    this.db.prepare('INSERT INTO saml_requests (id, entity_id, params, created_at, expires_at) VALUES (?, ?, ?, ?, ?)').run(r.id, r.entityId, r.params, r.createdAt, r.expiresAt);
  }

  async request(id: string): Promise<SamlPendingRequest | undefined> {
    const r = this.db.prepare('SELECT * FROM saml_requests WHERE id = ?').get(id);
    return r === undefined
      ? undefined
      : {
          id: rows.str(r, 'id'),
          entityId: rows.str(r, 'entity_id'),
          params: rows.str(r, 'params'),
          createdAt: rows.str(r, 'created_at'),
          expiresAt: rows.str(r, 'expires_at'),
          consumed: rows.strOrNull(r, 'consumed_at') !== null,
        };
  }

  async consumeRequest(id: string, at: string): Promise<Pick<SamlPendingRequest, 'entityId' | 'params' | 'createdAt'> | undefined> {
    const r = this.db.prepare('UPDATE saml_requests SET consumed_at = ? WHERE id = ? AND consumed_at IS NULL AND expires_at > ? RETURNING entity_id, params, created_at').get(at, id, at);
    return r === undefined ? undefined : { entityId: rows.str(r, 'entity_id'), params: rows.str(r, 'params'), createdAt: rows.str(r, 'created_at') };
  }

  async useMessageId(messageKey: string, expiresAt: string): Promise<boolean> {
    return this.db.prepare('INSERT INTO saml_message_ids (message_key, expires_at) VALUES (?, ?) ON CONFLICT (message_key) DO NOTHING').run(messageKey, expiresAt).changes === 1;
  }

  async recordParticipant(p: SamlParticipant): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO saml_participants (session_hash, entity_id, name_id, name_id_format, session_index, created_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (session_hash, entity_id) DO UPDATE SET name_id = excluded.name_id, name_id_format = excluded.name_id_format,
           session_index = excluded.session_index, created_at = excluded.created_at`,
      )
      .run(p.sessionHash, p.entityId, p.nameId, p.nameIdFormat, p.sessionIndex, p.createdAt);
  }

  async participantsOfSession(sessionHash: string): Promise<SamlParticipant[]> {
    return this.db.prepare('SELECT * FROM saml_participants WHERE session_hash = ? ORDER BY entity_id').all(sessionHash).map(participant);
  }

  async participantByIndex(entityId: string, sessionIndex: string): Promise<SamlParticipant | undefined> {
    const r = this.db.prepare('SELECT * FROM saml_participants WHERE entity_id = ? AND session_index = ?').get(entityId, sessionIndex);
    return r === undefined ? undefined : participant(r);
  }

  async keys(): Promise<SamlKeyRecord[]> {
    return this.db.prepare('SELECT * FROM saml_keys ORDER BY created_at, kid').all().map(key);
  }

  async insertKey(k: SamlKeyRecord): Promise<void> {
    this.db
      .prepare('INSERT INTO saml_keys (kid, cka_id, state, certificate_pem, created_at, activated_at, retired_at, destroyed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(k.kid, k.ckaId, k.state, k.certificatePem, k.createdAt, k.activatedAt, k.retiredAt, k.destroyedAt);
  }

  async setCertificate(kid: string, certificatePem: string): Promise<boolean> {
    return this.db.prepare("UPDATE saml_keys SET certificate_pem = ? WHERE kid = ? AND state = 'pending'").run(certificatePem, kid).changes === 1;
  }

  async activateKey(kid: string, at: string): Promise<boolean> {
    return this.db.prepare("UPDATE saml_keys SET state = 'active', activated_at = ? WHERE kid = ? AND state = 'pending'").run(at, kid).changes === 1;
  }

  async retireKey(kid: string, at: string): Promise<boolean> {
    return this.db.prepare("UPDATE saml_keys SET state = 'retired', retired_at = ? WHERE kid = ? AND state = 'active'").run(at, kid).changes === 1;
  }

  async destroyKey(kid: string, at: string): Promise<boolean> {
    return this.db.prepare("UPDATE saml_keys SET state = 'destroyed', destroyed_at = ? WHERE kid = ? AND state = 'retired'").run(at, kid).changes === 1;
  }

  async discardKey(kid: string, at: string): Promise<boolean> {
    return this.db.prepare("UPDATE saml_keys SET state = 'destroyed', destroyed_at = ? WHERE kid = ? AND state = 'pending'").run(at, kid).changes === 1;
  }

  async pruneExpired(at: string): Promise<void> {
    this.db.prepare('DELETE FROM saml_message_ids WHERE expires_at < ?').run(at);
    this.db.prepare('DELETE FROM saml_requests WHERE expires_at < ?').run(at);
  }
}
