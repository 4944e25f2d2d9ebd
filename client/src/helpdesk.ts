// Helpdesk page (helpdesk.html): find an employee, see their keys with the state history, suspend,
// start reactivation, revoke (one key or several), issue a replacement key, read the person's
// audit trail, and approve or reject other helpdesk members' requests (two-person control).
import { ApiError, api, busy, byId, clearMessages, focusElement, formatDate, fromServer, reasonWords, renderHeader, setStatus, showError, stateWords, t, timeElement, tn, tp, withPageDates, wrapIn } from './common.js';
import type { CredentialState, Identity } from './common.js';
import {
  actionWords,
  actorRoleWords,
  button,
  confirmAction,
  el,
  fillSelect,
  hidden,
  ialWords,
  keysText,
  linkBox,
  reasonOptions,
  renderIdentityRows,
  rolesText,
  setUpConfirmDialog,
} from './console.js';
import type { BindingState, IdentitySummary } from './console.js';
import { openStaffPage, pageGate } from './console.js';
import { stepUpApi } from './stepUp.js';
import { itemsList, notApprovableText, type ApprovalFields } from './duties.js';
import { setUpLists } from './helpdesk/lists.js';

renderHeader('helpdesk');
setUpConfirmDialog();

// ---------------------------------------------------------------- API types

interface HistoryEntry {
  action: string;
  fromState: CredentialState | null;
  toState: CredentialState;
  actorId: string | null;
  actorName?: string | null;
  actorRole: string;
  reason: string;
  note: string | null;
  clause: string;
  at: string;
}

interface HdCredential {
  id: string;
  label: string;
  state: CredentialState;
  stateReason: string | null;
  aaguid: string;
  model: string | null;
  createdAt: string;
  activatedAt: string | null;
  lastUsedAt: string | null;
  expiresAt: string | null;
  history?: HistoryEntry[];
}

interface PersonIdentity {
  id: string;
  name: string;
  email: string;
  roles: string[];
  ial: string;
  bindingState: BindingState;
  proofingMethod?: string | null;
  proofedBy?: string | null;
  createdAt?: string | null;
  bindingEndedAt?: string | null;
}

interface PersonView {
  identity: PersonIdentity;
  credentials: HdCredential[];
}

interface AuditEvent {
  seq: number;
  at: string;
  type: string;
  actorId: string | null;
  actorName?: string | null;
  actorRole: string;
  subjectId: string | null;
  data: Record<string, unknown> | null;
}

type ApprovalState = 'pending' | 'executed' | 'rejected' | 'failed' | 'withdrawn';

interface Approval extends ApprovalFields {
  id: string;
  kind: 'bulk' | 'replacement' | string;
  summary: string;
  requestedBy: string;
  requestedByName?: string | null;
  requestedAt: string;
  state: ApprovalState;
  decidedBy: string | null;
  decidedByName?: string | null;
  decidedAt: string | null;
  result: string | null;
}

interface BulkResult {
  credentialId: string;
  ok: boolean;
  code?: string;
  detail?: string;
}

type KeyAction = 'suspend' | 'reactivate' | 'revoke';

// ------------------------------------------------------------------- words

const SUSPEND_REASONS = ['lost', 'suspected-compromise', 'suspected-clone', 'holder-request', 'other'] as const;
const REACTIVATE_REASONS = ['found', 'other'] as const;
const RESEND_REASONS = ['holder-request', 'other'] as const;
const REVOKE_REASONS = [
  'lost',
  'damaged',
  'suspected-compromise',
  'suspected-clone',
  'data-error',
  'agreement-ended',
  'holder-ceased',
  'employment-ended',
  'replaced',
  'holder-request',
  'other',
] as const;

/** A key suspended for these reasons can only be revoked (the lifecycle table's guard). */
const NO_REACTIVATION = new Set(['suspected-compromise', 'suspected-clone']);

/** A request's kind in words; a kind the page does not know is shown as its code. */
function kindWordsOf(kind: string): string {
  if (kind === 'bulk' || kind === 'replacement' || kind === 'contact-change') return t(`helpdesk.kind.${kind}`);
  return kind.replace(/[_-]+/g, ' ');
}
const strong = wrapIn('strong');

// ---------------------------------------------------------------- elements

const searchForm = byId<HTMLFormElement>('search-form');
const searchInput = byId<HTMLInputElement>('search-q');
const searchButton = byId<HTMLButtonElement>('search-button');
const resultsBody = byId<HTMLTableSectionElement>('results-body');
const personSection = byId('person');
const keysBody = byId<HTMLTableSectionElement>('hd-credentials-body');
const bulkForm = byId<HTMLFormElement>('bulk-form');
const bulkAction = byId<HTMLSelectElement>('bulk-action');
const bulkReason = byId<HTMLSelectElement>('bulk-reason');
const bulkNote = byId<HTMLInputElement>('bulk-note');
const bulkSubmit = byId<HTMLButtonElement>('bulk-submit');
const bulkResult = byId('bulk-result');
const replacementForm = byId<HTMLFormElement>('replacement-form');
const replacesSelect = byId<HTMLSelectElement>('replacement-replaces');
const revokeNow = byId<HTMLInputElement>('replacement-revoke-now');
const replacementNote = byId<HTMLTextAreaElement>('replacement-note');
const replacementSubmit = byId<HTMLButtonElement>('replacement-submit');
const replacementResult = byId('replacement-result');
const auditButton = byId<HTMLButtonElement>('audit-button');
const auditBody = byId<HTMLTableSectionElement>('audit-body');
const approvalsBody = byId<HTMLTableSectionElement>('approvals-body');
const approvalResult = byId('approval-result');
const actionDialog = byId<HTMLDialogElement>('action-dialog');
const actionForm = byId<HTMLFormElement>('action-form');
const actionReason = byId<HTMLSelectElement>('action-reason');
const actionReasonError = byId('action-reason-error');
const actionNote = byId<HTMLTextAreaElement>('action-note');

