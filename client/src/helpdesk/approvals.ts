// Requests waiting for a second person: the table, approving and rejecting, the results.
import { api, busy, byId, clearMessages, focusElement, formatDate, fromServer, setStatus, showError, t, timeElement, tn, tp, withPageDates } from '../common.js';
import { button, confirmAction, el, hidden, linkBox } from '../console.js';
import { stepUpApi } from '../stepUp.js';
import { itemsList, notApprovableText, summaryNode } from '../duties.js';
import { kindWordsOf, strong } from './types.js';
import type { Approval } from './types.js';
import { hd, personText } from './state.js';
import { approvalsBody, approvalResult } from './elements.js';
import { handleAccessLost } from './access.js';
import { reloadPerson } from './person.js';
import { settleWaitingBoxes } from './polling.js';

byId('approvals-refresh').addEventListener('click', () => {
  clearMessages();
  void (async () => {
    if (await loadApprovals()) setStatus(approvalsSummary());
  })();
});

function approvalsSummary(): string {
  const pending = hd.approvals.filter((a) => a.state === 'pending');
  const mine = pending.filter((a) => a.requestedBy === hd.me?.id).length;
  const theirs = pending.length - mine;
  if (pending.length === 0) return t('helpdesk.approvals.noneWaiting');
  return t('helpdesk.approvals.summary', { theirs: tp('helpdesk.approvals.theirs', theirs), mine: tp('helpdesk.approvals.mine', mine) });
}

export async function loadApprovals(): Promise<boolean> {
  try {
    ({ approvals: hd.approvals } = await api<{ approvals: Approval[] }>('GET', '/api/helpdesk/approvals'));
  } catch (err) {
    if (handleAccessLost(err)) return false;
    showError(err, { context: t('duties.loadFailed') });
    return false;
  }
  if (!hd.allowed) return false;
  approvalsBody.replaceChildren(...hd.approvals.map(approvalRow));
  byId('no-approvals').hidden = hd.approvals.length > 0;
  await settleWaitingBoxes();
  return true;
}

function approvalRow(a: Approval): HTMLTableRowElement {
  const tr = el('tr', 'approval-row');
  tr.dataset['approvalId'] = a.id;
  tr.dataset['state'] = a.state;
  tr.dataset['kind'] = a.kind;
  const kindWords = kindWordsOf(a.kind);

  const request = el('th', 'approval-summary', el('strong', undefined, kindWords), el('br'), summaryNode(a), itemsList(a.items));
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
  if (a.state === 'pending' && hd.me) {
    // Whether this person may approve is the server's answer (approver, requester and subject
    // differ by identity; nobody approves the person who set them up).
    const wrap = el('div');
    wrap.className = 'actions-cell';
    if (a.canApprove) {
      const approveButton = button(tn('helpdesk.approve', { kind: kindWords.toLowerCase(), summary: a.summary, hidden }), 'approve-button', 'primary');
      approveButton.addEventListener('click', () => void approve(a, approveButton));
      wrap.append(approveButton);
    } else {
      const note = el('span', a.requestedBy === hd.me.id ? 'waiting-note' : 'cannot-approve-note', notApprovableText(a, hd.me.id, t('helpdesk.waitingNote')));
      note.className = 'waiting-note';
      actions.append(note);
    }
    if (a.requestedBy !== hd.me.id) {
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
    if (hd.person) await reloadPerson();
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
