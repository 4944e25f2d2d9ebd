// Replacement keys without new proofing (NSIS 3.2.4, 5.1): on an active key, or a second approval.
import { busy, byId, clearMessages, focusElement, formatDate, setStatus, showError, stateWords, t, tn } from '../common.js';
import { confirmAction, el, fillSelect, linkBox } from '../console.js';
import { stepUpApi } from '../stepUp.js';
import { strong } from './types.js';
import type { Approval } from './types.js';
import { hd } from './state.js';
import { replacementForm, replacesSelect, revokeNow, replacementNote, replacementSubmit, replacementResult } from './elements.js';
import { handleAccessLost } from './access.js';
import { reloadPerson, bulkEligible } from './person.js';
import { loadApprovals } from './approvals.js';
import { watchApproval } from './polling.js';

export function fillReplacesSelect(): void {
  const previous = replacesSelect.value;
  const candidates = (hd.person?.credentials ?? []).filter(bulkEligible);
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
  const p = hd.person;
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
