/** The form that asks for a rotation, an emergency rotation or a destruction. */
import { busy, byId, clearMessages, focusElement, setStatus, showError, t, withPageDates } from '../common.js';
import { stepUpApi } from '../stepUp.js';
import { handleAccessLost } from './access.js';
import { confirmAction, emergencyText } from './decisions.js';
import { el, keyStateWords, kindWords, shortKid } from './dom.js';
import { state } from './state.js';
import type { KeyRequest, KeyState, RequestKind } from './types.js';

const form = byId<HTMLFormElement>('request-form');
const kindSelect = byId<HTMLSelectElement>('request-kind');
const targetField = byId('request-target-field');
const targetSelect = byId<HTMLSelectElement>('request-target');
const reasonInput = byId<HTMLTextAreaElement>('request-reason');
export const submitButton = byId<HTMLButtonElement>('request-submit');

export function isKind(v: string): v is RequestKind {
  return v === 'rotation' || v === 'emergency-rotation' || v === 'destroy';
}

/** Shows the target key field for the chosen kind, filled with the keys it may name. */
export function updateRequestForm(): void {
  const kind = isKind(kindSelect.value) ? kindSelect.value : 'rotation';
  byId('request-kind-hint').textContent = t(`security.kindHint.${kind}`);
  if (kind === 'rotation') {
    targetField.hidden = true;
    targetSelect.replaceChildren();
    return;
  }
  const wanted: KeyState = kind === 'emergency-rotation' ? 'active' : 'retired';
  const candidates = state.keys.filter((k) => k.state === wanted);
  const previous = targetSelect.value;
  const options = candidates.map((k) => {
    const o = el('option', undefined, t('security.target.option', { kid: shortKid(k.kid), alg: k.alg, state: keyStateWords(k.state) }));
    o.value = k.kid;
    o.title = k.kid;
    return o;
  });
  if (options.length === 0) {
    const none = el('option', undefined, wanted === 'active' ? t('security.target.noActive') : t('security.target.noRetired'));
    none.value = '';
    options.push(none);
  }
  targetSelect.replaceChildren(...options);
  if (candidates.some((k) => k.kid === previous)) targetSelect.value = previous;
  byId('request-target-label').textContent = wanted === 'active' ? t('security.target.activeLabel') : t('security.target.retiredLabel');
  byId('request-target-hint').textContent = wanted === 'active' ? t('security.target.activeHint') : t('security.target.retiredHint');
  targetField.hidden = false;
}

kindSelect.addEventListener('change', () => {
  clearMessages(form);
  updateRequestForm();
});

form.addEventListener('submit', (event) => {
  event.preventDefault();
  void submitRequest();
});

export async function submitRequest(): Promise<void> {
  clearMessages(form);
  const kind = kindSelect.value;
  if (!isKind(kind)) {
    showError(new Error(t('security.new.kindMissing')), { invalid: kindSelect });
    return;
  }
  const targetKid = kind === 'rotation' ? undefined : targetSelect.value;
  if (kind !== 'rotation' && !targetKid) {
    showError(
      new Error(kind === 'emergency-rotation' ? t('security.new.noActiveKey') : t('security.new.noRetiredKey')),
      { invalid: targetSelect },
    );
    return;
  }
  const reason = reasonInput.value.trim();
  if (reason.length < 3) {
    showError(new Error(t('security.new.reasonShort')), { invalid: reasonInput });
    return;
  }
  if (kind === 'emergency-rotation' && targetKid) {
    if (!(await confirmAction(emergencyText(targetKid, false)))) {
      setStatus(t('security.new.nothing'));
      return;
    }
  }
  await busy(submitButton, form, async () => {
    setStatus(t('security.new.sending'));
    try {
      const answer = await stepUpApi<{ request: KeyRequest | null; result: string | null }>('POST', '/api/security/key-requests', targetKid ? { kind, targetKid, reason } : { kind, reason });
      form.reset();
      updateRequestForm();
      const done = answer.request === null;
      if (await state.refresh()) {
        setStatus(
          done
            ? t('security.new.doneAlone', { kind: kindWords(kind), result: withPageDates(answer.result ?? '') })
            : t('security.new.requested', { kind: kindWords(kind) }),
        );
      }
      focusElement(byId('requests-heading'));
    } catch (err) {
      if (handleAccessLost(err)) return;
      await state.refresh();
      showError(err, { form, context: t('security.new.failed') });
    }
  });
}
