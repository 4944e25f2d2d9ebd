// Adding an employee: bind them with their identity assurance, optionally asking for staff roles.
import { CATALOGUES, LANGUAGES, isLanguage } from '../../../i18n/index.js';
import { busy, byId, clearMessages, focusElement, setStatus, showError, t, tn } from '../common.js';
import { el, ialWords } from '../console.js';
import { stepUpApi } from '../stepUp.js';
import { rolesOutcomeText } from './types.js';
import type { AdminIdentity, RolesOutcome } from './types.js';
import { ad } from './state.js';
import { handleAccessLost } from './access.js';
import { approvals, refreshDuties } from './duties.js';
import { issueEnrolment } from './enrolment.js';
import { createForm, createName, createEmail, createIal, createProofing, createLanguage, createSubmit, createResult, issueButton, handoverButton } from './elements.js';

// Issue 16: the language of the person's mails (each option in its own language); none chosen: the organisation's.
for (const language of LANGUAGES) {
  const option = new Option(CATALOGUES[language]['common.language.name'], language);
  option.lang = language;
  createLanguage.append(option);
}

createForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void createIdentity();
});

export async function createIdentity(): Promise<void> {
  clearMessages(createForm);
  const name = createName.value.trim();
  const email = createEmail.value.trim();
  const ial = createIal.value;
  const proofingMethod = createProofing.value.trim();
  const language = createLanguage.value;
  const roles = Array.from(createForm.querySelectorAll<HTMLInputElement>('input[name="roles"]:checked')).map((i) => i.value);
  if (!name) return showError(new Error(t('admin.create.nameMissing')), { invalid: createName });
  if (!email || !createEmail.checkValidity()) return showError(new Error(t('common.invalidEmail')), { invalid: createEmail });
  if (!ial) return showError(new Error(t('admin.create.ialMissing')), { invalid: createIal });
  if (proofingMethod.length < 3) return showError(new Error(t('admin.create.proofingMissing')), { invalid: createProofing });
  await busy(createSubmit, createForm, async () => {
    setStatus(t('admin.create.adding'));
    let identity: AdminIdentity;
    let rolesOutcome: RolesOutcome = null;
    try {
      ({ identity, roles: rolesOutcome } = await stepUpApi<{ identity: AdminIdentity; roles: RolesOutcome }>('POST', '/api/admin/identities', { name, email, ial, proofingMethod, roles, ...(isLanguage(language) ? { language } : {}) }));
    } catch (err) {
      if (handleAccessLost(err)) return;
      showError(err, { form: createForm, context: t('admin.create.failed') });
      return;
    }
    ad.created = identity;
    createForm.reset();
    const outcome = rolesOutcomeText(rolesOutcome);
    byId('create-result-text').replaceChildren(
      ...tn('admin.create.done', { name: el('strong', 'created-name', identity.name), email: identity.email, ial: ialWords(identity.ial).toLowerCase() }),
      ` ${outcome}${outcome ? ' ' : ''}${t('admin.create.next')}`,
    );
    byId('create-link').replaceChildren();
    issueButton.textContent = t('admin.enrolment.sendByMail');
    if (rolesOutcome) void Promise.all([approvals.load(), refreshDuties()]);
    createResult.dataset['identityId'] = identity.id;
    createResult.hidden = false;
    setStatus(t('admin.create.added', { name: identity.name }));
    focusElement(createResult);
  });
}

issueButton.addEventListener('click', () => {
  const target = ad.created;
  if (!target) return;
  void issueEnrolment(target, issueButton, byId('create-link'), 'mail');
});

handoverButton.addEventListener('click', () => {
  const target = ad.created;
  if (!target) return;
  void issueEnrolment(target, handoverButton, byId('create-link'), 'handover');
});
