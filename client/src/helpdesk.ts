// Helpdesk page (helpdesk.html): find an employee, see their keys with the state history, suspend,
// start reactivation, revoke (one key or several), issue a replacement key, read the person's
// audit trail, and approve or reject other helpdesk members' requests (two-person control).
import { ApiError, api, busy, byId, clearMessages, focusElement, formatDate, reasonWords, renderHeader, setStatus, showError, timeElement, withPageDates } from './common.js';
import type { CredentialState, Identity } from './common.js';
import {
  ACTION_WORDS,
  ACTOR_ROLE_WORDS,
  IAL_WORDS,
  STATE_WORDS,
  button,
  confirmAction,
  el,
  fillSelect,
  hidden,
  keysText,
  linkBox,
  reasonOptions,
  renderIdentityRows,
  rolesText,
  setUpConfirmDialog,
  words,
} from './console.js';
import type { BindingState, IdentitySummary } from './console.js';
import { openStaffPage, pageGate } from './console.js';
import { stepUpApi } from './stepUp.js';
import { itemsList, notApprovableText, type ApprovalFields } from './duties.js';

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

const APPROVAL_KIND_WORDS: Record<string, string> = { bulk: 'Bulk action', replacement: 'Replacement key', 'contact-change': 'Email address change' };
const APPROVAL_STATE_WORDS: Record<ApprovalState, string> = {
  pending: 'Waiting for approval',
  executed: 'Approved and carried out',
  rejected: 'Rejected',
  failed: 'Approved, but failed',
  withdrawn: 'Withdrawn (the requester lost the role, or a binding ended)',
};
const WAITING_NOTE = 'Waiting for a second approver';

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
  me = await openStaffPage('helpdesk', 'Sign in with your security key to use the helpdesk tools.', gate, 'Loading…');
  if (!me) return;
  allowed = true;
  byId('console-content').hidden = false;
  updateBulkReasons();
  updateBulkCount();
  if (await loadApprovals()) {
    const waiting = approvals.filter((a) => a.state === 'pending' && a.canApprove === true).length;
    setStatus(
      waiting === 0
        ? 'Search for an employee by name or email address.'
        : `Search for an employee by name or email address. ${waiting === 1 ? '1 request waits' : `${waiting} requests wait`} for your approval.`,
    );
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
    showError(new Error('Enter part of a name or an email address.'), { invalid: searchInput });
    return;
  }
  await busy(searchButton, searchForm, async () => {
    setStatus('Searching…');
    try {
      ({ identities: results } = await api<{ identities: IdentitySummary[] }>('GET', `/api/helpdesk/identities?q=${encodeURIComponent(q)}`));
    } catch (err) {
      if (handleAccessLost(err)) return;
      showError(err, { form: searchForm, context: 'The search failed.' });
      return;
    }
    if (!allowed) return;
    renderResults();
    byId('results').hidden = false;
    setStatus(results.length === 0 ? `Nobody matches “${q}”.` : results.length === 1 ? '1 person found.' : `${results.length} people found.`);
  });
}

function renderResults(): void {
  renderIdentityRows(resultsBody, results, (i) => void openPerson(i.id), person?.identity.id ?? null);
  byId('no-results').hidden = results.length > 0;
}

// ------------------------------------------------------------------- person

async function openPerson(id: string): Promise<void> {
  clearMessages();
  setStatus('Loading the person’s keys…');
  if (!(await loadPerson(id, true))) return;
  const p = person;
  if (!p) return;
  // Revoked and expired keys are history: listed, not counted as keys the person has.
  const live = p.credentials.filter((c) => c.state !== 'revoked' && c.state !== 'expired');
  const gone = p.credentials.length - live.length;
  setStatus(
    `${p.identity.name}: ${keysText(live.length)}, ${live.filter((c) => c.state === 'active').length} active.` +
      (gone === 0 ? '' : ` ${gone} revoked or expired ${gone === 1 ? 'key is' : 'keys are'} listed for the record.`),
  );
  focusElement(byId('person-heading'));
}

