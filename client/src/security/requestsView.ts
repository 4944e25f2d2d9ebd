/** The key management requests table, with approve and reject where this officer may. */
import { byId, fromServer, t, timeElement, tn, withPageDates } from '../common.js';
import { itemsList, notApprovableText } from '../duties.js';
import { approve, reject } from './decisions.js';
import { el, hidden, kidElement, kindWords, officerText } from './dom.js';
import { state as page } from './state.js';
import type { KeyRequest } from './types.js';

export const requestsBody = byId<HTMLTableSectionElement>('requests-body');

export function renderRequests(): void {
  requestsBody.replaceChildren(...page.requests.map(requestRow));
  byId('no-requests').hidden = page.requests.length > 0;
}

export function requestRow(r: KeyRequest): HTMLTableRowElement {
  const tr = el('tr', 'request-row');
  tr.dataset['requestId'] = r.id;
  tr.dataset['state'] = r.state;
  tr.dataset['kind'] = r.kind;
  const kindText = kindWords(r.kind);

  const kind = el('th', 'request-kind', kindText);
  kind.scope = 'row';

  const target = el('td', 'request-target', r.targetKid ? kidElement(r.targetKid) : r.kind === 'rotation' ? t('security.target.activeKey') : t('common.none'));

  const reason = el('td', 'request-reason', r.reason, itemsList(r.items, 'request-items'));
  reason.className = 'request-reason';

  const asked = el('td', 'request-asked', ...tn('duties.by', { who: officerText(r.requestedBy, r.requestedByName) }), el('br'), timeElement(r.requestedAt));

  const stateText = el('span', 'request-state-text', t(`security.requestState.${r.state}`));
  stateText.className = `state request-${r.state}`;
  const state = el('td', 'request-state', stateText);

  const decision = el('td', 'request-decision');
  if (r.decidedBy || r.decidedAt) {
    const who = officerText(r.decidedBy, r.decidedByName);
    decision.append(...tn(r.state === 'rejected' ? 'duties.rejectedBy' : 'duties.approvedBy', { who }), el('br'), timeElement(r.decidedAt));
  } else {
    decision.append(t('common.none'));
  }
  if (r.result && r.state !== 'rejected') {
    const result = el('span', 'request-result', fromServer(withPageDates(r.result)));
    result.className = 'request-result';
    decision.append(result);
  }

  const actions = el('td', 'request-actions');
  const me = page.me;
  if (r.state === 'pending' && me) {
    // The server says whether this officer may approve (not the requester, not set up by them).
    const wrap = el('div');
    wrap.className = 'actions-cell';
    if (r.canApprove) {
      const approveButton = el('button', 'approve-button', ...tn('security.approve', { kind: kindText.toLowerCase(), hidden }));
      approveButton.type = 'button';
      approveButton.addEventListener('click', () => void approve(r, approveButton));
      wrap.append(approveButton);
    } else {
      const note = el('span', r.requestedBy === me.id ? 'waiting-note' : 'cannot-approve-note', notApprovableText(r, me.id, t('security.waitingNote')));
      note.className = 'waiting-note';
      actions.append(note);
    }
    if (r.requestedBy !== me.id) {
      const rejectButton = el('button', 'reject-button', ...tn('security.reject', { kind: kindText.toLowerCase(), hidden }));
      rejectButton.type = 'button';
      rejectButton.className = 'secondary-button';
      rejectButton.addEventListener('click', () => void reject(r, rejectButton));
      wrap.append(rejectButton);
    }
    if (wrap.childElementCount > 0) actions.append(wrap);
  }

  tr.append(kind, target, reason, asked, state, decision, actions);
  return tr;
}
