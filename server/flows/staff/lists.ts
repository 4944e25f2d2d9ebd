/**
 * Staff lists (issue 16): who may list what follows the consoles and the duties table
 * (server/duties): the helpdesk lists people, keys, pending activations and the approvals it
 * may decide; the org-admin lists people and the approvals it may decide. A caller without the
 * role is refused (ROLE_REQUIRED, or BINDING_ENDED) and the refusal is audited
 * (staff.list-refused) before it is answered.
 */
import type { Language } from '../../../i18n/index.js';
import { describeApproval } from '../../approvals/describe.js';
import { DUTY_TABLE, isApprovalKind, type ApprovalKind } from '../../duties/index.js';
import type { Identity } from '../../domain/types.js';
import { GatewayError } from '../../errors.js';
import type { GroupRoleTable } from '../../scim/groupRoles.js';
import { type DirectoryRoleRequest, directoryRoleRequestsOf } from '../provisioning/groupRequests.js';
import type {
  ApprovalSort,
  DirectoryRequestSort,
  KeyFilter,
  KeyListRow,
  KeySort,
  OpenApprovalRow,
  Page,
  PageRequest,
  PeopleFilter,
  PeopleSort,
  PersonListRow,
} from '../../ports/lists.js';
import type { ReadTx } from '../../ports/store.js';
import type { CoreDeps } from '../deps.js';
import { recordEvent } from '../shared/audit.js';
import { requireRoleOf } from '../shared/segregation.js';

export type ListArea = 'helpdesk' | 'org-admin';
export type ListName = 'people' | 'keys' | 'activations' | 'approvals' | 'directory';

/** Which console may list what (the consoles of today; ANY other pair is refused). */
const MAY_LIST: Record<ListArea, readonly ListName[]> = {
  helpdesk: ['people', 'keys', 'activations', 'approvals'],
  'org-admin': ['people', 'approvals', 'directory'],
};

/** The approval kinds a role may decide (the duties table's approvers). */
export function kindsDecidedBy(role: ListArea): ApprovalKind[] {
  return DUTY_TABLE.filter((r) => r.approvers.some((a) => a === role))
    .map((r) => r.action)
    .filter(isApprovalKind);
}

/** The staff member reading, in `area`'s role; a refusal is audited in a transaction of its own. */
async function lister<T>(deps: CoreDeps, viewer: Identity, area: ListArea, list: ListName, fn: (tx: ReadTx, me: Identity) => Promise<T>): Promise<T> {
  try {
    if (!MAY_LIST[area].includes(list)) throw new TypeError(`no ${list} list in the ${area} console`);
    return await deps.store.read(async (tx) => fn(tx, requireRoleOf(await tx.identities.get(viewer.id), area)));
  } catch (err) {
    if (err instanceof GatewayError && err.status === 403) {
      const actor = { identityId: viewer.id, role: area === 'org-admin' ? ('org-admin' as const) : ('helpdesk' as const) };
      await deps.store.write((tx) => recordEvent(deps, tx, 'staff.list-refused', actor, null, { list, area, code: err.code, clause: 'NSIS 3.2.3; issue 16' }));
      deps.log.info({ event: 'staff.list-refused', errorCode: err.code, list }, 'refused');
    }
    throw err;
  }
}

export function listPeople(deps: CoreDeps, viewer: Identity, area: ListArea, f: Omit<PeopleFilter, 'organisationId'>, p: PageRequest<PeopleSort>): Promise<Page<PersonListRow>> {
  return lister(deps, viewer, area, 'people', (tx, me) => tx.lists.people({ ...f, organisationId: me.organisationId }, p));
}

/** The key filter as asked: "expiring within N days" is counted from the gateway's clock. */
export type KeyListFilter = Omit<KeyFilter, 'organisationId' | 'expiresBy'> & { expiringWithinDays?: number };

export function listKeys(deps: CoreDeps, viewer: Identity, f: KeyListFilter, p: PageRequest<KeySort>): Promise<Page<KeyListRow>> {
  const { expiringWithinDays, ...rest } = f;
  const expiresBy = expiringWithinDays === undefined ? undefined : new Date(deps.clock.now().getTime() + expiringWithinDays * 86_400_000).toISOString();
  return lister(deps, viewer, 'helpdesk', 'keys', (tx, me) => tx.lists.keys({ ...rest, ...(expiresBy ? { expiresBy } : {}), organisationId: me.organisationId }, p));
}

/** Keys issued and waiting for their holder's activation code (NSIS 3.2.2). */
export function listPendingActivations(deps: CoreDeps, viewer: Identity, query: string | undefined, p: PageRequest<KeySort>): Promise<Page<KeyListRow>> {
  return lister(deps, viewer, 'helpdesk', 'activations', (tx, me) =>
    tx.lists.keys({ organisationId: me.organisationId, states: ['issued'], ...(query ? { query } : {}) }, p),
  );
}

/** An open approval as a list shows it: its summary in the reader's language (issue 16). */
export type OpenApprovalListRow = OpenApprovalRow & { summaryLanguage: Language };

/**
 * Requests waiting for a second person that `area`'s role may decide; each summary in `language`
 * (describeApproval, as the approvals inbox), the stored English one where it cannot be told.
 */
export function listOpenApprovals(deps: CoreDeps, viewer: Identity, area: ListArea, p: PageRequest<ApprovalSort>, language: Language = 'en'): Promise<Page<OpenApprovalListRow>> {
  return lister(deps, viewer, area, 'approvals', async (tx) => {
    // The page brings each approval's payload and its people's names: no read per row.
    const page = await tx.lists.openApprovals({ kinds: kindsDecidedBy(area) }, p);
    const items = page.items.map(({ row, payload, subjectNames }): OpenApprovalListRow => {
      const summary = describeApproval({ kind: row.kind, summary: row.summary, payload }, subjectNames, language);
      return { ...row, summary, summaryLanguage: summary === row.summary ? 'en' : language };
    });
    return { ...page, items };
  });
}

/**
 * The directory role requests (issue 18: people the organisation's directory put in a group mapped
 * to a staff role they do not hold), for the org-admin's list: sorted and paged here, as the list
 * is derived from the stored groups (at most one group per row of the role table).
 */
export function listDirectoryRequests(deps: CoreDeps, viewer: Identity, table: GroupRoleTable, p: PageRequest<DirectoryRequestSort>): Promise<Page<DirectoryRoleRequest>> {
  return lister(deps, viewer, 'org-admin', 'directory', async (tx, me) => {
    const all = await directoryRoleRequestsOf(tx, me, table);
    const key = (r: DirectoryRoleRequest): string => (p.sort === 'role' ? r.role : p.sort === 'since' ? (r.since ?? '') : r.name);
    const sign = p.direction === 'asc' ? 1 : -1;
    // Ties by name, role and person id: a stable order across pages.
    all.sort((a, b) => sign * key(a).localeCompare(key(b)) || a.name.localeCompare(b.name) || a.role.localeCompare(b.role) || a.identityId.localeCompare(b.identityId));
    return { items: all.slice(p.offset, p.offset + p.limit), total: all.length };
  });
}