let me: Identity | null = null;
/** False once the session ended or the role was withdrawn: late answers are then ignored. */
let allowed = false;
let results: IdentitySummary[] = [];
let person: PersonView | null = null;
let approvals: Approval[] = [];
const selectedForBulk = new Set<string>();

// ------------------------------------------------------------------ loading

// Declared before the first load: it runs at once.
const gate = pageGate(() => hideTools(), 'not-allowed');
const showSignedOut = gate.showSignedOut;
const showNotAllowed = gate.showNotAllowed;

void load();

async function load(): Promise<void> {
  me = await openStaffPage('helpdesk', t('helpdesk.signedOut.message'), gate, t('common.loading'));
  if (!me) return;
  allowed = true;
  byId('console-content').hidden = false;
  updateBulkReasons();
  updateBulkCount();
  setUpLists({ openPerson: (id) => void openPerson(id), accessLost: handleAccessLost });
  if (await loadApprovals()) {
    const waiting = approvals.filter((a) => a.state === 'pending' && a.canApprove === true).length;
    setStatus(waiting === 0 ? t('helpdesk.ready') : tp('helpdesk.ready.waiting', waiting));
  }
}

// ------------------------------------------------------------------- search

searchForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void search();
});

async function search(): Promise<void> {
  clearMessages(searchForm);
  const q = searchInput.value.trim();
  if (!q) {
    showError(new Error(t('console.search.missing')), { invalid: searchInput });
    return;
  }
  await busy(searchButton, searchForm, async () => {
    setStatus(t('common.searching'));
    try {
      ({ identities: results } = await api<{ identities: IdentitySummary[] }>('GET', `/api/helpdesk/identities?q=${encodeURIComponent(q)}`));
    } catch (err) {
      if (handleAccessLost(err)) return;
      showError(err, { form: searchForm, context: t('console.search.failed') });
      return;
    }
    if (!allowed) return;
    renderResults();
    byId('results').hidden = false;
    setStatus(results.length === 0 ? t('console.search.noMatch', { query: q }) : tp('console.search.found', results.length));
  });
}

function renderResults(): void {
  renderIdentityRows(resultsBody, results, (i) => void openPerson(i.id), person?.identity.id ?? null);
  byId('no-results').hidden = results.length > 0;
}

// ------------------------------------------------------------------- person

async function openPerson(id: string): Promise<void> {
  clearMessages();
  setStatus(t('helpdesk.person.loading'));
  if (!(await loadPerson(id, true))) return;
  const p = person;
  if (!p) return;
  // Revoked and expired keys are history: listed, not counted as keys the person has.
  const live = p.credentials.filter((c) => c.state !== 'revoked' && c.state !== 'expired');
  const gone = p.credentials.length - live.length;
  const summary = t('helpdesk.person.summary', { name: p.identity.name, keys: keysText(live.length), active: live.filter((c) => c.state === 'active').length });
  setStatus(gone === 0 ? summary : `${summary} ${tp('helpdesk.person.gone', gone)}`);
  focusElement(byId('person-heading'));
}

/** GET the person and draw the panel. `fresh` resets the forms, results and audit (another person). */
async function loadPerson(id: string, fresh: boolean): Promise<boolean> {
  let view: PersonView;
  try {
    view = await api<PersonView>('GET', `/api/helpdesk/identities/${encodeURIComponent(id)}`);
  } catch (err) {
    if (handleAccessLost(err)) return false;
    showError(err, { context: t('helpdesk.person.loadFailed') });
    return false;
  }
  if (!allowed) return false;
  const changedPerson = person?.identity.id !== view.identity.id;
  person = view;
  if (fresh || changedPerson) {
    waitingBoxes.clear();
    selectedForBulk.clear();
    bulkForm.reset();
    updateBulkReasons();
    replacementForm.reset();
    bulkResult.hidden = true;
    replacementResult.hidden = true;
    byId('audit').hidden = true;
    auditBody.replaceChildren();
  }
  // Keys that left the list (or can no longer be acted on) drop out of the bulk selection.
  for (const cid of [...selectedForBulk]) {
    if (!view.credentials.some((c) => c.id === cid && bulkEligible(c))) selectedForBulk.delete(cid);
  }
  renderPerson();
  renderResults();
  personSection.hidden = false;
  return true;
}

async function reloadPerson(): Promise<void> {
  if (person) await loadPerson(person.identity.id, false);
}

function renderPerson(): void {
  if (!person) return;
  const i = person.identity;
  personSection.dataset['identityId'] = i.id;
  personSection.dataset['bindingState'] = i.bindingState;
  byId('person-name').textContent = i.name;
  const facts: Array<[string, Node | string, string]> = [
    [t('console.fact.email'), i.email, 'person-email'],
    [t('console.fact.roles'), rolesText(i.roles), 'person-roles'],
    [t('console.fact.ial'), ialWords(i.ial), 'person-ial'],
    [t('helpdesk.fact.proofing'), proofingText(i), 'person-proofing'],
    [t('console.fact.created'), timeElement(i.createdAt), 'person-created'],
    [
      t('console.fact.binding'),
      i.bindingState === 'ended' ? el('span', undefined, ...tn('helpdesk.binding.endedAt', { date: timeElement(i.bindingEndedAt, '') })) : t('console.binding.active'),
      'person-binding',
    ],
  ];
  byId('person-facts').replaceChildren(...facts.flatMap(([term, value, testid]) => [el('dt', undefined, term), el('dd', testid, value)]));
  if (me && i.id === me.id) {
    byId('person-facts').append(el('dt', undefined, t('helpdesk.fact.note')), el('dd', 'person-self-note', t('helpdesk.self')));
  }
  keysBody.replaceChildren(...person.credentials.map(keyRow));
  byId('hd-no-credentials').hidden = person.credentials.length > 0;
  fillReplacesSelect();
  updateBulkCount();
}

