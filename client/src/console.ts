// Shared code of the staff console pages (helpdesk.html, admin.html): element helpers, words for
// codes, the identity search table, the confirm dialog, and a one-time link with a copy button.
import { ApiError, byId, focusElement, loadMe, reasonWords, setStatus, showError, timeElement } from './common.js';
import type { CredentialState, Identity } from './common.js';

// ---------------------------------------------------------------- API types

export type BindingState = 'active' | 'ended';
export type Ial = 'low' | 'substantial' | 'high';

/** One row of GET /api/helpdesk/identities?q= and GET /api/admin/identities?q=. */
export interface IdentitySummary {
  id: string;
  name: string;
  email: string;
  roles: string[];
  ial: Ial | string;
  bindingState: BindingState;
  createdAt: string;
  keyCount: number;
  activeKeyCount: number;
}

// ------------------------------------------------------------------- words

export const ROLE_WORDS: Record<string, string> = {
  employee: 'Employee',
  helpdesk: 'Helpdesk',
  'security-officer': 'Security officer',
  'org-admin': 'Administrator',
};

/** Roles an administrator can grant (every identity is an employee). */
export const GRANTABLE_ROLES = ['helpdesk', 'security-officer', 'org-admin'] as const;

export const IAL_WORDS: Record<string, string> = {
  low: 'Low',
  substantial: 'Substantial',
  high: 'High',
};

export const STATE_WORDS: Record<CredentialState, string> = {
  issued: 'Registered, not yet activated',
  active: 'Active',
  suspended: 'Suspended',
  revoked: 'Revoked',
  expired: 'Expired',
};

export const ACTION_WORDS: Record<string, string> = {
  issue: 'Registered',
  enrol: 'Registered',
  register: 'Registered',
  activate: 'Activated',
  suspend: 'Suspended',
  'request-reactivation': 'Reactivation started (new code sent)',
  reactivate: 'Reactivated',
  revoke: 'Revoked',
  expire: 'Expired',
};

export const ACTOR_ROLE_WORDS: Record<string, string> = {
  holder: 'the holder',
  helpdesk: 'helpdesk',
  'security-officer': 'security officer',
  'org-admin': 'administrator',
  system: 'the system',
};

/** Words for a code from one of the tables, or the code made readable. */
export function words(table: Record<string, string>, code: string | null | undefined, fallback = '—'): string {
  if (!code) return fallback;
  return table[code] ?? code.replace(/[_-]+/g, ' ');
}

export function rolesText(roles: readonly string[]): string {
  const shown = roles.filter((r) => r !== 'employee');
  return shown.length === 0 ? 'Employee' : shown.map((r) => words(ROLE_WORDS, r)).join(', ');
}

/** "3 keys" / "1 key" / "No keys". */
export function keysText(n: number): string {
  return n === 0 ? 'no keys' : n === 1 ? '1 key' : `${n} keys`;
}

// ---------------------------------------------------------------- elements

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, testid?: string, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (testid) e.dataset['testid'] = testid;
  e.append(...children);
  return e;
}

/** Text only screen readers read, e.g. the key name after a row's "Suspend" button. */
export function hidden(text: string): HTMLSpanElement {
  const s = el('span', undefined, text);
  s.className = 'visually-hidden';
  return s;
}

export function button(text: string, testid: string, kind: 'primary' | 'secondary' | 'danger' = 'primary', ...extra: (Node | string)[]): HTMLButtonElement {
  const b = el('button', testid, text, ...extra);
  b.type = 'button';
  if (kind === 'secondary') b.className = 'secondary-button';
  if (kind === 'danger') b.className = 'danger-button';
  return b;
}

/** Fills a <select> with [code, words] options; an empty first option when `placeholder` is given. */
export function fillSelect(select: HTMLSelectElement, options: ReadonlyArray<readonly [string, string]>, placeholder?: string): void {
  const list = options.map(([value, text]) => {
    const o = el('option', undefined, text);
    o.value = value;
    return o;
  });
  if (placeholder !== undefined) {
    const o = el('option', undefined, placeholder);
    o.value = '';
    list.unshift(o);
  }
  select.replaceChildren(...list);
}

/** Options for a reason select, in the words every page and mail uses for each reason. */
export function reasonOptions(codes: readonly string[]): Array<readonly [string, string]> {
  return codes.map((c) => [c, reasonWords(c)] as const);
}

// --------------------------------------------------------- identity search

/**
 * Fills the search results table: one row per identity, the name as row header and an "Open"
 * button that calls `onOpen`.
 */
export function renderIdentityRows(tbody: HTMLTableSectionElement, identities: readonly IdentitySummary[], onOpen: (i: IdentitySummary) => void, selectedId?: string | null): void {
  tbody.replaceChildren(
    ...identities.map((i) => {
      const tr = el('tr', 'identity-row');
      tr.dataset['identityId'] = i.id;
      tr.dataset['bindingState'] = i.bindingState;
      if (i.id === selectedId) tr.setAttribute('aria-current', 'true');
      const name = el('th', 'identity-name', i.name);
      name.scope = 'row';
      const binding = el('td', 'identity-binding', i.bindingState === 'ended' ? 'Ended' : 'Active');
      binding.className = i.bindingState === 'ended' ? 'state state-revoked' : '';
      const keys = el('td', 'identity-keys', `${i.activeKeyCount} active of ${i.keyCount}`);
      const open = button('Open', 'open-identity-button', 'secondary', hidden(` ${i.name}`));
      open.addEventListener('click', () => onOpen(i));
      tr.append(
        name,
        el('td', 'identity-email', i.email),
        el('td', 'identity-roles', rolesText(i.roles)),
        el('td', 'identity-ial', words(IAL_WORDS, i.ial)),
        binding,
        keys,
        el('td', 'identity-created', timeElement(i.createdAt)),
        el('td', undefined, open),
      );
      return tr;
    }),
  );
}

