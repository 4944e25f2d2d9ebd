/**
 * The store port: what the gateway needs of its database, and nothing of any driver. Two
 * adapters implement it (server/store/sqlite/, server/store/postgres/); one conformance suite
 * (test/store/) holds them to it. docs/architecture.md says how a flow uses it.
 *
 * - `write(fn)` runs fn in ONE durable transaction: all of it commits, or none of it. Other
 *   callers never see its changes before the commit, and fn never sees theirs half-made. The
 *   adapter may commit several callers' transactions together (group commit); each still
 *   succeeds or fails on its own. Rule: no I/O but the store inside fn (sign with the HSM,
 *   verify WebAuthn, resolve DNS, send mail BEFORE or after the write; the write only records).
 * - `read(fn)` runs fn on a consistent snapshot of committed data. The same rule holds.
 * - `tx.afterCommit(cb)` runs cb once the transaction is durable, never after a rollback.
 * - Single use and compare-and-set are methods that say so, and are atomic across processes and
 *   instances: exactly one caller gets `true` (or the record).
 * - Failures the caller cannot cause are typed: StoreBusy (retry shortly: 503 + Retry-After),
 *   StoreUnavailable (the database is gone: 503), StoreConflict (a uniqueness the caller raced).
 */
import type { EphemeralStore } from './ephemeral.js';
import type {
  ApprovalReader,
  ApprovalRepo,
  AuditReader,
  AuditRepo,
  CheckpointReader,
  CheckpointRepo,
  CodeReader,
  CodeRepo,
  CredentialReader,
  CredentialRepo,
  EnrolmentReader,
  EnrolmentRepo,
  IdentityReader,
  IdentityRepo,
  LeaseRepo,
  OidcReader,
  OidcRepo,
  OrganisationReader,
  OrganisationRepo,
  OutboxReader,
  OutboxRepo,
  SamlReader,
  SamlRepo,
  SessionReader,
  SessionRepo,
  SetupReader,
  SetupRepo,
  SigningKeyReader,
  SigningKeyRepo,
  SignInRepo,
  StaffActionReader,
} from './repositories.js';
import type { IdmReader, IdmRepo } from './idm.js';
import type { ListReader } from './lists.js';
import type { ProvisioningReader, ProvisioningRepo, ScimUserReader, ScimUserRepo } from './provisioning.js';
import type { ScimGroupReader, ScimGroupRepo } from './scimGroups.js';

export type * from './repositories.js';
export type * from './provisioning.js';
export type * from './scimGroups.js';
export type * from './idm.js';
export type * from './ephemeral.js';
export { StoreBusy, StoreConflict, StoreError, StoreUnavailable } from './storeErrors.js';

export type StoreEngine = 'sqlite' | 'postgres';

/** Everything a transaction may read: one repository per aggregate. */
export interface ReadTx {
  organisations: OrganisationReader;
  identities: IdentityReader;
  setups: SetupReader;
  enrolments: EnrolmentReader;
  credentials: CredentialReader;
  codes: CodeReader;
  sessions: SessionReader;
  staffActions: StaffActionReader;
  audit: AuditReader;
  outbox: OutboxReader;
  signingKeys: SigningKeyReader;
  checkpoints: CheckpointReader;
  approvals: ApprovalReader;
  oidc: OidcReader;
  saml: SamlReader;
  provisioning: ProvisioningReader;
  scimUsers: ScimUserReader;
  scimGroups: ScimGroupReader;
  idm: IdmReader;
  /** Staff lists: filtered, sorted, paged (issue 16). */
  lists: ListReader;
}

/** A durable transaction: the readers, their writers, and what to do once it has committed. */
export interface WriteTx extends ReadTx {
  organisations: OrganisationRepo;
  identities: IdentityRepo;
  setups: SetupRepo;
  enrolments: EnrolmentRepo;
  credentials: CredentialRepo;
  codes: CodeRepo;
  sessions: SessionRepo;
  audit: AuditRepo;
  outbox: OutboxRepo;
  signingKeys: SigningKeyRepo;
  checkpoints: CheckpointRepo;
  approvals: ApprovalRepo;
  oidc: OidcRepo;
  saml: SamlRepo;
  provisioning: ProvisioningRepo;
  scimUsers: ScimUserRepo;
  scimGroups: ScimGroupRepo;
  idm: IdmRepo;
  leases: LeaseRepo;
  /** The one write of a sign-in (issue 17). */
  signIns: SignInRepo;
  /**
   * Runs `fn` after this transaction is durable (metrics events, back-channel logout, an outbox
   * kick); never if it rolls back. A throwing `fn` is logged by the adapter, never turned into a
   * failure of the committed transaction.
   */
  afterCommit(fn: () => void): void;
}

/** Adapter-specific operations for the operator's tools (scripts/), never for a request. */
export interface StoreTools {
  /**
   * Writes a consistent, self-contained copy of the durable state to the file `target` while the
   * gateway serves (SQLite: VACUUM INTO). An engine whose backups are its own tools' business
   * (PostgreSQL: pg_dump, PITR) refuses with a message saying so.
   */
  backup(target: string): Promise<void>;
  /** Where the data lives and how durably it is written (for the benchmark report and the logs). */
  describe(): Promise<{ engine: StoreEngine; location: string; settings: Record<string, string | number> }>;
}

/** How a read runs (issue 17). */
export interface ReadOptions {
  /**
   * fn makes ONE repository call that both adapters run as one statement (e.g.
   * `credentials.withHolder`, `credentials.byCredentialId`, `identities.findActiveByEmail`,
   * `signingKeys.active`): a single statement is its own consistent snapshot, so the adapters run
   * it without BEGIN and COMMIT (two round trips fewer on PostgreSQL, two statements fewer on
   * SQLite) and refuse a second statement (TypeError).
   */
  oneStatement?: boolean;
}

/** How a write runs (issue 17). */
export interface WriteOptions {
  /**
   * fn makes ONE repository call that PostgreSQL runs as one statement (`signIns.commit`): the
   * statement is its own transaction, durable when it is answered, so PostgreSQL runs it without
   * BEGIN and COMMIT (no lock it takes is held across a round trip) and refuses a second
   * statement (TypeError; the first has committed by then: a programming error the tests find).
   * SQLite runs fn as any write (one group-committed transaction).
   */
  oneStatement?: boolean;
}

export interface Store {
  readonly engine: StoreEngine;
  write<T>(fn: (tx: WriteTx) => Promise<T>, options?: WriteOptions): Promise<T>;
  read<T>(fn: (tx: ReadTx) => Promise<T>, options?: ReadOptions): Promise<T>;
  /** Shared by every process and instance, single use where it says so, but NOT durable. */
  readonly ephemeral: EphemeralStore;
  readonly tools: StoreTools;
  /** Resolves when the database answers a query now; throws StoreUnavailable otherwise. */
  health(): Promise<void>;
  schemaVersion(): Promise<number>;
  close(): Promise<void>;
}
