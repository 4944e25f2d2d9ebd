/**
 * Bulk loading of a benchmark database (scripts/seed-keys.ts): many identities, keys, their state
 * history and audit events, written as the gateway writes them, in one transaction. The audit
 * events are chained exactly as the store's audit.append chains them (the same entryHash over the same
 * body, the same columns, continuing from the head read inside the write transaction).
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import { GENESIS_HASH, entryHash } from '../../audit/hashChain.js';
import type { AssignedRole, AssuranceLevel, Credential } from '../../domain/types.js';
import { MIGRATIONS } from './migrations/index.js';
import type { AuditInput } from '../../domain/audit.js';
import type { CredentialEvent } from '../../domain/keys.js';
import { normaliseEmail } from '../../domain/identities.js';
import * as rows from './rows.js';

export interface SeedIdentity {
  id: string;
  organisationId: string;
  name: string;
  email: string;
  ial: AssuranceLevel;
  proofingMethod: string;
  proofedBy: string | null;
  createdAt: string;
}

export interface SeedRole {
  identityId: string;
  role: AssignedRole;
  grantedBy: string | null;
  grantedAt: string;
}

export interface SeedEnrolment {
  id: string;
  identityId: string;
  tokenHash: string;
  createdBy: string | null;
  createdAt: string;
  expiresAt: string;
  consumedAt: string | null;
}

/** A credential as the seed writes it: always rated (the policy ran at its registration). */
export type SeedCredential = Omit<Credential, 'aal'> & { aal: AssuranceLevel };

export interface SeedActivationCode {
  id: string;
  credentialId: string;
  purpose: 'activate' | 'reactivate';
  codeHash: string;
  requestedBy: string | null;
  createdAt: string;
  expiresAt: string;
  consumedAt: string | null;
}

export interface SeedSession {
  idHash: string;
  identityId: string;
  credentialId: string;
  aal: AssuranceLevel;
  amr: string[];
  sid: string;
  createdAt: string;
  lastSeenAt: string;
  absoluteExpiresAt: string;
}

/** A mail as the outbox keeps it once delivered: the envelope, the body erased. */
export interface SeedDeliveredMail {
  id: string;
  recipient: string;
  subject: string;
  kind: string;
  createdAt: string;
  sentAt: string;
}

/** A state-history row; its audit event is named by its index in the batch's `audit` list. */
export type SeedCredentialEvent = Omit<CredentialEvent, 'id' | 'auditSeq'> & { auditIndex: number };

/** One transaction's worth of rows. `audit` is appended to the chain in this order. */
export interface SeedBatch {
  identities: SeedIdentity[];
  roles: SeedRole[];
  enrolments: SeedEnrolment[];
  credentials: SeedCredential[];
  activationCodes: SeedActivationCode[];
  sessions: SeedSession[];
  credentialEvents: SeedCredentialEvent[];
  deliveredMails: SeedDeliveredMail[];
  audit: AuditInput[];
}

/** The tables a load writes to. */
const LOADED_TABLES = ['identities', 'identity_roles', 'enrolments', 'credentials', 'activation_codes', 'sessions', 'outbox', 'credential_events', 'audit_events'];

type Statements = Record<
  'identity' | 'role' | 'enrolment' | 'credential' | 'code' | 'session' | 'mail' | 'event' | 'audit' | 'head',
  Database.Statement
>;

export class SeedRepository {
  private statements: Statements | undefined;
  private load: { indexes: { name: string; sql: string }[]; seq: number; hash: string } | undefined;

  private constructor(readonly db: Database.Database) {}

