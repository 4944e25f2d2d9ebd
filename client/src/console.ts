// Shared code of the staff console pages (helpdesk.html, admin.html): element helpers, words for
// codes, the identity search table, the confirm dialog, and a one-time link with a copy button.
import { CATALOGUES, type MessageKey } from '../../i18n/index.js';
import { ApiError, byId, focusElement, loadMe, reasonWords, setStatus, showError, t, tKey, timeElement, tn, tp, wrapIn } from './common.js';
import type { Identity } from './common.js';

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

/** Roles an administrator can grant (every identity is an employee). */
export const GRANTABLE_ROLES = ['helpdesk', 'security-officer', 'org-admin'] as const;

/** A code's words from the catalogue (`role.helpdesk`), or the code made readable if it has none. */
function codeWords(prefix: 'role' | 'ial' | 'action' | 'actor', code: string | null | undefined, fallback: string): string {
  if (!code) return fallback;
  const key = `${prefix}.${code}`;
  return key in CATALOGUES.en ? tKey(key as MessageKey) : code.replace(/[_-]+/g, ' ');
}

export const roleWords = (code: string | null | undefined, fallback = t('common.none')): string => codeWords('role', code, fallback);
export const ialWords = (code: string | null | undefined, fallback = t('common.none')): string => codeWords('ial', code, fallback);
export const actionWords = (code: string | null | undefined, fallback = t('common.none')): string => codeWords('action', code, fallback);
export const actorRoleWords = (code: string | null | undefined, fallback = t('common.none')): string => codeWords('actor', code, fallback);

export function rolesText(roles: readonly string[]): string {
  const shown = roles.filter((r) => r !== 'employee');
  return shown.length === 0 ? t('role.employee') : shown.map((r) => roleWords(r)).join(t('console.listSeparator'));
}

/** "3 keys" / "1 key" / "no keys". */
export function keysText(n: number): string {
  return n === 0 ? t('console.keys.none') : tp('console.keys', n);
}

// ---------------------------------------------------------------- elements

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, testid?: string, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (testid) e.dataset['testid'] = testid;
  e.append(...children);
  return e;
}

/** Words only screen readers read, e.g. the key name after a row's "Suspend" button (a <hidden> tag). */
export const hidden = wrapIn('span', (s) => (s.className = 'visually-hidden'));

export function button(text: string | Node[], testid: string, kind: 'primary' | 'secondary' | 'danger' = 'primary'): HTMLButtonElement {
  const b = el('button', testid, ...(typeof text === 'string' ? [text] : text));
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
      const binding = el('td', 'identity-binding', i.bindingState === 'ended' ? t('console.binding.ended') : t('console.binding.active'));
      binding.className = i.bindingState === 'ended' ? 'state state-revoked' : '';
      const keys = el('td', 'identity-keys', t('console.activeOf', { active: i.activeKeyCount, total: i.keyCount }));
      const open = button(tn('console.open', { name: i.name, hidden }), 'open-identity-button', 'secondary');
      open.addEventListener('click', () => onOpen(i));
      tr.append(
        name,
        el('td', 'identity-email', i.email),
        el('td', 'identity-roles', rolesText(i.roles)),
        el('td', 'identity-ial', ialWords(i.ial)),
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
export function linkBox(link: string, expiresAt: string | null | undefined, testid: string, labelText = t('console.linkBox.label')): HTMLDivElement {
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
  const copy = button(t('console.linkBox.copy'), 'copy-link-button', 'secondary');
  copy.addEventListener('click', () => {
    void (async () => {
      try {
        await navigator.clipboard.writeText(link);
        copied.textContent = t('console.linkBox.copied');
      } catch {
        input.focus();
        input.select();
        copied.textContent = t('console.linkBox.copyFailed');
      }
    })();
  });
  const row = el('div', undefined, input, copy);
  row.className = 'link-row';
  box.append(label, row, copied);
  if (expiresAt) {
    const hint = el('p', `${testid}-expires`, ...tn('console.linkBox.expires', { date: timeElement(expiresAt) }));
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
export async function openStaffPage(role: string | readonly string[], signedOutMessage: string, gate: PageGate, loading = t('common.loading')): Promise<Identity | null> {
  setStatus(loading);
  let me: Identity;
  try {
    ({ identity: me } = await loadMe());
  } catch (err) {
    setStatus('');
    if (err instanceof ApiError && err.status === 401) gate.showSignedOut(signedOutMessage, t('common.signedOut.heading'), false);
    else showError(err, { context: t('common.accountLoadFailed') });
    return null;
  }
  byId('identity-name').textContent = me.name;
  byId('identity-email').textContent = me.email;
  if (!(typeof role === 'string' ? [role] : role).some((r) => me.roles.includes(r))) {
    setStatus('');
    gate.showNotAllowed(false);
    return null;
  }
  byId('account').hidden = false;
  return me;
}
