// Ending the open person's binding (revokes every key).
import { busy, byId, clearMessages, focusElement, reasonWords, setStatus, showError, t } from '../common.js';
import { confirmAction, fillSelect, keysText, reasonOptions } from '../console.js';
import { stepUpApi } from '../stepUp.js';
import { revokedText } from './types.js';
import type { RevokedKeys } from './types.js';
import { ad } from './state.js';
import { handleAccessLost } from './access.js';
import { updatePerson } from './person.js';
import { endForm, endReason, endNote, endSubmit } from './elements.js';

/** Why a binding ends (each revokes every key: the lifecycle table's staff revocation reasons). */
const END_REASONS = ['employment-ended', 'agreement-ended', 'holder-ceased', 'data-error', 'other'] as const;
fillSelect(endReason, reasonOptions(END_REASONS), t('admin.endReason.choose'));

endForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void endBinding();
});

export async function endBinding(): Promise<void> {
  clearMessages(endForm);
  const p = ad.person;
  if (!p) return;
  const reason = endReason.value;
  if (!reason) return showError(new Error(t('admin.end.reasonMissing')), { invalid: endReason });
  const note = endNote.value.trim();
  const keys = p.keyCount === undefined ? t('admin.end.keys.every') : p.keyCount === 0 ? t('admin.end.keys.any') : t('admin.end.keys.all', { keys: keysText(p.keyCount) });
  const ok = await confirmAction({
    heading: t('admin.end.confirm.heading', { name: p.name }),
    paragraphs: [t('admin.end.confirm.reason', { reason: reasonWords(reason) }), t('admin.end.confirm.effect', { name: p.name, keys }), t('admin.end.confirm.final')],
    confirm: t('admin.end.confirm.button'),
  });
  if (!ok) return;
  await busy(endSubmit, endForm, async () => {
    setStatus(t('admin.end.ending'));
    let answer: { revokedKeys?: RevokedKeys };
    try {
      answer = await stepUpApi<{ revokedKeys?: RevokedKeys }>(
        'POST',
        `/api/admin/identities/${encodeURIComponent(p.id)}/end-binding`,
        note ? { reason, note } : { reason },
      );
    } catch (err) {
      if (handleAccessLost(err)) return;
      showError(err, { form: endForm, context: t('admin.end.failed') });
      return;
    }
    updatePerson({ bindingState: 'ended', activeKeyCount: 0 });
    setStatus(t('admin.end.done', { name: p.name, revoked: revokedText(answer.revokedKeys) }).trim());
    focusElement(byId('person-heading'));
  });
}
