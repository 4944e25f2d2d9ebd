/**
 * Imports identities from CSV (importCsv.ts). Every row is checked first; any invalid row refuses
 * the whole import. Rows for people already bound are skipped with the reason. The rest are bound
 * in one transaction (never half-imported); staff roles in the file are then role grants, each
 * through the duties table (NSIS 5.2 (Substantial) 8).
 */
import type { Actor, Identity } from '../../domain/types.js';
import { isStaffRole, type StaffRole } from '../../duties/index.js';
import { GatewayError } from '../../errors.js';
import type { ConsoleDeps } from '../consoleDeps.js';
import { appendAudit } from '../shared/audit.js';
import { staffMember } from '../staff/staffMember.js';
import { createIdentityIn } from './createIdentity.js';
import { grantRoles } from './grantRoles.js';
import { IMPORT_HEADER, parseImportCsv } from './importCsv.js';

export interface ImportResult {
  created: { row: number; id: string; email: string }[];
  skipped: { row: number; email: string; reason: string }[];
  roles: { row: number; email: string; roles: StaffRole[]; state: 'granted' | 'pending'; approvalId: string | null }[];
}

export async function importIdentities(deps: ConsoleDeps, actor: Actor, csv: string): Promise<ImportResult> {
  const me = await deps.store.read((tx) => staffMember(tx, actor));
  const { rows, errors, headerOk } = parseImportCsv(csv);
  if (!headerOk) throw new GatewayError('IMPORT_INVALID', 400, `The first line must be: ${IMPORT_HEADER.join(',')}[,roles][,language]`, { errors });
  if (errors.length > 0) throw new GatewayError('IMPORT_INVALID', 400, `Nothing was imported: ${errors.length} problem(s) in the file.`, { errors: errors.slice(0, 100) });
  const done = await deps.store.write(async (tx) => {
    const created: { row: number; id: string; email: string; identity: Identity; staffRoles: StaffRole[] }[] = [];
    const skipped: { row: number; email: string; reason: string }[] = [];
    for (const r of rows) {
      if (await tx.identities.findActiveByEmail(r.email)) {
        skipped.push({ row: r.row, email: r.email, reason: 'already bound to the organisation' });
        continue;
      }
      const identity = await createIdentityIn(deps, tx, actor, {
        organisationId: me.organisationId,
        name: r.name,
        email: r.email,
        ial: r.ial,
        proofingMethod: r.proofing,
        roles: r.roles.filter((role) => !isStaffRole(role)),
        language: r.language,
      });
      created.push({ row: r.row, id: identity.id, email: r.email, identity, staffRoles: r.roles.filter(isStaffRole) });
    }
    await appendAudit(tx, deps.clock.now().toISOString(), 'identities.imported', actor, null, { created: created.length, skipped: skipped.length });
    return { created, skipped };
  });
  const roles: ImportResult['roles'] = [];
  for (const c of done.created) {
    const outcome = await grantRoles(deps, actor, c.identity, c.staffRoles, 'import');
    if (outcome) roles.push({ row: c.row, email: c.email, roles: c.staffRoles, state: outcome.state, approvalId: outcome.state === 'pending' ? outcome.approval.id : null });
  }
  return { created: done.created.map(({ row, id, email }) => ({ row, id, email })), skipped: done.skipped, roles };
}
