/**
 * Provisioning clients (issue 18): an org-admin, with step-up (the route demands it), registers
 * the organisation's directory as a SCIM client with the identity assurance and proofing method
 * it declares for its people (NSIS 3.1.2), and issues or revokes its bearer tokens (rotation: a
 * second token, then revoke the first). Duties table row `provisioning-client-change`: at once,
 * the other org-admins and the security officers are told; a token is shown once and kept only as
 * a keyed hash.
 */
import { randomUUID } from 'node:crypto';
import { queueDutyNotices } from '../../approvals/notify.js';
import { dutyRow } from '../../duties/index.js';
import type { ProvisioningClient, ProvisioningToken } from '../../domain/provisioning.js';
import type { Actor, AssuranceLevel } from '../../domain/types.js';
import { GatewayError, NotFoundError } from '../../errors.js';
import { issueScimToken } from '../../scim/tokens.js';
import type { WriteTx } from '../../ports/store.js';
import type { CoreDeps } from '../deps.js';
import { kickAfterCommit, recordEvent } from '../shared/audit.js';
import { requireRole } from '../shared/segregation.js';

export interface NewProvisioningClient {
  label: string;
  ial: AssuranceLevel;
  proofingMethod: string;
  /** Days the first token is valid; null: until revoked. */
  tokenDays: number | null;
}

/** A token as shown once to the org-admin who issued it. */
export interface IssuedToken {
  token: string;
  tokenId: string;
  notAfter: string | null;
}

function adminOf(actor: Actor): string {
  if (actor.role !== 'org-admin' || actor.identityId === null) throw new TypeError('provisioning clients are an org-admin action');
  return actor.identityId;
}

async function tell(deps: CoreDeps, tx: WriteTx, at: string, actor: Actor, summary: string, items: string[]): Promise<void> {
  await queueDutyNotices(
    tx,
    at,
    dutyRow('provisioning-client-change').notify.onExecution,
    { summary, items, subjects: [], oldAddress: undefined, requester: actor, approver: null, reference: null, bootstrap: false },
    'executed',
    deps.config,
  );
}

function newToken(deps: CoreDeps, clientId: string, by: string, at: string, days: number | null): { issued: IssuedToken; row: ProvisioningToken } {
  const t = issueScimToken(deps.secretKey);
  const notAfter = days === null ? null : new Date(Date.parse(at) + days * 86_400_000).toISOString();
  return {
    issued: { token: t.token, tokenId: t.tokenId, notAfter },
    row: { tokenId: t.tokenId, clientId, secretHash: t.secretHash, createdBy: by, createdAt: at, notAfter, revokedAt: null },
  };
}

export async function registerProvisioningClient(deps: CoreDeps, actor: Actor, input: NewProvisioningClient): Promise<{ client: ProvisioningClient; token: IssuedToken }> {
  const adminId = adminOf(actor);
  const out = await deps.store.write(async (tx) => {
    const admin = await requireRole(tx, adminId, 'org-admin');
    const at = deps.clock.now().toISOString();
    const client: ProvisioningClient = { id: randomUUID(), organisationId: admin.organisationId, label: input.label, ial: input.ial, proofingMethod: input.proofingMethod, createdBy: adminId, createdAt: at };
    await tx.provisioning.insertClient(client);
    const { issued, row } = newToken(deps, client.id, adminId, at, input.tokenDays);
    await tx.provisioning.insertToken(row);
    await recordEvent(deps, tx, 'provisioning.client-registered', actor, null, {
      clientId: client.id,
      label: client.label,
      ial: client.ial,
      proofingMethod: client.proofingMethod,
      tokenId: row.tokenId,
      notAfter: row.notAfter,
      clause: 'NSIS 3.1.2, 5.2 (Substantial) 8',
    });
    await tell(deps, tx, at, actor, `Provisioning client “${client.label}” registered (SCIM)`, [
      `Binds people at identity assurance ${client.ial}; proofing: ${client.proofingMethod}`,
      `Token ${row.tokenId} issued${row.notAfter ? `, valid until ${row.notAfter}` : ''}`,
    ]);
    kickAfterCommit(deps, tx);
    return { client, token: issued };
  });
  return out;
}

/** Rotation: a further token for the client (the old one stays valid until revoked). */
export async function issueProvisioningToken(deps: CoreDeps, actor: Actor, clientId: string, days: number | null): Promise<IssuedToken> {
  const adminId = adminOf(actor);
  return deps.store.write(async (tx) => {
    const admin = await requireRole(tx, adminId, 'org-admin');
    const client = await tx.provisioning.client(clientId);
    if (!client || client.organisationId !== admin.organisationId) throw new NotFoundError('Unknown provisioning client.');
    const at = deps.clock.now().toISOString();
    const { issued, row } = newToken(deps, client.id, adminId, at, days);
    await tx.provisioning.insertToken(row);
    await recordEvent(deps, tx, 'provisioning.token-issued', actor, null, { clientId, label: client.label, tokenId: row.tokenId, notAfter: row.notAfter });
    await tell(deps, tx, at, actor, `New token for provisioning client “${client.label}”`, [`Token ${row.tokenId} issued${row.notAfter ? `, valid until ${row.notAfter}` : ''}`]);
    kickAfterCommit(deps, tx);
    return issued;
  });
}

export async function revokeProvisioningToken(deps: CoreDeps, actor: Actor, clientId: string, tokenId: string): Promise<void> {
  const adminId = adminOf(actor);
  await deps.store.write(async (tx) => {
    const admin = await requireRole(tx, adminId, 'org-admin');
    const client = await tx.provisioning.client(clientId);
    const token = await tx.provisioning.token(tokenId);
    if (!client || client.organisationId !== admin.organisationId || !token || token.clientId !== clientId) throw new NotFoundError('Unknown provisioning token.');
    const at = deps.clock.now().toISOString();
    if (!(await tx.provisioning.revokeToken(tokenId, at))) throw new GatewayError('CONFLICT', 409, 'This token was already revoked.');
    await recordEvent(deps, tx, 'provisioning.token-revoked', actor, null, { clientId, label: client.label, tokenId });
    await tell(deps, tx, at, actor, `Token revoked for provisioning client “${client.label}”`, [`Token ${tokenId} no longer accepted`]);
    kickAfterCommit(deps, tx);
  });
}
