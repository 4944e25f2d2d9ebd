// "My keys" page: list the signed-in person's security keys; rename, report lost, "I found it"
// (a new activation code for a key reported lost), sign out.
import { ApiError, api, busy, byId, clearMessages, focusElement, linkTo, reasonWords, sessionEnded, setStatus, showError, signOutDestination, stateWords, t, timeElement, tn, tp, wrapIn } from './common.js';
import { renderHeader } from './header.js';
import { setUpMailLanguage } from './mailLanguage.js';
import type { Credential, Identity, SignOutAnswer } from './common.js';
import { stepUpApi } from './stepUp.js';
import { hideAddKey, setUpAddKey, showAddKey } from './addKey.js';

renderHeader('keys');

const tbody = byId<HTMLTableSectionElement>('credentials-body');
const dialog = byId<HTMLDialogElement>('report-lost-dialog');
const dialogForm = byId<HTMLFormElement>('report-lost-form');
const noteInput = byId<HTMLTextAreaElement>('report-lost-note');
const confirmButton = byId<HTMLButtonElement>('report-lost-confirm');
const signoutButton = byId<HTMLButtonElement>('signout-button');

let credentials: Credential[] = [];
let signedIn = false;
let editingId: string | null = null;
let reportingId: string | null = null;
let myEmail = '';

// ------------------------------------------------------------------ loading

void load();

async function load(): Promise<void> {
  setStatus(t('keys.loading'));
  let identity: Identity;
  try {
    ({ identity } = await api<{ identity: Identity; session: { credentialId: string } }>('GET', '/api/me'));
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      setStatus('');
      showSignedOut(t('keys.signedOut.message'), t('common.signedOut.heading'), false);
    } else {
      showError(err, { context: t('common.accountLoadFailed') });
    }
    return;
  }
  signedIn = true;
  myEmail = identity.email;
  byId('identity-name').textContent = identity.name;
  byId('identity-email').textContent = identity.email;
  setUpMailLanguage(identity);
  byId('account').hidden = false;
  await refresh();
}

async function refresh(): Promise<boolean> {
  let loaded: Credential[];
  try {
    ({ credentials: loaded } = await api<{ credentials: Credential[] }>('GET', '/api/me/credentials'));
  } catch (err) {
    // Signed out while the list was loading: the answer no longer matters.
    if (!signedIn) return false;
    if (!handleSessionEnd(err)) showError(err, { context: t('keys.loadFailed') });
    return false;
  }
  if (!signedIn) return false;
  credentials = loaded;
  render();
  byId('keys').hidden = false;
  showAddKey(credentials.filter((c) => c.state !== 'revoked' && c.state !== 'expired').length);
  setStatus(countText(credentials));
  return true;
}

/**
 * How many keys the person has: revoked and expired keys are history, not keys they have, so
 * they are not counted (they stay listed for the record).
 */
function countText(list: readonly Credential[]): string {
  const live = list.filter((c) => c.state !== 'revoked' && c.state !== 'expired').length;
  const gone = list.length - live;
  const have = live === 0 ? t('keys.count.none') : tp('keys.count', live);
  if (gone === 0) return have;
  return t('keys.countAndGone', { have, gone: tp('keys.gone', gone) });
}

// ---------------------------------------------------------------- rendering

function render(): void {
  tbody.replaceChildren(...credentials.map(row));
  byId('no-credentials').hidden = credentials.length > 0;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, testid?: string, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (testid) e.dataset['testid'] = testid;
  e.append(...children);
  return e;
}

/** Words only screen readers read (the key's name after a row's button). */
const hidden = wrapIn('span', (s) => (s.className = 'visually-hidden'));

