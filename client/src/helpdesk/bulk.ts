// Bulk actions: suspend or revoke several keys; more than a handful waits for a second person.
import { busy, byId, clearMessages, focusElement, fromServer, reasonWords, setStatus, showError, t, tn, tp } from '../common.js';
import { confirmAction, el, fillSelect, keysText, reasonOptions } from '../console.js';
import { stepUpApi } from '../stepUp.js';
import { SUSPEND_REASONS, REVOKE_REASONS, strong } from './types.js';
import type { Approval, BulkResult } from './types.js';
import { hd, selectedForBulk } from './state.js';
import { keysBody, bulkForm, bulkAction, bulkReason, bulkNote, bulkSubmit, bulkResult } from './elements.js';
import { handleAccessLost } from './access.js';
import { reloadPerson } from './person.js';
import { loadApprovals } from './approvals.js';
import { watchApproval } from './polling.js';

function isBulkAction(v: string): v is 'suspend' | 'revoke' {
  return v === 'suspend' || v === 'revoke';
}

export function updateBulkReasons(): void {
  const previous = bulkReason.value;
  const reasons = bulkAction.value === 'revoke' ? REVOKE_REASONS : SUSPEND_REASONS;
  fillSelect(bulkReason, reasonOptions(reasons), t('common.chooseReason'));
  if ((reasons as readonly string[]).includes(previous)) bulkReason.value = previous;
}

export function updateBulkCount(): void {
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
  const p = hd.person;
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
