// Correcting the open person's contact data (the e-mail address) and identifying data (the name).
import { busy, byId, clearMessages, focusElement, reasonWords, setStatus, showError, t } from '../common.js';
import { confirmAction, keysText } from '../console.js';
import { stepUpApi } from '../stepUp.js';
import { countOf, revokedText } from './types.js';
import type { AdminIdentity, RevokedKeys } from './types.js';
import { ad } from './state.js';
import { handleAccessLost } from './access.js';
import { approvals } from './duties.js';
import { updatePerson } from './person.js';
import { contactForm, contactEmail, contactNote, contactSubmit, nameForm, nameInput, nameNote, nameSubmit } from './elements.js';

contactForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void saveContact();
});

export async function saveContact(): Promise<void> {
  clearMessages(contactForm);
  const p = ad.person;
  if (!p) return;
  const email = contactEmail.value.trim();
  if (!email || !contactEmail.checkValidity()) return showError(new Error(t('common.invalidEmail')), { invalid: contactEmail });
  if (email === p.email) return showError(new Error(t('admin.contact.unchanged')), { invalid: contactEmail });
  const note = contactNote.value.trim();
  await busy(contactSubmit, contactForm, async () => {
    setStatus(t('common.saving'));
    let answer: { identity: AdminIdentity; revokedKeys?: RevokedKeys; approval?: { id: string } };
    try {
      answer = await stepUpApi<{ identity: AdminIdentity; revokedKeys?: RevokedKeys; approval?: { id: string } }>('PATCH', `/api/admin/identities/${encodeURIComponent(p.id)}`, note ? { email, note } : { email });
    } catch (err) {
      if (handleAccessLost(err)) return;
      showError(err, { form: contactForm, context: t('admin.contact.failed') });
      return;
    }
    updatePerson(answer.identity);
    contactNote.value = '';
    if (answer.approval) {
      await approvals.load();
      setStatus(t('admin.contact.asked', { name: answer.identity.name, email, current: answer.identity.email }));
      return;
    }
    setStatus(t('admin.contact.done', { name: answer.identity.name, email: answer.identity.email }));
  });
}

// ------------------------------------------------------- identifying data

nameForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void correctName();
});

export async function correctName(): Promise<void> {
  clearMessages(nameForm);
  const p = ad.person;
  if (!p) return;
  const name = nameInput.value.trim();
  if (!name) return showError(new Error(t('admin.name.missing')), { invalid: nameInput });
  if (name === p.name) return showError(new Error(t('admin.name.unchanged')), { invalid: nameInput });
  const note = nameNote.value.trim();
  if (!note) return showError(new Error(t('admin.name.noteMissing')), { invalid: nameNote });
  const keys = p.keyCount === undefined ? t('admin.name.keys.every') : p.keyCount === 0 ? t('admin.name.keys.any') : t('admin.name.keys.all', { keys: keysText(p.keyCount) });
  const ok = await confirmAction({
    heading: t('admin.name.confirm.heading', { name }),
    paragraphs: [t('admin.name.confirm.revoked', { keys, old: p.name, reason: reasonWords('data-error') }), t('admin.name.confirm.enrol', { name })],
    confirm: t('admin.name.confirm.button'),
  });
  if (!ok) return;
  await busy(nameSubmit, nameForm, async () => {
    setStatus(t('common.saving'));
    let answer: { identity: AdminIdentity; revokedKeys?: RevokedKeys };
    try {
      answer = await stepUpApi<{ identity: AdminIdentity; revokedKeys?: RevokedKeys }>('PATCH', `/api/admin/identities/${encodeURIComponent(p.id)}`, { name, note });
    } catch (err) {
      if (handleAccessLost(err)) return;
      showError(err, { form: nameForm, context: t('admin.name.failed') });
      return;
    }
    const n = countOf(answer.revokedKeys);
    updatePerson({ ...answer.identity, ...(n !== null ? { activeKeyCount: 0 } : {}) });
    nameNote.value = '';
    setStatus(t('admin.name.done', { name: answer.identity.name, revoked: revokedText(answer.revokedKeys) }).replace(/\s+/g, ' ').trim());
    focusElement(byId('enrol-heading'));
  });
}
