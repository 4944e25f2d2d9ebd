/**
 * Staff lists (issue 16) on SQLite: filters as parameterised WHERE clauses, the sort column from
 * a whitelist with the id as tiebreak, NULLs last either way, offset paging capped at
 * LIST_PAGE_CAP. Timestamps are ISO text (toISOString), so text order is time order.
 */
import {
  cappedLimit,
  foundSubjects,
  keyListRow,
  likePattern,
  openApproval,
  personListRow,
  type ApprovalSort,
  type KeyFilter,
  type KeyListRow,
  type KeySort,
  type ListReader,
  type OpenApprovalFilter,
  type OpenApproval,
  type Page,
  type PageRequest,
  type PeopleFilter,
  type PeopleSort,
  type PersonListRow,
} from '../../ports/lists.js';
import type { Connection } from './connection.js';
import { approval } from './recordRows.js';
import * as rows from './rows.js';

const PEOPLE_ORDER: Record<PeopleSort, string> = {
  name: 'i.name',
  email: 'i.email_norm',
  createdAt: 'i.created_at',
  activeKeyCount: 'active_key_count',
};

/** Assurance levels in their order, not the alphabet's. */
const AAL_RANK = "CASE c.aal WHEN 'low' THEN 1 WHEN 'substantial' THEN 2 WHEN 'high' THEN 3 END";

const KEY_ORDER: Record<KeySort, string> = {
  holder: 'i.name',
  label: 'c.label',
  state: 'c.state',
  model: 'c.model',
  aal: AAL_RANK,
  lastUsedAt: 'c.last_used_at',
  expiresAt: 'c.expires_at',
  createdAt: 'c.created_at',
};

const APPROVAL_ORDER: Record<ApprovalSort, string> = { requestedAt: 'a.requested_at', kind: 'a.kind' };

function orderBy(column: string, tiebreak: string, direction: 'asc' | 'desc'): string {
  const dir = direction === 'desc' ? 'DESC' : 'ASC';
  return `ORDER BY ${column} ${dir} NULLS LAST, ${tiebreak} ${dir}`;
}

class Where {
  readonly parts: string[] = [];
  readonly params: unknown[] = [];
  add(sql: string, ...params: unknown[]): void {
    this.parts.push(sql);
    this.params.push(...params);
  }
  get sql(): string {
    return this.parts.length === 0 ? '' : `WHERE ${this.parts.join(' AND ')}`;
  }
}

export class SqliteLists implements ListReader {
  constructor(private readonly db: Connection) {}

  private page<T>(from: string, where: Where, select: string, order: string, p: PageRequest<string>, map: (r: unknown) => T): Page<T> {
    const total = rows.num(this.db.prepare(`SELECT count(*) AS n FROM ${from} ${where.sql}`).get(...where.params), 'n');
    const items = this.db
      .prepare(`SELECT ${select} FROM ${from} ${where.sql} ${order} LIMIT ? OFFSET ?`)
      .all(...where.params, cappedLimit(p.limit), Math.max(0, Math.floor(p.offset)))
      .map(map);
    return { items, total };
  }

  async people(f: PeopleFilter, p: PageRequest<PeopleSort>): Promise<Page<PersonListRow>> {
    const w = new Where();
    w.add('i.organisation_id = ?', f.organisationId);
    const q = f.query?.trim().toLowerCase() ?? '';
    if (q !== '') w.add("(i.id = ? OR i.email_norm LIKE ? ESCAPE '\\' OR lower(i.name) LIKE ? ESCAPE '\\')", q, likePattern(q), likePattern(q));
    if (f.bindingState) w.add('i.binding_state = ?', f.bindingState);
    if (f.role) w.add('EXISTS (SELECT 1 FROM identity_roles r WHERE r.identity_id = i.id AND r.role = ?)', f.role);
    if (f.noActiveKey) w.add("i.binding_state = 'active' AND NOT EXISTS (SELECT 1 FROM credentials k WHERE k.identity_id = i.id AND k.state = 'active')");
    const select = `i.*,
      (SELECT json_group_array(role) FROM (SELECT role FROM identity_roles WHERE identity_id = i.id ORDER BY role)) AS roles_json,
      (SELECT count(*) FROM credentials k WHERE k.identity_id = i.id AND k.state NOT IN ('revoked', 'expired')) AS key_count,
      (SELECT count(*) FROM credentials k WHERE k.identity_id = i.id AND k.state = 'active') AS active_key_count`;
    return this.page('identities i', w, select, orderBy(PEOPLE_ORDER[p.sort], 'i.id', p.direction), p, (r) => {
      const roles = rows.stringArray(rows.str(r, 'roles_json')).map((role) => rows.role({ role }));
      return personListRow(rows.identity(r, roles), rows.num(r, 'key_count'), rows.num(r, 'active_key_count'));
    });
  }