/** GET the person and draw the panel. `fresh` resets the forms, results and audit (another person). */
async function loadPerson(id: string, fresh: boolean): Promise<boolean> {
  let view: PersonView;
  try {
    view = await api<PersonView>('GET', `/api/helpdesk/identities/${encodeURIComponent(id)}`);
  } catch (err) {
    if (handleAccessLost(err)) return false;
    showError(err, { context: 'The person could not be loaded.' });
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
    ['Email', i.email, 'person-email'],
    ['Roles', rolesText(i.roles), 'person-roles'],
    ['Identity assurance', words(IAL_WORDS, i.ial), 'person-ial'],
    ['Identity proofing', proofingText(i), 'person-proofing'],
    ['Created', timeElement(i.createdAt), 'person-created'],
    ['Binding', i.bindingState === 'ended' ? el('span', undefined, 'Ended ', timeElement(i.bindingEndedAt, '')) : 'Active', 'person-binding'],
  ];
  byId('person-facts').replaceChildren(...facts.flatMap(([term, value, testid]) => [el('dt', undefined, term), el('dd', testid, value)]));
  if (me && i.id === me.id) {
    byId('person-facts').append(el('dt', undefined, 'Note'), el('dd', 'person-self-note', 'This is you. The helpdesk does not act on its own keys: ask a colleague.'));
  }
  keysBody.replaceChildren(...person.credentials.map(keyRow));
  byId('hd-no-credentials').hidden = person.credentials.length > 0;
  fillReplacesSelect();
  updateBulkCount();
}

