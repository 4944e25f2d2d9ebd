/** Creates the organisation if absent (idempotent by CVR). */
import { randomUUID } from 'node:crypto';
import { SYSTEM_ACTOR, type Organisation } from '../../domain/types.js';
import type { CoreDeps } from '../deps.js';
import { recordEvent } from '../shared/audit.js';

export function ensureOrganisation(deps: CoreDeps, cvr: string, name: string): Promise<Organisation> {
  return deps.store.write(async (tx) => {
    const existing = await tx.organisations.byCvr(cvr);
    if (existing) return existing;
    const org: Organisation = { id: randomUUID(), cvr, name, createdAt: deps.clock.now().toISOString() };
    await tx.organisations.insert(org);
    await recordEvent(deps, tx, 'organisation.created', SYSTEM_ACTOR, org.id, { cvr, name });
    return org;
  });
}
