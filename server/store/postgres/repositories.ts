/** The repositories of one PostgreSQL transaction, as the port's ReadTx and WriteTx. */
import type { ReadTx, WriteTx } from '../../ports/store.js';
import { PgApprovals } from './approvals.js';
import { PgAudit, PgAuditReader } from './audit.js';
import { PgCheckpoints } from './checkpoints.js';
import { PgCredentials, PgStaffActions, PgStaffActionsLocked } from './credentials.js';
import { PgCodes, PgEnrolments } from './enrolments.js';
import { PgIdentities, PgOrganisations, PgSetups } from './identities.js';
import { PgLeases } from './leases.js';
import { PgOidc } from './oidc.js';
import { PgOutbox } from './outbox.js';
import { PgProvisioning, PgScimUsers } from './provisioning.js';
import { PgIdm } from './idm.js';
import { PgScimGroups } from './scimGroups.js';
import { PgLists } from './lists.js';
import type { TxSql } from './pool.js';
import { PgSaml } from './saml.js';
import { PgSessions } from './sessions.js';
import { PgSignIns } from './signIns.js';
import { PgSigningKeys } from './signingKeys.js';

/**
 * A read transaction's repositories (REPEATABLE READ, READ ONLY: one snapshot throughout). The
 * writing methods exist on the same classes, but the server refuses them in a read-only
 * transaction, and the port's ReadTx type does not offer them.
 */
export function readTxOf(sql: TxSql): ReadTx {
  return { ...common(sql), staffActions: new PgStaffActions(sql), audit: new PgAuditReader(sql) };
}

/** The repositories whose classes serve both kinds of transaction. */
function common(sql: TxSql): Omit<WriteTx, 'staffActions' | 'audit' | 'leases' | 'signIns' | 'afterCommit'> {
  return {
    organisations: new PgOrganisations(sql),
    identities: new PgIdentities(sql),
    setups: new PgSetups(sql),
    enrolments: new PgEnrolments(sql),
    credentials: new PgCredentials(sql),
    codes: new PgCodes(sql),
    sessions: new PgSessions(sql),
    outbox: new PgOutbox(sql),
    signingKeys: new PgSigningKeys(sql),
    checkpoints: new PgCheckpoints(sql),
    approvals: new PgApprovals(sql),
    oidc: new PgOidc(sql),
    saml: new PgSaml(sql),
    provisioning: new PgProvisioning(sql),
    scimUsers: new PgScimUsers(sql),
    scimGroups: new PgScimGroups(sql),
    idm: new PgIdm(sql),
    lists: new PgLists(sql),
  };
}

/**
 * A write transaction (READ COMMITTED) whose after-commit callbacks go to `hooks`. Its audit holds
 * entries back: the caller runs `audit.appendHeld()` after fn, before COMMIT (PostgresStore.write).
 */
export function writeTxOf(sql: TxSql, hooks: (() => void)[]): WriteTx & { readonly audit: PgAudit } {
  const audit = new PgAudit(sql);
  return {
    ...common(sql),
    // A key read in a write stays as read until the commit; its history rows ride with the audit entries they name (credentials.ts).
    credentials: new PgCredentials(sql, true, audit),
    // The hourly cap's count is serialised per actor; the audit entries appended before COMMIT.
    staffActions: new PgStaffActionsLocked(sql),
    audit,
    leases: new PgLeases(sql),
    signIns: new PgSignIns(sql),
    afterCommit: (fn) => void hooks.push(fn),
  };
}
