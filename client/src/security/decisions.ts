/** Confirmations in the modal dialog, and approving or rejecting a request (step-up). */
import { busy, byId, clearMessages, focusElement, formatDate, setStatus, showError, t } from '../common.js';
import { stepUpApi } from '../stepUp.js';
import { handleAccessLost } from './access.js';
import { el, kindWords, shortKid } from './dom.js';
import { state } from './state.js';
import type { KeyRequest, RequestKind } from './types.js';

export const dialog = byId<HTMLDialogElement>('confirm-dialog');

export interface ConfirmText {
  heading: string;
  paragraphs: string[];
  confirm: string;
}

/** Asks in the modal dialog; resolves true only for the confirm button. Focus starts on Cancel. */
export function confirmAction(text: ConfirmText): Promise<boolean> {
  const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  byId('confirm-heading').textContent = text.heading;
  byId('confirm-explanation').replaceChildren(...text.paragraphs.map((p) => el('p', undefined, p)));
  byId('confirm-ok').textContent = text.confirm;
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

byId('confirm-cancel').addEventListener('click', () => dialog.close(''));

export function emergencyText(kid: string, approving: boolean): ConfirmText {
  return {
    heading: approving ? t('security.emergency.approve.heading') : state.alone ? t('security.emergency.alone.heading') : t('security.emergency.ask.heading'),
    paragraphs: [
      t(approving ? 'security.emergency.approve.when' : state.alone ? 'security.emergency.alone.when' : 'security.emergency.ask.when', { kid: shortKid(kid) }),
      t('security.emergency.tokens'),
      t('security.emergency.only'),
    ],
    confirm: approving ? t('security.emergency.approve.confirm') : state.alone ? t('security.emergency.alone.confirm') : t('security.emergency.ask.confirm'),
  };
}

// ------------------------------------------------------- approve and reject

export async function approve(r: KeyRequest, button: HTMLButtonElement): Promise<void> {
  clearMessages();
  if (r.kind === 'emergency-rotation' && r.targetKid) {
    if (!(await confirmAction(emergencyText(r.targetKid, true)))) return;
  } else if (r.kind === 'destroy' && r.targetKid) {
    const ok = await confirmAction({
      heading: t('security.destroy.heading'),
      paragraphs: [t('security.destroy.text', { kid: shortKid(r.targetKid) })],
      confirm: t('security.destroy.confirm'),
    });
    if (!ok) return;
  }
  await busy(button, null, async () => {
    setStatus(t('security.carrying'));
    try {
      await stepUpApi<{ request: KeyRequest }>('POST', `/api/security/key-requests/${encodeURIComponent(r.id)}/approve`, {});
      if (await state.refresh()) setStatus(approvedMessage(r.kind));
      focusElement(byId('signing-keys-heading'));
    } catch (err) {
      if (handleAccessLost(err)) return;
      await state.refresh();
      showError(err, { context: t('security.approve.failed', { kind: kindWords(r.kind).toLowerCase() }) });
    }
  });
}

/** What an approval did, in words, from the keys as they are now. */
export function approvedMessage(kind: RequestKind): string {
  if (kind === 'rotation') {
    const pending = state.keys.find((k) => k.state === 'pending');
    return pending
      ? t('security.rotation.pendingApproved', { date: formatDate(pending.promoteAt, t('security.rotation.afterDelay')) })
      : t('security.rotation.approved');
  }
  if (kind === 'emergency-rotation') return t('security.emergency.approved');
  return t('security.destroy.approved');
}

export async function reject(r: KeyRequest, button: HTMLButtonElement): Promise<void> {
  clearMessages();
  await busy(button, null, async () => {
    try {
      await stepUpApi<{ request: KeyRequest }>('POST', `/api/security/key-requests/${encodeURIComponent(r.id)}/reject`, {});
      if (await state.refresh()) setStatus(t('security.reject.done', { kind: kindWords(r.kind) }));
      focusElement(byId('requests-heading'));
    } catch (err) {
      if (handleAccessLost(err)) return;
      await state.refresh();
      showError(err, { context: t('security.reject.failed', { kind: kindWords(r.kind).toLowerCase() }) });
    }
  });
}
