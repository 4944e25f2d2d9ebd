/**
 * The audit trail a person can read (issue 16; NSIS 6 (Low) 7): entries with people and keys by
 * name (the ids stay in the answer, for the page to show on demand), newest first, paged.
 *
 * Who reads: the security officers read the whole trail, as they verify it (GET /api/security/audit);
 * the helpdesk keeps reading one person's trail (GET /api/helpdesk/identities/:id/audit) and no more.
 * Anyone else is refused, and the refusal is itself in the trail.
 */
import type { AuditEntry, AuditQuery } from '../../domain/audit.js';
import type { Actor, Identity } from '../../domain/types.js';
import { ForbiddenError } from '../../errors.js';
import type { ReadTx } from '../../ports/store.js';
import type { CoreDeps } from '../deps.js';
import { recordEvent } from '../shared/audit.js';

/** Whom or what an id in an entry names, in words. */
export interface NamedRef {
  id: string;
  kind: 'person' | 'key' | 'other';
  name: string | null;
  /** A person's address (tells apart people of the same name); a key's holder. */
  detail: string | null;
}

export interface ReadableEntry extends AuditEntry {
  actor: NamedRef | null;
  subject: NamedRef | null;
}

export interface TrailPage {
  entries: ReadableEntry[];
  /** The cursor of the next (older) page, or null at the end. */
  next: number | null;
}

export const TRAIL_READER_ROLE = 'security-officer';

/**
 * The reader as an actor; a person without the role is refused with ROLE_REQUIRED and the refusal
 * is recorded (`audit.read-refused`, with what they asked for).
 */
export async function requireTrailReader(deps: CoreDeps, identity: Identity, asked: string): Promise<Actor> {
  if (identity.bindingState === 'active' && identity.roles.includes(TRAIL_READER_ROLE)) return { identityId: identity.id, role: TRAIL_READER_ROLE };
  const staff = identity.roles.find((r) => r === 'helpdesk' || r === 'org-admin' || r === 'security-officer');
  const actor: Actor = { identityId: identity.id, role: staff ?? 'holder' };
  await deps.store.write((tx) => recordEvent(deps, tx, 'audit.read-refused', actor, identity.id, { asked, reason: identity.bindingState === 'active' ? 'role-required' : 'binding-ended' }));
  throw new ForbiddenError('ROLE_REQUIRED', `Reading the audit trail needs the ${TRAIL_READER_ROLE} role.`);
}

/** Resolves ids to names within one read; each id looked up once. */
export class Names {
  private readonly cache = new Map<string, NamedRef>();

  constructor(private readonly tx: ReadTx) {}

  async of(id: string | null): Promise<NamedRef | null> {
    if (id === null) return null;
    const known = this.cache.get(id);
    if (known) return known;
    let ref: NamedRef = { id, kind: 'other', name: null, detail: null };
    const person = await this.tx.identities.get(id);
    if (person) ref = { id, kind: 'person', name: person.name, detail: person.email };
    else {
      const key = await this.tx.credentials.get(id);
      if (key) ref = { id, kind: 'key', name: key.label, detail: (await this.tx.identities.get(key.identityId))?.name ?? null };
    }
    this.cache.set(id, ref);
    return ref;
  }

  async entry(e: AuditEntry): Promise<ReadableEntry> {
    return { ...e, actor: await this.of(e.actorId), subject: await this.of(e.subjectId) };
  }
}

/** One page of the filtered trail, newest first. */
export function readTrail(deps: CoreDeps, query: AuditQuery, limit: number): Promise<TrailPage> {
  return deps.store.read(async (tx) => {
    const found = await tx.audit.search(query, 'desc', limit + 1);
    const names = new Names(tx);
    const entries: ReadableEntry[] = [];
    for (const e of found.slice(0, limit)) entries.push(await names.entry(e));
    return { entries, next: found.length > limit ? (entries.at(-1)?.seq ?? null) : null };
  });
}