function row(c: Credential): HTMLTableRowElement {
  const tr = el('tr', 'credential-row');
  tr.dataset['credentialId'] = c.id;
  tr.dataset['state'] = c.state;
  if (c.current) tr.dataset['current'] = 'true';

  // Name (row header), or the inline rename form.
  const name = el('th');
  name.scope = 'row';
  if (editingId === c.id) {
    name.append(renameForm(c));
  } else {
    name.append(el('span', 'credential-label', c.label));
    if (c.current && signedIn) {
      const tag = el('span', 'credential-current', t('keys.currentTag'));
      tag.className = 'tag';
      name.append(' ', tag);
    }
  }

  const model = el('td', 'credential-model', c.model ?? t('common.unknownModel'));

  const state = el('td', 'credential-state');
  const stateText = el('span', 'credential-state-text', stateWords(c.state));
  stateText.className = `state state-${c.state}`;
  state.append(stateText);
  // The reason explains why a key is out of use; an active key's reason says nothing new.
  if (c.stateReason && (c.state === 'suspended' || c.state === 'revoked' || c.state === 'expired')) {
    const reason = el('span', 'credential-state-reason', t('common.reasonLine', { reason: reasonWords(c.stateReason) }));
    reason.className = 'state-reason';
    state.append(el('br'), reason);
  }
  if (c.state === 'issued' && c.expiresAt) {
    state.append(el('br'), el('span', 'credential-expires', ...tn('keys.activateBy', { date: timeElement(c.expiresAt) })));
  }

  const created = el('td', 'credential-created', timeElement(c.createdAt));
  const lastUsed = el('td', 'credential-last-used', timeElement(c.lastUsedAt, t('common.never')));

  const actions = el('td', 'credential-actions');
  if (signedIn && editingId !== c.id) {
    if (c.state !== 'revoked') {
      const rename = el('button', 'rename-button', ...tn('keys.rename', { label: c.label, hidden }));
      rename.type = 'button';
      rename.addEventListener('click', () => startRename(c.id));
      actions.append(rename);
    }
    if (c.state === 'active') {
      const lost = el('button', 'report-lost-button', ...tn('keys.reportLost', { label: c.label, hidden }));
      lost.type = 'button';
      lost.className = 'danger-button';
      lost.addEventListener('click', () => openReportLost(c.id));
      actions.append(' ', lost);
    }
    if (c.state === 'suspended' && c.stateReason === 'lost') {
      const found = el('button', 'found-button', ...tn('keys.found', { label: c.label, hidden }));
      found.type = 'button';
      found.addEventListener('click', () => void foundKey(c.id, found));
      actions.append(' ', found);
    }
    if (c.state === 'issued') {
      const link = el('a', 'activate-link', ...tn('keys.activate', { label: c.label, hidden }));
      link.href = '/activate.html';
      actions.append(' ', link);
    }
  }

  tr.append(name, model, state, created, lastUsed, actions);
  return tr;
}

function rowButton(id: string, testid: string): HTMLElement | null {
  const tr = Array.from(tbody.rows).find((r) => r.dataset['credentialId'] === id);
  return tr?.querySelector<HTMLElement>(`[data-testid="${testid}"]`) ?? null;
}

// ------------------------------------------------------------------- rename

function renameForm(c: Credential): HTMLFormElement {
  const form = el('form', 'rename-form');
  form.noValidate = true;
  form.className = 'rename-form';
  const inputId = `rename-input-${c.id}`;
  const label = el('label', undefined, t('keys.rename.label', { label: c.label }));
  label.htmlFor = inputId;
  label.className = 'visually-hidden';
  const input = el('input', 'rename-input');
  input.id = inputId;
  input.name = 'label';
  input.type = 'text';
  input.required = true;
  input.autocomplete = 'off';
  input.value = c.label;
  const save = el('button', 'rename-save', t('common.save'));
  save.type = 'submit';
  const cancel = el('button', 'rename-cancel', t('common.cancel'));
  cancel.type = 'button';
  cancel.className = 'secondary-button';

  const stop = (): void => {
    editingId = null;
    render();
    rowButton(c.id, 'rename-button')?.focus();
  };
  cancel.addEventListener('click', () => {
    clearMessages(form);
    stop();
  });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      e.preventDefault();
      clearMessages(form);
      stop();
    }
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void (async () => {
      clearMessages(form);
      const newLabel = input.value.trim();
      if (!newLabel) {
        showError(new Error(t('keys.rename.missing')), { invalid: input });
        return;
      }
      save.disabled = true;
      cancel.disabled = true;
      form.setAttribute('aria-busy', 'true');
      try {
        const { credential } = await api<{ credential: Partial<Credential> }>(
          'PATCH',
          `/api/me/credentials/${encodeURIComponent(c.id)}`,
          { label: newLabel },
        );
        replace(c.id, credential);
        editingId = null;
        render();
        setStatus(t('keys.rename.done', { label: credential.label ?? newLabel }));
        rowButton(c.id, 'rename-button')?.focus();
      } catch (err) {
        save.disabled = false;
        cancel.disabled = false;
        form.removeAttribute('aria-busy');
        if (!handleSessionEnd(err)) showError(err, { form, invalid: err instanceof ApiError && err.status === 400 ? input : null });
      }
    })();
  });
  form.append(label, input, ' ', save, ' ', cancel);
  return form;
}

