/** Security keys, their state history, and the staff actions counted against the hourly cap. */
import { normaliseEmail } from '../../domain/identities.js';
import type { AssuranceUpdate, CredentialEvent, FleetRow, KeyPopulation, NewCredential, NewCredentialEvent } from '../../domain/keys.js';
import type { Credential, CredentialState, ReasonCode } from '../../domain/types.js';
import type { CredentialRepo, KeyWithHolder, PendingAuditEntry, StaffActionReader } from '../../ports/repositories.js';
import { lockKeyForTransaction } from './advisoryLocks.js';
import { insertOrConflict } from './conflict.js';
import type { PgAudit } from './audit.js';
import type { Row, Sql, TxSql } from './pool.js';
import * as records from './records.js';
import { num, str, strings, strOrNull } from './rows.js';

/** The holder's columns as records.identity() reads them, prefixed `holder_`: every column of identities (a conformance case compares the result with identities.get, so a new column missing here fails it on PostgreSQL). */
const HOLDER_COLUMNS = [
  ...['id', 'organisation_id', 'name', 'email', 'ial', 'proofing_method', 'proofed_by', 'binding_state', 'created_at', 'binding_ended_at', 'language'].map((c) => `i.${c} AS holder_${c}`),
  `ARRAY(SELECT r.role FROM identity_roles r WHERE r.identity_id = i.id ORDER BY r.role COLLATE "C") AS holder_roles`,
].join(', ');

/** The organisation's columns as records.organisation() reads them, prefixed `org_`. */
const ORG_COLUMNS = ['id', 'cvr', 'name', 'created_at'].map((c) => `o.${c} AS org_${c}`).join(', ');

/** The columns of `r` that start with `prefix`, without it. */
function prefixed(r: Row, prefix: string): Row {
  const out: Row = {};
  for (const [k, v] of Object.entries(r)) if (k.startsWith(prefix)) out[k.slice(prefix.length)] = v;
  return out;
}

/** Not yet terminal. */
const LIVE = "state IN ('issued', 'active', 'suspended')";

export class PgCredentials implements CredentialRepo {
  /**
   * `lockReads` (write transactions): `get` and `byCredentialId` take the key's row lock
   * (`FOR UPDATE`) until the commit. A flow decides on the key it read in its write (the lifecycle
   * table's row, the transition's `from`), and some rows change no state (request-reactivation
   * keeps a key suspended): without the lock, a transition committed by another instance between
   * that read and this commit would leave a history step starting from a state the key had left.
   * SQLite's single writer gives the same guarantee; here it is per key.
   */
  constructor(
    private readonly sql: TxSql,
    private readonly lockReads = false,
    /** The write's audit, whose held entries a history row can ride with (addEventFor). */
    private readonly audit?: PgAudit,
  ) {}

  private get forUpdate(): string {
    return this.lockReads ? ' FOR UPDATE' : '';
  }

  async insert(c: NewCredential): Promise<void> {
    await insertOrConflict(
      this.sql,
      `INSERT INTO credentials (id, identity_id, credential_id, public_key, aaguid, sign_count, transports, backup_eligible,
         backup_state, attestation_format, attestation_object, uv_at_registration, label, state, state_reason,
         created_at, updated_at, expires_at, enrolment_id, aal, attestation_verified, model, certification, aal_reasons)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16, $17, $18, $19, $20, $21, $22, $23)
       ON CONFLICT DO NOTHING`,
      [
        c.id,
        c.identityId,
        c.credentialId,
        Buffer.from(c.publicKey),
        c.aaguid,
        c.signCount,
        // JSON as text: pg would send a JS array as a PostgreSQL array.
        JSON.stringify(c.transports),
        c.backupEligible,
        c.backupState,
        c.attestationFormat,
        Buffer.from(c.attestationObject),
        c.userVerifiedAtRegistration,
        c.label,
        c.state,
        c.stateReason,
        c.createdAt,
        c.expiresAt,
        c.enrolmentId,
        c.aal,
        c.attestationVerified,
        c.model,
        c.certification,
        JSON.stringify(c.aalReasons),
      ],
    );
  }

  async insertWithinCap(c: NewCredential, max: number): Promise<boolean> {
    // NSIS 3.2.4: the count is serialised per holder; under READ COMMITTED it then sees every
    // key of that holder committed before the lock was granted.
    await lockKeyForTransaction(this.sql, 'holderKeys', c.identityId);
    const [counted] = await this.sql.rows(`SELECT COUNT(*)::int AS n FROM credentials WHERE identity_id = $1 AND state NOT IN ('revoked', 'expired')`, [c.identityId]);
    if (counted !== undefined && num(counted, 'n') >= max) return false;
    await this.insert(c);
    return true;
  }

