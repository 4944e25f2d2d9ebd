/**
 * Binds a person to the organisation (NSIS 5.2) with the identity assurance reached and how it
 * was proofed (NSIS 3.1.2). Staff roles given by a person go through the duties table (a role
 * grant, setRole.ts); only the operator's installation (system) binds with them (NSIS 5.2
 * (Substantial) 8). Who set the person up is recorded: such a person is never that requester's
 * second person.
 */
import { randomUUID } from 'node:crypto';
import type { Language } from '../../../i18n/index.js';
import type { Actor, AssignedRole, AssuranceLevel, Identity } from '../../domain/types.js';
import { isStaffRole } from '../../duties/decide.js';
import { GatewayError, NotFoundError } from '../../errors.js';
import type { WriteTx } from '../../ports/store.js';
import type { CoreDeps } from '../deps.js';
import { recordEvent } from '../shared/audit.js';
import { type DirectoryFacts, queueIdmJob } from '../idm/queueIdmJob.js';

export interface NewBinding {
  organisationId: string;
  name: string;
  email: string;
  ial: AssuranceLevel;
  proofingMethod: string;
  roles: AssignedRole[];
  /** Issue 16: the language of the person's mails; absent or null: the organisation's. */
  language?: Language | null;
}

export function createIdentity(deps: CoreDeps, actor: Actor, input: NewBinding): Promise<Identity> {
  checkRoles(actor, input.roles);
  return deps.store.write((tx) => createIdentityIn(deps, tx, actor, input));
}

function checkRoles(actor: Actor, roles: readonly AssignedRole[]): void {
  if (actor.role !== 'system' && roles.some(isStaffRole)) throw new TypeError('staff roles are granted through the duties table, not at creation');
}

/** Inside the caller's transaction (an import binds many people in one). */
export async function createIdentityIn(deps: CoreDeps, tx: WriteTx, actor: Actor, input: NewBinding, facts?: DirectoryFacts): Promise<Identity> {
  checkRoles(actor, input.roles);
  if (!(await tx.organisations.get(input.organisationId))) throw new NotFoundError('Unknown organisation.');
  if (await tx.identities.findActiveByEmail(input.email)) {
    throw new GatewayError('CONFLICT', 409, 'An employee with this email address is already bound to the organisation.');
  }
  const id = randomUUID();
  const at = deps.clock.now().toISOString();
  await tx.identities.insert({ id, organisationId: input.organisationId, name: input.name, email: input.email, ial: input.ial, proofingMethod: input.proofingMethod, proofedBy: actor.identityId, createdAt: at, language: input.language ?? null });
  const roles = Array.from(new Set<AssignedRole>(['employee', ...input.roles]));
  for (const role of roles) await tx.identities.grantRole(id, role, actor.identityId, at);
  await tx.setups.record({ identityId: id, aspect: 'identity', detail: null, setBy: actor.identityId, approvedBy: null, at });
  for (const role of roles.filter(isStaffRole)) await tx.setups.record({ identityId: id, aspect: 'role', detail: role, setBy: actor.identityId, approvedBy: null, at });
  await recordEvent(deps, tx, 'identity.created', actor, id, { organisationId: input.organisationId, ial: input.ial, proofingMethod: input.proofingMethod, roles, language: input.language ?? null });
  const identity = await tx.identities.get(id);
  if (!identity) throw new Error('identity vanished inside its own transaction');
  // Issue 18: MitID Erhverv learns of the binding through the outbox (when the sync is on).
  await queueIdmJob(deps, tx, identity, { kind: 'bind', ...(facts ? { facts } : {}) });
  return identity;
}