/** How the identity was proofed, and by whom (the API gives the staff member's id). */
function proofingText(i: PersonIdentity): Node | string {
  const span = el('span', undefined, i.proofingMethod || t('common.none'));
  if (i.proofedBy) {
    const by = el('span', undefined, ' ', me && i.proofedBy === me.id ? t('helpdesk.proofedByYou') : t('helpdesk.proofedBy', { id: i.proofedBy.slice(0, 8) }));
    by.className = 'muted';
    by.title = i.proofedBy;
    span.append(by);
  }
  return span;
}

function bulkEligible(c: HdCredential): boolean {
  return c.state === 'issued' || c.state === 'active' || c.state === 'suspended';
}

function keyRow(c: HdCredential): HTMLTableRowElement {
  const tr = el('tr', 'hd-credential-row');
  tr.dataset['credentialId'] = c.id;
  tr.dataset['state'] = c.state;

  const selectCell = el('td');
  selectCell.className = 'select-cell';
  if (bulkEligible(c)) {
    const box = el('input', 'bulk-select');
    box.type = 'checkbox';
    box.id = `bulk-select-${c.id}`;
    box.checked = selectedForBulk.has(c.id);
    const label = el('label', undefined, t('helpdesk.select', { label: c.label }));
    label.htmlFor = box.id;
    label.className = 'visually-hidden';
    box.addEventListener('change', () => {
      if (box.checked) selectedForBulk.add(c.id);
      else selectedForBulk.delete(c.id);
      updateBulkCount();
    });
    selectCell.append(box, label);
  }

  const name = el('th', undefined, el('span', 'hd-credential-label', c.label));
  name.scope = 'row';
  name.append(historyDetails(c));

  const stateText = el('span', 'hd-credential-state-text', stateWords(c.state));
  stateText.className = `state state-${c.state}`;
  const state = el('td', 'hd-credential-state', stateText);
  if (c.stateReason && c.state !== 'active' && c.state !== 'issued') {
    const reason = el('span', 'hd-credential-reason', t('common.reasonLine', { reason: reasonWords(c.stateReason) }));
    reason.className = 'state-reason';
    state.append(el('br'), reason);
  }
  if (c.state === 'issued' && c.expiresAt) state.append(el('br'), el('span', undefined, ...tn('helpdesk.activateBy', { date: timeElement(c.expiresAt) })));

  const dates = el('td', 'hd-credential-dates', timeElement(c.createdAt));
  if (c.activatedAt) {
    const activated = el('span', 'hd-credential-activated', ...tn('helpdesk.activatedAt', { date: timeElement(c.activatedAt) }));
    activated.className = 'muted';
    dates.append(el('br'), activated);
  }

  const actions = el('td', 'hd-credential-actions');
  const wrap = el('div');
  wrap.className = 'actions-cell';
  if (c.state === 'active') {
    const b = button(tn('helpdesk.suspend', { label: c.label, hidden }), 'suspend-button', 'danger');
    b.addEventListener('click', () => void keyAction(c, 'suspend', b));
    wrap.append(b);
  }
  if (c.state === 'issued' || (c.state === 'suspended' && !NO_REACTIVATION.has(c.stateReason ?? ''))) {
    const b = button(tn(c.state === 'issued' ? 'helpdesk.sendNewCode' : 'helpdesk.startReactivation', { label: c.label, hidden }), 'reactivate-button', 'secondary');
    b.addEventListener('click', () => void keyAction(c, 'reactivate', b));
    wrap.append(b);
  }
  if (bulkEligible(c)) {
    const b = button(tn('helpdesk.revoke', { label: c.label, hidden }), 'revoke-button', 'danger');
    b.addEventListener('click', () => void keyAction(c, 'revoke', b));
    wrap.append(b);
  }
  if (c.state === 'suspended' && NO_REACTIVATION.has(c.stateReason ?? '')) {
    const note = el('span', 'no-reactivation-note', t('helpdesk.noReactivation'));
    note.className = 'muted';
    wrap.append(note);
  }
  actions.append(wrap);

  tr.append(selectCell, name, el('td', 'hd-credential-model', c.model ?? t('common.unknownModel')), state, dates, el('td', 'hd-credential-last-used', timeElement(c.lastUsedAt, t('common.never'))), actions);
  return tr;
}

function historyDetails(c: HdCredential): HTMLDetailsElement {
  const details = el('details', 'hd-history');
  details.className = 'history';
  const history = c.history ?? [];
  details.append(el('summary', undefined, ...tn('helpdesk.history.summary', { count: history.length, label: c.label, hidden })));
  if (history.length === 0) {
    details.append(el('p', undefined, t('helpdesk.history.none')));
    return details;
  }
  const list = el('ol', 'hd-history-list');
  for (const h of history) {
    const li = el('li', 'hd-history-entry', timeElement(h.at), ' — ', el('strong', undefined, actionWords(h.action)));
    li.dataset['action'] = h.action;
    if (h.fromState && h.fromState !== h.toState) {
      li.append(' ', t('helpdesk.history.transition', { from: stateWords(h.fromState).toLowerCase(), to: stateWords(h.toState).toLowerCase() }));
    }
    li.append(t('helpdesk.history.by', { actor: actorText(h.actorId, h.actorName, h.actorRole) }));
    // A registration has no reason to give: "Registered, by … (the holder)." says it all.
    if (h.action !== 'issue') li.append(' ', t('helpdesk.history.reason', { reason: reasonWords(h.reason) }));
    if (h.note) li.append(' ', t('helpdesk.history.note', { note: h.note }));
    if (h.clause) {
      // The clause of the standard, as the standard numbers it: not words to translate.
      const clause = el('span', undefined, h.clause);
      clause.className = 'muted';
      clause.translate = false;
      li.append(' ', clause);
    }
    list.append(li);
  }
  details.append(list);
  return details;
}

