// Lists with filters on the staff pages (issue 16): people, keys, keys waiting for activation
// and requests waiting for a second person, filtered, sorted and paged by the server
// (GET /api/helpdesk/lists/* on the helpdesk page; GET /api/admin/lists/{people,approvals} on
// the administration page: each page says its area, intro and the views it offers; with SCIM
// Groups mapped, the administration page also lists the roles the directory asks for, GET
// /api/admin/lists/directory, each row with the action the page hands in). A column heading is a
// button that sorts by it (aria-sort on the heading); the pager moves by pages; every word comes
// from the catalogues.
//
// This module wires the parts together; each part is one file under ./lists/:
//   section.ts  the section's frame (the same on both pages)   state.ts   view, sort and page
//   filters.ts  each view's filter controls and parameters      columns.ts each view's columns
//   table.ts    headings, rows and pager of a page              types.ts   the shapes
import { api, byId, clearMessages, setStatus, showError, t, tp } from './common.js';
import { fillSelect } from './console.js';
import { columnsOf } from './lists/columns.js';
import { drawFilters, putFilters } from './lists/filters.js';
import { renderListsSection } from './lists/section.js';
import { firstPage, initialState, nextPage, pageParams, previousPage, showView, sortBy, type ListState } from './lists/state.js';
import { drawHead, drawPager, drawRows, sortedWords } from './lists/table.js';
import type { Column, ListHooks, ListPage, View } from './lists/types.js';
import './lists.css';

export type { DirectoryRow, ListHooks, View } from './lists/types.js';

let hooks: ListHooks;
let columns: Readonly<Record<View, Column[]>>;
/** The views the page offers now (setUpLists's, then any offerView added). */
let offered: View[] = [];
const state: ListState = initialState('people');

const form = (): HTMLFormElement => byId<HTMLFormElement>('lists-form');

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
  const params = pageParams(state);
  putFilters(state.view, params);
  let page: ListPage;
  try {
    page = await api<ListPage>('GET', `/api/${hooks.area}/lists/${state.view}?${params.toString()}`);
  } catch (err) {
    if (hooks.accessLost(err)) return;
    showError(err, { form: form(), context: t('lists.failed') });
    return;
  }
  state.total = page.total;
  const shown = columns[state.view];
  byId('lists-caption').textContent = t(`lists.view.${state.view}`);
  drawHead(shown, state, (key) => {
    sortBy(state, key);
    void load(key);
  });
  drawRows(shown, page.items, state.view === 'directory');
  drawPager(state, page.items.length);
  byId('lists-results').hidden = false;
  setStatus(`${tp('lists.count', state.total)}${sortedWords(shown, state)}`);
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

/** Draws the lists section in place of the page's placeholder, with its controls, and the first view's filters. */
export function setUpLists(h: ListHooks): void {
  hooks = h;
  columns = columnsOf(h);
  offered = [...h.views];
  renderListsSection(h.intro);
  const viewSelect = byId<HTMLSelectElement>('lists-view');
  fillSelect(viewSelect, h.views.map((v) => [v, t(`lists.view.${v}`)] as const));
  showView(state, h.views[0] ?? 'people');
  viewSelect.addEventListener('change', () => {
    const v = offered.find((one) => one === viewSelect.value);
    if (!v) return;
    showView(state, v);
    drawFilters(v);
    void load();
  });
  form().addEventListener('submit', (event) => {
    event.preventDefault();
    firstPage(state);
    void load();
  });
  byId<HTMLButtonElement>('lists-reset').addEventListener('click', () => {
    drawFilters(state.view);
    firstPage(state);
    void load();
  });
  byId<HTMLButtonElement>('lists-prev').addEventListener('click', () => {
    previousPage(state);
    void load();
  });
  byId<HTMLButtonElement>('lists-next').addEventListener('click', () => {
    nextPage(state);
    void load();
  });
  drawFilters(state.view);
}
