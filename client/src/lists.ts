// Lists with filters on the staff pages (issue 16): people, keys, keys waiting for activation
// and requests waiting for a second person, filtered, sorted and paged by the server
// (GET /api/helpdesk/lists/* on the helpdesk page; GET /api/admin/lists/{people,approvals} on
// the administration page: each page says its area and the views it offers; with SCIM Groups
// mapped, the administration page also lists the roles the directory asks for, GET
// /api/admin/lists/directory, each row with the action the page hands in). A column heading is a button that sorts by it (aria-sort on the
// heading); the pager moves by pages; every word comes from the catalogues.
import { api, byId, clearMessages, reasonWords, setStatus, showError, stateWords, t, timeElement, tp } from './common.js';
import type { CredentialState } from './common.js';
import { el, fillSelect, roleWords, rolesText } from './console.js';
import { summaryNode } from './duties.js';
import type { MessageKey } from '../../i18n/index.js';
import { tKey } from './i18n.js';
import './lists.css';

export type View = 'people' | 'keys' | 'activations' | 'approvals' | 'directory';
type Direction = 'asc' | 'desc';

interface PersonRow {
  id: string;
  name: string;
  email: string;
  bindingState: 'active' | 'ended';
  roles: string[];
  createdAt: string;
  keyCount: number;
  activeKeyCount: number;
}
interface KeyRow {
  id: string;
  identityId: string;
  holderName: string;
  holderEmail: string;
  label: string;
  aaguid: string;
  model: string | null;
  aal: 'low' | 'substantial' | 'high' | null;
  state: CredentialState;
  stateReason: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string | null;
}
interface ApprovalRow {
  id: string;
  kind: string;
  summary: string;
  /** The language the summary is in (the page's, or English where it could not be told). */
  summaryLanguage?: string;
  requestedByName: string | null;
  requestedAt: string;
}
/** A role the organisation's directory asks for that the person does not hold (issue 18). */
export interface DirectoryRow {
  identityId: string;
  name: string;
  email: string;
  role: string;
  groups: string[];
  since: string | null;
  grantWaiting: boolean;
  grantWith: { method: 'POST'; path: string; body: { role: string; grant: true } };
}
type Row = PersonRow | KeyRow | ApprovalRow | DirectoryRow;
interface ListPage {
  items: Row[];
  total: number;
  limit: number;
  offset: number;
}

interface Column {
  label: MessageKey;
  /** The server's sort key (a whitelisted column), or none. */
  sort?: string;
  cell(row: Row): Node | string;
}

export interface ListHooks {
  /** Whose list API the page asks: /api/<area>/lists/<view>. */
  area: 'helpdesk' | 'admin';
  /** The views the page offers, the first shown first. */
  views: readonly View[];
  openPerson(identityId: string, email: string): void;
  /** True when the error meant the session or role is gone (the page handles it). */
  accessLost(err: unknown): boolean;
  /** The action cell of a directory request (the administration page's). */
  directoryAction?(row: DirectoryRow): Node;
}

const PAGE_SIZE = 25;
const DEFAULT_SORT: Record<View, string> = { people: 'name', keys: 'holder', activations: 'createdAt', approvals: 'requestedAt', directory: 'name' };

let hooks: ListHooks;
/** The views the page offers now (setUpLists's, then any offerView added). */
let offered: View[] = [];
let view: View = 'people';
let sort = DEFAULT_SORT.people;
let direction: Direction = 'asc';
let offset = 0;
let total = 0;

const form = (): HTMLFormElement => byId<HTMLFormElement>('lists-form');
function value(id: string): string {
  const e = document.getElementById(id);
  return e instanceof HTMLInputElement || e instanceof HTMLSelectElement ? e.value.trim() : '';
}

function personButton(identityId: string, name: string, email: string): HTMLButtonElement {
  const b = el('button', 'list-open-person', name);
  b.type = 'button';
  b.className = 'link-button';
  b.setAttribute('aria-label', t('lists.open', { name }));
  b.addEventListener('click', () => hooks.openPerson(identityId, email));
  return b;
}

function small(text: string): HTMLElement {
  const s = el('span', undefined, text);
  s.className = 'list-secondary';
  return s;
}

const isPerson = (r: Row): r is PersonRow => 'bindingState' in r;
const isKey = (r: Row): r is KeyRow => 'holderName' in r;
const isApproval = (r: Row): r is ApprovalRow => 'kind' in r;
const isDirectory = (r: Row): r is DirectoryRow => 'grantWith' in r;