  async get(id: string): Promise<Credential | undefined> {
    const [r] = await this.sql.rows(`SELECT * FROM credentials WHERE id = $1${this.forUpdate}`, [id]);
    return r === undefined ? undefined : records.credential(r);
  }

  async byCredentialId(credentialId: string): Promise<Credential | undefined> {
    const [r] = await this.sql.rows(`SELECT * FROM credentials WHERE credential_id = $1${this.forUpdate}`, [credentialId]);
    return r === undefined ? undefined : records.credential(r);
  }

  /**
   * One statement instead of three (issue 17: the completion of a sign-in reads this once). The
   * holder's and the organisation's columns come prefixed (`holder_`, `org_`) and are mapped by
   * the same record functions as their own tables' reads; in a write, only the key's row is locked.
   */
  async withHolder(credentialId: string): Promise<KeyWithHolder | undefined> {
    const [r] = await this.sql.rows(
      `SELECT c.*, ${HOLDER_COLUMNS}, ${ORG_COLUMNS}
         FROM credentials c
         LEFT JOIN identities i ON i.id = c.identity_id
         LEFT JOIN organisations o ON o.id = i.organisation_id
        WHERE c.credential_id = $1${this.lockReads ? ' FOR UPDATE OF c' : ''}`,
      [credentialId],
    );
    if (r === undefined) return undefined;
    const holder = prefixed(r, 'holder_');
    const org = prefixed(r, 'org_');
    return {
      credential: records.credential(r),
      identity: holder['id'] === null ? undefined : records.identity(holder),
      organisation: org['id'] === null ? undefined : records.organisation(org),
    };
  }

  async keysOfActiveEmail(email: string): Promise<{ identityId: string; keys: Credential[] } | undefined> {
    const found = await this.sql.rows(
      `SELECT i.id AS holder_id, c.* FROM identities i LEFT JOIN credentials c ON c.identity_id = i.id
        WHERE i.email_norm = $1 AND i.binding_state = 'active' ORDER BY c.created_at, c.id COLLATE "C"`,
      [normaliseEmail(email)],
    );
    const first = found[0];
    if (first === undefined) return undefined;
    return { identityId: str(first, 'holder_id'), keys: found.filter((r) => strOrNull(r, 'id') !== null).map(records.credential) };
  }

  async listOfIdentity(identityId: string): Promise<Credential[]> {
    return (await this.sql.rows('SELECT * FROM credentials WHERE identity_id = $1 ORDER BY created_at, id COLLATE "C"', [identityId])).map(records.credential);
  }

  async listLiveByAaguid(aaguid: string): Promise<Credential[]> {
    return (await this.sql.rows(`SELECT * FROM credentials WHERE aaguid = $1 AND ${LIVE} ORDER BY created_at, id COLLATE "C"`, [aaguid.toLowerCase()])).map(records.credential);
  }

  async listDueToExpire(at: string): Promise<Credential[]> {
    return (await this.sql.rows(`SELECT * FROM credentials WHERE expires_at IS NOT NULL AND expires_at <= $1 AND ${LIVE}`, [at])).map(records.credential);
  }

  async population(): Promise<KeyPopulation> {
    const keysPerPerson = (
      await this.sql.rows(
        `SELECT n, count(*) AS people FROM (
           SELECT count(*) AS n FROM credentials c JOIN identities i ON i.id = c.identity_id
           WHERE i.binding_state = 'active' GROUP BY c.identity_id) per_person
         GROUP BY n ORDER BY n`,
      )
    ).map((r) => ({ keys: num(r, 'n'), people: num(r, 'people') }));
    const shapes = (
      await this.sql.rows(
        `SELECT length(credential_id) AS chars, transports, count(*) AS n FROM credentials
         GROUP BY chars, transports ORDER BY chars, transports::text COLLATE "C"`,
      )
    )
      // Unpadded base64url: 4 characters carry 3 bytes.
      .map((r) => ({ idBytes: Math.floor((num(r, 'chars') * 3) / 4), transports: strings(r, 'transports'), keys: num(r, 'n') }));
    return { keysPerPerson, shapes };
  }

  async fleet(): Promise<FleetRow[]> {
    const rows = await this.sql.rows(
      `SELECT aaguid, model, certification, aal, state, count(*) AS count FROM credentials
       GROUP BY aaguid, model, certification, aal, state ORDER BY count DESC, aaguid COLLATE "C"`,
    );
    return rows.map((r) => ({
      aaguid: str(r, 'aaguid'),
      model: strOrNull(r, 'model'),
      certification: strOrNull(r, 'certification'),
      aal: strOrNull(r, 'aal'),
      state: str(r, 'state'),
      count: num(r, 'count'),
    }));
  }