function actorText(id: string | null, name: string | null | undefined, role: string): string {
  const roleWords = actorRoleWords(role);
  if (me && id === me.id) return t('helpdesk.actor.you', { role: roleWords });
  if (name) return role === 'holder' ? t('helpdesk.actor.holder', { name }) : t('helpdesk.actor.named', { name, role: roleWords });
  return roleWords;
}

// ------------------------------------------------------- one-key actions

interface ReasonAnswer {
  reason: string;
  note: string;
}

interface ReasonQuestion {
  heading: string;
  paragraphs: string[];
  reasons: readonly string[];
  /** The reason chosen when the dialog opens (still changeable), e.g. why the key was suspended. */
  preselected?: string;
  confirm: string;
  danger: boolean;
}

let answerReason: ((a: ReasonAnswer | null) => void) | null = null;

/** Asks for a reason (required) and a note in #action-dialog; null when cancelled. */
function askReason(q: ReasonQuestion): Promise<ReasonAnswer | null> {
  const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  byId('action-heading').textContent = q.heading;
  byId('action-explanation').replaceChildren(...q.paragraphs.map((p) => el('p', undefined, p)));
  fillSelect(actionReason, reasonOptions(q.reasons), t('common.chooseReason'));
  if (q.preselected && q.reasons.includes(q.preselected)) actionReason.value = q.preselected;
  actionReason.removeAttribute('aria-invalid');
  actionReasonError.hidden = true;
  actionNote.value = '';
  const confirm = byId<HTMLButtonElement>('action-confirm');
  confirm.textContent = q.confirm;
  confirm.className = q.danger ? 'danger-button' : '';
  return new Promise((resolve) => {
    answerReason = resolve;
    actionDialog.addEventListener(
      'close',
      () => {
        // Closed without a valid answer (Cancel or Escape).
        answerReason?.(null);
        answerReason = null;
        if (opener?.isConnected) opener.focus();
      },
      { once: true },
    );
    actionDialog.showModal();
    actionReason.focus();
  });
}

actionForm.addEventListener('submit', (event) => {
  event.preventDefault();
  if (!actionReason.value) {
    actionReason.setAttribute('aria-invalid', 'true');
    actionReasonError.hidden = false;
    actionReason.focus();
    return;
  }
  const answer = { reason: actionReason.value, note: actionNote.value.trim() };
  answerReason?.(answer);
  answerReason = null;
  actionDialog.close();
});
actionReason.addEventListener('change', () => {
  if (actionReason.value) {
    actionReason.removeAttribute('aria-invalid');
    actionReasonError.hidden = true;
  }
});
byId('action-cancel').addEventListener('click', () => actionDialog.close());

function questionFor(c: HdCredential, action: KeyAction, holder: string): ReasonQuestion {
  if (action === 'suspend') {
    return {
      heading: t('helpdesk.suspend.heading', { label: c.label }),
      paragraphs: [t('helpdesk.suspend.stops', { holder }), t('helpdesk.suspend.later')],
      reasons: SUSPEND_REASONS,
      confirm: t('helpdesk.suspend.confirm'),
      danger: true,
    };
  }
  if (action === 'reactivate' && c.state === 'issued') {
    return {
      heading: t('helpdesk.resend.heading', { label: c.label }),
      paragraphs: [t('helpdesk.resend.goes', { holder }), t('helpdesk.resend.active')],
      reasons: RESEND_REASONS,
      confirm: t('helpdesk.resend.confirm'),
      danger: false,
    };
  }
  if (action === 'reactivate') {
    return {
      heading: t('helpdesk.reactivate.heading', { label: c.label }),
      paragraphs: [t('helpdesk.reactivate.goes', { holder }), t('helpdesk.reactivate.stays')],
      reasons: REACTIVATE_REASONS,
      confirm: t('helpdesk.reactivate.confirm'),
      danger: false,
    };
  }
  // A suspended key is usually revoked for the reason it was suspended (a suspected clone, a key
  // lost for good): that reason is chosen already.
  const suspendedFor = c.state === 'suspended' ? c.stateReason : null;
  return {
    heading: t('helpdesk.revoke.heading', { label: c.label }),
    paragraphs: [t('helpdesk.revoke.never', { holder })],
    reasons: REVOKE_REASONS,
    ...(suspendedFor ? { preselected: suspendedFor } : {}),
    confirm: t('helpdesk.revoke.confirm'),
    danger: true,
  };
}

async function keyAction(c: HdCredential, action: KeyAction, trigger: HTMLButtonElement): Promise<void> {
  if (!person) return;
  clearMessages();
  const holder = person.identity.name;
  const answer = await askReason(questionFor(c, action, holder));
  if (!answer) return;
  await busy(trigger, null, async () => {
    setStatus(t('common.sending'));
    try {
      await stepUpApi<{ credential: HdCredential }>(
        'POST',
        `/api/helpdesk/credentials/${encodeURIComponent(c.id)}/${action}`,
        answer.note ? { reason: answer.reason, note: answer.note } : { reason: answer.reason },
      );
    } catch (err) {
      if (handleAccessLost(err)) return;
      showError(err, { context: t('helpdesk.action.failed', { label: c.label }) });
      return;
    }
    await reloadPerson();
    const done =
      action === 'suspend'
        ? t('helpdesk.suspend.done', { label: c.label, holder })
        : action === 'revoke'
          ? t('helpdesk.revoke.done', { label: c.label, holder })
          : t('helpdesk.reactivate.done', { holder });
    setStatus(done);
    focusElement(byId('hd-keys-heading'));
  });
}