function holderCell(r: Row): Node {
  if (!isKey(r)) return document.createTextNode('');
  const cell = el('span', undefined, personButton(r.identityId, r.holderName, r.holderEmail), el('br'), small(r.holderEmail));
  return cell;
}

function modelText(r: KeyRow): string {
  return r.model ?? t('lists.model.unknown', { aaguid: r.aaguid });
}

function levelText(level: string | null): string {
  return level === 'low' || level === 'substantial' || level === 'high' ? t(`ial.${level}`) : t('common.none');
}

function kindText(kind: string): string {
  if (kind === 'bulk' || kind === 'replacement' || kind === 'contact-change') return t(`helpdesk.kind.${kind}`);
  if (kind === 'role-grant') return t('admin.approvals.kind.role-grant');
  return kind.replace(/[_-]+/g, ' ');
}

const COLUMNS: Record<View, Column[]> = {
  people: [
    { label: 'lists.col.name', sort: 'name', cell: (r) => (isPerson(r) ? personButton(r.id, r.name, r.email) : '') },
    { label: 'lists.col.email', sort: 'email', cell: (r) => (isPerson(r) ? r.email : '') },
    { label: 'lists.col.id', cell: (r) => (isPerson(r) ? el('code', 'list-person-id', r.id) : '') },
    { label: 'lists.col.roles', cell: (r) => (isPerson(r) ? rolesText(r.roles) : '') },
    { label: 'lists.col.binding', cell: (r) => (isPerson(r) ? t(`console.binding.${r.bindingState}`) : '') },
    { label: 'lists.col.keys', sort: 'activeKeyCount', cell: (r) => (isPerson(r) ? t('lists.keys.count', { active: r.activeKeyCount, usable: r.keyCount }) : '') },
    { label: 'lists.col.created', sort: 'createdAt', cell: (r) => (isPerson(r) ? timeElement(r.createdAt) : '') },
  ],
  keys: [
    { label: 'lists.col.holder', sort: 'holder', cell: holderCell },
    { label: 'lists.col.label', sort: 'label', cell: (r) => (isKey(r) ? r.label : '') },
    { label: 'lists.col.model', sort: 'model', cell: (r) => (isKey(r) ? modelText(r) : '') },
    { label: 'lists.col.level', sort: 'aal', cell: (r) => (isKey(r) ? levelText(r.aal) : '') },
    {
      label: 'lists.col.state',
      sort: 'state',
      cell: (r) => (isKey(r) ? (r.stateReason && r.state !== 'active' ? t('lists.stateWithReason', { state: stateWords(r.state), reason: reasonWords(r.stateReason) }) : stateWords(r.state)) : ''),
    },
    { label: 'lists.col.lastUsed', sort: 'lastUsedAt', cell: (r) => (isKey(r) ? timeElement(r.lastUsedAt, t('lists.never')) : '') },
    { label: 'lists.col.expires', sort: 'expiresAt', cell: (r) => (isKey(r) ? timeElement(r.expiresAt, t('lists.noExpiry')) : '') },
  ],
  activations: [
    { label: 'lists.col.holder', sort: 'holder', cell: holderCell },
    { label: 'lists.col.label', sort: 'label', cell: (r) => (isKey(r) ? r.label : '') },
    { label: 'lists.col.model', sort: 'model', cell: (r) => (isKey(r) ? modelText(r) : '') },
    { label: 'lists.col.registered', sort: 'createdAt', cell: (r) => (isKey(r) ? timeElement(r.createdAt) : '') },
  ],
  approvals: [
    { label: 'lists.col.request', sort: 'kind', cell: (r) => (isApproval(r) ? el('span', undefined, el('strong', undefined, kindText(r.kind)), el('br'), summaryNode(r)) : '') },
    { label: 'lists.col.requestedBy', cell: (r) => (isApproval(r) ? (r.requestedByName ?? t('common.none')) : '') },
    { label: 'lists.col.requestedAt', sort: 'requestedAt', cell: (r) => (isApproval(r) ? timeElement(r.requestedAt) : '') },
  ],
  directory: [
    { label: 'lists.col.person', sort: 'name', cell: (r) => (isDirectory(r) ? el('span', undefined, personButton(r.identityId, r.name, r.email), el('br'), small(r.email)) : '') },
    { label: 'lists.col.role', sort: 'role', cell: (r) => (isDirectory(r) ? roleWords(r.role) : '') },
    { label: 'lists.col.groups', cell: (r) => (isDirectory(r) ? r.groups.join(t('console.listSeparator')) : '') },
    { label: 'lists.col.since', sort: 'since', cell: (r) => (isDirectory(r) ? timeElement(r.since, t('lists.directory.sinceUnknown')) : '') },
    { label: 'lists.col.action', cell: (r) => (isDirectory(r) && hooks.directoryAction ? hooks.directoryAction(r) : '') },
  ],
};

