/**
 * What the admin page shows of inbound provisioning: the organisation's provisioning clients with
 * their tokens (never a hash), how many people each manages, and the email changes a directory
 * sent that wait for a staff member (duties table, provisioning-client-change).
 */
import type { Actor } from '../../domain/types.js';
import type { ReadTx } from '../../ports/store.js';
import { contactEmailOf, userFromJson } from '../../scim/index.js';
import { requireRole } from '../shared/segregation.js';

export interface ProvisioningTokenView {
  tokenId: string;
  createdAt: string;
  notAfter: string | null;
  revokedAt: string | null;
  state: 'valid' | 'expired' | 'revoked';
}

export interface ProvisioningClientView {
  id: string;
  label: string;
  ial: string;
  proofingMethod: string;
  createdAt: string;
  people: number;
  tokens: ProvisioningTokenView[];
}

export interface HeldContactChange {
  identityId: string;
  name: string;
  boundEmail: string;
  directoryEmail: string;
  clientLabel: string;
}

export async function provisioningOverview(tx: ReadTx, actor: Actor, now: Date): Promise<{ clients: ProvisioningClientView[]; heldContactChanges: HeldContactChange[] }> {
  if (actor.identityId === null) throw new TypeError('an org-admin is needed');
  const admin = await requireRole(tx, actor.identityId, 'org-admin');
  const counts = await tx.scimUsers.countByClient(admin.organisationId);
  const clients: ProvisioningClientView[] = [];
  const labels = new Map<string, string>();
  for (const c of await tx.provisioning.clients(admin.organisationId)) {
    labels.set(c.id, c.label);
    const tokens = (await tx.provisioning.tokensOf(c.id)).map((t) => ({
      tokenId: t.tokenId,
      createdAt: t.createdAt,
      notAfter: t.notAfter,
      revokedAt: t.revokedAt,
      state: t.revokedAt !== null ? ('revoked' as const) : t.notAfter !== null && Date.parse(t.notAfter) <= now.getTime() ? ('expired' as const) : ('valid' as const),
    }));
    clients.push({ id: c.id, label: c.label, ial: c.ial, proofingMethod: c.proofingMethod, createdAt: c.createdAt, people: counts[c.id] ?? 0, tokens });
  }
  const heldContactChanges: HeldContactChange[] = [];
  for (const u of await tx.scimUsers.find(admin.organisationId, {})) {
    const identity = await tx.identities.get(u.identityId);
    if (!identity || identity.bindingState !== 'active') continue;
    const directoryEmail = contactEmailOf(userFromJson(JSON.parse(u.resource)));
    if (directoryEmail !== null && directoryEmail.toLowerCase() !== identity.email.toLowerCase()) {
      heldContactChanges.push({ identityId: identity.id, name: identity.name, boundEmail: identity.email, directoryEmail, clientLabel: labels.get(u.clientId) ?? u.clientId });
    }
  }
  return { clients, heldContactChanges };
}
