// The lists section's frame, the same on the helpdesk and the administration page (each page's
// HTML holds only a placeholder, <div id="lists-placeholder">): heading, the page's intro, the
// view select, the filter box, Apply and Reset, and the results (table, empty note, pager).
// The ids are what the rest of the lists, the browser tests and the landmarks rely on.
import { byId, t } from '../common.js';
import { el } from '../console.js';
import type { MessageKey } from '../../../i18n/index.js';
import { tKey } from '../i18n.js';

/** The element of each page's HTML that the section takes the place of. */
export const PLACEHOLDER_ID = 'lists-placeholder';

function withClass<E extends HTMLElement>(e: E, className: string): E {
  e.className = className;
  return e;
}

function button(type: 'submit' | 'button', id: string, testid: string, words: string, secondary: boolean): HTMLButtonElement {
  const b = el('button', testid, words);
  b.type = type;
  b.id = id;
  if (secondary) b.className = 'secondary-button';
  return b;
}

function withId<E extends HTMLElement>(e: E, id: string): E {
  e.id = id;
  return e;
}

/** Draws the section in place of the page's placeholder, with `intro` under its heading. */
export function renderListsSection(intro: MessageKey): void {
  const heading = withId(el('h2', undefined, t('lists.heading')), 'lists-heading');

  const viewLabel = el('label', undefined, t('lists.view.label'));
  viewLabel.htmlFor = 'lists-view';
  const viewSelect = withId(el('select', 'list-view'), 'lists-view');
  viewSelect.name = 'view';
  const form = withId(
    el(
      'form',
      undefined,
      withClass(el('div', undefined, viewLabel, viewSelect), 'field'),
      el('fieldset', undefined, el('legend', undefined, t('lists.filters')), withClass(withId(el('div'), 'lists-filters'), 'lists-filters')),
      withClass(
        el('div', undefined, button('submit', 'lists-apply', 'list-apply', t('lists.apply'), false), button('button', 'lists-reset', 'list-reset', t('lists.reset'), true)),
        'lists-actions',
      ),
    ),
    'lists-form',
  );
  form.noValidate = true;
  form.setAttribute('aria-labelledby', 'lists-heading');

  const table = withId(
    el('table', 'list-table', withClass(withId(el('caption'), 'lists-caption'), 'visually-hidden'), withId(el('thead'), 'lists-head'), withId(el('tbody'), 'lists-body')),
    'lists-table',
  );
  const empty = withId(el('p', undefined, t('lists.empty')), 'lists-empty');
  empty.hidden = true;
  const pager = withClass(
    el(
      'nav',
      undefined,
      button('button', 'lists-prev', 'list-prev', t('lists.pager.previous'), true),
      withId(el('span', 'list-range'), 'lists-range'),
      button('button', 'lists-next', 'list-next', t('lists.pager.next'), true),
    ),
    'lists-pager',
  );
  pager.setAttribute('aria-label', t('lists.pager.label'));
  const results = withId(el('div', undefined, withClass(el('div', undefined, table), 'table-wrap'), empty, pager), 'lists-results');
  results.hidden = true;

  const section = withId(el('section', undefined, heading, withClass(el('p', undefined, tKey(intro)), 'secondary'), form, results), 'lists-section');
  section.setAttribute('aria-labelledby', 'lists-heading');
  byId(PLACEHOLDER_ID).replaceWith(section);
}
