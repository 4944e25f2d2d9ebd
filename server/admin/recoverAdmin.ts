/**
 * The way back for a locked-out administrator (NSIS 4.1.5 (Substantial) 7: trusted, administrative
 * access is secured and monitored; NSIS 3.2.2: an enrolment link is the one way to a new key).
 *
 * `npm run recover-admin` runs on the server (local access to the database, the secret key and
 * the HSM) and proves the HSM user PIN by logging in to the token. It only issues a fresh one-time
 * enrolment link for that administrator, written to a 0600 file; the activation code still goes
 * to the administrator's own address. It is audited (`admin.recovered`, or
 * `admin-recovery.refused` with the reason) and every staff member is mailed.
 *
 * Refused when the administrator still has an active key (they can sign in), and when another
 * administrator has one (that administrator can issue a link in the console, under the usual
 * controls): recovery is for when no administrator can act. A suspended, revoked or expired key
 * is not usable; a registered but never activated key is not either (its activation code may be
 * lost with it).
 */
import os from 'node:os';
import type { Clock } from '../clock.js';
import { SYSTEM_ACTOR, type AssignedRole, type Identity } from '../domain/types.js';
import type { CoreDeps } from '../flows/deps.js';
import { issueEnrolmentIn, operatorLink } from '../flows/enrolment/issueEnrolment.js';
import { queueMail } from '../flows/shared/mail.js';
import { adminRecoveredMail } from './recoveryMail.js';
import type { ReadTx, Store } from '../ports/store.js';

export type RecoveryRefusal =
  | 'no-pin'
  | 'pin-refused'
  | 'hsm-unavailable'
  | 'wrong-token'
  | 'unknown-administrator'
  | 'choose-administrator'
  | 'not-an-administrator'
  | 'has-active-key'
  | 'another-administrator-can-act';

export class RecoveryRefused extends Error {
  override readonly name = 'RecoveryRefused';
  constructor(
    readonly reason: RecoveryRefusal,
    message: string,
  ) {
    super(message);
  }
}

/** Who ran it, as far as the server can tell (for the audit event and the staff mail). */
export interface Operator {
  host: string;
  osUser: string;
  tokenLabel: string;
}

export function currentOperator(tokenLabel: string): Operator {
  let osUser = 'unknown';
  try {
    osUser = os.userInfo().username;
  } catch {
    // no passwd entry (a container): stays unknown
  }
  return { host: os.hostname(), osUser, tokenLabel };
}

const STAFF_ROLES: readonly AssignedRole[] = ['org-admin', 'helpdesk', 'security-officer'];

async function activeKeys(tx: ReadTx, identityId: string) {
  return (await tx.credentials.listOfIdentity(identityId)).filter((c) => c.state === 'active');
}

/** The administrator to recover: the one named, or the only organisation administrator there is. */
export function chooseAdministrator(store: Store, email: string | undefined): Promise<Identity> {
  return store.read((tx) => chooseIn(tx, email));
}

async function chooseIn(tx: ReadTx, email: string | undefined): Promise<Identity> {
  if (email !== undefined) {
    const found = await tx.identities.findActiveByEmail(email);
    if (!found) throw new RecoveryRefused('unknown-administrator', `No person with the address ${email} is bound to the organisation.`);
    if (!found.roles.includes('org-admin')) throw new RecoveryRefused('not-an-administrator', `${found.name} <${found.email}> is not an organisation administrator; only an administrator is recovered this way.`);
    return found;
  }
  const admins = await tx.identities.listActiveWithRole('org-admin');
  const [only, ...others] = admins;
  if (!only) throw new RecoveryRefused('unknown-administrator', 'The organisation has no administrator bound to it.');
  if (others.length > 0) {
    throw new RecoveryRefused('choose-administrator', `There are ${admins.length} administrators; name one with --email (${admins.map((a) => a.email).join(', ')}).`);
  }
  return only;
}

/** Why `admin` may not be recovered now, if there is a reason. */
export function recoveryBlocker(store: Store, admin: Identity): Promise<RecoveryRefused | undefined> {
  return store.read((tx) => blockerIn(tx, admin));
}

async function blockerIn(tx: ReadTx, admin: Identity): Promise<RecoveryRefused | undefined> {
  const own = await activeKeys(tx, admin.id);
  if (own.length > 0) {
    return new RecoveryRefused(
      'has-active-key',
      `${admin.name} still has an active security key (${own.map((k) => `"${k.label}"`).join(', ')}), so no recovery is needed: sign in with it. ` +
        'If that key is lost, report it lost on the "My keys" page (or have the helpdesk suspend it) and run this again.',
    );
  }
  const able = [];
  for (const a of await tx.identities.listActiveWithRole('org-admin')) if (a.id !== admin.id && (await activeKeys(tx, a.id)).length > 0) able.push(a);
  if (able.length > 0) {
    return new RecoveryRefused(
      'another-administrator-can-act',
      `Another administrator can sign in (${able.map((a) => `${a.name} <${a.email}>`).join(', ')}): ask them to issue ${admin.name} a new enrolment link in the admin console. ` +
        'Recovery is only for when no administrator can act.',
    );
  }
  return undefined;
}

/** Records a refused recovery (its own transaction: nothing else changes). */
export async function auditRefusal(store: Store, clock: Clock, reason: RecoveryRefusal, operator: Operator, subjectId: string | null): Promise<void> {
  await store.write((tx) =>
    tx.audit.append({
      at: clock.now().toISOString(),
      type: 'admin-recovery.refused',
      actorId: null,
      actorRole: 'system',
      subjectId,
      data: { reason, host: operator.host, osUser: operator.osUser, clause: 'NSIS 4.1.5 (Substantial) 7' },
    }),
  );
}

export interface RecoveryResult {
  admin: Identity;
  link: string;
  expiresAt: string;
  enrolmentId: string;
  notified: string[];
}

/**
 * Issues the fresh link (withdrawing any open one), audits it and mails every staff member, in one
 * transaction. Call after the PIN was proven and {@link recoveryBlocker} found nothing.
 */
export async function recoverAdministrator(core: CoreDeps, admin: Identity, operator: Operator): Promise<RecoveryResult> {
  const { store, clock } = core;
  const result = await store.write(async (tx) => {
    const blocker = await blockerIn(tx, admin);
    if (blocker) throw blocker;
    const enrolment = operatorLink(await issueEnrolmentIn(core, tx, SYSTEM_ACTOR, admin.id, undefined, 'operator'));
    const at = clock.now().toISOString();
    const staff = new Map<string, Identity>();
    for (const role of STAFF_ROLES) for (const person of await tx.identities.listActiveWithRole(role)) staff.set(person.id, person);
    for (const person of staff.values()) {
      await queueMail(tx, adminRecoveredMail(person, admin, operator, at, enrolment.expiresAt, core.config), at);
    }
    await tx.audit.append({
      at,
      type: 'admin.recovered',
      actorId: null,
      actorRole: 'system',
      subjectId: admin.id,
      data: {
        enrolmentId: enrolment.enrolmentId,
        expiresAt: enrolment.expiresAt,
        proof: 'HSM user PIN (token login) at the server',
        token: operator.tokenLabel,
        host: operator.host,
        osUser: operator.osUser,
        notified: staff.size,
        clause: 'NSIS 4.1.5 (Substantial) 7, 3.2.2',
      },
    });
    return { admin, link: enrolment.link, expiresAt: enrolment.expiresAt, enrolmentId: enrolment.enrolmentId, notified: [...staff.values()].map((p) => p.email) };
  });
  core.kickOutbox();
  return result;
}
