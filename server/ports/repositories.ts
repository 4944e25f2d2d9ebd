/**
 * The repositories of the store port, one per aggregate: a Reader (what a read transaction may
 * ask) and a Repo (what a write transaction may also change). Every method is async and
 * engine-neutral. "Guarded" and "single use" methods are atomic across processes and instances:
 * they return true (or the record) for exactly one caller.
 */
import type { Language } from '../../i18n/languages.js';
import type { ApprovalKind, ApprovalRecord, NewApproval } from '../domain/approvals.js';
import type { AuditEntry, AuditHead, AuditInput, AuditQuery, AuditSeqRange } from '../domain/audit.js';
import type { CheckpointRecord, NewCheckpoint, PruneRecord } from '../domain/checkpoints.js';
import type { NewIdentity, SetupRecord } from '../domain/identities.js';
import type {
  ActivationCodeRecord,
  AssuranceUpdate,
  CodeAttempt,
  CredentialEvent,
  Enrolment,
  FleetRow,
  KeyPopulation,
  NewActivationCode,
  NewCredential,
  NewCredentialEvent,
  NewEnrolment,
} from '../domain/keys.js';
import type { OidcAccessToken, OidcClient, OidcCode, OidcPendingRequest } from '../domain/oidc.js';
import type { NewOutboxMessage, OutboxMessage } from '../domain/outbox.js';
import type { SamlKeyRecord, SamlParticipant, SamlPendingRequest, SamlServiceProviderRecord } from '../domain/saml.js';
import type { NewSession, SessionRecord } from '../domain/sessions.js';
import type { KeyRecordRow, NewKeyRecord, NewSigningKey, SigningKeyRecord, SigningKeyState } from '../domain/signingKeys.js';
import type { AssignedRole, Credential, CredentialState, Identity, Organisation, ReasonCode } from '../domain/types.js';
import type { StaffRole } from '../duties/table.js';

// --- organisations and identities ----------------------------------------------------------

export interface OrganisationReader {
  get(id: string): Promise<Organisation | undefined>;
  byCvr(cvr: string): Promise<Organisation | undefined>;
}
export interface OrganisationRepo extends OrganisationReader {
  insert(o: Organisation): Promise<void>;
}

export interface IdentityReader {
  /** With the roles the identity holds, sorted. */
  get(id: string): Promise<Identity | undefined>;
  /** The bound identity with this address (compared as normaliseEmail compares). */
  findActiveByEmail(email: string): Promise<Identity | undefined>;
  /** Bound identities holding `role`, oldest binding first. */
  listActiveWithRole(role: AssignedRole): Promise<Identity[]>;
  /** Bound people holding any of `roles`, each person counted once. */
  countActiveWithAnyRole(roles: readonly AssignedRole[]): Promise<number>;
  /** By name or email (substring, case-insensitive) or exact id; bound first, then newest. */
  search(organisationId: string, query: string, limit?: number): Promise<Identity[]>;
}
export interface IdentityRepo extends IdentityReader {
  /** Bound at once (binding state active); an address already bound is refused (StoreConflict). */
  insert(i: NewIdentity): Promise<void>;
  /** Idempotent: a role held already keeps its first grant. */
  grantRole(identityId: string, role: AssignedRole, grantedBy: string | null, at: string): Promise<void>;
  /** False when the role was not held. */
  revokeRole(identityId: string, role: AssignedRole): Promise<boolean>;
  /** Guarded: only while the binding is active. */
  setEmail(identityId: string, email: string): Promise<boolean>;
  /** Guarded: only while the binding is active. */
  setName(identityId: string, name: string): Promise<boolean>;
  /** The language of the person's mails (null: the organisation's default). Guarded: only while the binding is active. */
  setLanguage(identityId: string, language: Language | null): Promise<boolean>;
  /** Guarded: true only for the one caller that ended an active binding. */
  endBinding(identityId: string, at: string): Promise<boolean>;
}

export interface SetupReader {
  /** True if `by` ever created or changed the identity, a role of it, or its contact data or name. */
  setUpBy(identityId: string, by: string): Promise<boolean>;
  /** The change that set the identity's current contact data, if it was ever changed after creation. */
  lastContactChange(identityId: string): Promise<SetupRecord | undefined>;
  /** In the order recorded. */
  listFor(identityId: string): Promise<SetupRecord[]>;
}
export interface SetupRepo extends SetupReader {
  /** Append-only. */
  record(s: SetupRecord): Promise<void>;
}

