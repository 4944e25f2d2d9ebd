// The person open: facts, binding state, and enrolment links for them.
import { byId, clearMessages, focusElement, setStatus, t, timeElement } from '../common.js';
import { el, ialWords, rolesText } from '../console.js';
import type { IdentitySummary } from '../console.js';
import type { AdminIdentity } from './types.js';
import { ad } from './state.js';
import { renderResults } from './search.js';
import { issueEnrolment } from './enrolment.js';
import { personSection, personEnrolButton, personHandoverButton, contactForm, contactEmail, nameForm, nameInput, rolesForm, endForm } from './elements.js';

export function openPerson(i: IdentitySummary): void {
  clearMessages();
  ad.person = { ...i };
  contactForm.reset();
  nameForm.reset();
  endForm.reset();
  byId('person-link').replaceChildren();
  personEnrolButton.textContent = t('admin.enrolment.sendByMail');
  personHandoverButton.textContent = t('admin.enrol.handover');
  renderPerson();
  renderResults();
  personSection.hidden = false;
  setStatus(t('admin.person.open', { name: i.name }));
  focusElement(byId('person-heading'));
}

/** Takes the server's answer about the open person, and refreshes the search row. */
export function updatePerson(update: Partial<AdminIdentity>): void {
  if (!ad.person) return;
  ad.person = { ...ad.person, ...update };
  ad.results = ad.results.map((r) => (r.id === ad.person?.id ? { ...r, ...update } : r));
  renderPerson();
  renderResults();
}

export function renderPerson(): void {
  const p = ad.person;
  if (!p) return;
  personSection.dataset['identityId'] = p.id;
  personSection.dataset['bindingState'] = p.bindingState;
  byId('person-name').textContent = p.name;
  const facts: Array<[string, Node | string, string]> = [
    [t('console.fact.email'), p.email, 'person-email'],
    [t('console.fact.roles'), rolesText(p.roles), 'person-roles'],
    [t('console.fact.ial'), ialWords(p.ial), 'person-ial'],
    [t('console.fact.binding'), p.bindingState === 'ended' ? t('console.binding.ended') : t('console.binding.active'), 'person-binding'],
  ];
  if (p.keyCount !== undefined) facts.push([t('console.fact.keys'), t('console.activeOf', { active: p.activeKeyCount ?? 0, total: p.keyCount }), 'person-keys']);
  if (p.createdAt) facts.push([t('console.fact.created'), timeElement(p.createdAt), 'person-created']);
  byId('person-facts').replaceChildren(...facts.flatMap(([term, value, testid]) => [el('dt', undefined, term), el('dd', testid, value)]));
  const ended = p.bindingState === 'ended';
  byId('person-ended-note').hidden = !ended;
  byId('person-tools').hidden = ended;
  if (!contactEmail.matches(':focus')) contactEmail.value = p.email;
  if (!nameInput.matches(':focus')) nameInput.value = p.name;
  rolesForm.querySelectorAll<HTMLInputElement>('input[name="role"]').forEach((box) => {
    box.checked = p.roles.includes(box.value);
  });
}

personEnrolButton.addEventListener('click', () => {
  const p = ad.person;
  if (p) void issueEnrolment(p, personEnrolButton, byId('person-link'), 'mail');
});

personHandoverButton.addEventListener('click', () => {
  const p = ad.person;
  if (p) void issueEnrolment(p, personHandoverButton, byId('person-link'), 'handover');
});