// -------------------------------------------------------------------- bulk

function isBulkAction(v: string): v is 'suspend' | 'revoke' {
  return v === 'suspend' || v === 'revoke';
}

function updateBulkReasons(): void {
  const previous = bulkReason.value;
  const reasons = bulkAction.value === 'revoke' ? REVOKE_REASONS : SUSPEND_REASONS;
  fillSelect(bulkReason, reasonOptions(reasons), t('common.chooseReason'));
  if ((reasons as readonly string[]).includes(previous)) bulkReason.value = previous;
}

function updateBulkCount(): void {
  const n = selectedForBulk.size;
  byId('bulk-count').textContent = n === 0 ? t('helpdesk.bulk.count.none') : tp('helpdesk.bulk.count', n);
}

bulkAction.addEventListener('change', updateBulkReasons);

bulkForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void submitBulk();
});

async function submitBulk(): Promise<void> {
  clearMessages(bulkForm);
  const p = person;
  if (!p) return;
  const action = bulkAction.value;
  if (!isBulkAction(action)) {
    showError(new Error(t('helpdesk.bulk.chooseAction')), { invalid: bulkAction });
    return;
  }
  const ids = p.credentials.filter((c) => selectedForBulk.has(c.id)).map((c) => c.id);
  if (ids.length === 0) {
    const first = keysBody.querySelector<HTMLInputElement>('[data-testid="bulk-select"]');
    showError(new Error(t('helpdesk.bulk.selectFirst')), { focus: first });
    return;
  }
  const reason = bulkReason.value;
  if (!reason) {
    showError(new Error(t('common.chooseReason')), { invalid: bulkReason });
    return;
  }
  const labels = p.credentials.filter((c) => selectedForBulk.has(c.id)).map((c) => t('helpdesk.bulk.quoted', { label: c.label }));
  const keys = keysText(ids.length);
  const ok = await confirmAction({
    heading: t(action === 'revoke' ? 'helpdesk.bulk.revoke.heading' : 'helpdesk.bulk.suspend.heading', { keys, name: p.identity.name }),
    paragraphs: [
      t('helpdesk.bulk.keysReason', { labels: labels.join(t('console.listSeparator')), reason: reasonWords(reason) }),
      action === 'revoke' ? t('helpdesk.bulk.revoke.never') : t('helpdesk.bulk.suspend.stops'),
      t('helpdesk.bulk.many'),
    ],
    confirm: t(action === 'revoke' ? 'helpdesk.bulk.revoke.confirm' : 'helpdesk.bulk.suspend.confirm', { keys }),
  });
  if (!ok) return;
  const note = bulkNote.value.trim();
  await busy(bulkSubmit, bulkForm, async () => {
    setStatus(t('common.sending'));
    let answer: { results?: BulkResult[]; approval?: Approval };
    try {
      answer = await stepUpApi<{ results?: BulkResult[]; approval?: Approval }>('POST', '/api/helpdesk/bulk', {
        action,
        credentialIds: ids,
        reason,
        ...(note ? { note } : {}),
      });
    } catch (err) {
      if (handleAccessLost(err)) return;
      showError(err, { form: bulkForm, context: t('helpdesk.bulk.failed') });
      return;
    }
    if (answer.approval) {
      selectedForBulk.clear();
      bulkResult.replaceChildren(el('p', 'bulk-waiting', ...tn(action === 'revoke' ? 'helpdesk.bulk.waiting.revoke' : 'helpdesk.bulk.waiting.suspend', { strong, keys })));
      bulkResult.hidden = false;
      watchApproval(answer.approval.id, bulkResult);
      await Promise.all([reloadPerson(), loadApprovals()]);
      setStatus(t(action === 'revoke' ? 'helpdesk.bulk.sent.revoke' : 'helpdesk.bulk.sent.suspend', { keys }));
      focusElement(bulkResult);
      return;
    }
    const list = answer.results ?? [];
    const labelOf = (id: string): string => p.credentials.find((c) => c.id === id)?.label ?? id;
    const done = list.filter((r) => r.ok).length;
    const items = list.map((r) => {
      const label = labelOf(r.credentialId);
      const li = el('li', 'bulk-result-item', ...(r.ok ? tn('helpdesk.bulk.itemDone', { label }) : tn('helpdesk.bulk.itemNotDone', { label, why: r.detail ? fromServer(r.detail) : (r.code ?? t('helpdesk.bulk.refused')) })));
      li.dataset['credentialId'] = r.credentialId;
      li.dataset['ok'] = String(r.ok);
      return li;
    });
    const summary = tp(action === 'revoke' ? 'helpdesk.bulk.revoked' : 'helpdesk.bulk.suspended', list.length, { done });
    bulkResult.replaceChildren(el('p', 'bulk-summary', summary), el('ul', undefined, ...items));
    bulkResult.hidden = false;
    selectedForBulk.clear();
    bulkNote.value = '';
    await reloadPerson();
    setStatus(summary);
    focusElement(bulkResult);
  });
}

// ------------------------------------------------------------- replacement

function fillReplacesSelect(): void {
  const previous = replacesSelect.value;
  const candidates = (person?.credentials ?? []).filter(bulkEligible);
  fillSelect(
    replacesSelect,
    candidates.map((c) => [c.id, t('helpdesk.replacement.option', { label: c.label, state: stateWords(c.state).toLowerCase() })] as const),
    t('helpdesk.replacement.none'),
  );
  if (candidates.some((c) => c.id === previous)) replacesSelect.value = previous;
  updateRevokeNow();
}

function updateRevokeNow(): void {
  const none = !replacesSelect.value;
  revokeNow.disabled = none;
  if (none) revokeNow.checked = false;
}