// --- enrolment, keys, codes -------------------------------------------------------------------

export interface EnrolmentReader {
  get(id: string): Promise<Enrolment | undefined>;
  byTokenHash(tokenHash: string): Promise<Enrolment | undefined>;
}
export interface EnrolmentRepo extends EnrolmentReader {
  insert(e: NewEnrolment): Promise<void>;
  /** Single use: true only for the one caller that consumed a live (open, unlocked, unexpired) link. */
  consume(id: string, at: string): Promise<boolean>;
  /**
   * Counts one failed registration through an open link and locks it at `max`, atomically (every
   * concurrent failure is counted). Undefined when the link was already consumed, withdrawn or locked.
   */
  recordFailedAttempt(id: string, max: number, at: string): Promise<{ attempts: number; locked: boolean } | undefined>;
  /** Withdraws every open link of the identity; returns how many. */
  supersedeOpen(identityId: string, at: string): Promise<number>;
  /** A mailed link's token hash, set at delivery: only while the link is open and unexpired. */
  mintToken(enrolmentId: string, tokenHash: string, at: string): Promise<boolean>;
}

/** A key as a sign-in reads it: with its holder and their organisation (absent if the rows are). */
export interface KeyWithHolder {
  credential: Credential;
  identity: Identity | undefined;
  organisation: Organisation | undefined;
}

export interface CredentialReader {
  get(id: string): Promise<Credential | undefined>;
  byCredentialId(credentialId: string): Promise<Credential | undefined>;
  /**
   * The key with this WebAuthn credential id, its holder and the holder's organisation, as one
   * read (one statement on PostgreSQL; issue 17: what a sign-in's completion reads, once).
   */
  withHolder(credentialId: string): Promise<KeyWithHolder | undefined>;
  /** Oldest first. */
  listOfIdentity(identityId: string): Promise<Credential[]>;
  /**
   * The person whose address this is, if bound (as `identities.findActiveByEmail` finds them),
   * with their keys oldest first (as `listOfIdentity`), in ONE statement (issue 17: what a
   * sign-in's options read, without BEGIN and COMMIT); undefined if no bound person has it.
   */
  keysOfActiveEmail(email: string): Promise<{ identityId: string; keys: Credential[] } | undefined>;
  /** Keys of a model (by AAGUID, any case) that are not yet terminal, oldest first. */
  listLiveByAaguid(aaguid: string): Promise<Credential[]>;
  /** Non-terminal keys whose expiry is at or before `at`. */
  listDueToExpire(at: string): Promise<Credential[]>;
  /** The shape of the registered keys, as counts only (a scan: callers cache it). */
  population(): Promise<KeyPopulation>;
  /** Keys by model, certification, level and state, most numerous first. */
  fleet(): Promise<FleetRow[]>;
  /** A key's state history, oldest first. */
  events(credentialId: string): Promise<CredentialEvent[]>;
}
export interface CredentialRepo extends CredentialReader {
  /** A credential id registered already is refused (StoreConflict). */
  insert(c: NewCredential): Promise<void>;
  /**
   * A key the holder adds themselves (NSIS 3.2.4): inserted only while the holder has fewer than
   * `max` keys that are neither revoked nor expired. The count and the insert are one step,
   * serialised with every other such insert for the same holder (SQLite: the write lock;
   * PostgreSQL: a lock on the holder), so parallel additions cannot all read "one left".
   * False (nothing inserted) at the cap; a credential id registered already is StoreConflict.
   */
  insertWithinCap(c: NewCredential, max: number): Promise<boolean>;
  /** Guarded state change: true only if the key was still in `from` (activation time set on `active`). */
  setState(id: string, from: CredentialState, to: CredentialState, reason: ReasonCode, at: string): Promise<boolean>;
  /** Compare-and-set of a use: true only if the key is still active with the counter `expectedCount`. */
  recordUse(id: string, expectedCount: number, newCount: number, backupState: boolean, at: string): Promise<boolean>;
  /** The counter and backup state seen during activation (the key is not active yet). */
  setSignCount(id: string, newCount: number, backupState: boolean, at: string): Promise<void>;
  setAssurance(id: string, update: AssuranceUpdate, at: string): Promise<void>;
  /** Guarded: not for a revoked or expired key. */
  rename(id: string, label: string, at: string): Promise<boolean>;
  /** Append-only state history. */
  addEvent(e: NewCredentialEvent): Promise<void>;
  /**
   * The state-history row naming `entry` (added by `audit.add` in this write) as its audit entry.
   * Issue 17: needs no `chained()` first, so the adapter may write it with the entry itself
   * (PostgreSQL: in the statement that appends the held entries, right before COMMIT).
   */
  addEventFor(entry: PendingAuditEntry, e: Omit<NewCredentialEvent, 'auditSeq'>): Promise<void>;
}

