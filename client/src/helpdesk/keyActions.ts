// One-key actions (suspend, start reactivation or resend a code, revoke) and the reason dialog.
import { busy, byId, clearMessages, focusElement, setStatus, showError, t } from '../common.js';
import { el, fillSelect, reasonOptions } from '../console.js';
import { stepUpApi } from '../stepUp.js';
import { SUSPEND_REASONS, REACTIVATE_REASONS, RESEND_REASONS, REVOKE_REASONS } from './types.js';
import type { HdCredential, KeyAction } from './types.js';
import { hd } from './state.js';
import { actionDialog, actionForm, actionReason, actionReasonError, actionNote } from './elements.js';
import { handleAccessLost } from './access.js';
import { reloadPerson } from './person.js';

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

export async function keyAction(c: HdCredential, action: KeyAction, trigger: HTMLButtonElement): Promise<void> {
  if (!hd.person) return;
  clearMessages();
  const holder = hd.person.identity.name;
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