function startRename(id: string): void {
  clearMessages();
  hideNextSteps();
  editingId = id;
  render();
  const input = document.getElementById(`rename-input-${id}`);
  if (input instanceof HTMLInputElement) {
    input.focus();
    input.select();
  }
}

/** Merges the server's answer into our copy (the answer may carry only some fields). */
function replace(id: string, update: Partial<Credential>): Credential | undefined {
  const i = credentials.findIndex((c) => c.id === id);
  const old = credentials[i];
  if (!old) return undefined;
  const merged: Credential = { ...old, ...update, current: update.current ?? old.current };
  credentials[i] = merged;
  return merged;
}

// -------------------------------------------------------------- report lost

function openReportLost(id: string): void {
  const c = credentials.find((x) => x.id === id);
  if (!c) return;
  clearMessages();
  hideNextSteps();
  reportingId = id;
  byId('report-lost-label').textContent = c.label;
  byId('report-lost-current-warning').hidden = !c.current;
  noteInput.value = '';
  confirmButton.disabled = false;
  dialog.showModal();
  noteInput.focus();
}

byId('report-lost-cancel').addEventListener('click', () => dialog.close());

dialog.addEventListener('close', () => {
  const id = reportingId;
  reportingId = null;
  // Return focus to the row's button if it is still there.
  if (id) rowButton(id, 'report-lost-button')?.focus();
});

dialogForm.addEventListener('submit', (e) => {
  e.preventDefault();
  const id = reportingId;
  const c = credentials.find((x) => x.id === id);
  if (!id || !c) {
    dialog.close();
    return;
  }
  // Counted before the report: was this the person's last working key?
  const otherActive = credentials.filter((x) => x.state === 'active' && x.id !== id).length;
  void (async () => {
    confirmButton.disabled = true;
    const note = noteInput.value.trim();
    try {
      const { credential } = await api<{ credential: Partial<Credential> }>(
        'POST',
        `/api/me/credentials/${encodeURIComponent(id)}/report-lost`,
        note ? { note } : {},
      );
      reportingId = null;
      dialog.close();
      replace(id, { state: 'suspended', ...credential });
      const message = t('keys.lost.done', { label: c.label });
      if (c.current) {
        // The session was tied to this key and has ended.
        signedIn = false;
        sessionEnded();
        render();
        showNextSteps(
          otherActive === 0
            ? [t('keys.lost.onlyKeySignedOut')]
            : [t('keys.lost.signInWithOther'), t('keys.lost.ifFoundSignIn')],
        );
        showSignedOut(t('keys.lost.signedOut', { message }), t('keys.lost.signedOut.heading'));
        return;
      }
      render();
      setStatus(message);
      showNextSteps([
        t('keys.lost.ifFoundAgain'),
        otherActive === 0 ? t('keys.lost.onlyKey') : t('keys.lost.goOn'),
      ]);
      focusElement(byId('next-steps-heading'));
      // Pick up anything else the server changed; a 401 here means the session ended.
      await refresh();
      setStatus(message);
    } catch (err) {
      reportingId = null;
      dialog.close();
      if (!handleSessionEnd(err)) showError(err, { context: t('keys.lost.failed', { label: c.label }) });
    } finally {
      confirmButton.disabled = false;
    }
  })();
});

// ------------------------------------------------------------- I found it

