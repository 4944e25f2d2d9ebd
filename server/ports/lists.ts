/**
 * Staff lists (issue 16): the people, keys, open approvals and pending activations of the
 * helpdesk and admin consoles, filtered, sorted and paged by the store. Each adapter answers
 * with parameterised SQL; the sort column comes from a whitelist (never from the request as
 * text) and ties are broken by id, so a page boundary is stable; a page never holds more than
 * LIST_PAGE_CAP rows, whatever the caller asks.
 */
import type { ApprovalKind, ApprovalRecord } from '../domain/approvals.js';
import type { AssignedRole, AssuranceLevel, BindingState, Credential, CredentialState, Identity, ReasonCode } from '../domain/types.js';

/** The hard cap on a page's rows (the adapters clamp to it, the HTTP schema refuses more). */
export const LIST_PAGE_CAP = 100;

export type SortDirection = 'asc' | 'desc';

export interface PageRequest<S extends string> {
  sort: S;
  direction: SortDirection;
  /** 1..LIST_PAGE_CAP (clamped). */
  limit: number;
  /** Rows to skip (offset paging: the sort may be on any whitelisted column). */
  offset: number;
}

export interface Page<T> {
  items: T[];
  /** Rows matching the filter, across all pages. */
  total: number;
}

export const PEOPLE_SORTS = ['name', 'email', 'createdAt', 'activeKeyCount'] as const;
export type PeopleSort = (typeof PEOPLE_SORTS)[number];

export interface PeopleFilter {
  organisationId: string;
  /** Substring of name or email (case-insensitive), or an exact id. */
  query?: string;
  bindingState?: BindingState;
  role?: AssignedRole;
  /** Bound people without an active key (issued, suspended or none at all). */
  noActiveKey?: boolean;
}

export interface PersonListRow {
  id: string;
  name: string;
  email: string;
  bindingState: BindingState;
  roles: AssignedRole[];
  createdAt: string;
  /** Keys that are neither revoked nor expired. */
  keyCount: number;
  activeKeyCount: number;
}

export const KEY_SORTS = ['holder', 'label', 'state', 'model', 'aal', 'lastUsedAt', 'expiresAt', 'createdAt'] as const;
export type KeySort = (typeof KEY_SORTS)[number];

export interface KeyFilter {
  organisationId: string;
  states?: readonly CredentialState[];
  /** Substring of the model description (case-insensitive), or the exact AAGUID. */
  model?: string;
  aal?: AssuranceLevel;
  lastUsedBefore?: string;
  lastUsedAfter?: string;
  /** Keys still in use (issued, active, suspended) whose validity ends at or before this instant. */
  expiresBy?: string;
  reason?: ReasonCode;
  /** Substring of the holder's name or email, or the key's label (case-insensitive). */
  query?: string;
}

export interface KeyListRow {
  id: string;
  identityId: string;
  holderName: string;
  holderEmail: string;
  label: string;
  aaguid: string;
  model: string | null;
  aal: AssuranceLevel | null;
  state: CredentialState;
  stateReason: ReasonCode | null;
  createdAt: string;
  activatedAt: string | null;
  lastUsedAt: string | null;
  expiresAt: string | null;
}

export const APPROVAL_SORTS = ['requestedAt', 'kind'] as const;
/** The directory role requests (issue 18, SCIM Groups): derived from the stored groups, sorted and paged in the flow. */
export const DIRECTORY_REQUEST_SORTS = ['name', 'role', 'since'] as const;
export type DirectoryRequestSort = (typeof DIRECTORY_REQUEST_SORTS)[number];
export type ApprovalSort = (typeof APPROVAL_SORTS)[number];

export interface OpenApprovalFilter {
  /** Only these kinds (what the viewer's console may decide). */
  kinds: readonly ApprovalKind[];
}

export type OpenApprovalRow = Omit<ApprovalRecord, 'payload'> & { requestedByName: string | null };

