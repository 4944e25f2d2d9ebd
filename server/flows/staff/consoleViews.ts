/** What the helpdesk and admin consoles read: people, their keys with history, their trail, the fleet. */
import type { AuditEntry } from '../../domain/audit.js';
import type { CredentialEvent, FleetRow } from '../../domain/keys.js';
import type { Actor, Credential, Identity } from '../../domain/types.js';
import { NotFoundError } from '../../errors.js';
import type { ReadTx } from '../../ports/store.js';
import type { CoreDeps } from '../deps.js';
import { staffMember } from './staffMember.js';

async function nameOf(tx: ReadTx, id: string | null, names: Map<string, string | null>): Promise<string | null> {
  if (!id) return null;
  if (!names.has(id)) names.set(id, (await tx.identities.get(id))?.name ?? null);
  return names.get(id) ?? null;
}

export function searchPeople(deps: CoreDeps, actor: Actor, query: string): Promise<(Identity & { keyCount: number; activeKeyCount: number })[]> {
  return deps.store.read(async (tx) => {
    const me = await staffMember(tx, actor);
    const out = [];
    for (const i of await tx.identities.search(me.organisationId, query)) {
      // Revoked and expired keys are history, not keys the person has: they are not counted.
      const keys = (await tx.credentials.listOfIdentity(i.id)).filter((k) => k.state !== 'revoked' && k.state !== 'expired');
      out.push({ ...i, keyCount: keys.length, activeKeyCount: keys.filter((k) => k.state === 'active').length });
    }
    return out;
  });
}

export interface PersonDetail {
  identity: Identity;
  proofedByName: string | null;
  /** Issue 18: the subject name id (MitID Erhverv's LocalIdentityProvider id, the SAML NameID); null while the person has none. */
  subjectNameId: string | null;
  credentials: (Credential & { history: (CredentialEvent & { actorName: string | null })[] })[];
}

async function detailIn(tx: ReadTx, actor: Actor, identityId: string, names: Map<string, string | null>): Promise<PersonDetail> {
  const me = await staffMember(tx, actor);
  const identity = await tx.identities.get(identityId);
  if (!identity || identity.organisationId !== me.organisationId) throw new NotFoundError('Unknown identity.');
  const credentials = [];
  for (const c of await tx.credentials.listOfIdentity(identityId)) {
    const history = [];
    for (const e of await tx.credentials.events(c.id)) history.push({ ...e, actorName: await nameOf(tx, e.actorId, names) });
    credentials.push({ ...c, history });
  }
  const subjectNameId = (await tx.idm.person(identityId))?.subjectNameId ?? null;
  return { identity, proofedByName: await nameOf(tx, identity.proofedBy, names), subjectNameId, credentials };
}

export function personDetail(deps: CoreDeps, actor: Actor, identityId: string): Promise<PersonDetail> {
  return deps.store.read((tx) => detailIn(tx, actor, identityId, new Map()));
}

export function personAuditTrail(deps: CoreDeps, actor: Actor, identityId: string): Promise<(AuditEntry & { actorName: string | null })[]> {
  return deps.store.read(async (tx) => {
    const names = new Map<string, string | null>();
    await detailIn(tx, actor, identityId, names);
    const out = [];
    for (const e of await tx.audit.forPerson(identityId)) out.push({ ...e, actorName: await nameOf(tx, e.actorId, names) });
    return out;
  });
}

export function fleetReport(deps: CoreDeps): Promise<FleetRow[]> {
  return deps.store.read((tx) => tx.credentials.fleet());
}

/** An employee's keys with each key's state history (the helpdesk's key list). */
export function keysWithHistory(deps: CoreDeps, identityId: string): Promise<{ identity: Identity; credentials: (Credential & { history: CredentialEvent[] })[] }> {
  return deps.store.read(async (tx) => {
    const identity = await tx.identities.get(identityId);
    if (!identity) throw new NotFoundError('Unknown identity.');
    const credentials = [];
    for (const c of await tx.credentials.listOfIdentity(identity.id)) credentials.push({ ...c, history: await tx.credentials.events(c.id) });
    return { identity, credentials };
  });
}