// ------------------------------------------------------------------- filters

function field(id: string, label: MessageKey, control: HTMLElement): HTMLElement {
  const l = el('label', undefined, tKey(label));
  l.htmlFor = id;
  control.id = id;
  const f = el('div', undefined, l, control);
  f.className = 'field';
  return f;
}

function input(type: string, testid: string): HTMLInputElement {
  const i = el('input', testid);
  i.type = type;
  i.autocomplete = 'off';
  return i;
}

function select(testid: string, options: ReadonlyArray<readonly [string, string]>): HTMLSelectElement {
  const s = el('select', testid);
  fillSelect(s, [['', t('lists.filter.any')], ...options]);
  return s;
}

function drawFilters(): void {
  const box = byId('lists-filters');
  box.replaceChildren();
  const states = (['issued', 'active', 'suspended', 'revoked', 'expired'] as const).map((s) => [s, stateWords(s)] as const);
  const levels = (['low', 'substantial', 'high'] as const).map((l) => [l, t(`ial.${l}`)] as const);
  const reasons = (['lost', 'found', 'damaged', 'suspected-compromise', 'suspected-clone', 'holder-request', 'employment-ended', 'binding-suspended', 'other'] as const).map((r) => [r, reasonWords(r)] as const);
  if (view === 'people') {
    const text = input('search', 'list-filter-text');
    const noKey = input('checkbox', 'list-filter-no-active-key');
    const noKeyLabel = el('label', undefined, t('lists.filter.noActiveKey'));
    noKeyLabel.htmlFor = 'list-no-active-key';
    noKey.id = 'list-no-active-key';
    const choice = el('div', undefined, noKey, noKeyLabel);
    choice.className = 'choice';
    box.append(
      field('list-q', 'lists.filter.text', text),
      field('list-binding', 'lists.filter.binding', select('list-filter-binding', [['active', t('console.binding.active')], ['ended', t('console.binding.ended')]])),
      field('list-role', 'lists.filter.role', select('list-filter-role', (['employee', 'helpdesk', 'security-officer', 'org-admin'] as const).map((r) => [r, t(`role.${r}`)] as const))),
      choice,
    );
  } else if (view === 'keys') {
    const expiring = input('number', 'list-filter-expiring');
    expiring.min = '0';
    expiring.max = '3650';
    expiring.inputMode = 'numeric';
    box.append(
      field('list-q', 'lists.filter.keyText', input('search', 'list-filter-text')),
      field('list-state', 'lists.filter.state', select('list-filter-state', states)),
      field('list-reason', 'lists.filter.reason', select('list-filter-reason', reasons)),
      field('list-model', 'lists.filter.model', input('search', 'list-filter-model')),
      field('list-aal', 'lists.filter.aal', select('list-filter-aal', levels)),
      field('list-before', 'lists.filter.lastUsedBefore', input('date', 'list-filter-before')),
      field('list-after', 'lists.filter.lastUsedAfter', input('date', 'list-filter-after')),
      field('list-expiring', 'lists.filter.expiring', expiring),
    );
  } else if (view === 'activations') {
    box.append(field('list-q', 'lists.filter.keyText', input('search', 'list-filter-text')));
  }
}

function query(): string {
  const p = new URLSearchParams({ sort, direction, limit: String(PAGE_SIZE), offset: String(offset) });
  const put = (name: string, id: string) => {
    const v = value(id);
    if (v !== '') p.set(name, v);
  };
  if (view === 'people') {
    put('q', 'list-q');
    put('binding', 'list-binding');
    put('role', 'list-role');
    const noKey = document.getElementById('list-no-active-key');
    if (noKey instanceof HTMLInputElement && noKey.checked) p.set('noActiveKey', 'true');
  } else if (view === 'keys') {
    put('q', 'list-q');
    put('state', 'list-state');
    put('reason', 'list-reason');
    put('model', 'list-model');
    put('aal', 'list-aal');
    put('lastUsedBefore', 'list-before');
    put('lastUsedAfter', 'list-after');
    put('expiringWithinDays', 'list-expiring');
  } else if (view === 'activations') {
    put('q', 'list-q');
  }
  return p.toString();
}

// ------------------------------------------------------------------- table