  async keys(f: KeyFilter, p: PageRequest<KeySort>): Promise<Page<KeyListRow>> {
    const w = new Where();
    w.add('i.organisation_id = ?', f.organisationId);
    if (f.states && f.states.length > 0) w.add('c.state IN (SELECT value FROM json_each(?))', JSON.stringify(f.states));
    const model = f.model?.trim() ?? '';
    if (model !== '') w.add("(lower(coalesce(c.model, '')) LIKE ? ESCAPE '\\' OR c.aaguid = ?)", likePattern(model), model.toLowerCase());
    if (f.aal) w.add('c.aal = ?', f.aal);
    // "Not used since": a key never used counts as used before any instant.
    if (f.lastUsedBefore) w.add('(c.last_used_at IS NULL OR c.last_used_at < ?)', f.lastUsedBefore);
    if (f.lastUsedAfter) w.add('c.last_used_at >= ?', f.lastUsedAfter);
    if (f.expiresBy) w.add("c.expires_at IS NOT NULL AND c.expires_at <= ? AND c.state IN ('issued', 'active', 'suspended')", f.expiresBy);
    if (f.reason) w.add('c.state_reason = ?', f.reason);
    const q = f.query?.trim() ?? '';
    if (q !== '') w.add("(lower(i.name) LIKE ? ESCAPE '\\' OR i.email_norm LIKE ? ESCAPE '\\' OR lower(c.label) LIKE ? ESCAPE '\\')", likePattern(q), likePattern(q), likePattern(q));
    const from = 'credentials c JOIN identities i ON i.id = c.identity_id';
    const select = 'c.*, i.name AS holder_name, i.email AS holder_email';
    return this.page(from, w, select, orderBy(KEY_ORDER[p.sort], 'c.id', p.direction), p, (r) =>
      keyListRow(rows.credential(r), rows.str(r, 'holder_name'), rows.str(r, 'holder_email')),
    );
  }

  /**
   * One statement per page (the port's promise): the total rides on every row (a window over all
   * the matching rows, counted before LIMIT), and each row brings its subjects' names.
   */
  async openApprovals(f: OpenApprovalFilter, p: PageRequest<ApprovalSort>): Promise<Page<OpenApproval>> {
    const w = new Where();
    w.add("a.state = 'pending'");
    w.add('a.kind IN (SELECT value FROM json_each(?))', JSON.stringify(f.kinds));
    const from = 'approvals a LEFT JOIN identities p ON p.id = a.requested_by';
    const subjects = `(SELECT json_group_array(json_object('id', s.id, 'name', s.name, 'email', s.email))
      FROM identities s WHERE s.id IN (SELECT value FROM json_each(a.subjects))) AS subjects_found`;
    const offset = Math.max(0, Math.floor(p.offset));
    const found = this.db
      .prepare(`SELECT a.*, p.name AS requester_name, ${subjects}, count(*) OVER () AS total FROM ${from} ${w.sql} ${orderBy(APPROVAL_ORDER[p.sort], 'a.id', p.direction)} LIMIT ? OFFSET ?`)
      .all(...w.params, cappedLimit(p.limit), offset);
    const items = found.map((r) => openApproval(approval(r), rows.strOrNull(r, 'requester_name'), foundSubjects(rows.str(r, 'subjects_found'))));
    const first = found[0];
    // Only a page past the last row has no row to carry the total.
    const total =
      first !== undefined ? rows.num(first, 'total') : offset === 0 ? 0 : rows.num(this.db.prepare(`SELECT count(*) AS n FROM ${from} ${w.sql}`).get(...w.params), 'n');
    return { items, total };
  }
}