  async events(credentialId: string): Promise<CredentialEvent[]> {
    return (await this.sql.rows('SELECT * FROM credential_events WHERE credential_id = $1 ORDER BY id', [credentialId])).map(records.credentialEvent);
  }

  async setState(id: string, from: CredentialState, to: CredentialState, reason: ReasonCode, at: string): Promise<boolean> {
    const activated = to === 'active' ? at : null;
    return (
      (await this.sql.count(
        `UPDATE credentials SET state = $1, state_reason = $2, updated_at = $3, activated_at = coalesce($4::timestamptz, activated_at)
         WHERE id = $5 AND state = $6`,
        [to, reason, at, activated, id, from],
      )) === 1
    );
  }

  async recordUse(id: string, expectedCount: number, newCount: number, backupState: boolean, at: string): Promise<boolean> {
    // The compare-and-set: a caller that waited for another's row lock re-checks the counter and
    // the state on the committed row (READ COMMITTED), so one use of one counter value wins.
    return (
      (await this.sql.count(
        `UPDATE credentials SET sign_count = $1, backup_state = $2, last_used_at = $3, updated_at = $3
         WHERE id = $4 AND state = 'active' AND sign_count = $5`,
        [newCount, backupState, at, id, expectedCount],
      )) === 1
    );
  }

  async setSignCount(id: string, newCount: number, backupState: boolean, at: string): Promise<void> {
    await this.sql.count('UPDATE credentials SET sign_count = $1, backup_state = $2, last_used_at = $3, updated_at = $3 WHERE id = $4', [newCount, backupState, at, id]);
  }

  async setAssurance(id: string, a: AssuranceUpdate, at: string): Promise<void> {
    await this.sql.count('UPDATE credentials SET aal = $1, model = $2, certification = $3, aal_reasons = $4, updated_at = $5 WHERE id = $6', [
      a.aal,
      a.model,
      a.certification,
      JSON.stringify(a.reasons),
      at,
      id,
    ]);
  }

  async rename(id: string, label: string, at: string): Promise<boolean> {
    return (await this.sql.count("UPDATE credentials SET label = $1, updated_at = $2 WHERE id = $3 AND state NOT IN ('revoked', 'expired')", [label, at, id])) === 1;
  }

  async addEvent(e: NewCredentialEvent): Promise<void> {
    await this.sql.count(
      `INSERT INTO credential_events (credential_id, action, from_state, to_state, actor_id, actor_role, reason, note, clause, at, audit_seq)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [e.credentialId, e.action, e.fromState, e.toState, e.actorId, e.actorRole, e.reason, e.note, e.clause, e.at, e.auditSeq],
    );
  }

  /**
   * Issue 17: while `entry` is held back, the row is written by the statement that appends it
   * (auditAppend.ts), its audit_seq the entry's number there: no statement of its own while the
   * chain is locked. An entry appended already gets the row as addEvent writes it.
   */
  async addEventFor(entry: PendingAuditEntry, e: Omit<NewCredentialEvent, 'auditSeq'>): Promise<void> {
    const rides = this.audit?.ride(entry, {
      into: 'credential_events (credential_id, action, from_state, to_state, actor_id, actor_role, reason, note, clause, at, audit_seq)',
      values: [e.credentialId, e.action, e.fromState, e.toState, e.actorId, e.actorRole, e.reason, e.note, e.clause, e.at],
    });
    if (rides !== true) await this.addEvent({ ...e, auditSeq: (await entry.chained()).seq });
  }
}

const STAFF_TIMES = `SELECT at FROM credential_events WHERE actor_id = $1 AND at > $2 AND actor_role IN ('helpdesk', 'org-admin', 'security-officer')
  AND action IN ('suspend', 'revoke') ORDER BY at, id`;

/** In a read transaction: the snapshot's count. */
export class PgStaffActions implements StaffActionReader {
  constructor(private readonly sql: Sql) {}

  async timesSince(actorId: string, since: string): Promise<string[]> {
    return (await this.sql.rows(STAFF_TIMES, [actorId, since])).map((r) => str(r, 'at'));
  }
}

/**
 * In a write transaction the count is serialised per actor (NSIS 3.2.3 (Low) 2: the hourly cap):
 * an advisory lock on the actor, held to the commit, is taken before counting. Under READ
 * COMMITTED the count then sees every action of that actor committed before the lock was granted,
 * so parallel actions on several instances cannot all read "one left".
 */
export class PgStaffActionsLocked implements StaffActionReader {
  constructor(private readonly sql: TxSql) {}

  async timesSince(actorId: string, since: string): Promise<string[]> {
    await lockKeyForTransaction(this.sql, 'staffActor', actorId);
    return (await this.sql.rows(STAFF_TIMES, [actorId, since])).map((r) => str(r, 'at'));
  }
}
