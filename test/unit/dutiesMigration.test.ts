/**
 * Migration 11 on a database of the previous release (schema 8): the console's approvals and the key
 * requests become one approvals table, and who set up each identity is recorded, including the
 * contact changes made alone before approvals existed (NSIS 3.2.2 (High) 3).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { MIGRATIONS } from '../../server/store/sqlite/migrations/index.js';
import { SqliteStore } from '../../server/store/sqlite/index.js';
import { num } from '../../server/store/sqlite/rows.js';
import { closeInspection, openSqlFile, sql } from '../support/sqliteInspection.js';

describe('migration 11: separation of duties', () => {
  it('NSIS 3.2.2 (High) 3: an upgraded database keeps its approvals and key requests in one table, and records past contact changes as made alone', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gw-migration-'));
    const file = path.join(dir, 'gateway.db');
    try {
      const db = openSqlFile(file, { create: true });
      db.pragma('foreign_keys = ON');
      db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
      for (const m of MIGRATIONS.filter((x) => x.version < 9)) {
        db.exec(m.sql);
        db.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?)').run(m.version, m.name, '2026-01-01T00:00:00.000Z');
      }
      const at = '2026-01-02T00:00:00.000Z';
      db.prepare("INSERT INTO organisations VALUES ('o', '12345674', 'Org', ?)").run(at);
      const person = (id: string, by: string | null) =>
        db.prepare("INSERT INTO identities (id, organisation_id, name, email, email_norm, ial, proofing_method, proofed_by, binding_state, created_at) VALUES (?, 'o', ?, ?, ?, 'substantial', 'HR', ?, 'active', ?)").run(id, id, `${id}@x.example`, `${id}@x.example`, by, at);
      person('admin', null);
      person('officer', 'admin');
      db.prepare("INSERT INTO identity_roles VALUES ('admin', 'org-admin', NULL, ?), ('officer', 'security-officer', 'admin', ?), ('officer', 'employee', 'admin', ?)").run(at, at, at);
      db.prepare("INSERT INTO approvals (id, kind, payload, summary, requested_by, requested_at, state) VALUES ('a1', 'bulk', '{}', 'suspend 2 keys', 'admin', ?, 'pending')").run(at);
      db.prepare("INSERT INTO key_requests (id, kind, target_kid, reason, requested_by, requested_at, state, decided_by, decided_at, result) VALUES ('k1', 'destroy', 'kid-1', 'old', 'officer', ?, 'executed', 'admin', ?, 'key kid-1 destroyed')").run(at, at);
      db.prepare(
        "INSERT INTO audit_events (seq, at, type, actor_id, actor_role, subject_id, data, prev_hash, hash) VALUES (1, ?, 'identity.contact-changed', 'admin', 'org-admin', 'officer', '{\"field\":\"email\",\"to\":\"mine@x.example\"}', 'x', 'y')",
      ).run(at);
      db.close();

      const store = SqliteStore.open(file);
      try {
        assert.equal(await store.schemaVersion(), MIGRATIONS.at(-1)?.version);
        const bulk = await store.read((tx) => tx.approvals.get('a1'));
        assert.deepEqual([bulk?.kind, bulk?.state, bulk?.requestedRole, bulk?.items], ['bulk', 'pending', 'helpdesk', []]);
        const key = await store.read((tx) => tx.approvals.get('k1'));
        assert.deepEqual([key?.kind, key?.state, key?.requestedBy, key?.decidedBy, key?.decidedRole], ['hsm-key-destroy', 'executed', 'officer', 'admin', 'security-officer']);
        assert.deepEqual(JSON.parse(key?.payload ?? '{}'), { targetKid: 'kid-1', reason: 'old' });
        assert.equal(num(sql(file).prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'key_requests'").get(), 'n'), 0, 'one approvals table: the old one is gone');
        assert.equal(await store.read((tx) => tx.setups.setUpBy('officer', 'admin')), true, 'created and given a role by the admin');
        assert.equal(await store.read((tx) => tx.setups.setUpBy('admin', 'officer')), false);
        const change = await store.read((tx) => tx.setups.lastContactChange('officer'));
        assert.deepEqual([change?.setBy, change?.approvedBy, change?.detail], ['admin', null, 'mine@x.example']);
        assert.throws(() => sql(file).prepare('DELETE FROM identity_setups').run(), /append-only/);
      } finally {
        closeInspection(file);
        await store.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