async function foundKey(id: string, trigger: HTMLButtonElement): Promise<void> {
  const c = credentials.find((x) => x.id === id);
  if (!c) return;
  clearMessages();
  hideNextSteps();
  await busy(trigger, null, async () => {
    setStatus(t('keys.found.sending'));
    try {
      const { credential } = await stepUpApi<{ credential: Partial<Credential> }>('POST', `/api/me/credentials/${encodeURIComponent(id)}/found`, {});
      replace(id, credential);
    } catch (err) {
      if (!handleSessionEnd(err)) showError(err, { context: t('keys.found.failed', { label: c.label }) });
      return;
    }
    render();
    setStatus(t('keys.found.done', { label: c.label }));
    showNextSteps(
      [t('keys.found.sentTo', { email: myEmail || t('keys.found.yourEmail') }), tn('keys.found.goActivate', { link: linkTo('/activate.html', 'found-activate-link') })],
      'found-next-steps',
    );
    focusElement(byId('next-steps-heading'));
  });
}

// ------------------------------------------------------------ add a key

setUpAddKey({
  sessionEnded: handleSessionEnd,
  async added({ label, sentTo }) {
    await refresh();
    setStatus(t('keys.add.done', { label }));
    showNextSteps([t('keys.add.sentTo', { email: sentTo }), tn('keys.add.goActivate', { link: linkTo('/activate.html', 'add-activate-link') })], 'add-next-steps');
    focusElement(byId('next-steps-heading'));
  },
});

// -------------------------------------------------------------- next steps

/** Shows "What to do next" above the key list; each item is one list entry. */
function showNextSteps(items: ReadonlyArray<string | ReadonlyArray<Node | string>>, kind = 'lost-next-steps'): void {
  const section = byId('next-steps');
  section.dataset['kind'] = kind;
  byId('next-steps-list').replaceChildren(...items.map((item) => el('li', 'next-step', ...(typeof item === 'string' ? [item] : item))));
  section.hidden = false;
}

function hideNextSteps(): void {
  byId('next-steps').hidden = true;
  byId('next-steps-list').replaceChildren();
}

// ----------------------------------------------------------------- sign out

const signoutEverywhereButton = byId<HTMLButtonElement>('signout-everywhere-button');

/** Sign out here, or everywhere (single logout: every session and every connected service). */
function signOut(everywhere: boolean, button: HTMLButtonElement): void {
  void (async () => {
    clearMessages();
    hideNextSteps();
    button.disabled = true;
    try {
      const answer = await api<SignOutAnswer>('POST', '/api/signout', everywhere ? { everywhere: true } : {});
      signedIn = false;
      sessionEnded();
      if (answer?.next !== undefined) {
        // SAML service providers in the session: tell them by the front channel (OIOSAML single logout).
        window.location.assign(signOutDestination(answer));
        return;
      }
      credentials = [];
      tbody.replaceChildren();
      byId('keys').hidden = true;
      hideAddKey();
      const text = everywhere
        ? t('keys.signedOutEverywhere')
        : t('keys.signedOutHere');
      setStatus(text);
      showSignedOut(text, t('keys.signedOut.heading'));
    } catch (err) {
      if (!handleSessionEnd(err)) showError(err, { context: t('keys.signOutFailed') });
    } finally {
      button.disabled = false;
    }
  })();
}

signoutButton.addEventListener('click', () => signOut(false, signoutButton));
signoutEverywhereButton.addEventListener('click', () => signOut(true, signoutEverywhereButton));

// ------------------------------------------------------------- session end

/** A 401 after loading means the session has ended: say so and offer sign-in. */
function handleSessionEnd(err: unknown): boolean {
  if (!(err instanceof ApiError) || err.status !== 401 || err.code === 'STEP_UP_REQUIRED' || !signedIn) return false;
  signedIn = false;
  editingId = null;
  render();
  hideAddKey();
  showSignedOut(t('keys.sessionEnded'), t('common.sessionEnded.heading'));
  return true;
}

function showSignedOut(message: string, heading: string, focus = true): void {
  byId('account').hidden = true;
  byId('signed-out-heading').textContent = heading;
  byId('signed-out-message').textContent = message;
  byId('signed-out').hidden = false;
  if (focus) focusElement(byId('signed-out-heading'));
}