// ------------------------------------------------------------ confirmation

export interface ConfirmText {
  heading: string;
  paragraphs: string[];
  confirm: string;
  /** Style of the confirm button; destructive actions are 'danger' (the default). */
  kind?: 'danger' | 'primary';
}

/**
 * Asks in the page's #confirm-dialog; resolves true only for the confirm button. Focus starts on
 * Cancel and returns to the element that had it.
 */
export function confirmAction(text: ConfirmText): Promise<boolean> {
  const dialog = byId<HTMLDialogElement>('confirm-dialog');
  const ok = byId<HTMLButtonElement>('confirm-ok');
  const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  byId('confirm-heading').textContent = text.heading;
  byId('confirm-explanation').replaceChildren(...text.paragraphs.map((p) => el('p', undefined, p)));
  ok.textContent = text.confirm;
  ok.className = text.kind === 'primary' ? '' : 'danger-button';
  dialog.returnValue = '';
  return new Promise((resolve) => {
    dialog.addEventListener(
      'close',
      () => {
        resolve(dialog.returnValue === 'ok');
        if (opener?.isConnected) opener.focus();
      },
      { once: true },
    );
    dialog.showModal();
    byId('confirm-cancel').focus();
  });
}

/** Wires the Cancel button of #confirm-dialog; call once per page. */
export function setUpConfirmDialog(): void {
  byId('confirm-cancel').addEventListener('click', () => byId<HTMLDialogElement>('confirm-dialog').close(''));
}

// ------------------------------------------------------- link to hand over

/**
 * A one-time link to hand over: a read-only field with the link, a copy button and the expiry.
 * `testid` goes on the field (e.g. enrolment-link).
 */
export function linkBox(link: string, expiresAt: string | null | undefined, testid: string, labelText = 'Link to hand over'): HTMLDivElement {
  const box = el('div', `${testid}-box`);
  box.className = 'link-box';
  const id = `${testid}-${Math.random().toString(36).slice(2, 8)}`;
  const label = el('label', undefined, labelText);
  label.htmlFor = id;
  const input = el('input', testid);
  input.id = id;
  input.type = 'text';
  input.readOnly = true;
  input.value = link;
  input.spellcheck = false;
  input.className = 'link-field';
  input.addEventListener('focus', () => input.select());
  const copied = el('span', `${testid}-copied`);
  copied.className = 'copied-note';
  copied.setAttribute('role', 'status');
  copied.setAttribute('aria-live', 'polite');
  const copy = button('Copy link', 'copy-link-button', 'secondary');
  copy.addEventListener('click', () => {
    void (async () => {
      try {
        await navigator.clipboard.writeText(link);
        copied.textContent = 'Copied.';
      } catch {
        input.focus();
        input.select();
        copied.textContent = 'Could not copy automatically: the link is selected, press Ctrl+C (⌘C on a Mac).';
      }
    })();
  });
  const row = el('div', undefined, input, copy);
  row.className = 'link-row';
  box.append(label, row, copied);
  if (expiresAt) {
    const hint = el('p', `${testid}-expires`, 'The link works once and expires ', timeElement(expiresAt), '.');
    hint.className = 'hint';
    box.append(hint);
  }
  return box;
}

// ---------------------------------------------------------------- who may use a staff page

export interface PageGate {
  showSignedOut(message: string, heading: string, focus?: boolean): void;
  showNotAllowed(focus: boolean): void;
}

/** The signed-out and not-allowed views every staff page shares (ids: account, signed-out, ...). */
export function pageGate(hideTools: () => void, notAllowedId = 'not-allowed'): PageGate {
  return {
    showSignedOut(message, heading, focus = true) {
      hideTools();
      byId('account').hidden = true;
      setStatus('');
      byId('signed-out-heading').textContent = heading;
      byId('signed-out-message').textContent = message;
      byId('signed-out').hidden = false;
      if (focus) focusElement(byId('signed-out-heading'));
    },
    showNotAllowed(focus) {
      hideTools();
      byId('account').hidden = true;
      setStatus('');
      byId(notAllowedId).hidden = false;
      if (focus) focusElement(byId(`${notAllowedId}-heading`));
    },
  };
}

/**
 * Loads who is signed in and checks the page's role (the server checks it again on every call).
 * Returns the identity, or null after showing why the page cannot be used.
 */
export async function openStaffPage(role: string, signedOutMessage: string, gate: PageGate, loading = 'Loading…'): Promise<Identity | null> {
  setStatus(loading);
  let me: Identity;
  try {
    ({ identity: me } = await loadMe());
  } catch (err) {
    setStatus('');
    if (err instanceof ApiError && err.status === 401) gate.showSignedOut(signedOutMessage, 'Not signed in', false);
    else showError(err, { context: 'Your account could not be loaded.' });
    return null;
  }
  byId('identity-name').textContent = me.name;
  byId('identity-email').textContent = me.email;
  if (!me.roles.includes(role)) {
    setStatus('');
    gate.showNotAllowed(false);
    return null;
  }
  byId('account').hidden = false;
  return me;
}