/** How the identity was proofed, and by whom (the API gives the staff member's id). */
function proofingText(i: PersonIdentity): Node | string {
  const span = el('span', undefined, i.proofingMethod || '—');
  if (i.proofedBy) {
    const by = el('span', undefined, me && i.proofedBy === me.id ? ' (recorded by you)' : ` (recorded by staff member ${i.proofedBy.slice(0, 8)})`);
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
    const label = el('label', undefined, `Select “${c.label}” for a bulk action`);
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

  const stateText = el('span', 'hd-credential-state-text', words(STATE_WORDS, c.state));
  stateText.className = `state state-${c.state}`;
  const state = el('td', 'hd-credential-state', stateText);
  if (c.stateReason && c.state !== 'active' && c.state !== 'issued') {
    const reason = el('span', 'hd-credential-reason', `Reason: ${reasonWords(c.stateReason)}`);
    reason.className = 'state-reason';
    state.append(el('br'), reason);
  }
  if (c.state === 'issued' && c.expiresAt) state.append(el('br'), el('span', undefined, 'Activate by ', timeElement(c.expiresAt)));

  const dates = el('td', 'hd-credential-dates', timeElement(c.createdAt));
  if (c.activatedAt) {
    const activated = el('span', 'hd-credential-activated', 'Activated ', timeElement(c.activatedAt));
    activated.className = 'muted';
    dates.append(el('br'), activated);
  }

  const actions = el('td', 'hd-credential-actions');
  const wrap = el('div');
  wrap.className = 'actions-cell';
  if (c.state === 'active') {
    const b = button('Suspend', 'suspend-button', 'danger', hidden(` ${c.label}`));
    b.addEventListener('click', () => void keyAction(c, 'suspend', b));
    wrap.append(b);
  }
  if (c.state === 'issued' || (c.state === 'suspended' && !NO_REACTIVATION.has(c.stateReason ?? ''))) {
    const b = button(c.state === 'issued' ? 'Send a new activation code' : 'Start reactivation', 'reactivate-button', 'secondary', hidden(` for ${c.label}`));
    b.addEventListener('click', () => void keyAction(c, 'reactivate', b));
    wrap.append(b);
  }
  if (bulkEligible(c)) {
    const b = button('Revoke', 'revoke-button', 'danger', hidden(` ${c.label}`));
    b.addEventListener('click', () => void keyAction(c, 'revoke', b));
    wrap.append(b);
  }
  if (c.state === 'suspended' && NO_REACTIVATION.has(c.stateReason ?? '')) {
    const note = el('span', 'no-reactivation-note', 'Cannot be reactivated: revoke it and issue a new key.');
    note.className = 'muted';
    wrap.append(note);
  }
  actions.append(wrap);

  tr.append(selectCell, name, el('td', 'hd-credential-model', c.model ?? 'Unknown model'), state, dates, el('td', 'hd-credential-last-used', timeElement(c.lastUsedAt, 'Never')), actions);
  return tr;
}

function historyDetails(c: HdCredential): HTMLDetailsElement {
  const details = el('details', 'hd-history');
  details.className = 'history';
  const history = c.history ?? [];
  details.append(el('summary', undefined, `State history (${history.length})`, hidden(` of ${c.label}`)));
  if (history.length === 0) {
    details.append(el('p', undefined, 'No changes recorded.'));
    return details;
  }
  const list = el('ol', 'hd-history-list');
  for (const h of history) {
    const li = el('li', 'hd-history-entry', timeElement(h.at), ' — ', el('strong', undefined, words(ACTION_WORDS, h.action)));
    li.dataset['action'] = h.action;
    if (h.fromState && h.fromState !== h.toState) li.append(` (${words(STATE_WORDS, h.fromState).toLowerCase()} → ${words(STATE_WORDS, h.toState).toLowerCase()})`);
    li.append(`, by ${actorText(h.actorId, h.actorName, h.actorRole)}.`);
    // A registration has no reason to give: "Registered, by … (the holder)." says it all.
    if (h.action !== 'issue') li.append(` Reason: ${reasonWords(h.reason)}.`);
    if (h.note) li.append(' Note: “', h.note, '”.');
    if (h.clause) {
      const clause = el('span', undefined, ` ${h.clause}`);
      clause.className = 'muted';
      li.append(clause);
    }
    list.append(li);
  }
  details.append(list);
  return details;
}

function actorText(id: string | null, name: string | null | undefined, role: string): string {
  const roleWords = words(ACTOR_ROLE_WORDS, role);
  if (me && id === me.id) return `you (${roleWords})`;
  if (name) return role === 'holder' ? `${name} (the holder)` : `${name} (${roleWords})`;
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
  fillSelect(actionReason, reasonOptions(q.reasons), 'Choose a reason');
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
      heading: `Suspend “${c.label}”?`,
      paragraphs: [
        `The key stops working at once: nobody can sign in with it until it is reactivated. ${holder} is told by email.`,
        'Reactivation later needs the key itself and a new activation code sent to the holder.',
      ],
      reasons: SUSPEND_REASONS,
      confirm: 'Suspend key',
      danger: true,
    };
  }
  if (action === 'reactivate' && c.state === 'issued') {
    return {
      heading: `Send a new activation code for “${c.label}”?`,
      paragraphs: [
        `A new activation code goes to ${holder} by email; earlier codes stop working. You never see the code.`,
        'The key becomes active when the holder uses it with the new code on the activation page.',
      ],
      reasons: RESEND_REASONS,
      confirm: 'Send a new activation code',
      danger: false,
    };
  }
  if (action === 'reactivate') {
    return {
      heading: `Start reactivation of “${c.label}”?`,
      paragraphs: [
        `A new activation code goes to ${holder} by email. You never see the code.`,
        'The key stays suspended until the holder uses the key itself with the new code on the activation page.',
      ],
      reasons: REACTIVATE_REASONS,
      confirm: 'Send activation code',
      danger: false,
    };
  }
  // A suspended key is usually revoked for the reason it was suspended (a suspected clone, a key
  // lost for good): that reason is chosen already.
  const suspendedFor = c.state === 'suspended' ? c.stateReason : null;
  return {
    heading: `Revoke “${c.label}” for good?`,
    paragraphs: [`The key can never be used again. This cannot be undone. ${holder} receives a revocation receipt by email.`],
    reasons: REVOKE_REASONS,
    ...(suspendedFor ? { preselected: suspendedFor } : {}),
    confirm: 'Revoke key',
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
    setStatus('Sending…');
    try {
      await stepUpApi<{ credential: HdCredential }>(
        'POST',
        `/api/helpdesk/credentials/${encodeURIComponent(c.id)}/${action}`,
        answer.note ? { reason: answer.reason, note: answer.note } : { reason: answer.reason },
      );
    } catch (err) {
      if (handleAccessLost(err)) return;
      showError(err, { context: `Nothing was changed for “${c.label}”.` });
      return;
    }
    await reloadPerson();
    const done =
      action === 'suspend'
        ? `“${c.label}” is suspended. ${holder} has been told.`
        : action === 'revoke'
          ? `“${c.label}” is revoked. ${holder} receives a receipt.`
          : `A new activation code was sent to ${holder}. The key becomes active when they use it with the code.`;
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
  fillSelect(bulkReason, reasonOptions(reasons), 'Choose a reason');
  if ((reasons as readonly string[]).includes(previous)) bulkReason.value = previous;
}

