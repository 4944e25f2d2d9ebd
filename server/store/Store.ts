/**
 * The only place with SQL. better-sqlite3 is synchronous, so a transaction callback runs with no
 * other request interleaved; write transactions use BEGIN IMMEDIATE so that concurrent processes
 * also serialise. State changes are `UPDATE ... WHERE id = ? AND state = ?` (CONVENTIONS 4).
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { GENESIS_HASH, entryHash, type AuditEntry, type AuditEntryBody } from '../audit/hashChain.js';
import type { AssignedRole, Credential, CredentialState, Identity, Organisation, ReasonCode } from '../domain/types.js';
import type { NewIdentity } from '../domain/identities.js';
import type { NewCredential, AssuranceUpdate, Enrolment, ActivationCodeRecord, ChallengeRecord, CredentialEvent, KeyPopulation } from '../domain/keys.js';
import type { SessionRecord } from '../domain/sessions.js';
import type { AuditInput } from '../domain/audit.js';
import type { OutboxMessage } from '../domain/outbox.js';
import { ApprovalRepository } from './approvalRepository.js';
import { CheckpointRepository } from './checkpointRepository.js';
import { KeyRepository } from './keyRepository.js';
import { MIGRATIONS } from './sqlite/migrations.js';
import { normaliseEmail } from '../domain/identities.js';
import { OidcRepository } from './oidcRepository.js';
import { SetupRepository } from './setupRepository.js';
import * as rows from './sqlite/rows.js';

export type { NewIdentity } from '../domain/identities.js';
export type { NewCredential, AssuranceUpdate, Enrolment, ActivationCodeRecord, Ceremony, ChallengeRecord, CredentialEvent } from '../domain/keys.js';
export type { SessionRecord } from '../domain/sessions.js';
export type { AuditInput } from '../domain/audit.js';
export type { OutboxMessage } from '../domain/outbox.js';

/**
 * Compiling SQL costs tens of microseconds, more than running a keyed lookup; a sign-in runs a few
 * dozen statements. So `db.prepare` hands back one compiled statement per SQL text. A statement
 * that is busy (an open iterate()) is never shared: that caller gets a fresh one.
 */
function cacheStatements(db: Database.Database): void {
  const compile = db.prepare.bind(db);
  const cache = new Map<string, Database.Statement>();
  const cached = (sql: string): Database.Statement => {
    const hit = cache.get(sql);
    if (hit && !hit.busy) return hit;
    const fresh = compile(sql);
    if (!hit) cache.set(sql, fresh);
    return fresh;
  };
  db.prepare = cached as typeof db.prepare;
}

/** How long a write waits for another connection's write lock before SQLITE_BUSY (503). */
const BUSY_TIMEOUT_MS = 5000;

export class Store {
  readonly db: Database.Database;
  readonly keys: KeyRepository;
  readonly checkpoints: CheckpointRepository;
  readonly approvals: ApprovalRepository;
  readonly oidc: OidcRepository;
  readonly setups: SetupRepository;

  private constructor(db: Database.Database) {
    cacheStatements(db);
    this.db = db;
    this.oidc = new OidcRepository(db);
    this.approvals = new ApprovalRepository(db);
    this.setups = new SetupRepository(db);
    this.keys = new KeyRepository(db);
    this.checkpoints = new CheckpointRepository(db);
  }

  /** Opens (creating with 0600 if needed) and migrates the database file. */
  static open(file: string): Store {
    if (file !== ':memory:') {
      fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      if (!fs.existsSync(file)) fs.closeSync(fs.openSync(file, 'a', 0o600));
    }
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    // Durable commit: a transition acknowledged to a client survives a power cut.
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    // Issue 13, 5: deleted and overwritten content is zeroed in the file, not left in free pages.
    db.pragma('secure_delete = ON');
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    const store = new Store(db);
    store.migrate();
    if (file !== ':memory:') {
      for (const suffix of ['', '-wal', '-shm']) {
        if (fs.existsSync(file + suffix)) fs.chmodSync(file + suffix, 0o600);
      }
    }
    return store;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private migrate(): void {
    // The repositories prepare nothing at construction, so migrating after them is safe.
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
    const applied = new Set(
      this.db
        .prepare('SELECT version FROM schema_migrations')
        .all()
        .map((r) => rows.num(r, 'version')),
    );
    let rewrite = false;
    // Until the runtime moves onto the port (server/store/sqlite/), the challenges stay here.
    for (const m of MIGRATIONS.filter((x) => x.version <= 12)) {
      if (applied.has(m.version)) continue;
      this.db.transaction(() => {
        this.db.exec(m.sql);
        this.db
          .prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)')
          .run(m.version, m.name, new Date().toISOString());
      }).immediate();
      // Only an existing database can hold what an earlier release left behind.
      if (m.rewriteAfter && applied.size > 0) rewrite = true;
    }
    if (rewrite) {
      this.db.exec('VACUUM');
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    }
  }