/** The staff hourly cap (NSIS 3.2.3 (Low) 2), counted from the durable state history. */
export interface StaffActionReader {
  /**
   * When `actorId` suspended or revoked keys as staff after `since`, oldest first. Inside a write
   * transaction the count is serialised with every other transaction counting the same actor
   * (SQLite: the write lock; PostgreSQL: a lock on the actor), so parallel actions on several
   * processes cannot all read "one left".
   */
  timesSince(actorId: string, since: string): Promise<string[]>;
}

export interface CodeReader {
  /** The newest code of a key neither used nor replaced (it may be expired or locked). */
  latestOpen(credentialId: string): Promise<ActivationCodeRecord | undefined>;
}
export interface CodeRepo extends CodeReader {
  insert(c: NewActivationCode): Promise<void>;
  /** Sets a code's keyed hash at delivery: only while the code is open and unexpired (issue 13, 5). */
  mint(codeId: string, codeHash: string, at: string): Promise<boolean>;
  /** Withdraws every open code of a key; returns how many. */
  supersedeOpen(credentialId: string, at: string): Promise<number>;
  /**
   * Counts one evaluation BEFORE the code is compared (issue 13, 3), atomically: only while the
   * code is open, unexpired and has attempts left, so however many requests race, at most `max`
   * are counted. Returns the hash as it is now (a re-delivered mail minted a new one).
   */
  countAttempt(codeId: string, max: number, at: string): Promise<CodeAttempt>;
  /** Locks a code whose last attempt was wrong (the first lock time stays). */
  lock(codeId: string, at: string): Promise<void>;
  /** Single use: true only for the one caller that consumed an open, unexpired code. */
  consume(codeId: string, at: string): Promise<boolean>;
}

// --- sessions -------------------------------------------------------------------------------

export interface SessionReader {
  get(idHash: string): Promise<SessionRecord | undefined>;
  liveOfIdentity(identityId: string): Promise<SessionRecord[]>;
  liveOfCredential(credentialId: string): Promise<SessionRecord[]>;
}
export interface SessionRepo extends SessionReader {
  insert(s: NewSession): Promise<void>;
  /** Only a live session. */
  touch(idHash: string, at: string): Promise<void>;
  /** Guarded: true only for the caller that ended a live session. */
  end(idHash: string, reason: string, at: string): Promise<boolean>;
  /** Guarded like end(): the live session this call ended, or none (one statement: issue 17). */
  endOne(idHash: string, reason: string, at: string): Promise<SessionRecord | undefined>;
  /** Ends every live session of a key; returns the sessions this call ended. */
  endOfCredential(credentialId: string, reason: string, at: string): Promise<SessionRecord[]>;
  /** Ends every live session of a person; returns the sessions this call ended. */
  endOfIdentity(identityId: string, reason: string, at: string): Promise<SessionRecord[]>;
}

/**
 * The one durable write of a sign-in (NSIS 3.3; issue 17), decided by the flow and recorded by
 * the adapter in one step: the counter compare-and-set (as CredentialRepo.recordUse), the new
 * session, the browser's previous session ended if it is still live, and the audit entries.
 */
export interface SignInCommit {
  keyId: string;
  expectedCount: number;
  newCount: number;
  backupState: boolean;
  at: string;
  session: NewSession;
  /** Appended in this order once the compare-and-set has passed (`signin.succeeded` first). */
  entries: AuditInput[];
  /**
   * The browser's previous session, live when the flow read it (its person never changes): ended
   * with `reason` if it is still live, and only then `entry` (its `session.ended`) appended right
   * after entries[0].
   */
  previous?: { idHash: string; identityId: string; reason: string; entry: AuditInput };
}

export interface SignInCommitted {
  /** The previous session was live and this commit ended it. */
  previousEnded: boolean;
  /** The entries appended, chained, in order. */
  entries: AuditEntry[];
}