function updateBulkCount(): void {
  const n = selectedForBulk.size;
  byId('bulk-count').textContent = n === 0 ? 'no keys selected' : n === 1 ? '1 key selected' : `${n} keys selected`;
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
    showError(new Error('Choose an action.'), { invalid: bulkAction });
    return;
  }
  const ids = p.credentials.filter((c) => selectedForBulk.has(c.id)).map((c) => c.id);
  if (ids.length === 0) {
    const first = keysBody.querySelector<HTMLInputElement>('[data-testid="bulk-select"]');
    showError(new Error('Select the keys first: tick the box in front of each key.'), { focus: first });
    return;
  }
  const reason = bulkReason.value;
  if (!reason) {
    showError(new Error('Choose a reason.'), { invalid: bulkReason });
    return;
  }
  const labels = p.credentials.filter((c) => selectedForBulk.has(c.id)).map((c) => `“${c.label}”`);
  const verb = action === 'revoke' ? 'Revoke' : 'Suspend';
  const ok = await confirmAction({
    heading: `${verb} ${keysText(ids.length)} of ${p.identity.name}?`,
    paragraphs: [
      `Keys: ${labels.join(', ')}. Reason: ${reasonWords(reason)}.`,
      action === 'revoke' ? 'Revoked keys can never be used again. This cannot be undone.' : 'Suspended keys stop working at once.',
      'If many keys are chosen, a second helpdesk member must approve before anything happens.',
    ],
    confirm: `${verb} ${keysText(ids.length)}`,
  });
  if (!ok) return;
  const note = bulkNote.value.trim();
  await busy(bulkSubmit, bulkForm, async () => {
    setStatus('Sending…');
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
      showError(err, { form: bulkForm, context: 'Nothing was changed.' });
      return;
    }
    if (answer.approval) {
      selectedForBulk.clear();
      bulkResult.replaceChildren(
        el('p', 'bulk-waiting', el('strong', undefined, 'Waiting for a second approver. '), `Another helpdesk member must approve the ${action} of ${keysText(ids.length)} before anything happens.`),
      );
      bulkResult.hidden = false;
      watchApproval(answer.approval.id, bulkResult);
      await Promise.all([reloadPerson(), loadApprovals()]);
      setStatus(`Request sent: a second approver must approve the ${action} of ${keysText(ids.length)}.`);
      focusElement(bulkResult);
      return;
    }
    const list = answer.results ?? [];
    const labelOf = (id: string): string => p.credentials.find((c) => c.id === id)?.label ?? id;
    const done = list.filter((r) => r.ok).length;
    const items = list.map((r) => {
      const li = el('li', 'bulk-result-item', `“${labelOf(r.credentialId)}”: `, r.ok ? 'done.' : `not done (${r.detail ?? r.code ?? 'refused'}).`);
      li.dataset['credentialId'] = r.credentialId;
      li.dataset['ok'] = String(r.ok);
      return li;
    });
    const past = action === 'revoke' ? 'revoked' : 'suspended';
    bulkResult.replaceChildren(el('p', 'bulk-summary', `${done} of ${list.length} ${list.length === 1 ? 'key' : 'keys'} ${past}.`), el('ul', undefined, ...items));
    bulkResult.hidden = false;
    selectedForBulk.clear();
    bulkNote.value = '';
    await reloadPerson();
    setStatus(`${done} of ${list.length} ${list.length === 1 ? 'key' : 'keys'} ${past}.`);
    focusElement(bulkResult);
  });
}