/** Name and email of the people an approval is about who still exist, by id, in its subjects' order. */
export type SubjectNames = ReadonlyMap<string, { name: string; email: string }>;

/**
 * An open approval as a list reads it: the row the list shows, and what its summary in the
 * reader's language is told from (server/approvals/describe.ts): the payload, which stays on the
 * server, and the names of the people it is about.
 */
export interface OpenApproval {
  row: OpenApprovalRow;
  payload: string;
  subjectNames: SubjectNames;
}

export interface ListReader {
  people(f: PeopleFilter, p: PageRequest<PeopleSort>): Promise<Page<PersonListRow>>;
  keys(f: KeyFilter, p: PageRequest<KeySort>): Promise<Page<KeyListRow>>;
  /**
   * Approvals still pending, each with its payload and its subjects' names. A page that holds
   * rows is ONE statement, its total included, however many rows and people it holds (no read
   * per row); only a page past the last row costs a second one (a count).
   */
  openApprovals(f: OpenApprovalFilter, p: PageRequest<ApprovalSort>): Promise<Page<OpenApproval>>;
}

/** The page size an adapter uses: 1..LIST_PAGE_CAP whatever was asked. */
export function cappedLimit(limit: number): number {
  return Math.max(1, Math.min(LIST_PAGE_CAP, Math.floor(limit)));
}

/** A LIKE pattern matching `q` as a substring (with `\` as the escape character). */
export function likePattern(q: string): string {
  return `%${q.trim().toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** A key as a list shows it (no public key, attestation or counters). */
export function keyListRow(c: Credential, holderName: string, holderEmail: string): KeyListRow {
  return {
    id: c.id,
    identityId: c.identityId,
    holderName,
    holderEmail,
    label: c.label,
    aaguid: c.aaguid,
    model: c.model,
    aal: c.aal,
    state: c.state,
    stateReason: c.stateReason,
    createdAt: c.createdAt,
    activatedAt: c.activatedAt,
    lastUsedAt: c.lastUsedAt,
    expiresAt: c.expiresAt,
  };
}

export function personListRow(i: Identity, keyCount: number, activeKeyCount: number): PersonListRow {
  return { id: i.id, name: i.name, email: i.email, bindingState: i.bindingState, roles: i.roles, createdAt: i.createdAt, keyCount, activeKeyCount };
}

export function openApprovalRow(a: ApprovalRecord, requestedByName: string | null): OpenApprovalRow {
  const { payload: _payload, ...rest } = a;
  return { ...rest, requestedByName };
}

/** A person an approval is about, as an adapter reads them with the approval (a JSON array of these). */
export interface FoundSubject {
  id: string;
  name: string;
  email: string;
}

/** The people an adapter read with an approval (its JSON aggregate, text or parsed), checked. */
export function foundSubjects(v: unknown): FoundSubject[] {
  const list: unknown = typeof v === 'string' ? JSON.parse(v) : v;
  const ok = (x: unknown): x is FoundSubject =>
    typeof x === 'object' && x !== null && 'id' in x && 'name' in x && 'email' in x && typeof x.id === 'string' && typeof x.name === 'string' && typeof x.email === 'string';
  if (!Array.isArray(list) || !list.every(ok)) throw new TypeError('store: the subjects read with an approval are not a list of people');
  return list;
}

/** An open approval from its record, its requester's name and the subjects found (in any order). */
export function openApproval(a: ApprovalRecord, requestedByName: string | null, found: readonly FoundSubject[]): OpenApproval {
  const byId = new Map(found.map((s) => [s.id, s]));
  const subjectNames = new Map<string, { name: string; email: string }>();
  for (const id of a.subjects) {
    const s = byId.get(id);
    if (s && !subjectNames.has(id)) subjectNames.set(id, { name: s.name, email: s.email });
  }
  return { row: openApprovalRow(a, requestedByName), payload: a.payload, subjectNames };
}