export interface SignInRepo {
  /**
   * All or nothing. undefined when the compare-and-set fails (another use or a suspension
   * committed since the key was read, NSIS 3.2.3 (Low) 1, 3-4): then nothing at all is written.
   * PostgreSQL runs it as ONE statement, so with `write(fn, { oneStatement: true })` the chain's
   * head is locked only inside the server, never across a round trip to the gateway.
   */
  commit(c: SignInCommit): Promise<SignInCommitted | undefined>;
}

// --- audit, checkpoints, outbox ---------------------------------------------------------------

export interface AuditReader {
  head(): Promise<AuditHead>;
  /** Entries from `fromSeq` on (at most `throughSeq`), in order, at most `limit`. */
  page(fromSeq: number, limit: number, throughSeq?: number): Promise<AuditEntry[]>;
  /** The hash of entry `seq`, if it exists. */
  hashAt(seq: number): Promise<string | undefined>;
  /** Entries up to and including `seq` (what a prune through it would remove). */
  countThrough(seq: number): Promise<number>;
  /** A person's trail: events about them, by them and about their keys, newest first. */
  forPerson(identityId: string, limit?: number): Promise<AuditEntry[]>;
  /**
   * The entries matching `q`, at most `limit`: newest first (`order` 'desc', paged with
   * `beforeSeq`) or oldest first ('asc', paged with `afterSeq`, as an export reads them).
   */
  search(q: AuditQuery, order: 'asc' | 'desc', limit: number): Promise<AuditEntry[]>;
  /** The sequence numbers of the first and last entries with `from` <= at < `to` (either open). */
  seqRange(from: string | undefined, to: string | undefined): Promise<AuditSeqRange | undefined>;
}
/** An event added to a write's chain by `AuditRepo.add`, whose number and hash may be settled only at the commit. */
export interface PendingAuditEntry {
  /**
   * The entry as chained. Where the adapter holds entries back (PostgreSQL), this appends every
   * entry the write still holds, in order, and the chain's lock is held from then to the commit.
   */
  chained(): Promise<AuditEntry>;
}

export interface AuditRepo extends AuditReader {
  /** Appends one event to the ONE hash chain (appends are serialised); returns it chained. */
  append(input: AuditInput): Promise<AuditEntry>;
  /**
   * Adds one event to the ONE hash chain with this write's commit (issue 17): the same chain,
   * hashes and order as `append` (entries added and appended in one write keep the order they were
   * made in), all or nothing with the write. The adapter may hold the entry back until the commit
   * (PostgreSQL: the chain's lock is then taken by one statement right before COMMIT, not at the
   * first entry) but appends what it holds before any read of the audit log in the same write, any
   * `append`, and `chained()`.
   */
  add(input: AuditInput): Promise<PendingAuditEntry>;
  /**
   * Retention: deletes the entries up to and including `throughSeq` and records the signed prune
   * anchored by checkpoint `anchorCheckpointId`. The only deletion the audit table ever allows.
   */
  pruneThrough(throughSeq: number, anchorCheckpointId: number, at: string, jws: string): Promise<number>;
}

export interface CheckpointReader {
  /** The newest checkpoint (append order). */
  latest(): Promise<CheckpointRecord | undefined>;
  /** Every checkpoint, in append order. */
  list(): Promise<CheckpointRecord[]>;
  count(): Promise<number>;
  get(id: number): Promise<CheckpointRecord | undefined>;
  /** The newest checkpoint at or before `at` (the anchor a prune may cut up to). */
  latestAtOrBefore(at: string): Promise<CheckpointRecord | undefined>;
  /** Signed-note checkpoints not yet delivered to `sink`, oldest first. */
  undelivered(sink: string, limit: number): Promise<CheckpointRecord[]>;
  latestPrune(): Promise<PruneRecord | undefined>;
  /** Every prune, in append order. */
  prunes(): Promise<PruneRecord[]>;
}
export interface CheckpointRepo extends CheckpointReader {
  /** Append-only; returns the new checkpoint's id. */
  insert(c: NewCheckpoint): Promise<number>;
  /** Idempotent. */
  markDelivered(checkpointId: number, sink: string, at: string): Promise<void>;
}