replacesSelect.addEventListener('change', updateRevokeNow);

replacementForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void submitReplacement();
});

async function submitReplacement(): Promise<void> {
  clearMessages(replacementForm);
  const p = person;
  if (!p) return;
  const basis = replacementForm.querySelector<HTMLInputElement>('input[name="basis"]:checked')?.value;
  if (basis !== 'active-key' && basis !== 'second-approval') {
    const fieldset = byId('replacement-basis');
    fieldset.setAttribute('aria-invalid', 'true');
    showError(new Error(t('helpdesk.replacement.basisMissing')), { focus: byId('basis-active-key') });
    return;
  }
  const replaces = replacesSelect.value;
  const old = p.credentials.find((c) => c.id === replaces);
  const revoke = Boolean(replaces) && revokeNow.checked;
  if (revoke && old) {
    const ok = await confirmAction({
      heading: t('helpdesk.replacement.revoke.heading', { label: old.label }),
      paragraphs: [t('helpdesk.replacement.revoke.text', { label: old.label })],
      confirm: t('helpdesk.replacement.revoke.confirm'),
    });
    if (!ok) return;
  }
  const note = replacementNote.value.trim();
  const delivery = replacementForm.querySelector<HTMLInputElement>('input[name="delivery"]:checked')?.value === 'handover' ? 'handover' : 'mail';
  await busy(replacementSubmit, replacementForm, async () => {
    setStatus(t('common.sending'));
    let answer: { link?: string; sentTo?: string | null; expiresAt?: string; approval?: Approval };
    try {
      answer = await stepUpApi<{ link?: string; sentTo?: string | null; expiresAt?: string; approval?: Approval }>(
        'POST',
        `/api/helpdesk/identities/${encodeURIComponent(p.identity.id)}/replacement`,
        {
          basis,
          ...(replaces ? { replacesCredentialId: replaces } : {}),
          ...(revoke ? { revokeNow: true } : {}),
          ...(note ? { note } : {}),
          delivery,
        },
      );
    } catch (err) {
      if (handleAccessLost(err)) return;
      showError(err, { form: replacementForm, context: t('helpdesk.replacement.failed') });
      return;
    }
    replacementForm.reset();
    if (answer.link) {
      replacementResult.replaceChildren(
        el('p', undefined, ...tn('helpdesk.replacement.linkFor', { strong, name: p.identity.name })),
        linkBox(answer.link, answer.expiresAt, 'replacement-link', t('helpdesk.replacement.linkLabel')),
      );
      setStatus(t('helpdesk.replacement.ready', { name: p.identity.name }));
    } else if (!answer.approval) {
      const to = answer.sentTo ?? p.identity.name;
      replacementResult.replaceChildren(
        el(
          'p',
          'replacement-mailed',
          ...(answer.expiresAt ? tn('helpdesk.replacement.mailedUntil', { strong, to, date: formatDate(answer.expiresAt) }) : tn('helpdesk.replacement.mailed', { strong, to })),
        ),
      );
      setStatus(t('helpdesk.replacement.mailedStatus', { name: p.identity.name }));
    } else {
      replacementResult.replaceChildren(
        el('p', 'replacement-waiting', ...tn(delivery === 'handover' ? 'helpdesk.replacement.waiting.handover' : 'helpdesk.replacement.waiting.mail', { strong })),
      );
      if (answer.approval) watchApproval(answer.approval.id, replacementResult);
      setStatus(t('helpdesk.replacement.waitingStatus'));
    }
    replacementResult.hidden = false;
    await Promise.all([reloadPerson(), loadApprovals()]);
    focusElement(replacementResult);
  });
}

// -------------------------------------------------------------------- audit

auditButton.addEventListener('click', () => {
  const p = person;
  if (!p) return;
  void busy(auditButton, byId('audit'), async () => {
    clearMessages();
    setStatus(t('helpdesk.audit.loading'));
    let events: AuditEvent[];
    try {
      ({ events } = await api<{ events: AuditEvent[] }>('GET', `/api/helpdesk/identities/${encodeURIComponent(p.identity.id)}/audit`));
    } catch (err) {
      if (handleAccessLost(err)) return;
      showError(err, { context: t('helpdesk.audit.failed') });
      return;
    }
    if (!allowed || person?.identity.id !== p.identity.id) return;
    auditBody.replaceChildren(...events.map(auditRow));
    byId('no-audit').hidden = events.length > 0;
    byId('audit').hidden = false;
    setStatus(tp('helpdesk.audit.count', events.length));
  });
});

function auditRow(e: AuditEvent): HTMLTableRowElement {
  const tr = el('tr', 'audit-row');
  tr.dataset['seq'] = String(e.seq);
  tr.dataset['type'] = e.type;
  const seq = el('th', undefined, String(e.seq));
  seq.scope = 'row';
  const data = el('ul', 'audit-data');
  data.className = 'audit-data';
  for (const [key, value] of Object.entries(e.data ?? {})) {
    if (value === null || value === undefined || value === '') continue;
    data.append(el('li', undefined, ...tn('helpdesk.audit.entry', { key, value: el('code', undefined, typeof value === 'string' ? value : JSON.stringify(value)) })));
  }
  tr.append(seq, el('td', undefined, timeElement(e.at)), el('td', 'audit-type', el('code', undefined, e.type)), el('td', undefined, actorText(e.actorId, e.actorName, e.actorRole)), el('td', undefined, data));
  return tr;
}

// ---------------------------------------------------------------- approvals

byId('approvals-refresh').addEventListener('click', () => {
  clearMessages();
  void (async () => {
    if (await loadApprovals()) setStatus(approvalsSummary());
  })();
});