function drawHead(): void {
  const row = el('tr');
  for (const c of COLUMNS[view]) {
    const th = el('th');
    th.scope = 'col';
    if (c.sort) {
      const key = c.sort;
      const b = el('button', 'list-sort', tKey(c.label));
      b.type = 'button';
      b.className = 'sort-button';
      b.dataset['sort'] = key;
      th.setAttribute('aria-sort', key === sort ? (direction === 'asc' ? 'ascending' : 'descending') : 'none');
      b.addEventListener('click', () => {
        direction = key === sort && direction === 'asc' ? 'desc' : 'asc';
        sort = key;
        offset = 0;
        void load(key);
      });
      th.append(b);
    } else th.append(tKey(c.label));
    row.append(th);
  }
  byId('lists-head').replaceChildren(row);
}

function drawRows(items: readonly Row[]): void {
  byId('lists-body').replaceChildren(
    ...items.map((r) => {
      const tr = el('tr', 'list-row');
      for (const c of COLUMNS[view]) tr.append(el('td', undefined, c.cell(r)));
      return tr;
    }),
  );
  const empty = byId('lists-empty');
  empty.textContent = t(view === 'directory' ? 'lists.directory.empty' : 'lists.empty');
  empty.hidden = items.length > 0;
}

function drawPager(count: number): void {
  const prev = byId<HTMLButtonElement>('lists-prev');
  const next = byId<HTMLButtonElement>('lists-next');
  prev.disabled = offset === 0;
  next.disabled = offset + count >= total;
  byId('lists-range').textContent = total === 0 ? '' : t('lists.pager.range', { from: offset + 1, to: offset + count, total });
}

async function load(focusSort?: string): Promise<void> {
  // aria-busy until the answer is drawn (screen readers wait for it; so do the browser tests).
  const results = byId('lists-results');
  results.setAttribute('aria-busy', 'true');
  try {
    await loadAndDraw(focusSort);
  } finally {
    results.setAttribute('aria-busy', 'false');
  }
}

async function loadAndDraw(focusSort?: string): Promise<void> {
  clearMessages(form());
  setStatus(t('lists.loading'));
  let page: ListPage;
  try {
    page = await api<ListPage>('GET', `/api/${hooks.area}/lists/${view}?${query()}`);
  } catch (err) {
    if (hooks.accessLost(err)) return;
    showError(err, { form: form(), context: t('lists.failed') });
    return;
  }
  total = page.total;
  byId('lists-caption').textContent = t(`lists.view.${view}`);
  drawHead();
  drawRows(page.items);
  drawPager(page.items.length);
  byId('lists-results').hidden = false;
  const column = COLUMNS[view].find((c) => c.sort === sort);
  const sorted = column ? ` ${t('lists.sorted', { column: tKey(column.label), direction: t(direction === 'asc' ? 'lists.ascending' : 'lists.descending') })}` : '';
  setStatus(`${tp('lists.count', total)}${sorted}`);
  if (focusSort) document.querySelector<HTMLButtonElement>(`#lists-head button[data-sort="${focusSort}"]`)?.focus();
}

/** Draws the shown list again (after an action changed what it holds). */
export function reloadList(): Promise<void> {
  return load();
}

/** Offers one more view (the page learnt it applies, e.g. SCIM Groups are mapped). */
export function offerView(v: View): void {
  if (offered.includes(v)) return;
  offered.push(v);
  byId<HTMLSelectElement>('lists-view').append(new Option(t(`lists.view.${v}`), v));
}

/** Builds the lists section's controls (the HTML holds its frame) and shows the first list. */
export function setUpLists(h: ListHooks): void {
  hooks = h;
  offered = [...h.views];
  const viewSelect = byId<HTMLSelectElement>('lists-view');
  fillSelect(viewSelect, h.views.map((v) => [v, t(`lists.view.${v}`)] as const));
  view = h.views[0] ?? 'people';
  sort = DEFAULT_SORT[view];
  viewSelect.addEventListener('change', () => {
    const v = offered.find((one) => one === viewSelect.value);
    if (!v) return;
    view = v;
    sort = DEFAULT_SORT[v];
    direction = 'asc';
    offset = 0;
    drawFilters();
    void load();
  });
  form().addEventListener('submit', (event) => {
    event.preventDefault();
    offset = 0;
    void load();
  });
  byId<HTMLButtonElement>('lists-reset').addEventListener('click', () => {
    drawFilters();
    offset = 0;
    void load();
  });
  byId<HTMLButtonElement>('lists-prev').addEventListener('click', () => {
    offset = Math.max(0, offset - PAGE_SIZE);
    void load();
  });
  byId<HTMLButtonElement>('lists-next').addEventListener('click', () => {
    if (offset + PAGE_SIZE < total) offset += PAGE_SIZE;
    void load();
  });
  drawFilters();
}
