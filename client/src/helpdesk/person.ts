// The person panel: the person's facts, their keys with each key's state history and actions.
import { api, byId, clearMessages, focusElement, reasonWords, setStatus, showError, stateWords, t, timeElement, tn, tp } from '../common.js';
import { actionWords, button, el, hidden, ialWords, keysText, rolesText } from '../console.js';
import { NO_REACTIVATION } from './types.js';
import type { HdCredential, PersonIdentity, PersonView } from './types.js';
import { hd, selectedForBulk, actorText } from './state.js';
import { personSection, keysBody, bulkForm, bulkResult, replacementForm, replacementResult, auditBody } from './elements.js';
import { handleAccessLost } from './access.js';
import { renderResults } from './search.js';
import { keyAction } from './keyActions.js';
import { updateBulkReasons, updateBulkCount } from './bulk.js';
import { fillReplacesSelect } from './replacement.js';
import { waitingBoxes } from './polling.js';

export async function openPerson(id: string): Promise<void> {
  clearMessages();
  setStatus(t('helpdesk.person.loading'));
  if (!(await loadPerson(id, true))) return;
  const p = hd.person;
  if (!p) return;
  // Revoked and expired keys are history: listed, not counted as keys the person has.
  const live = p.credentials.filter((c) => c.state !== 'revoked' && c.state !== 'expired');
  const gone = p.credentials.length - live.length;
  const summary = t('helpdesk.person.summary', { name: p.identity.name, keys: keysText(live.length), active: live.filter((c) => c.state === 'active').length });
  setStatus(gone === 0 ? summary : `${summary} ${tp('helpdesk.person.gone', gone)}`);
  focusElement(byId('person-heading'));
}

/** GET the person and draw the panel. `fresh` resets the forms, results and audit (another person). */
export async function loadPerson(id: string, fresh: boolean): Promise<boolean> {
  let view: PersonView;
  try {
    view = await api<PersonView>('GET', `/api/helpdesk/identities/${encodeURIComponent(id)}`);
  } catch (err) {
    if (handleAccessLost(err)) return false;
    showError(err, { context: t('helpdesk.person.loadFailed') });
    return false;
  }
  if (!hd.allowed) return false;
  const changedPerson = hd.person?.identity.id !== view.identity.id;
  hd.person = view;
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

export async function reloadPerson(): Promise<void> {
  if (hd.person) await loadPerson(hd.person.identity.id, false);
}

function renderPerson(): void {
  if (!hd.person) return;
  const i = hd.person.identity;
  personSection.dataset['identityId'] = i.id;
  personSection.dataset['bindingState'] = i.bindingState;
  byId('person-name').textContent = i.name;
  const facts: Array<[string, Node | string, string]> = [
    [t('console.fact.email'), i.email, 'person-email'],
    [t('console.fact.roles'), rolesText(i.roles), 'person-roles'],
    [t('console.fact.ial'), ialWords(i.ial), 'person-ial'],
    [t('helpdesk.fact.proofing'), proofingText(i), 'person-proofing'],
    [t('console.fact.created'), timeElement(i.createdAt), 'person-created'],
    ...(i.subjectNameId ? [[t('provisioning.fact.subjectNameId'), el('code', undefined, i.subjectNameId), 'person-subject-name-id'] as [string, Node, string]] : []),
    [
      t('console.fact.binding'),
      i.bindingState === 'ended' ? el('span', undefined, ...tn('helpdesk.binding.endedAt', { date: timeElement(i.bindingEndedAt, '') })) : t('console.binding.active'),
      'person-binding',
    ],
  ];
  byId('person-facts').replaceChildren(...facts.flatMap(([term, value, testid]) => [el('dt', undefined, term), el('dd', testid, value)]));
  if (hd.me && i.id === hd.me.id) {
    byId('person-facts').append(el('dt', undefined, t('helpdesk.fact.note')), el('dd', 'person-self-note', t('helpdesk.self')));
  }
  keysBody.replaceChildren(...hd.person.credentials.map(keyRow));
  byId('hd-no-credentials').hidden = hd.person.credentials.length > 0;
  fillReplacesSelect();
  updateBulkCount();
}

/** How the identity was proofed, and by whom (the API gives the staff member's id). */
function proofingText(i: PersonIdentity): Node | string {
  const span = el('span', undefined, i.proofingMethod || t('common.none'));
  if (i.proofedBy) {
    const by = el('span', undefined, ' ', hd.me && i.proofedBy === hd.me.id ? t('helpdesk.proofedByYou') : t('helpdesk.proofedBy', { id: i.proofedBy.slice(0, 8) }));
    by.className = 'muted';
    by.title = i.proofedBy;
    span.append(by);
  }
  return span;
}

export function bulkEligible(c: HdCredential): boolean {
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