  schemaVersion(): number {
    const r = this.db.prepare('SELECT max(version) AS v FROM schema_migrations').get();
    return rows.num(r, 'v');
  }

  /** Runs fn in one IMMEDIATE transaction: all of it commits, or none of it. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  private group: { fn: () => unknown; resolve: (value: unknown) => void; reject: (error: unknown) => void }[] = [];
  private groupScheduled = false;

  /**
   * Group commit: runs fn in an IMMEDIATE transaction shared with the other callers queued in the
   * same turn of the event loop, each inside its own SAVEPOINT, so one caller's failure rolls back
   * only its own changes. Resolves (or rejects) once the shared COMMIT is on disk: the same
   * all-or-nothing and durability as `transaction`, but one fsync for the whole group instead of
   * one per caller. fn must be synchronous, like any better-sqlite3 transaction.
   */
  commit<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.group.push({ fn, resolve: resolve as (value: unknown) => void, reject });
      if (!this.groupScheduled) {
        this.groupScheduled = true;
        setImmediate(() => this.commitGroup());
      }
    });
  }

  private commitGroup(): void {
    this.groupScheduled = false;
    if (this.group.length === 0) return;
    if (!this.db.open) {
      for (const job of this.group.splice(0)) job.reject(new Error('the database is closed'));
      return;
    }
    // Take the write lock without blocking the event loop: SQLite's busy handler would sleep in
    // this thread while another worker commits. If the lock is taken, try again shortly; the
    // requests that arrive meanwhile join the group. Past the bound, the group fails with
    // SQLITE_BUSY (503 + Retry-After at the edge), like a blocking transaction would.
    let began: boolean;
    try {
      began = this.tryBegin();
    } catch (error) {
      for (const job of this.group.splice(0)) job.reject(error);
      return;
    }
    if (!began) {
      this.groupWaitingSince ??= Date.now();
      if (Date.now() - this.groupWaitingSince > BUSY_TIMEOUT_MS) {
        this.groupWaitingSince = undefined;
        const busy = Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
        for (const job of this.group.splice(0)) job.reject(busy);
        return;
      }
      this.groupScheduled = true;
      this.groupRetries++;
      if (this.groupRetries < 20) setImmediate(() => this.commitGroup());
      else setTimeout(() => this.commitGroup(), 1);
      return;
    }
    this.groupWaitingSince = undefined;
    this.groupRetries = 0;
    const batch = this.group.splice(0);
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    try {
      for (const job of batch) {
        try {
          // Inside the open transaction, better-sqlite3 runs this as a SAVEPOINT.
          outcomes.push({ ok: true, value: this.db.transaction(job.fn)() });
        } catch (error) {
          outcomes.push({ ok: false, error });
        }
      }
      this.db.prepare('COMMIT').run();
    } catch (error) {
      // COMMIT failed (disk full, I/O error): nothing of the group is durable.
      if (this.db.inTransaction) this.db.prepare('ROLLBACK').run();
      for (const job of batch) job.reject(error);
      return;
    }
    batch.forEach((job, i) => {
      const outcome = outcomes[i];
      if (outcome?.ok) job.resolve(outcome.value);
      else job.reject(outcome ? outcome.error : new Error('group commit lost a result'));
    });
  }

  private groupWaitingSince: number | undefined;
  private groupRetries = 0;

  /** BEGIN IMMEDIATE without waiting: false when another connection holds the write lock. */
  private tryBegin(): boolean {
    this.db.pragma('busy_timeout = 0');
    try {
      this.db.prepare('BEGIN IMMEDIATE').run();
      return true;
    } catch (err) {
      if (err instanceof Error && 'code' in err && typeof err.code === 'string' && err.code.startsWith('SQLITE_BUSY')) return false;
      throw err;
    } finally {
      this.db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    }
  }

  // --- organisations -------------------------------------------------------------------------

  insertOrganisation(o: Organisation): void {
    this.db.prepare('INSERT INTO organisations (id, cvr, name, created_at) VALUES (?, ?, ?, ?)').run(o.id, o.cvr, o.name, o.createdAt);
  }

  getOrganisationByCvr(cvr: string): Organisation | undefined {
    const r = this.db.prepare('SELECT * FROM organisations WHERE cvr = ?').get(cvr);
    return r === undefined ? undefined : rows.organisation(r);
  }

  getOrganisation(id: string): Organisation | undefined {
    const r = this.db.prepare('SELECT * FROM organisations WHERE id = ?').get(id);
    return r === undefined ? undefined : rows.organisation(r);
  }

  // --- identities ----------------------------------------------------------------------------

  insertIdentity(i: NewIdentity): void {
    this.db
      .prepare(
        `INSERT INTO identities (id, organisation_id, name, email, email_norm, ial, proofing_method, proofed_by, binding_state, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'active', ?)`,
      )
      .run(i.id, i.organisationId, i.name, i.email, normaliseEmail(i.email), i.ial, i.proofingMethod, i.proofedBy, i.createdAt);
  }

  getIdentity(id: string): Identity | undefined {
    const r = this.db.prepare('SELECT * FROM identities WHERE id = ?').get(id);
    return r === undefined ? undefined : rows.identity(r, this.rolesOf(id));
  }

  findActiveIdentityByEmail(email: string): Identity | undefined {
    const r = this.db.prepare("SELECT * FROM identities WHERE email_norm = ? AND binding_state = 'active'").get(normaliseEmail(email));
    return r === undefined ? undefined : rows.identity(r, this.rolesOf(rows.str(r, 'id')));
  }

  listActiveIdentitiesWithRole(role: AssignedRole): Identity[] {
    return this.db
      .prepare(
        `SELECT i.* FROM identities i JOIN identity_roles r ON r.identity_id = i.id
         WHERE r.role = ? AND i.binding_state = 'active' ORDER BY i.created_at`,
      )
      .all(role)
      .map((r) => rows.identity(r, this.rolesOf(rows.str(r, 'id'))));
  }

  /** Bound people holding any of `roles` (each person counted once). */
  countActiveIdentitiesWithAnyRole(roles: readonly AssignedRole[]): number {
    const r = this.db
      .prepare(
        `SELECT count(DISTINCT i.id) AS n FROM identities i JOIN identity_roles r ON r.identity_id = i.id
         WHERE r.role IN (SELECT value FROM json_each(?)) AND i.binding_state = 'active'`,
      )
      .get(JSON.stringify(roles));
    return rows.num(r, 'n');
  }

  private rolesOf(identityId: string): AssignedRole[] {
    return this.db
      .prepare('SELECT role FROM identity_roles WHERE identity_id = ? ORDER BY role')
      .all(identityId)
      .map((r) => rows.role(r));
  }

  grantRole(identityId: string, role: AssignedRole, grantedBy: string | null, at: string): void {
    this.db
      .prepare('INSERT OR IGNORE INTO identity_roles (identity_id, role, granted_by, granted_at) VALUES (?, ?, ?, ?)')
      .run(identityId, role, grantedBy, at);
  }

  revokeRole(identityId: string, role: AssignedRole): boolean {
    return this.db.prepare('DELETE FROM identity_roles WHERE identity_id = ? AND role = ?').run(identityId, role).changes === 1;
  }

  /** Finds people by name, email (substring) or exact UUID, newest bindings first. */
  searchIdentities(organisationId: string, query: string, limit = 50): Identity[] {
    const q = query.trim().toLowerCase();
    const like = `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    return this.db
      .prepare(
        `SELECT * FROM identities WHERE organisation_id = ?
           AND (? = '' OR id = ? OR email_norm LIKE ? ESCAPE '\\' OR lower(name) LIKE ? ESCAPE '\\')
         ORDER BY binding_state = 'active' DESC, created_at DESC LIMIT ?`,
      )
      .all(organisationId, q, q, like, like, limit)
      .map((r) => rows.identity(r, this.rolesOf(rows.str(r, 'id'))));
  }

  setIdentityEmail(identityId: string, email: string): boolean {
    return (
      this.db
        .prepare("UPDATE identities SET email = ?, email_norm = ? WHERE id = ? AND binding_state = 'active'")
        .run(email, normaliseEmail(email), identityId).changes === 1
    );
  }

  setIdentityName(identityId: string, name: string): boolean {
    return this.db.prepare("UPDATE identities SET name = ? WHERE id = ? AND binding_state = 'active'").run(name, identityId).changes === 1;
  }

  /** Staff actions (suspend, revoke) one person took since `since`, oldest first. */
  staffActionTimesSince(actorId: string, since: string): string[] {
    return this.db
      .prepare(
        `SELECT at FROM credential_events WHERE actor_id = ? AND at > ? AND actor_role IN ('helpdesk', 'org-admin', 'security-officer')
           AND action IN ('suspend', 'revoke') ORDER BY at`,
      )
      .all(actorId, since)
      .map((r) => rows.str(r, 'at'));
  }

  /** The audit trail of a person: events about them and about their keys, newest first. */
  listAuditForIdentity(identityId: string, limit = 500): AuditEntry[] {
    return this.db
      .prepare(
        `SELECT * FROM audit_events WHERE subject_id = ? OR actor_id = ?
           OR subject_id IN (SELECT id FROM credentials WHERE identity_id = ?)
         ORDER BY seq DESC LIMIT ?`,
      )
      .all(identityId, identityId, identityId, limit)
      .map((r) => rows.auditEntry(r));
  }

  /** Ends a binding; false if it was already ended (a concurrent end-binding won). */
  endBinding(identityId: string, at: string): boolean {
    return (
      this.db
        .prepare("UPDATE identities SET binding_state = 'ended', binding_ended_at = ? WHERE id = ? AND binding_state = 'active'")
        .run(at, identityId).changes === 1
    );
  }

  // --- enrolments ----------------------------------------------------------------------------

  insertEnrolment(e: Omit<Enrolment, 'failedAttempts' | 'lockedAt'> & { tokenHash: string }): void {
    this.db
      .prepare(
        `INSERT INTO enrolments (id, identity_id, token_hash, created_by, created_at, expires_at, replaces_credential_id, basis)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(e.id, e.identityId, e.tokenHash, e.createdBy, e.createdAt, e.expiresAt, e.replacesCredentialId, e.basis);
  }

  getEnrolment(id: string): Enrolment | undefined {
    const r = this.db.prepare('SELECT * FROM enrolments WHERE id = ?').get(id);
    return r === undefined ? undefined : rows.enrolment(r);
  }

  getEnrolmentByTokenHash(tokenHash: string): Enrolment | undefined {
    const r = this.db.prepare('SELECT * FROM enrolments WHERE token_hash = ?').get(tokenHash);
    return r === undefined ? undefined : rows.enrolment(r);
  }

  /** Single use: true only for the one caller that consumed a live enrolment. */
  consumeEnrolment(id: string, at: string): boolean {
    return (
      this.db
        .prepare(
          'UPDATE enrolments SET consumed_at = ? WHERE id = ? AND consumed_at IS NULL AND superseded_at IS NULL AND locked_at IS NULL AND expires_at > ?',
        )
        .run(at, id, at).changes === 1
    );
  }

  /**
   * Counts a failed registration through a live link and locks it at `max`, in one statement so
   * concurrent failures (from several workers) are all counted. Returns the count and whether the
   * link is now locked; undefined when the link was already consumed, withdrawn or locked.
   */
  recordFailedEnrolmentAttempt(id: string, max: number, at: string): { attempts: number; locked: boolean } | undefined {
    const r = this.db
      .prepare(
        `UPDATE enrolments SET failed_attempts = failed_attempts + 1,
           locked_at = CASE WHEN failed_attempts + 1 >= ? THEN ? ELSE NULL END
         WHERE id = ? AND consumed_at IS NULL AND superseded_at IS NULL AND locked_at IS NULL
         RETURNING failed_attempts, locked_at`,
      )
      .get(max, at, id);
    if (r === undefined) return undefined;
    const row = rows.enrolmentAttempts(r);
    return { attempts: row.failedAttempts, locked: row.lockedAt !== null };
  }

  supersedeOpenEnrolments(identityId: string, at: string): number {
    return this.db
      .prepare('UPDATE enrolments SET superseded_at = ? WHERE identity_id = ? AND consumed_at IS NULL AND superseded_at IS NULL')
      .run(at, identityId).changes;
  }

  // --- credentials ---------------------------------------------------------------------------

  insertCredential(c: NewCredential): void {
    this.db
      .prepare(
        `INSERT INTO credentials (id, identity_id, credential_id, public_key, aaguid, sign_count, transports, backup_eligible,
           backup_state, attestation_format, attestation_object, uv_at_registration, label, state, state_reason,
           created_at, updated_at, expires_at, enrolment_id, aal, attestation_verified, model, certification, aal_reasons)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        c.id,
        c.identityId,
        c.credentialId,
        Buffer.from(c.publicKey),
        c.aaguid,
        c.signCount,
        JSON.stringify(c.transports),
        c.backupEligible ? 1 : 0,
        c.backupState ? 1 : 0,
        c.attestationFormat,
        Buffer.from(c.attestationObject),
        c.userVerifiedAtRegistration ? 1 : 0,
        c.label,
        c.state,
        c.stateReason,
        c.createdAt,
        c.createdAt,
        c.expiresAt,
        c.enrolmentId,
        c.aal,
        c.attestationVerified ? 1 : 0,
        c.model,
        c.certification,
        JSON.stringify(c.aalReasons),
      );
  }

  /** Keys of a model (by AAGUID) that are not yet terminal. */
  listLiveCredentialsByAaguid(aaguid: string): Credential[] {
    return this.db
      .prepare("SELECT * FROM credentials WHERE aaguid = ? AND state IN ('issued', 'active', 'suspended') ORDER BY created_at")
      .all(aaguid.toLowerCase())
      .map((r) => rows.credential(r));
  }

  /** Re-rates a key's assurance (e.g. a certification downgrade in newer metadata). */
  setAssurance(id: string, a: AssuranceUpdate, at: string): void {
    this.db
      .prepare('UPDATE credentials SET aal = ?, model = ?, certification = ?, aal_reasons = ?, updated_at = ? WHERE id = ?')
      .run(a.aal, a.model, a.certification, JSON.stringify(a.reasons), at, id);
  }

  /**
   * The shape of the registered keys, as counts only (issue 13, 8: decoys imitate it): how many
   * keys each bound person has, and how many keys have each id length and transport list. A scan
   * of the credentials; callers cache it.
   */
  keyPopulation(): KeyPopulation {
    const keysPerPerson = this.db
      .prepare(
        `SELECT n, count(*) AS people FROM (
           SELECT count(*) AS n FROM credentials c JOIN identities i ON i.id = c.identity_id
           WHERE i.binding_state = 'active' GROUP BY c.identity_id)
         GROUP BY n ORDER BY n`,
      )
      .all()
      .map((r) => ({ keys: rows.num(r, 'n'), people: rows.num(r, 'people') }));
    const shapes = this.db
      .prepare('SELECT length(credential_id) AS chars, transports, count(*) AS n FROM credentials GROUP BY chars, transports ORDER BY chars, transports')
      .all()
      // Unpadded base64url: 4 characters carry 3 bytes.
      .map((r) => ({ idBytes: Math.floor((rows.num(r, 'chars') * 3) / 4), transports: rows.stringArray(rows.str(r, 'transports')), keys: rows.num(r, 'n') }));
    return { keysPerPerson, shapes };
  }

  /** The fleet report: keys by model, certification, level and state. */
  fleetReport(): { aaguid: string; model: string | null; certification: string | null; aal: string | null; state: string; count: number }[] {
    return this.db
      .prepare(
        `SELECT aaguid, model, certification, aal, state, count(*) AS count FROM credentials
         GROUP BY aaguid, model, certification, aal, state ORDER BY count DESC, aaguid`,
      )
      .all()
      .map((r) => ({
        aaguid: rows.str(r, 'aaguid'),
        model: rows.strOrNull(r, 'model'),
        certification: rows.strOrNull(r, 'certification'),
        aal: rows.strOrNull(r, 'aal'),
        state: rows.str(r, 'state'),
        count: rows.num(r, 'count'),
      }));
  }

  getCredential(id: string): Credential | undefined {
    const r = this.db.prepare('SELECT * FROM credentials WHERE id = ?').get(id);
    return r === undefined ? undefined : rows.credential(r);
  }

  getCredentialByCredentialId(credentialId: string): Credential | undefined {
    const r = this.db.prepare('SELECT * FROM credentials WHERE credential_id = ?').get(credentialId);
    return r === undefined ? undefined : rows.credential(r);
  }

  listCredentialsOfIdentity(identityId: string): Credential[] {
    return this.db
      .prepare('SELECT * FROM credentials WHERE identity_id = ? ORDER BY created_at, id')
      .all(identityId)
      .map((r) => rows.credential(r));
  }

  listCredentialsDueToExpire(at: string): Credential[] {
    return this.db
      .prepare("SELECT * FROM credentials WHERE expires_at IS NOT NULL AND expires_at <= ? AND state IN ('issued', 'active', 'suspended')")
      .all(at)
      .map((r) => rows.credential(r));
  }

  /** Guarded state change: true only if the key was still in `fromState`. */
  setCredentialState(id: string, fromState: CredentialState, toState: CredentialState, reason: ReasonCode, at: string): boolean {
    const activated = toState === 'active' ? at : null;
    return (
      this.db
        .prepare(
          `UPDATE credentials SET state = ?, state_reason = ?, updated_at = ?, activated_at = coalesce(?, activated_at)
           WHERE id = ? AND state = ?`,
        )
        .run(toState, reason, at, activated, id, fromState).changes === 1
    );
  }

  /** Records a successful use; guarded on the key still being active with the counter read. */
  recordUse(id: string, expectedCount: number, newCount: number, backupState: boolean, at: string): boolean {
    return (
      this.db
        .prepare(
          `UPDATE credentials SET sign_count = ?, backup_state = ?, last_used_at = ?, updated_at = ?
           WHERE id = ? AND state = 'active' AND sign_count = ?`,
        )
        .run(newCount, backupState ? 1 : 0, at, at, id, expectedCount).changes === 1
    );
  }

  /** Records the sign counter and backup state seen during activation (the key is not yet active). */
  setSignCount(id: string, newCount: number, backupState: boolean, at: string): void {
    this.db.prepare('UPDATE credentials SET sign_count = ?, backup_state = ?, last_used_at = ?, updated_at = ? WHERE id = ?').run(newCount, backupState ? 1 : 0, at, at, id);
  }

  renameCredential(id: string, label: string, at: string): boolean {
    return (
      this.db
        .prepare("UPDATE credentials SET label = ?, updated_at = ? WHERE id = ? AND state NOT IN ('revoked', 'expired')")
        .run(label, at, id).changes === 1
    );
  }

  insertCredentialEvent(e: Omit<CredentialEvent, 'id'>): void {
    this.db
      .prepare(
        `INSERT INTO credential_events (credential_id, action, from_state, to_state, actor_id, actor_role, reason, note, clause, at, audit_seq)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(e.credentialId, e.action, e.fromState, e.toState, e.actorId, e.actorRole, e.reason, e.note, e.clause, e.at, e.auditSeq);
  }

  listCredentialEvents(credentialId: string): CredentialEvent[] {
    return this.db
      .prepare('SELECT * FROM credential_events WHERE credential_id = ? ORDER BY id')
      .all(credentialId)
      .map((r) => rows.credentialEvent(r));
  }

  // --- activation codes ----------------------------------------------------------------------

  insertActivationCode(c: Omit<ActivationCodeRecord, 'failedAttempts' | 'consumedAt' | 'supersededAt' | 'lockedAt'>): void {
    this.db
      .prepare(
        `INSERT INTO activation_codes (id, credential_id, purpose, code_hash, requested_by, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(c.id, c.credentialId, c.purpose, c.codeHash, c.requestedBy, c.createdAt, c.expiresAt);
  }

  /**
   * Sets a code's keyed hash just before it is delivered (issue 13, 5: the clear code exists only
   * in memory, on its way to the mail server). Only while the code is open and unexpired; a second
   * delivery of the same mail replaces the hash, so only the newest code delivered works.
   */
  /** A mailed link's token, minted at delivery: only while the link is still open (issue 13, 5). */
  mintEnrolmentToken(enrolmentId: string, tokenHash: string, at: string): boolean {
    return (
      this.db
        .prepare(
          `UPDATE enrolments SET token_hash = ?
           WHERE id = ? AND consumed_at IS NULL AND superseded_at IS NULL AND locked_at IS NULL AND expires_at > ?`,
        )
        .run(tokenHash, enrolmentId, at).changes === 1
    );
  }

  mintActivationCode(codeId: string, codeHash: string, at: string): boolean {
    return (
      this.db
        .prepare(
          `UPDATE activation_codes SET code_hash = ?, minted_at = ?
           WHERE id = ? AND consumed_at IS NULL AND superseded_at IS NULL AND locked_at IS NULL AND expires_at > ?`,
        )
        .run(codeHash, at, codeId, at).changes === 1
    );
  }

  /** Withdraws every unused code of a key (a new code replaces them; revocation ends them). */
  supersedeOpenCodes(credentialId: string, at: string): number {
    return this.db
      .prepare(
        'UPDATE activation_codes SET superseded_at = ? WHERE credential_id = ? AND consumed_at IS NULL AND superseded_at IS NULL AND locked_at IS NULL',
      )
      .run(at, credentialId).changes;
  }

  /** The newest code of a key that has neither been used nor replaced (it may be expired or locked). */
  latestOpenCode(credentialId: string): ActivationCodeRecord | undefined {
    const r = this.db
      .prepare(
        `SELECT * FROM activation_codes WHERE credential_id = ? AND consumed_at IS NULL AND superseded_at IS NULL
         ORDER BY created_at DESC, rowid DESC LIMIT 1`,
      )
      .get(credentialId);
    return r === undefined ? undefined : rows.activationCode(r);
  }

  /**
   * Counts one evaluation of a code BEFORE it is compared (issue 13, 3), in one statement: only
   * while the code is open, unexpired and has attempts left, so however many requests race, at
   * most `max` guesses are ever counted and evaluated. `failed_attempts` thus counts evaluated
   * attempts (the right code, if it comes, is the last of them and consumes the code).
   */
  countCodeAttempt(
    codeId: string,
    max: number,
    at: string,
  ): { counted: true; attempts: number; codeHash: string } | { counted: false; why: 'locked' | 'used' | 'expired' } {
    const r = this.db
      .prepare(
        `UPDATE activation_codes SET failed_attempts = failed_attempts + 1
         WHERE id = ? AND consumed_at IS NULL AND superseded_at IS NULL AND locked_at IS NULL AND failed_attempts < ? AND expires_at > ?
         RETURNING failed_attempts, code_hash`,
      )
      .get(codeId, max, at);
    // The hash as it is now: a mail delivered again since the caller read the row minted a new code.
    if (r !== undefined) return { counted: true, attempts: rows.num(r, 'failed_attempts'), codeHash: rows.str(r, 'code_hash') };
    const row = this.db.prepare('SELECT * FROM activation_codes WHERE id = ?').get(codeId);
    const code = row === undefined ? undefined : rows.activationCode(row);
    if (!code || code.consumedAt !== null || code.supersededAt !== null) return { counted: false, why: 'used' };
    if (code.lockedAt !== null || code.failedAttempts >= max) return { counted: false, why: 'locked' };
    return { counted: false, why: 'expired' };
  }

  /** Locks a code whose last attempt was wrong. */
  lockCode(codeId: string, at: string): void {
    this.db.prepare('UPDATE activation_codes SET locked_at = coalesce(locked_at, ?) WHERE id = ?').run(at, codeId);
  }

  consumeActivationCode(codeId: string, at: string): boolean {
    return (
      this.db
        .prepare(
          `UPDATE activation_codes SET consumed_at = ?
           WHERE id = ? AND consumed_at IS NULL AND superseded_at IS NULL AND locked_at IS NULL AND expires_at > ?`,
        )
        .run(at, codeId, at).changes === 1
    );
  }

  // --- challenges ----------------------------------------------------------------------------

  insertChallenge(c: Omit<ChallengeRecord, 'consumedAt'>): void {
    this.db
      .prepare(
        `INSERT INTO challenges (challenge, flow_hash, ceremony, identity_id, enrolment_id, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(c.challenge, c.flowHash, c.ceremony, c.identityId, c.enrolmentId, c.createdAt, c.expiresAt);
  }

  /**
   * Consumes a challenge exactly once (NSIS 3.3.1 (Low) 3: replay). Returns the record as it was,
   * or undefined when it is unknown or already used. Expiry and binding are checked by the caller
   * so that the refusal can name the reason in the audit log.
   */
  consumeChallenge(challenge: string, at: string): ChallengeRecord | undefined {
    const r = this.db
      .prepare('UPDATE challenges SET consumed_at = ? WHERE challenge = ? AND consumed_at IS NULL RETURNING *')
      .get(at, challenge);
    return r === undefined ? undefined : rows.challenge(r);
  }

  /** An outstanding (unconsumed) challenge, read without consuming it. */
  getOpenChallenge(challenge: string): ChallengeRecord | undefined {
    const r = this.db.prepare('SELECT * FROM challenges WHERE challenge = ? AND consumed_at IS NULL').get(challenge);
    return r === undefined ? undefined : rows.challenge(r);
  }

  pruneChallenges(before: string): number {
    return this.db.prepare('DELETE FROM challenges WHERE expires_at < ?').run(before).changes;
  }

  // --- sessions ------------------------------------------------------------------------------

  insertSession(s: Omit<SessionRecord, 'endedAt' | 'endReason'>): void {
    this.db
      .prepare(
        `INSERT INTO sessions (id_hash, identity_id, credential_id, aal, amr, sid, created_at, last_seen_at, absolute_expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(s.idHash, s.identityId, s.credentialId, s.aal, JSON.stringify(s.amr), s.sid, s.createdAt, s.lastSeenAt, s.absoluteExpiresAt);
  }

  getSession(idHash: string): SessionRecord | undefined {
    const r = this.db.prepare('SELECT * FROM sessions WHERE id_hash = ?').get(idHash);
    return r === undefined ? undefined : rows.session(r);
  }

  touchSession(idHash: string, at: string): void {
    this.db.prepare('UPDATE sessions SET last_seen_at = ? WHERE id_hash = ? AND ended_at IS NULL').run(at, idHash);
  }

  endSession(idHash: string, reason: string, at: string): boolean {
    return (
      this.db.prepare('UPDATE sessions SET ended_at = ?, end_reason = ? WHERE id_hash = ? AND ended_at IS NULL').run(at, reason, idHash)
        .changes === 1
    );
  }

  /** Live sessions of an identity (for single logout). */
  liveSessionsOfIdentity(identityId: string): SessionRecord[] {
    return this.db
      .prepare('SELECT * FROM sessions WHERE identity_id = ? AND ended_at IS NULL')
      .all(identityId)
      .map((r) => rows.session(r));
  }

  liveSessionsOfCredential(credentialId: string): SessionRecord[] {
    return this.db
      .prepare('SELECT * FROM sessions WHERE credential_id = ? AND ended_at IS NULL')
      .all(credentialId)
      .map((r) => rows.session(r));
  }

  endSessionsOfCredential(credentialId: string, reason: string, at: string): number {
    return this.db
      .prepare('UPDATE sessions SET ended_at = ?, end_reason = ? WHERE credential_id = ? AND ended_at IS NULL')
      .run(at, reason, credentialId).changes;
  }

  endSessionsOfIdentity(identityId: string, reason: string, at: string): number {
    return this.db
      .prepare('UPDATE sessions SET ended_at = ?, end_reason = ? WHERE identity_id = ? AND ended_at IS NULL')
      .run(at, reason, identityId).changes;
  }

  // --- audit ---------------------------------------------------------------------------------

  /** Appends one event to the hash chain. Call inside the transaction of the change it records. */
  appendAudit(input: AuditInput): AuditEntry {
    const head = this.db.prepare('SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1').get();
    const seq = head === undefined ? 1 : rows.num(head, 'seq') + 1;
    const prevHash = head === undefined ? GENESIS_HASH : rows.str(head, 'hash');
    const body = { seq, ...input };
    const hash = entryHash(prevHash, body);
    this.db
      .prepare(
        `INSERT INTO audit_events (seq, at, type, actor_id, actor_role, subject_id, data, prev_hash, hash)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(seq, input.at, input.type, input.actorId, input.actorRole, input.subjectId, JSON.stringify(input.data), prevHash, hash);
    return { ...body, prevHash, hash };
  }

  /** Streams the chain in order, for verification of chains of any length. */
  *iterateAudit(fromSeq = 1): Generator<AuditEntry> {
    const stmt = this.db.prepare('SELECT * FROM audit_events WHERE seq >= ? ORDER BY seq');
    for (const r of stmt.iterate(fromSeq)) yield rows.auditEntry(r);
  }



  auditHead(): { seq: number; hash: string } {
    const head = this.db.prepare('SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1').get();
    return head === undefined ? { seq: 0, hash: GENESIS_HASH } : { seq: rows.num(head, 'seq'), hash: rows.str(head, 'hash') };
  }

  // --- outbox --------------------------------------------------------------------------------

  enqueueOutbox(m: Omit<OutboxMessage, 'attempts' | 'sentAt' | 'lastError'>): void {
    this.db
      .prepare(
        `INSERT INTO outbox (id, channel, recipient, subject, body, kind, created_at, next_attempt_at, receipt_claims, secret_ref)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(m.id, m.channel, m.recipient, m.subject, m.body, m.kind, m.createdAt, m.nextAttemptAt, m.receiptClaims, m.secretRef);
  }

  dueOutbox(at: string, limit: number): OutboxMessage[] {
    return this.db
      .prepare('SELECT * FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= ? ORDER BY created_at, rowid LIMIT ?')
      .all(at, limit)
      .map((r) => rows.outbox(r));
  }

  /**
   * Claims a due message for delivery by this process until `leaseUntil`, so that two processes
   * sharing the database never both deliver it.
   */
  claimOutbox(id: string, at: string, leaseUntil: string): boolean {
    return (
      this.db
        .prepare('UPDATE outbox SET next_attempt_at = ? WHERE id = ? AND sent_at IS NULL AND next_attempt_at <= ?')
        .run(leaseUntil, id, at).changes === 1
    );
  }

  /** Delivered: the body (which may hold a one-time code) is erased from the database. */
  markOutboxSent(id: string, at: string): void {
    this.db
      .prepare('UPDATE outbox SET sent_at = ?, body = NULL, receipt_claims = NULL, attempts = attempts + 1, last_error = NULL WHERE id = ?')
      .run(at, id);
  }

  /** Not delivered and never will be: the secret it would carry was withdrawn or used meanwhile. */
  markOutboxWithdrawn(id: string, at: string, why: string): void {
    this.db
      .prepare('UPDATE outbox SET sent_at = ?, body = NULL, receipt_claims = NULL, last_error = ? WHERE id = ? AND sent_at IS NULL')
      .run(at, `withdrawn: ${why}`.slice(0, 500), id);
  }

  markOutboxFailed(id: string, error: string, nextAttemptAt: string): void {
    this.db
      .prepare('UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE id = ? AND sent_at IS NULL')
      .run(error.slice(0, 500), nextAttemptAt, id);
  }

  pendingOutboxCount(): number {
    return rows.num(this.db.prepare('SELECT count(*) AS n FROM outbox WHERE sent_at IS NULL').get(), 'n');
  }
}

export { normaliseEmail } from '../domain/identities.js';
