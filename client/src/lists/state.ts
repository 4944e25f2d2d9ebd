// Where the shown list is: its view, sort column and direction, and the page (offset into the
// server's total). One object the controller (../lists.ts) changes through these functions, so
// the rules (a new view or sort starts at the first page; a heading pressed again reverses) live
// in one place.
import type { Direction, View } from './types.js';

export const PAGE_SIZE = 25;

/** The column each view is sorted by first (a key of the server's whitelist). */
export const DEFAULT_SORT: Readonly<Record<View, string>> = { people: 'name', keys: 'holder', activations: 'createdAt', approvals: 'requestedAt', directory: 'name' };

export interface ListState {
  view: View;
  sort: string;
  direction: Direction;
  offset: number;
  /** How many rows the server counted for the shown filters (its last answer). */
  total: number;
}

export function initialState(view: View): ListState {
  return { view, sort: DEFAULT_SORT[view], direction: 'asc', offset: 0, total: 0 };
}

/** Another view: its default sort, ascending, from the first page. */
export function showView(s: ListState, view: View): void {
  s.view = view;
  s.sort = DEFAULT_SORT[view];
  s.direction = 'asc';
  s.offset = 0;
}

/** A sortable heading pressed: the same column again reverses, another sorts ascending; first page. */
export function sortBy(s: ListState, key: string): void {
  s.direction = key === s.sort && s.direction === 'asc' ? 'desc' : 'asc';
  s.sort = key;
  s.offset = 0;
}

export function firstPage(s: ListState): void {
  s.offset = 0;
}

export function previousPage(s: ListState): void {
  s.offset = Math.max(0, s.offset - PAGE_SIZE);
}

/** The next page, when there is one. */
export function nextPage(s: ListState): void {
  if (s.offset + PAGE_SIZE < s.total) s.offset += PAGE_SIZE;
}

/** The sort, direction and page as the list API's query parameters. */
export function pageParams(s: ListState): URLSearchParams {
  return new URLSearchParams({ sort: s.sort, direction: s.direction, limit: String(PAGE_SIZE), offset: String(s.offset) });
}