function approvalsSummary(): string {
  const pending = approvals.filter((a) => a.state === 'pending');
  const mine = pending.filter((a) => a.requestedBy === me?.id).length;
  const theirs = pending.length - mine;
  if (pending.length === 0) return t('helpdesk.approvals.noneWaiting');
  return t('helpdesk.approvals.summary', { theirs: tp('helpdesk.approvals.theirs', theirs), mine: tp('helpdesk.approvals.mine', mine) });
}

async function loadApprovals(): Promise<boolean> {
  try {
    ({ approvals } = await api<{ approvals: Approval[] }>('GET', '/api/helpdesk/approvals'));
  } catch (err) {
    if (handleAccessLost(err)) return false;
    showError(err, { context: t('duties.loadFailed') });
    return false;
  }
  if (!allowed) return false;
  approvalsBody.replaceChildren(...approvals.map(approvalRow));
  byId('no-approvals').hidden = approvals.length > 0;
  await settleWaitingBoxes();
  return true;
}

// ------------------------------------------------- one's own waiting requests

/** How often a requester's page asks whether the second approver has decided. */
const APPROVAL_POLL_MS = 5_000;
/** "Waiting for a second approver" boxes on this page: approval id -> the box to update. */
const waitingBoxes = new Map<string, HTMLElement>();
let pollTimer: number | undefined;

/** Keeps `box` up to date with the decision on the approval: it is polled until decided. */
function watchApproval(approvalId: string, box: HTMLElement): void {
  for (const [id, b] of waitingBoxes) if (b === box) waitingBoxes.delete(id);
  waitingBoxes.set(approvalId, box);
  box.dataset['approvalId'] = approvalId;
  box.dataset['approvalState'] = 'pending';
  schedulePoll();
}

function schedulePoll(): void {
  if (pollTimer !== undefined || waitingBoxes.size === 0 || !allowed) return;
  pollTimer = window.setTimeout(() => {
    pollTimer = undefined;
    void loadApprovals();
  }, APPROVAL_POLL_MS);
}

// Back on the page (another tab, another window): ask at once.
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible' && waitingBoxes.size > 0 && allowed) void loadApprovals();
});

/** Replaces each decided request's waiting box with the decision; redraws the person's keys. */
async function settleWaitingBoxes(): Promise<void> {
  let decided = false;
  for (const [id, box] of [...waitingBoxes]) {
    const a = approvals.find((x) => x.id === id);
    if (a?.state === 'pending') continue;
    waitingBoxes.delete(id);
    box.dataset['approvalState'] = a?.state ?? 'unknown';
    box.replaceChildren(el('p', 'approval-decided', ...decisionWords(a)));
    decided = true;
  }
  if (decided && person) await reloadPerson();
  schedulePoll();
}

function decisionWords(a: Approval | undefined): Array<Node | string> {
  if (!a) return [t('helpdesk.decision.gone')];
  const by = personText(a.decidedBy, a.decidedByName);
  if (a.state === 'rejected') return tn('helpdesk.decision.rejected', { strong, by });
  if (a.state === 'failed') return tn('helpdesk.decision.failed', { strong, by, result: fromServer(withPageDates(a.result ?? '')) });
  const done = a.kind === 'replacement' ? t('helpdesk.decision.linkShown', { by }) : fromServer(a.summary);
  return tn('helpdesk.decision.done', { strong, by, done });
}

function personText(id: string | null, name: string | null | undefined): string {
  if (!id) return t('common.none');
  if (me && id === me.id) return t('common.you');
  return name ?? t('duties.someoneElse', { id: id.slice(0, 8) });
}

function approvalRow(a: Approval): HTMLTableRowElement {
  const tr = el('tr', 'approval-row');
  tr.dataset['approvalId'] = a.id;
  tr.dataset['state'] = a.state;
  tr.dataset['kind'] = a.kind;
  const kindWords = kindWordsOf(a.kind);

  const request = el('th', 'approval-summary', el('strong', undefined, kindWords), el('br'), fromServer(a.summary), itemsList(a.items));
  request.scope = 'row';
  const asked = el('td', 'approval-asked', t('duties.by', { who: personText(a.requestedBy, a.requestedByName) }), el('br'), timeElement(a.requestedAt));
  const stateText = el('span', 'approval-state-text', t(`helpdesk.state.${a.state}`));
  stateText.className = `state approval-${a.state}`;
  const state = el('td', 'approval-state', stateText);

  const decision = el('td', 'approval-decision');
  if (a.decidedBy || a.decidedAt) {
    const who = personText(a.decidedBy, a.decidedByName);
    decision.append(a.state === 'rejected' ? t('duties.rejectedBy', { who }) : t('duties.approvedBy', { who }), el('br'), timeElement(a.decidedAt));
  } else {
    decision.append(t('common.none'));
  }
  if (a.result && a.state !== 'rejected') {
    // A replacement's result holds the one-time enrolment link: shown only to the approver, once.
    const text = a.kind === 'replacement' && a.state === 'executed' ? replacementResultWords(a.result) : fromServer(withPageDates(a.result));
    const result = el('span', 'approval-row-result', text);
    result.className = 'approval-result';
    decision.append(result);
  }

  const actions = el('td', 'approval-actions');
  if (a.state === 'pending' && me) {
    // Whether this person may approve is the server's answer (approver, requester and subject
    // differ by identity; nobody approves the person who set them up).
    const wrap = el('div');
    wrap.className = 'actions-cell';
    if (a.canApprove) {
      const approveButton = button(tn('helpdesk.approve', { kind: kindWords.toLowerCase(), summary: a.summary, hidden }), 'approve-button', 'primary');
      approveButton.addEventListener('click', () => void approve(a, approveButton));
      wrap.append(approveButton);
    } else {
      const note = el('span', a.requestedBy === me.id ? 'waiting-note' : 'cannot-approve-note', notApprovableText(a, me.id, t('helpdesk.waitingNote')));
      note.className = 'waiting-note';
      actions.append(note);
    }
    if (a.requestedBy !== me.id) {
      const rejectButton = button(tn('helpdesk.reject', { kind: kindWords.toLowerCase(), summary: a.summary, hidden }), 'reject-button', 'secondary');
      rejectButton.addEventListener('click', () => void reject(a, rejectButton));
      wrap.append(rejectButton);
    }
    if (wrap.childElementCount > 0) actions.append(wrap);
  }
  tr.append(request, asked, state, decision, actions);
  return tr;
}

