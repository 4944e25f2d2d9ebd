// Draws a page of a list: the headings (a sortable column's heading is a button, its order said
// by aria-sort), the rows, the empty note and the pager's range.
import { byId, t } from '../common.js';
import { el } from '../console.js';
import { tKey } from '../i18n.js';
import type { ListState } from './state.js';
import type { Column, Row } from './types.js';

/** The headings of `columns`; `onSort` is called with the sort key of the heading pressed. */
export function drawHead(columns: readonly Column[], s: Pick<ListState, 'sort' | 'direction'>, onSort: (key: string) => void): void {
  const row = el('tr');
  for (const c of columns) {
    const th = el('th');
    th.scope = 'col';
    if (c.sort) {
      const key = c.sort;
      const b = el('button', 'list-sort', tKey(c.label));
      b.type = 'button';
      b.className = 'sort-button';
      b.dataset['sort'] = key;
      th.setAttribute('aria-sort', key === s.sort ? (s.direction === 'asc' ? 'ascending' : 'descending') : 'none');
      b.addEventListener('click', () => onSort(key));
      th.append(b);
    } else th.append(tKey(c.label));
    row.append(th);
  }
  byId('lists-head').replaceChildren(row);
}

/** The rows, or the view's words for an empty list. */
export function drawRows(columns: readonly Column[], items: readonly Row[], directory: boolean): void {
  byId('lists-body').replaceChildren(
    ...items.map((r) => {
      const tr = el('tr', 'list-row');
      for (const c of columns) tr.append(el('td', undefined, c.cell(r)));
      return tr;
    }),
  );
  const empty = byId('lists-empty');
  empty.textContent = t(directory ? 'lists.directory.empty' : 'lists.empty');
  empty.hidden = items.length > 0;
}

/** The pager for a page of `count` rows at the state's offset. */
export function drawPager(s: Pick<ListState, 'offset' | 'total'>, count: number): void {
  byId<HTMLButtonElement>('lists-prev').disabled = s.offset === 0;
  byId<HTMLButtonElement>('lists-next').disabled = s.offset + count >= s.total;
  byId('lists-range').textContent = s.total === 0 ? '' : t('lists.pager.range', { from: s.offset + 1, to: s.offset + count, total: s.total });
}

/** The words the status line adds for the sorted column ("sorted by Name, ascending"), or none. */
export function sortedWords(columns: readonly Column[], s: Pick<ListState, 'sort' | 'direction'>): string {
  const column = columns.find((c) => c.sort === s.sort);
  return column ? ` ${t('lists.sorted', { column: tKey(column.label), direction: t(s.direction === 'asc' ? 'lists.ascending' : 'lists.descending') })}` : '';
}
