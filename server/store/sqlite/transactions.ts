/** The repositories of one connection, as the port's ReadTx and WriteTx. */
import type { ReadTx, WriteTx } from '../../ports/store.js';
import { SqliteApprovals } from './approvals.js';
import { SqliteAudit } from './audit.js';
import { SqliteCheckpoints } from './checkpoints.js';
import type { Connection } from './connection.js';
import { SqliteCredentials, SqliteStaffActions } from './credentials.js';
import { SqliteCodes, SqliteEnrolments } from './enrolments.js';
import { SqliteIdentities, SqliteOrganisations, SqliteSetups } from './identities.js';
import { SqliteLeases } from './leases.js';
import { SqliteOidc } from './oidc.js';
import { SqliteOutbox } from './outbox.js';
import { SqliteSaml } from './saml.js';
import { SqliteProvisioning, SqliteScimUsers } from './provisioning.js';
import { SqliteIdm } from './idm.js';
import { SqliteScimGroups } from './scimGroups.js';
import { SqliteLists } from './lists.js';
import { SqliteSessions } from './sessions.js';
import { SqliteSignIns } from './signIns.js';
import { SqliteSigningKeys } from './signingKeys.js';

/**
 * Every repository over one connection (they prepare nothing until used). The audit repository
 * as its class: the writer tells it where transactions end (SqliteAudit.forgetHead).
 */
export type Repositories = Omit<WriteTx, 'afterCommit' | 'audit'> & { audit: SqliteAudit };

export function repositoriesOf(db: Connection): Repositories {
  const credentials = new SqliteCredentials(db);
  const sessions = new SqliteSessions(db);
  const audit = new SqliteAudit(db);
  return {
    organisations: new SqliteOrganisations(db),
    identities: new SqliteIdentities(db),
    setups: new SqliteSetups(db),
    enrolments: new SqliteEnrolments(db),
    credentials,
    codes: new SqliteCodes(db),
    sessions,
    staffActions: new SqliteStaffActions(db),
    audit,
    outbox: new SqliteOutbox(db),
    signingKeys: new SqliteSigningKeys(db),
    checkpoints: new SqliteCheckpoints(db),
    approvals: new SqliteApprovals(db),
    oidc: new SqliteOidc(db),
    saml: new SqliteSaml(db),
    provisioning: new SqliteProvisioning(db),
    scimUsers: new SqliteScimUsers(db),
    scimGroups: new SqliteScimGroups(db),
    idm: new SqliteIdm(db),
    lists: new SqliteLists(db),
    leases: new SqliteLeases(db),
    signIns: new SqliteSignIns(db, { credentials, sessions, audit }),
  };
}

export function readTxOf(repos: Repositories): ReadTx {
  return repos;
}

/** A write transaction whose after-commit callbacks go to `hooks`. */
export function writeTxOf(repos: Repositories, hooks: (() => void)[]): WriteTx {
  return { ...repos, afterCommit: (fn) => void hooks.push(fn) };
}