// ------------------------------------------------------------- replacement

function fillReplacesSelect(): void {
  const previous = replacesSelect.value;
  const candidates = (person?.credentials ?? []).filter(bulkEligible);
  fillSelect(
    replacesSelect,
    candidates.map((c) => [c.id, `${c.label} (${words(STATE_WORDS, c.state).toLowerCase()})`] as const),
    'No key to replace',
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
    showError(new Error('Choose why a new key may be issued.'), { focus: byId('basis-active-key') });
    return;
  }
  const replaces = replacesSelect.value;
  const old = p.credentials.find((c) => c.id === replaces);
  const revoke = Boolean(replaces) && revokeNow.checked;
  if (revoke && old) {
    const ok = await confirmAction({
      heading: `Revoke “${old.label}” now?`,
      paragraphs: [`“${old.label}” is revoked at once and for good when the replacement is issued. This cannot be undone.`],
      confirm: 'Revoke and issue replacement',
    });
    if (!ok) return;
  }
  const note = replacementNote.value.trim();
  const delivery = replacementForm.querySelector<HTMLInputElement>('input[name="delivery"]:checked')?.value === 'handover' ? 'handover' : 'mail';
  await busy(replacementSubmit, replacementForm, async () => {
    setStatus('Sending…');
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
      showError(err, { form: replacementForm, context: 'No replacement key link was issued.' });
      return;
    }
    replacementForm.reset();
    if (answer.link) {
      replacementResult.replaceChildren(
        el('p', undefined, el('strong', undefined, `Replacement key link for ${p.identity.name}. `), 'Hand it over in person or through a channel you trust; it is shown only now.'),
        linkBox(answer.link, answer.expiresAt, 'replacement-link', 'Enrolment link for the new key'),
      );
      setStatus(`A replacement key link for ${p.identity.name} is ready to hand over.`);
    } else if (!answer.approval) {
      replacementResult.replaceChildren(
        el('p', 'replacement-mailed', el('strong', undefined, 'Replacement key link sent. '), `It went by email to ${answer.sentTo ?? p.identity.name}${answer.expiresAt ? ` and is valid until ${formatDate(answer.expiresAt)}` : ''}.`),
      );
      setStatus(`A replacement key link was mailed to ${p.identity.name}.`);
    } else {
      replacementResult.replaceChildren(
        el(
          'p',
          'replacement-waiting',
          el('strong', undefined, 'Waiting for a second approver. '),
          delivery === 'handover'
            ? 'When another person approves the request below, the enrolment link is shown to them to hand over.'
            : 'When another person approves the request below, the enrolment link is mailed to the person.',
        ),
      );
      if (answer.approval) watchApproval(answer.approval.id, replacementResult);
      setStatus('Replacement requested: waiting for a second approver.');
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
    setStatus('Loading the audit trail…');
    let events: AuditEvent[];
    try {
      ({ events } = await api<{ events: AuditEvent[] }>('GET', `/api/helpdesk/identities/${encodeURIComponent(p.identity.id)}/audit`));
    } catch (err) {
      if (handleAccessLost(err)) return;
      showError(err, { context: 'The audit trail could not be loaded.' });
      return;
    }
    if (!allowed || person?.identity.id !== p.identity.id) return;
    auditBody.replaceChildren(...events.map(auditRow));
    byId('no-audit').hidden = events.length > 0;
    byId('audit').hidden = false;
    setStatus(events.length === 1 ? '1 audit entry.' : `${events.length} audit entries.`);
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
    data.append(el('li', undefined, `${key}: `, el('code', undefined, typeof value === 'string' ? value : JSON.stringify(value))));
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
  if (pending.length === 0) return 'No request is waiting for approval.';
  return `${theirs} ${theirs === 1 ? 'request waits' : 'requests wait'} for your approval; ${mine} of yours ${mine === 1 ? 'waits' : 'wait'} for someone else.`;
}

async function loadApprovals(): Promise<boolean> {
  try {
    ({ approvals } = await api<{ approvals: Approval[] }>('GET', '/api/helpdesk/approvals'));
  } catch (err) {
    if (handleAccessLost(err)) return false;
    showError(err, { context: 'The requests waiting for approval could not be loaded.' });
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
  if (!a) return ['This request is no longer listed. Reload the page to see the keys as they are now.'];
  const by = personText(a.decidedBy, a.decidedByName);
  if (a.state === 'rejected') return [el('strong', undefined, `Rejected by ${by}. `), 'Nothing was changed.'];
  if (a.state === 'failed') return [el('strong', undefined, `Approved by ${by}, but it could not be carried out. `), withPageDates(a.result ?? '')];
  const done = a.kind === 'replacement' ? `The enrolment link was shown to ${by} to hand over.` : a.summary;
  return [el('strong', undefined, `Approved by ${by} and carried out. `), done];
}

function personText(id: string | null, name: string | null | undefined): string {
  if (!id) return '—';
  if (me && id === me.id) return 'you';
  return name ?? `someone else (${id.slice(0, 8)})`;
}

function approvalRow(a: Approval): HTMLTableRowElement {
  const tr = el('tr', 'approval-row');
  tr.dataset['approvalId'] = a.id;
  tr.dataset['state'] = a.state;
  tr.dataset['kind'] = a.kind;
  const kindWords = words(APPROVAL_KIND_WORDS, a.kind);

  const request = el('th', 'approval-summary', el('strong', undefined, kindWords), el('br'), a.summary, itemsList(a.items));
  request.scope = 'row';
  const asked = el('td', 'approval-asked', 'By ', personText(a.requestedBy, a.requestedByName), el('br'), timeElement(a.requestedAt));
  const stateText = el('span', 'approval-state-text', APPROVAL_STATE_WORDS[a.state] ?? a.state);
  stateText.className = `state approval-${a.state}`;
  const state = el('td', 'approval-state', stateText);

  const decision = el('td', 'approval-decision');
  if (a.decidedBy || a.decidedAt) {
    decision.append(a.state === 'rejected' ? 'Rejected by ' : 'Approved by ', personText(a.decidedBy, a.decidedByName), el('br'), timeElement(a.decidedAt));
  } else {
    decision.append('—');
  }
  if (a.result && a.state !== 'rejected') {
    // A replacement's result holds the one-time enrolment link: shown only to the approver, once.
    const text = a.kind === 'replacement' && a.state === 'executed' ? replacementResultWords(a.result) : withPageDates(a.result);
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
      const approveButton = button('Approve', 'approve-button', 'primary', hidden(` ${kindWords.toLowerCase()}: ${a.summary}`));
      approveButton.addEventListener('click', () => void approve(a, approveButton));
      wrap.append(approveButton);
    } else {
      const note = el('span', a.requestedBy === me.id ? 'waiting-note' : 'cannot-approve-note', notApprovableText(a, me.id, WAITING_NOTE));
      note.className = 'waiting-note';
      actions.append(note);
    }
    if (a.requestedBy !== me.id) {
      const rejectButton = button('Reject', 'reject-button', 'secondary', hidden(` ${kindWords.toLowerCase()}: ${a.summary}`));
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
  const kindWords = words(APPROVAL_KIND_WORDS, a.kind);
  const ok = await confirmAction({
    heading: `Approve this ${kindWords.toLowerCase()}?`,
    paragraphs: [
      `${a.summary}. Exactly this happens:`,
      ...(a.items ?? []).map((i) => `• ${i}`),
      `Asked by ${personText(a.requestedBy, a.requestedByName)}. It is carried out at once when you approve, and the audit trail names you as the second approver.`,
      ...(a.kind === 'replacement' && (a.items ?? []).some((i) => i.includes('hand over')) ? ['You will be shown the enrolment link for the new key, to hand over to the employee.'] : []),
    ],
    confirm: 'Approve and carry out',
  });
  if (!ok) return;
  await busy(trigger, null, async () => {
    setStatus('Carrying out the request…');
    let approval: Approval;
    let link: string | undefined;
    try {
      ({ approval, link } = await stepUpApi<{ approval: Approval; link?: string }>('POST', `/api/helpdesk/approvals/${encodeURIComponent(a.id)}/approve`, {}));
    } catch (err) {
      if (handleAccessLost(err)) return;
      await loadApprovals();
      showError(err, { context: 'The request was not approved.' });
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

function replacementResultWords(result: string): string {
  const expiresAt = expiryOf(result);
  if (/enrolment link mailed/.test(result)) return `Enrolment link mailed to the person${expiresAt ? ` (valid until ${formatDate(expiresAt)})` : ''}.`;
  if (!/enrolment link issued/.test(result)) return result;
  return `Enrolment link issued${expiresAt ? ` (valid until ${formatDate(expiresAt)})` : ''}; it was shown to the approver.`;
}

function showApprovalResult(approval: Approval, link?: string): void {
  const parts: Node[] = [];
  if (approval.state === 'failed') {
    parts.push(el('p', undefined, el('strong', undefined, 'Approved, but it failed. '), withPageDates(approval.result ?? '')));
    setStatus('The request was approved but could not be carried out.');
  } else {
    parts.push(el('p', undefined, el('strong', undefined, 'Approved and carried out. '), approval.summary));
    const expiresAt = approval.result ? expiryOf(approval.result) : null;
    if (link) {
      parts.push(
        el('p', undefined, 'Hand the link to the employee yourself, or through a channel you trust. It is shown only now.'),
        linkBox(link, expiresAt, 'approval-link', 'Enrolment link for the new key'),
      );
    } else if (approval.result) {
      parts.push(el('p', 'approval-result-text', withPageDates(approval.result)));
    }
    setStatus(approval.kind === 'replacement' && link ? 'Approved: the enrolment link for the replacement key is ready to hand over.' : 'Approved and carried out.');
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
      showError(err, { context: 'The request was not rejected.' });
      return;
    }
    await loadApprovals();
    setStatus(`${words(APPROVAL_KIND_WORDS, a.kind)} rejected. Nothing was changed.`);
    focusElement(byId('approvals-heading'));
  });
}

// ------------------------------------------------------------- access lost

/** 401 (session ended) or 403 ROLE_REQUIRED: say so and hide the helpdesk tools. */
function handleAccessLost(err: unknown): boolean {
  if (!(err instanceof ApiError) || !allowed) return false;
  if (err.status === 401 && err.code !== 'STEP_UP_REQUIRED') {
    allowed = false;
    showSignedOut('Your session has ended. Sign in again to use the helpdesk tools.', 'Session ended');
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

