/**
 * The audit trail's filter by name (issue 16; NSIS 6 (Low) 7): a security officer types a person's
 * name or e-mail address (or an id) and gets the people it matches and their keys, each with the
 * id the trail is filtered by. It reads through the identity search the consoles use
 * (IdentityReader.search: name or e-mail substring, or the exact id) and each person's keys; only
 * a security officer may ask (the same gate as the trail itself: a refusal is audited).
 */
import { z } from 'zod';
import type { BindingState, Identity } from '../../domain/types.js';
import { ValidationError } from '../../errors.js';
import type { CoreDeps } from '../deps.js';
import { requireTrailReader } from './readTrail.js';

/** At most this many people (and their keys) are answered: the officer narrows the text instead. */
export const LOOKUP_LIMIT = 10;

export interface LookupPerson {
  id: string;
  name: string;
  email: string;
  bindingState: BindingState;
}
export interface LookupKey {
  id: string;
  label: string;
  state: string;
  holderId: string;
  holderName: string;
}
export interface LookupAnswer {
  people: LookupPerson[];
  keys: LookupKey[];
}

const lookupQuery = z.object({ q: z.string().trim().min(2).max(200) });

export async function lookupRefs(deps: CoreDeps, viewer: Identity, query: unknown): Promise<LookupAnswer> {
  await requireTrailReader(deps, viewer, 'lookup');
  const parsed = lookupQuery.safeParse(query);
  if (!parsed.success) {
    const errors = parsed.error.issues.map((i) => ({ path: i.path.join('.') || 'q', message: i.message }));
    throw new ValidationError('Give at least 2 and at most 200 characters of a name, an e-mail address or an id.', errors);
  }
  const q = parsed.data.q;
  return deps.store.read(async (tx) => {
    const people = await tx.identities.search(viewer.organisationId, q, LOOKUP_LIMIT);
    const keys: LookupKey[] = [];
    for (const p of people) {
      for (const k of await tx.credentials.listOfIdentity(p.id)) keys.push({ id: k.id, label: k.label, state: k.state, holderId: p.id, holderName: p.name });
    }
    // A key's own id also finds it (the trail shows ids in its details).
    if (keys.every((k) => k.id !== q)) {
      const key = await tx.credentials.get(q);
      const holder = key ? await tx.identities.get(key.identityId) : undefined;
      if (key && holder && holder.organisationId === viewer.organisationId) keys.push({ id: key.id, label: key.label, state: key.state, holderId: holder.id, holderName: holder.name });
    }
    return { people: people.map((p) => ({ id: p.id, name: p.name, email: p.email, bindingState: p.bindingState })), keys };
  });
}