  /**
   * Opens an existing, fully migrated gateway database for a bulk load, or throws naming why not:
   * a file that is not a gateway database, or one another process has open (a running gateway).
   * It never creates or migrates.
   */
  static openForBulkLoad(file: string): SeedRepository {
    if (!fs.existsSync(file)) throw new Error(`no database at ${file}: start the gateway once on it to create and migrate it, then seed`);
    const db = new Database(file, { fileMustExist: true });
    try {
      const hasMigrations = db.prepare("SELECT 1 AS one FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get();
      if (hasMigrations === undefined) throw new Error(`${file} is not a gateway database (no schema_migrations table)`);
      const version = rows.num(db.prepare('SELECT max(version) AS v FROM schema_migrations').get(), 'v');
      const latest = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;
      if (version !== latest) {
        throw new Error(`${file} has schema version ${version}, this code expects ${latest}: start the gateway once on it to migrate, then seed`);
      }
      // Leaving WAL needs the only connection to the file: if a gateway (or anything else) has it
      // open, this fails, and the load is refused rather than stalling a serving gateway. A
      // rollback journal also spares the load writing every page twice (WAL, then checkpoint).
      db.pragma('busy_timeout = 1000');
      let mode: unknown;
      try {
        mode = db.pragma('journal_mode = TRUNCATE', { simple: true });
      } catch (err) {
        throw new Error(`${file} is in use by another process: stop the gateway before seeding`, { cause: err });
      }
      if (mode !== 'truncate') throw new Error(`${file} is in use by another process: stop the gateway before seeding (journal mode stayed ${String(mode)})`);
      // A bulk load into a benchmark database, not a live one: without fsync a power cut during
      // the load could damage the file (then seed a fresh copy); a killed load rolls back from the
      // journal. The gateway's own writer flushes the WAL before acknowledging each commit (SqliteStore.open, writer.ts); this setting
      // lives only on this connection.
      db.pragma('synchronous = OFF');
      // The rows of a load are generated together and consistent by construction
      // (test/integration/seed-keys.test.ts checks PRAGMA foreign_key_check); checking each
      // reference on insert would cost a lookup per reference.
      db.pragma('foreign_keys = OFF');
      // Random UUID keys land all over each index: a large page cache keeps those pages in memory.
      db.pragma('cache_size = -1048576');
      db.pragma('temp_store = MEMORY');
      return new SeedRepository(db);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  /** Rolls back a load still open, returns the database to WAL (the gateway's mode) and closes. */
  close(): void {
    if (!this.db.open) return;
    try {
      this.rollbackLoad();
      this.db.pragma('journal_mode = WAL');
    } finally {
      this.db.close();
    }
  }

  organisationIdByCvr(cvr: string): string | undefined {
    const r = this.db.prepare('SELECT id FROM organisations WHERE cvr = ?').get(cvr);
    return r === undefined ? undefined : rows.str(r, 'id');
  }

  /** Identities and keys in the database (the seed reports how many it added). */
  counts(): { identities: number; credentials: number } {
    const n = (sql: string) => rows.num(this.db.prepare(sql).get(), 'n');
    return { identities: n('SELECT count(*) AS n FROM identities'), credentials: n('SELECT count(*) AS n FROM credentials') };
  }

  private prepared(): Statements {
    this.statements ??= {
      identity: this.db.prepare(
        `INSERT INTO identities (id, organisation_id, name, email, email_norm, ial, proofing_method, proofed_by, binding_state, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'active', ?)`,
      ),
      role: this.db.prepare('INSERT INTO identity_roles (identity_id, role, granted_by, granted_at) VALUES (?, ?, ?, ?)'),
      enrolment: this.db.prepare(
        `INSERT INTO enrolments (id, identity_id, token_hash, created_by, created_at, expires_at, consumed_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ),
      credential: this.db.prepare(
        `INSERT INTO credentials (id, identity_id, credential_id, public_key, aaguid, sign_count, transports, backup_eligible,
           backup_state, attestation_format, attestation_object, uv_at_registration, label, state, state_reason,
           created_at, updated_at, activated_at, last_used_at, expires_at, enrolment_id, aal, attestation_verified, model,
           certification, aal_reasons)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      code: this.db.prepare(
        `INSERT INTO activation_codes (id, credential_id, purpose, code_hash, requested_by, created_at, expires_at, consumed_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      session: this.db.prepare(
        `INSERT INTO sessions (id_hash, identity_id, credential_id, aal, amr, sid, created_at, last_seen_at, absolute_expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      mail: this.db.prepare(
        `INSERT INTO outbox (id, channel, recipient, subject, body, kind, created_at, attempts, next_attempt_at, sent_at)
         VALUES (?, 'email', ?, ?, NULL, ?, ?, 1, ?, ?)`,
      ),
      event: this.db.prepare(
        `INSERT INTO credential_events (credential_id, action, from_state, to_state, actor_id, actor_role, reason, note, clause, at, audit_seq)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      // The same statements as the store's audit.append and audit.head.
      audit: this.db.prepare(
        `INSERT INTO audit_events (seq, at, type, actor_id, actor_role, subject_id, data, prev_hash, hash)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      head: this.db.prepare('SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1'),
    };
    return this.statements;
  }

  /**
   * Starts the load: one IMMEDIATE transaction that lasts until commitLoad (all of the load or
   * none of it; a killed load rolls back from the journal). The secondary indexes of the tables
   * the load writes are dropped inside it and rebuilt by commitLoad: one sort per index instead
   * of a random B-tree insert per row. Their definitions come from the schema itself, so the
   * rebuilt indexes are exactly the migrated ones; a unique one refuses duplicates when rebuilt,
   * and that failure rolls the whole load back.
   */
  beginLoad(): void {
    if (this.load) throw new TypeError('seed: a load is already open');
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const indexes = this.db
        .prepare(
          `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL
             AND tbl_name IN (${LOADED_TABLES.map(() => '?').join(', ')}) ORDER BY name`,
        )
        .all(...LOADED_TABLES)
        .map((r) => ({ name: rows.str(r, 'name'), sql: rows.str(r, 'sql') }));
      for (const i of indexes) this.db.exec(`DROP INDEX "${i.name.replace(/"/g, '""')}"`);
      // The chain continues from the head as it is inside this transaction, as in the store's audit.append.
      const head = this.prepared().head.get();
      this.load = {
        indexes,
        seq: head === undefined ? 0 : rows.num(head, 'seq'),
        hash: head === undefined ? GENESIS_HASH : rows.str(head, 'hash'),
      };
    } catch (err) {
      this.db.exec('ROLLBACK');
      throw err;
    }
  }

  /** Rebuilds the dropped indexes and commits the load. Returns how many indexes were rebuilt. */
  commitLoad(onIndex?: (name: string) => void): number {
    const load = this.openLoad();
    try {
      for (const i of load.indexes) {
        onIndex?.(i.name);
        this.db.exec(i.sql);
      }
      this.db.exec('COMMIT');
    } catch (err) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      throw err;
    } finally {
      this.load = undefined;
    }
    return load.indexes.length;
  }

  /** Abandons the load: nothing of it stays, the dropped indexes come back. */
  rollbackLoad(): void {
    this.load = undefined;
    if (this.db.inTransaction) this.db.exec('ROLLBACK');
  }

  private openLoad(): { indexes: { name: string; sql: string }[]; seq: number; hash: string } {
    if (!this.load || !this.db.inTransaction) throw new TypeError('seed: beginLoad first');
    return this.load;
  }

  /**
   * Writes one batch inside the open load. Audit entries are chained in the batch's order, each
   * hashed with entryHash exactly as the store's audit.append does. Returns the last sequence number.
   */
  insertBatch(batch: SeedBatch): number {
    const load = this.openLoad();
    const s = this.prepared();
    for (const i of batch.identities) {
      s.identity.run(i.id, i.organisationId, i.name, i.email, normaliseEmail(i.email), i.ial, i.proofingMethod, i.proofedBy, i.createdAt);
    }
    for (const r of batch.roles) s.role.run(r.identityId, r.role, r.grantedBy, r.grantedAt);
    for (const e of batch.enrolments) s.enrolment.run(e.id, e.identityId, e.tokenHash, e.createdBy, e.createdAt, e.expiresAt, e.consumedAt);
    for (const c of batch.credentials) {
      s.credential.run(
        c.id,
        c.identityId,
        c.credentialId,
        c.publicKey,
        c.aaguid,
        c.signCount,
        JSON.stringify(c.transports),
        c.backupEligible ? 1 : 0,
        c.backupState ? 1 : 0,
        c.attestationFormat,
        c.attestationObject,
        c.userVerifiedAtRegistration ? 1 : 0,
        c.label,
        c.state,
        c.stateReason,
        c.createdAt,
        c.updatedAt,
        c.activatedAt,
        c.lastUsedAt,
        c.expiresAt,
        c.enrolmentId,
        c.aal,
        c.attestationVerified ? 1 : 0,
        c.model,
        c.certification,
        JSON.stringify(c.aalReasons),
      );
    }
    for (const c of batch.activationCodes) {
      s.code.run(c.id, c.credentialId, c.purpose, c.codeHash, c.requestedBy, c.createdAt, c.expiresAt, c.consumedAt);
    }
    for (const x of batch.sessions) {
      s.session.run(x.idHash, x.identityId, x.credentialId, x.aal, JSON.stringify(x.amr), x.sid, x.createdAt, x.lastSeenAt, x.absoluteExpiresAt);
    }
    for (const m of batch.deliveredMails) s.mail.run(m.id, m.recipient, m.subject, m.kind, m.createdAt, m.sentAt, m.sentAt);
    const firstSeq = load.seq + 1;
    for (const input of batch.audit) {
      const seq = load.seq + 1;
      const hash = entryHash(load.hash, { seq, ...input });
      s.audit.run(seq, input.at, input.type, input.actorId, input.actorRole, input.subjectId, JSON.stringify(input.data), load.hash, hash);
      load.seq = seq;
      load.hash = hash;
    }
    for (const e of batch.credentialEvents) {
      if (e.auditIndex < 0 || e.auditIndex >= batch.audit.length) throw new TypeError(`seed: credential event names audit entry ${e.auditIndex} of ${batch.audit.length}`);
      s.event.run(e.credentialId, e.action, e.fromState, e.toState, e.actorId, e.actorRole, e.reason, e.note, e.clause, e.at, firstSeq + e.auditIndex);
    }
    return load.seq;
  }
}