export interface OutboxReader {
  /** Messages not yet sent (nor withdrawn). */
  pendingCount(): Promise<number>;
}
export interface OutboxRepo extends OutboxReader {
  enqueue(m: NewOutboxMessage): Promise<void>;
  /**
   * Claims up to `limit` due messages (oldest first) for this caller until `leaseUntil`: a
   * message is claimed by one caller at a time across processes and instances, and a lease that
   * ran out (its deliverer died) makes it due again.
   */
  claimDue(at: string, leaseUntil: string, limit: number): Promise<OutboxMessage[]>;
  /** Delivered: its body (which may carry a one-time code) is erased. */
  markSent(id: string, at: string): Promise<void>;
  /** Never to be delivered (the secret it would carry was withdrawn or used); its body is erased. */
  markWithdrawn(id: string, at: string, why: string): Promise<void>;
  markFailed(id: string, error: string, nextAttemptAt: string): Promise<void>;
}

// --- signing keys, approvals, OIDC, leases ------------------------------------------------------

export interface SigningKeyReader {
  get(kid: string): Promise<SigningKeyRecord | undefined>;
  /** Oldest first. */
  list(): Promise<SigningKeyRecord[]>;
  active(): Promise<SigningKeyRecord | undefined>;
  inState(state: SigningKeyState): Promise<SigningKeyRecord[]>;
  /** Pending, active, and retired keys still published at `at`. */
  published(at: string): Promise<SigningKeyRecord[]>;
  /** Every signed key record, in append order. */
  records(): Promise<KeyRecordRow[]>;
  /** Kids of key rows without a signed record yet (rows older than signed records). */
  kidsWithoutRecord(): Promise<string[]>;
}
export interface SigningKeyRepo extends SigningKeyReader {
  insert(k: NewSigningKey): Promise<void>;
  /** Guarded: pending -> active (at most one key is ever active). */
  promote(kid: string, at: string): Promise<boolean>;
  /** Guarded: active -> retired. */
  retire(kid: string, at: string, publishedUntil: string, compromised: boolean): Promise<boolean>;
  /** Guarded: retired -> destroyed; unpublished from `at` at the latest. */
  markDestroyed(kid: string, at: string): Promise<boolean>;
  /** Append-only. */
  addRecord(r: NewKeyRecord): Promise<void>;
}

export interface ApprovalReader {
  get(id: string): Promise<ApprovalRecord | undefined>;
  /** Newest first, optionally only some kinds. */
  list(kinds?: readonly ApprovalKind[], limit?: number): Promise<ApprovalRecord[]>;
  /** Oldest first. */
  pending(): Promise<ApprovalRecord[]>;
}
export interface ApprovalRepo extends ApprovalReader {
  insert(a: NewApproval): Promise<void>;
  /** Single use: only the first decision on a pending request counts. */
  decide(id: string, state: 'executed' | 'rejected', by: string, role: StaffRole | null, at: string, result: string | null): Promise<boolean>;
  /** Guarded: a pending request whose requester lost the role (or binding) it needed. */
  withdraw(id: string, at: string, why: string): Promise<boolean>;
  setResult(id: string, state: 'executed' | 'failed', result: string): Promise<void>;
}

export interface OidcReader {
  client(clientId: string): Promise<OidcClient | undefined>;
  /** By client id. */
  clients(): Promise<OidcClient[]>;
  /** A pending authorization request as stored, live, used or expired. */
  request(id: string): Promise<OidcPendingRequest | undefined>;
  accessToken(tokenHash: string): Promise<OidcAccessToken | undefined>;
  /** The relying parties a session was used with, by client id. */
  clientsOfSession(sessionHash: string): Promise<string[]>;
}
export interface OidcRepo extends OidcReader {
  /** Registers or replaces a client (its creator, creation time and disabled state stay). */
  upsertClient(c: Omit<OidcClient, 'disabledAt'>): Promise<void>;
  /** Replaces a client's secret hash; false for an unknown client. */
  setClientSecretHash(clientId: string, secretHash: string): Promise<boolean>;
  /** Disables (at) or enables (null) a client; false when it already was in that state or is unknown. */
  setClientDisabled(clientId: string, at: string | null): Promise<boolean>;
  insertRequest(id: string, clientId: string, params: string, createdAt: string, expiresAt: string): Promise<void>;
  /** Single use: the request's parameters once, while it is live. */
  consumeRequest(id: string, at: string): Promise<Pick<OidcPendingRequest, 'clientId' | 'params' | 'createdAt'> | undefined>;
  insertCode(codeHash: string, c: OidcCode): Promise<void>;
  /**
   * Single use (RFC 6749 §4.1.2): the code as it was, marked used; `consumedBefore` is true for
   * every caller after the first. Undefined for an unknown code.
   */
  consumeCode(codeHash: string, at: string): Promise<(OidcCode & { consumedBefore: boolean }) | undefined>;
  insertAccessToken(tokenHash: string, t: OidcAccessToken): Promise<void>;
  /** RFC 6749 §4.1.2: a code used twice loses what was issued from it. */
  revokeAccessTokensOfCode(codeHash: string): Promise<void>;
  /** Tokens issued from a session die with it. */
  revokeAccessTokensOfSession(sessionHash: string): Promise<void>;
  /** A disabled client loses every access token it holds (issue 16); the number revoked. */
  revokeAccessTokensOfClient(clientId: string): Promise<number>;
  /** Idempotent. */
  recordSessionClient(sessionHash: string, clientId: string): Promise<void>;
  /** Single use (RFC 7523 §3): true only the first time a client assertion's jti is seen. */
  useAssertionJti(jti: string, clientId: string, expiresAt: string): Promise<boolean>;
  /** Forgets requests, codes, tokens and assertion ids that expired before `at`. */
  pruneExpired(at: string): Promise<void>;
}

