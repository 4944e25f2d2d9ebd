// The shapes of the staff lists (issue 16): the views, the rows each view's API answers with
// (GET /api/<area>/lists/<view>), a page of them, a column of the table, and what a page hands
// the lists (ListHooks). Types only.
import type { CredentialState } from '../common.js';
import type { MessageKey } from '../../../i18n/index.js';

export type View = 'people' | 'keys' | 'activations' | 'approvals' | 'directory';
export type Direction = 'asc' | 'desc';

export interface PersonRow {
  id: string;
  name: string;
  email: string;
  bindingState: 'active' | 'ended';
  roles: string[];
  createdAt: string;
  keyCount: number;
  activeKeyCount: number;
}
export interface KeyRow {
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
export interface ApprovalRow {
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
export type Row = PersonRow | KeyRow | ApprovalRow | DirectoryRow;

export interface ListPage {
  items: Row[];
  total: number;
  limit: number;
  offset: number;
}

export interface Column {
  label: MessageKey;
  /** The server's sort key (a whitelisted column), or none. */
  sort?: string;
  cell(row: Row): Node | string;
}

export interface ListHooks {
  /** Whose list API the page asks: /api/<area>/lists/<view>. */
  area: 'helpdesk' | 'admin';
  /** The words under the section's heading (each page says what its lists hold). */
  intro: MessageKey;
  /** The views the page offers, the first shown first. */
  views: readonly View[];
  openPerson(identityId: string, email: string): void;
  /** True when the error meant the session or role is gone (the page handles it). */
  accessLost(err: unknown): boolean;
  /** The action cell of a directory request (the administration page's). */
  directoryAction?(row: DirectoryRow): Node;
}
