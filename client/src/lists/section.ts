// The lists section's frame, the same on the helpdesk and the administration page (each page's
// HTML holds only a placeholder, <div id="lists-placeholder">): heading, the page's intro, the
// view select, the filter box, Apply and Reset, and the results (table, empty note, pager).
// The ids are what the rest of the lists, the browser tests and the landmarks rely on.
import { byId, t } from '../common.js';
import type { MessageKey } from '../../../i18n/index.js';
import { tKey } from '../i18n.js';

/** The element of each page's HTML that the section takes the place of. */
export const PLACEHOLDER_ID = 'lists-placeholder';

interface Props {
  id?: string;
  className?: string;
  testid?: string;
  hidden?: boolean;
  /** Other attributes (aria-*, type, for, name, novalidate). */
  attrs?: Readonly<Record<string, string>>;
}

function make<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (props.id) e.id = props.id;
  if (props.className) e.className = props.className;
  if (props.testid) e.dataset['testid'] = props.testid;
  if (props.hidden) e.hidden = true;
  for (const [name, value] of Object.entries(props.attrs ?? {})) e.setAttribute(name, value);
  e.append(...children);
  return e;
}

/** Draws the section in place of the page's placeholder, with `intro` under its heading. */
export function renderListsSection(intro: MessageKey): void {
  const form = make(
    'form',
    { id: 'lists-form', attrs: { novalidate: '', 'aria-labelledby': 'lists-heading' } },
    make(
      'div',
      { className: 'field' },
      make('label', { attrs: { for: 'lists-view' } }, t('lists.view.label')),
      make('select', { id: 'lists-view', testid: 'list-view', attrs: { name: 'view' } }),
    ),
    make('fieldset', {}, make('legend', {}, t('lists.filters')), make('div', { id: 'lists-filters', className: 'lists-filters' })),
    make(
      'div',
      { className: 'lists-actions' },
      make('button', { id: 'lists-apply', testid: 'list-apply', attrs: { type: 'submit' } }, t('lists.apply')),
      make('button', { id: 'lists-reset', className: 'secondary-button', testid: 'list-reset', attrs: { type: 'button' } }, t('lists.reset')),
    ),
  );

  const results = make(
    'div',
    { id: 'lists-results', hidden: true },
    make(
      'div',
      { className: 'table-wrap' },
      make(
        'table',
        { id: 'lists-table', testid: 'list-table' },
        make('caption', { id: 'lists-caption', className: 'visually-hidden' }),
        make('thead', { id: 'lists-head' }),
        make('tbody', { id: 'lists-body' }),
      ),
    ),
    make('p', { id: 'lists-empty', hidden: true }, t('lists.empty')),
    make(
      'nav',
      { className: 'lists-pager', attrs: { 'aria-label': t('lists.pager.label') } },
      make('button', { id: 'lists-prev', className: 'secondary-button', testid: 'list-prev', attrs: { type: 'button' } }, t('lists.pager.previous')),
      make('span', { id: 'lists-range', testid: 'list-range' }),
      make('button', { id: 'lists-next', className: 'secondary-button', testid: 'list-next', attrs: { type: 'button' } }, t('lists.pager.next')),
    ),
  );

  const section = make(
    'section',
    { id: 'lists-section', attrs: { 'aria-labelledby': 'lists-heading' } },
    make('h2', { id: 'lists-heading' }, t('lists.heading')),
    make('p', { className: 'secondary' }, tKey(intro)),
    form,
    results,
  );
  byId(PLACEHOLDER_ID).replaceWith(section);
}