/** A named lease (e.g. the audit checkpoint's): one holder at a time across processes and instances. */
export interface LeaseRepo {
  /** True when the lease was free, ran out at or before `at`, or is `holder`'s already: then it is `holder`'s until `until`. */
  acquire(name: string, holder: string, until: string, at: string): Promise<boolean>;
  /** Gives the lease up, if `holder` has it. */
  release(name: string, holder: string): Promise<void>;
}

// --- the OIOSAML 3 identity provider (issue 15) ------------------------------------------------

export interface SamlReader {
  serviceProvider(entityId: string): Promise<SamlServiceProviderRecord | undefined>;
  /** By entity ID. */
  serviceProviders(): Promise<SamlServiceProviderRecord[]>;
  /** A pending AuthnRequest as stored, live, used or expired. */
  request(id: string): Promise<SamlPendingRequest | undefined>;
  /** The SPs a session signed in to, by entity ID. */
  participantsOfSession(sessionHash: string): Promise<SamlParticipant[]>;
  /** The session an SP knows by the SessionIndex it was given. */
  participantByIndex(entityId: string, sessionIndex: string): Promise<SamlParticipant | undefined>;
  /** Oldest first. */
  keys(): Promise<SamlKeyRecord[]>;
}
export interface SamlRepo extends SamlReader {
  /** Registers or replaces an SP (its creation time stays). */
  upsertServiceProvider(r: SamlServiceProviderRecord): Promise<void>;
  insertRequest(r: Omit<SamlPendingRequest, 'consumed'>): Promise<void>;
  /** Single use: the request's parameters once, while it is live. */
  consumeRequest(id: string, at: string): Promise<Pick<SamlPendingRequest, 'entityId' | 'params' | 'createdAt'> | undefined>;
  /**
   * Single use of a message ID (saml-profiles 4.1.4.5): true only the first time `key` is seen,
   * across every process and instance; remembered until `expiresAt`.
   */
  useMessageId(key: string, expiresAt: string): Promise<boolean>;
  /** Idempotent per (session, SP): a later sign-in at the same SP replaces its index. */
  recordParticipant(p: SamlParticipant): Promise<void>;
  /** A key already present (kid or ckaId) is refused (StoreConflict). */
  insertKey(k: SamlKeyRecord): Promise<void>;
  /** Guarded: a CA-issued certificate replaces the self-signed one only while the key is pending. */
  setCertificate(kid: string, certificatePem: string): Promise<boolean>;
  /** Guarded: pending -> active (at most one key is ever active). */
  activateKey(kid: string, at: string): Promise<boolean>;
  /** Guarded: active -> retired. */
  retireKey(kid: string, at: string): Promise<boolean>;
  /** Guarded: retired -> destroyed. */
  destroyKey(kid: string, at: string): Promise<boolean>;
  /** Guarded: pending -> destroyed (discarded: activated_at and retired_at stay empty, the key never signed). */
  discardKey(kid: string, at: string): Promise<boolean>;
  /** Forgets pending requests and message IDs that expired before `at`. */
  pruneExpired(at: string): Promise<void>;
}
