// A secret answered once (issue 16: a client secret after registration or rotation): shown in a
// read-only field with a copy button and the warning that it cannot be shown again. It lives only
// in this element: never in storage, a URL or the console log, and it is removed on the next load.
import { focusElement, t } from '../common.js';
import { button, el } from '../console.js';

export function showSecretOnce(box: HTMLElement, intro: string, secret: string): void {
  const id = 'client-secret-value';
  const label = el('label', undefined, t('clients.oidc.secret.label'));
  label.htmlFor = id;
  const input = el('input', 'client-secret');
  input.id = id;
  input.type = 'text';
  input.readOnly = true;
  input.value = secret;
  input.spellcheck = false;
  input.autocomplete = 'off';
  input.className = 'link-field';
  input.addEventListener('focus', () => input.select());
  const note = el('span', 'client-secret-copied');
  note.className = 'copied-note';
  note.setAttribute('role', 'status');
  const copy = button(t('clients.copy'), 'copy-secret-button', 'secondary');
  copy.addEventListener('click', () => {
    void (async () => {
      try {
        await navigator.clipboard.writeText(secret);
        note.textContent = t('clients.copied');
      } catch {
        input.focus();
        input.select();
        note.textContent = t('clients.copyFailed');
      }
    })();
  });
  const row = el('div', undefined, input, copy);
  row.className = 'link-row';
  const warning = el('p', 'client-secret-warning', t('clients.oidc.secret.warning'));
  warning.className = 'warning';
  box.replaceChildren(el('p', undefined, intro), warning, label, row, note);
  box.hidden = false;
  focusElement(box);
}
