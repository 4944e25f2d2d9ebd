// The filter controls of each view (drawn into #lists-filters when the view changes or the
// filters are reset) and the query parameters they ask the list API for.
import { byId, reasonWords, stateWords, t } from '../common.js';
import { el, fillSelect } from '../console.js';
import type { MessageKey } from '../../../i18n/index.js';
import { tKey } from '../i18n.js';
import type { View } from './types.js';

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

function peopleFilters(): HTMLElement[] {
  const noKey = input('checkbox', 'list-filter-no-active-key');
  const noKeyLabel = el('label', undefined, t('lists.filter.noActiveKey'));
  noKeyLabel.htmlFor = 'list-no-active-key';
  noKey.id = 'list-no-active-key';
  const choice = el('div', undefined, noKey, noKeyLabel);
  choice.className = 'choice';
  const roles = (['employee', 'helpdesk', 'security-officer', 'org-admin'] as const).map((r) => [r, t(`role.${r}`)] as const);
  return [
    field('list-q', 'lists.filter.text', input('search', 'list-filter-text')),
    field('list-binding', 'lists.filter.binding', select('list-filter-binding', [['active', t('console.binding.active')], ['ended', t('console.binding.ended')]])),
    field('list-role', 'lists.filter.role', select('list-filter-role', roles)),
    choice,
  ];
}

function keyFilters(): HTMLElement[] {
  const states = (['issued', 'active', 'suspended', 'revoked', 'expired'] as const).map((s) => [s, stateWords(s)] as const);
  const levels = (['low', 'substantial', 'high'] as const).map((l) => [l, t(`ial.${l}`)] as const);
  const reasons = (['lost', 'found', 'damaged', 'suspected-compromise', 'suspected-clone', 'holder-request', 'employment-ended', 'binding-suspended', 'other'] as const).map((r) => [r, reasonWords(r)] as const);
  const expiring = input('number', 'list-filter-expiring');
  expiring.min = '0';
  expiring.max = '3650';
  expiring.inputMode = 'numeric';
  return [
    field('list-q', 'lists.filter.keyText', input('search', 'list-filter-text')),
    field('list-state', 'lists.filter.state', select('list-filter-state', states)),
    field('list-reason', 'lists.filter.reason', select('list-filter-reason', reasons)),
    field('list-model', 'lists.filter.model', input('search', 'list-filter-model')),
    field('list-aal', 'lists.filter.aal', select('list-filter-aal', levels)),
    field('list-before', 'lists.filter.lastUsedBefore', input('date', 'list-filter-before')),
    field('list-after', 'lists.filter.lastUsedAfter', input('date', 'list-filter-after')),
    field('list-expiring', 'lists.filter.expiring', expiring),
  ];
}

/** Draws `view`'s filters, all empty (approvals and directory requests have none). */
export function drawFilters(view: View): void {
  const controls =
    view === 'people' ? peopleFilters() : view === 'keys' ? keyFilters() : view === 'activations' ? [field('list-q', 'lists.filter.keyText', input('search', 'list-filter-text'))] : [];
  byId('lists-filters').replaceChildren(...controls);
}

function value(id: string): string {
  const e = document.getElementById(id);
  return e instanceof HTMLInputElement || e instanceof HTMLSelectElement ? e.value.trim() : '';
}

/** The list API's parameter name for each filter control of a view (control id -> parameter). */
const PARAMETERS: Readonly<Partial<Record<View, ReadonlyArray<readonly [string, string]>>>> = {
  people: [
    ['q', 'list-q'],
    ['binding', 'list-binding'],
    ['role', 'list-role'],
  ],
  keys: [
    ['q', 'list-q'],
    ['state', 'list-state'],
    ['reason', 'list-reason'],
    ['model', 'list-model'],
    ['aal', 'list-aal'],
    ['lastUsedBefore', 'list-before'],
    ['lastUsedAfter', 'list-after'],
    ['expiringWithinDays', 'list-expiring'],
  ],
  activations: [['q', 'list-q']],
};

/** Puts the filters filled in for `view` into `p` (an empty one asks nothing). */
export function putFilters(view: View, p: URLSearchParams): void {
  for (const [name, id] of PARAMETERS[view] ?? []) {
    const v = value(id);
    if (v !== '') p.set(name, v);
  }
  if (view === 'people') {
    const noKey = document.getElementById('list-no-active-key');
    if (noKey instanceof HTMLInputElement && noKey.checked) p.set('noActiveKey', 'true');
  }
}