async function approve(a: Approval, trigger: HTMLButtonElement): Promise<void> {
  clearMessages();
  approvalResult.hidden = true;
  const kindWords = kindWordsOf(a.kind);
  const ok = await confirmAction({
    heading: t('helpdesk.approve.heading', { kind: kindWords.toLowerCase() }),
    paragraphs: [
      t('duties.approve.exactly', { summary: a.summary }),
      ...(a.items ?? []).map((item) => t('duties.approve.item', { item })),
      t('helpdesk.approve.askedBy', { who: personText(a.requestedBy, a.requestedByName) }),
      // The server's item line for a handover says "hand over" (English, whatever the page language).
      ...(a.kind === 'replacement' && (a.items ?? []).some((i) => i.includes('hand over')) ? [t('helpdesk.approve.linkShown')] : []),
    ],
    confirm: t('duties.approve.confirm'),
  });
  if (!ok) return;
  await busy(trigger, null, async () => {
    setStatus(t('helpdesk.approve.carrying'));
    let approval: Approval;
    let link: string | undefined;
    try {
      ({ approval, link } = await stepUpApi<{ approval: Approval; link?: string }>('POST', `/api/helpdesk/approvals/${encodeURIComponent(a.id)}/approve`, {}));
    } catch (err) {
      if (handleAccessLost(err)) return;
      await loadApprovals();
      showError(err, { context: t('duties.approve.failed') });
      return;
    }
    await loadApprovals();
    if (person) await reloadPerson();
    showApprovalResult(approval, link);
  });
}

/** "enrolment link issued, valid until <iso>" -> its expiry. */
function expiryOf(result: string): string | null {
  return /valid until ([0-9TZ:.+-]+)/.exec(result)?.[1] ?? null;
}

/** The server's result line of a replacement (English, with an ISO expiry) in the page's words. */
function replacementResultWords(result: string): Node | string {
  const expiresAt = expiryOf(result);
  const date = expiresAt ? formatDate(expiresAt) : undefined;
  if (/enrolment link mailed/.test(result)) return date ? t('helpdesk.replacementResult.mailedUntil', { date }) : t('helpdesk.replacementResult.mailed');
  if (!/enrolment link issued/.test(result)) return fromServer(result);
  return date ? t('helpdesk.replacementResult.issuedUntil', { date }) : t('helpdesk.replacementResult.issued');
}

function showApprovalResult(approval: Approval, link?: string): void {
  const parts: Node[] = [];
  if (approval.state === 'failed') {
    parts.push(el('p', undefined, ...tn('helpdesk.approvedFailed', { strong, result: fromServer(withPageDates(approval.result ?? '')) })));
    setStatus(t('helpdesk.approvedFailed.status'));
  } else {
    parts.push(el('p', undefined, ...tn('helpdesk.approvedDone', { strong, summary: fromServer(approval.summary) })));
    const expiresAt = approval.result ? expiryOf(approval.result) : null;
    if (link) {
      parts.push(
        el('p', undefined, t('helpdesk.approved.handYourself')),
        linkBox(link, expiresAt, 'approval-link', t('helpdesk.replacement.linkLabel')),
      );
    } else if (approval.result) {
      parts.push(el('p', 'approval-result-text', fromServer(withPageDates(approval.result))));
    }
    setStatus(approval.kind === 'replacement' && link ? t('helpdesk.approved.linkReady') : t('duties.approved'));
  }
  approvalResult.replaceChildren(...parts);
  approvalResult.hidden = false;
  focusElement(approvalResult);
}

async function reject(a: Approval, trigger: HTMLButtonElement): Promise<void> {
  clearMessages();
  approvalResult.hidden = true;
  await busy(trigger, null, async () => {
    try {
      await stepUpApi<{ approval: Approval }>('POST', `/api/helpdesk/approvals/${encodeURIComponent(a.id)}/reject`, {});
    } catch (err) {
      if (handleAccessLost(err)) return;
      await loadApprovals();
      showError(err, { context: t('duties.reject.failed') });
      return;
    }
    await loadApprovals();
    setStatus(t('helpdesk.reject.done', { kind: kindWordsOf(a.kind) }));
    focusElement(byId('approvals-heading'));
  });
}

// ------------------------------------------------------------- access lost

/** 401 (session ended) or 403 ROLE_REQUIRED: say so and hide the helpdesk tools. */
function handleAccessLost(err: unknown): boolean {
  if (!(err instanceof ApiError) || !allowed) return false;
  if (err.status === 401 && err.code !== 'STEP_UP_REQUIRED') {
    allowed = false;
    showSignedOut(t('helpdesk.sessionEnded'), t('common.sessionEnded.heading'));
    return true;
  }
  if (err.status === 403 && err.code === 'ROLE_REQUIRED') {
    allowed = false;
    showNotAllowed(true);
    return true;
  }
  return false;
}

function hideTools(): void {
  for (const d of [actionDialog, byId<HTMLDialogElement>('confirm-dialog')]) if (d.open) d.close('');
  byId('console-content').hidden = true;
  resultsBody.replaceChildren();
  keysBody.replaceChildren();
  approvalsBody.replaceChildren();
  auditBody.replaceChildren();
  person = null;
}

