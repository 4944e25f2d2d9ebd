// Administration page (admin.html): add employees (bind them with their identity assurance), issue
// enrolment links, correct contact and identifying data, grant and withdraw roles, end bindings,
// and import employees from CSV.
import { ApiError, api, busy, byId, clearMessages, focusElement, reasonWords, renderHeader, setStatus, showError, timeElement } from './common.js';
import type { Identity } from './common.js';
import {
  GRANTABLE_ROLES,
  IAL_WORDS,
  ROLE_WORDS,
  button,
  confirmAction,
  el,
  fillSelect,
  hidden,
  keysText,
  linkBox,
  reasonOptions,
  renderIdentityRows,
  rolesText,
  setUpConfirmDialog,
  words,
} from './console.js';
import type { BindingState, IdentitySummary } from './console.js';
import { openStaffPage, pageGate } from './console.js';
import { stepUpApi } from './stepUp.js';

renderHeader('admin');
setUpConfirmDialog();

// ---------------------------------------------------------------- API types

/** An identity as the admin API answers it (POST/PATCH/roles); the search adds key counts. */
interface AdminIdentity {
  id: string;
  name: string;
  email: string;
  roles: string[];
  ial: string;
  bindingState: BindingState;
  createdAt?: string;
  keyCount?: number;
  activeKeyCount?: number;
}

interface EnrolmentLink {
  link: string;
  expiresAt: string;
}

/** `revokedKeys` may be a count or a list of the revoked keys. */
type RevokedKeys = number | unknown[] | null | undefined;

interface ImportReport {
  created: Array<{ row: number; id: string; email: string }>;
  skipped: Array<{ row: number; email: string; reason: string }>;
}

// ---------------------------------------------------------------- elements

const createForm = byId<HTMLFormElement>('create-form');
const createName = byId<HTMLInputElement>('create-name');
const createEmail = byId<HTMLInputElement>('create-email');
const createIal = byId<HTMLSelectElement>('create-ial');
const createProofing = byId<HTMLInputElement>('create-proofing');
const createSubmit = byId<HTMLButtonElement>('create-submit');
const createResult = byId('create-result');
const issueButton = byId<HTMLButtonElement>('issue-enrolment-button');
const searchForm = byId<HTMLFormElement>('search-form');
const searchInput = byId<HTMLInputElement>('search-q');
const searchButton = byId<HTMLButtonElement>('search-button');
const resultsBody = byId<HTMLTableSectionElement>('results-body');
const personSection = byId('person');
const personEnrolButton = byId<HTMLButtonElement>('person-enrolment-button');
const contactForm = byId<HTMLFormElement>('contact-form');
const contactEmail = byId<HTMLInputElement>('contact-email');
const contactNote = byId<HTMLInputElement>('contact-note');
const contactSubmit = byId<HTMLButtonElement>('contact-submit');
const nameForm = byId<HTMLFormElement>('name-form');
const nameInput = byId<HTMLInputElement>('name-name');
const nameNote = byId<HTMLTextAreaElement>('name-note');
const nameSubmit = byId<HTMLButtonElement>('name-submit');
const rolesForm = byId<HTMLFormElement>('roles-form');
const rolesSubmit = byId<HTMLButtonElement>('roles-submit');
const endForm = byId<HTMLFormElement>('end-form');
const endReason = byId<HTMLSelectElement>('end-reason');
/** Why a binding ends (each revokes every key: the lifecycle table's staff revocation reasons). */
const END_REASONS = ['employment-ended', 'agreement-ended', 'holder-ceased', 'data-error', 'other'] as const;
fillSelect(endReason, reasonOptions(END_REASONS), 'Choose a reason');
const endNote = byId<HTMLInputElement>('end-note');
const endSubmit = byId<HTMLButtonElement>('end-submit');
const importForm = byId<HTMLFormElement>('import-form');
const importFile = byId<HTMLInputElement>('import-file');
const importCsv = byId<HTMLTextAreaElement>('import-csv');
const importSubmit = byId<HTMLButtonElement>('import-submit');
const importReport = byId('import-report');

let me: Identity | null = null;
/** False once the session ended or the role was withdrawn: late answers are then ignored. */
let allowed = false;
let results: IdentitySummary[] = [];
let person: AdminIdentity | null = null;
let created: AdminIdentity | null = null;

// ------------------------------------------------------------------ loading

// Declared before the first load: it runs at once.
const gate = pageGate(() => hideTools(), 'not-allowed');
const showSignedOut = gate.showSignedOut;
const showNotAllowed = gate.showNotAllowed;

void load();

async function load(): Promise<void> {
  me = await openStaffPage('org-admin', 'Sign in with your security key to administer employees.', gate, 'Loading…');
  if (!me) return;
  allowed = true;
  byId('console-content').hidden = false;
  setStatus('Add an employee, find one by name or email address, or import several from CSV.');
}

function countOf(revoked: RevokedKeys): number | null {
  if (Array.isArray(revoked)) return revoked.length;
  if (typeof revoked === 'number') return revoked;
  return null;
}

function revokedText(revoked: RevokedKeys): string {
  const n = countOf(revoked);
  if (n === null) return '';
  return n === 0 ? 'No keys were revoked.' : `${n === 1 ? '1 key was' : `${n} keys were`} revoked.`;
}

// ------------------------------------------------------------------- create

createForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void createIdentity();
});

async function createIdentity(): Promise<void> {
  clearMessages(createForm);
  const name = createName.value.trim();
  const email = createEmail.value.trim();
  const ial = createIal.value;
  const proofingMethod = createProofing.value.trim();
  const roles = Array.from(createForm.querySelectorAll<HTMLInputElement>('input[name="roles"]:checked')).map((i) => i.value);
  if (!name) return showError(new Error('Enter the person’s full name.'), { invalid: createName });
  if (!email || !createEmail.checkValidity()) return showError(new Error('Enter a valid email address, for example name@example.dk.'), { invalid: createEmail });
  if (!ial) return showError(new Error('Choose the identity assurance level.'), { invalid: createIal });
  if (proofingMethod.length < 3) return showError(new Error('Say how the identity was proofed (at least 3 characters).'), { invalid: createProofing });
  await busy(createSubmit, createForm, async () => {
    setStatus('Adding the employee…');
    let identity: AdminIdentity;
    try {
      ({ identity } = await stepUpApi<{ identity: AdminIdentity }>('POST', '/api/admin/identities', { name, email, ial, proofingMethod, roles }));
    } catch (err) {
      if (handleAccessLost(err)) return;
      showError(err, { form: createForm, context: 'The employee was not added.' });
      return;
    }
    created = identity;
    createForm.reset();
    byId('create-result-text').replaceChildren(
      el('strong', 'created-name', identity.name),
      ` (${identity.email}) is added as an employee, identity assurance ${words(IAL_WORDS, identity.ial).toLowerCase()}. `,
      'Next, issue an enrolment link so they can register their first security key.',
    );
    byId('create-link').replaceChildren();
    issueButton.textContent = 'Issue enrolment link';
    createResult.dataset['identityId'] = identity.id;
    createResult.hidden = false;
    setStatus(`${identity.name} is added.`);
    focusElement(createResult);
  });
}

issueButton.addEventListener('click', () => {
  const target = created;
  if (!target) return;
  void issueEnrolment(target, issueButton, byId('create-link'));
});

/** POST an enrolment link for `target` and show it in `into`, with a copy button. */
async function issueEnrolment(target: { id: string; name: string }, trigger: HTMLButtonElement, into: HTMLElement): Promise<void> {
  clearMessages();
  if (into.childElementCount > 0) {
    const ok = await confirmAction({
      heading: 'Issue a new enrolment link?',
      paragraphs: [`The link shown now stops working. Hand ${target.name} only the new one.`],
      confirm: 'Issue a new link',
      kind: 'primary',
    });
    if (!ok) return;
  }
  await busy(trigger, null, async () => {
    setStatus('Issuing the enrolment link…');
    let answer: EnrolmentLink;
    try {
      answer = await stepUpApi<EnrolmentLink>('POST', `/api/admin/identities/${encodeURIComponent(target.id)}/enrolments`, {});
    } catch (err) {
      if (handleAccessLost(err)) return;
      showError(err, { context: 'No enrolment link was issued.' });
      return;
    }
    const box = linkBox(answer.link, answer.expiresAt, 'enrolment-link', `Enrolment link for ${target.name}`);
    const hint = el('p', undefined, 'Hand the link to the person yourself, or through a channel you trust. It is shown only now.');
    hint.className = 'hint';
    box.append(hint);
    into.replaceChildren(box);
    trigger.textContent = 'Issue a new link (withdraws this one)';
    setStatus(`An enrolment link for ${target.name} is ready to hand over.`);
    box.querySelector<HTMLInputElement>('input')?.focus();
  });
}

// ------------------------------------------------------------------- search

searchForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void search();
});

async function search(): Promise<void> {
  clearMessages(searchForm);
  const q = searchInput.value.trim();
  if (!q) return showError(new Error('Enter part of a name or an email address.'), { invalid: searchInput });
  await busy(searchButton, searchForm, async () => {
    setStatus('Searching…');
    if (!(await runSearch(q, true))) return;
    setStatus(results.length === 0 ? `Nobody matches “${q}”.` : results.length === 1 ? '1 person found.' : `${results.length} people found.`);
  });
}

async function runSearch(q: string, report: boolean): Promise<boolean> {
  try {
    ({ identities: results } = await api<{ identities: IdentitySummary[] }>('GET', `/api/admin/identities?q=${encodeURIComponent(q)}`));
  } catch (err) {
    if (handleAccessLost(err)) return false;
    if (report) showError(err, { form: searchForm, context: 'The search failed.' });
    return false;
  }
  if (!allowed) return false;
  renderResults();
  byId('results').hidden = false;
  return true;
}

function renderResults(): void {
  renderIdentityRows(resultsBody, results, (i) => openPerson(i), person?.id ?? null);
  byId('no-results').hidden = results.length > 0;
}

// ------------------------------------------------------------------- person

function openPerson(i: IdentitySummary): void {
  clearMessages();
  person = { ...i };
  contactForm.reset();
  nameForm.reset();
  endForm.reset();
  byId('person-link').replaceChildren();
  personEnrolButton.textContent = 'Issue enrolment link';
  renderPerson();
  renderResults();
  personSection.hidden = false;
  setStatus(`${i.name} is open.`);
  focusElement(byId('person-heading'));
}

/** Takes the server's answer about the open person, and refreshes the search row. */
function updatePerson(update: Partial<AdminIdentity>): void {
  if (!person) return;
  person = { ...person, ...update };
  results = results.map((r) => (r.id === person?.id ? { ...r, ...update } : r));
  renderPerson();
  renderResults();
}

function renderPerson(): void {
  const p = person;
  if (!p) return;
  personSection.dataset['identityId'] = p.id;
  personSection.dataset['bindingState'] = p.bindingState;
  byId('person-name').textContent = p.name;
  const facts: Array<[string, Node | string, string]> = [
    ['Email', p.email, 'person-email'],
    ['Roles', rolesText(p.roles), 'person-roles'],
    ['Identity assurance', words(IAL_WORDS, p.ial), 'person-ial'],
    ['Binding', p.bindingState === 'ended' ? 'Ended' : 'Active', 'person-binding'],
  ];
  if (p.keyCount !== undefined) facts.push(['Keys', `${p.activeKeyCount ?? 0} active of ${p.keyCount}`, 'person-keys']);
  if (p.createdAt) facts.push(['Created', timeElement(p.createdAt), 'person-created']);
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
  const p = person;
  if (p) void issueEnrolment(p, personEnrolButton, byId('person-link'));
});

// ----------------------------------------------------------- contact data

contactForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void saveContact();
});

async function saveContact(): Promise<void> {
  clearMessages(contactForm);
  const p = person;
  if (!p) return;
  const email = contactEmail.value.trim();
  if (!email || !contactEmail.checkValidity()) return showError(new Error('Enter a valid email address, for example name@example.dk.'), { invalid: contactEmail });
  if (email === p.email) return showError(new Error('The email address is unchanged.'), { invalid: contactEmail });
  const note = contactNote.value.trim();
  await busy(contactSubmit, contactForm, async () => {
    setStatus('Saving…');
    let answer: { identity: AdminIdentity; revokedKeys?: RevokedKeys };
    try {
      answer = await stepUpApi<{ identity: AdminIdentity; revokedKeys?: RevokedKeys }>('PATCH', `/api/admin/identities/${encodeURIComponent(p.id)}`, note ? { email, note } : { email });
    } catch (err) {
      if (handleAccessLost(err)) return;
      showError(err, { form: contactForm, context: 'The email address was not changed.' });
      return;
    }
    updatePerson(answer.identity);
    contactNote.value = '';
    const n = countOf(answer.revokedKeys);
    setStatus(`${answer.identity.name}’s email address is now ${answer.identity.email}.${n ? ` ${revokedText(answer.revokedKeys)}` : ''}`);
  });
}

// ------------------------------------------------------- identifying data

nameForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void correctName();
});

async function correctName(): Promise<void> {
  clearMessages(nameForm);
  const p = person;
  if (!p) return;
  const name = nameInput.value.trim();
  if (!name) return showError(new Error('Enter the correct full name.'), { invalid: nameInput });
  if (name === p.name) return showError(new Error('The name is unchanged.'), { invalid: nameInput });
  const note = nameNote.value.trim();
  if (!note) return showError(new Error('Say what was wrong and how the correct name was checked.'), { invalid: nameNote });
  const keys = p.keyCount === undefined ? 'Every key' : p.keyCount === 0 ? 'Any key' : `All ${keysText(p.keyCount)}`;
  const ok = await confirmAction({
    heading: `Correct the name to “${name}”?`,
    paragraphs: [
      `${keys} issued to “${p.name}” are revoked now, with the reason “${reasonWords('data-error')}”. This cannot be undone.`,
      `${name} must then enrol a new security key: issue an enrolment link afterwards.`,
    ],
    confirm: 'Correct name and revoke keys',
  });
  if (!ok) return;
  await busy(nameSubmit, nameForm, async () => {
    setStatus('Saving…');
    let answer: { identity: AdminIdentity; revokedKeys?: RevokedKeys };
    try {
      answer = await stepUpApi<{ identity: AdminIdentity; revokedKeys?: RevokedKeys }>('PATCH', `/api/admin/identities/${encodeURIComponent(p.id)}`, { name, note });
    } catch (err) {
      if (handleAccessLost(err)) return;
      showError(err, { form: nameForm, context: 'The name was not changed.' });
      return;
    }
    const n = countOf(answer.revokedKeys);
    updatePerson({ ...answer.identity, ...(n !== null ? { activeKeyCount: 0 } : {}) });
    nameNote.value = '';
    setStatus(`The name is corrected to ${answer.identity.name}. ${revokedText(answer.revokedKeys)} Issue an enrolment link for a new key.`.trim());
    focusElement(byId('enrol-heading'));
  });
}

// -------------------------------------------------------------------- roles

rolesForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void saveRoles();
});

async function saveRoles(): Promise<void> {
  clearMessages(rolesForm);
  const p = person;
  if (!p) return;
  const wanted = new Set(Array.from(rolesForm.querySelectorAll<HTMLInputElement>('input[name="role"]:checked')).map((b) => b.value));
  const changes = GRANTABLE_ROLES.filter((r) => wanted.has(r) !== p.roles.includes(r)).map((role) => ({ role, grant: wanted.has(role) }));
  if (changes.length === 0) {
    setStatus('The roles are unchanged.');
    return;
  }
  const removed = changes.filter((c) => !c.grant).map((c) => words(ROLE_WORDS, c.role));
  if (removed.length > 0) {
    const self = me && p.id === me.id;
    const ok = await confirmAction({
      heading: `Withdraw ${removed.join(' and ')} from ${self ? 'yourself' : p.name}?`,
      paragraphs: [
        `${self ? 'You' : p.name} can no longer use the ${removed.join(' and ')} tools.`,
        ...(self && removed.includes(words(ROLE_WORDS, 'org-admin')) ? ['You withdraw your own administrator role: you lose access to this page.'] : []),
      ],
      confirm: 'Withdraw',
    });
    if (!ok) return;
  }
  await busy(rolesSubmit, rolesForm, async () => {
    setStatus('Saving the roles…');
    const done: string[] = [];
    for (const change of changes) {
      try {
        const { identity } = await stepUpApi<{ identity: AdminIdentity }>('POST', `/api/admin/identities/${encodeURIComponent(p.id)}/roles`, change);
        updatePerson(identity);
        done.push(`${words(ROLE_WORDS, change.role)} ${change.grant ? 'granted' : 'withdrawn'}`);
      } catch (err) {
        if (handleAccessLost(err)) return;
        const what = `${words(ROLE_WORDS, change.role)} was not ${change.grant ? 'granted' : 'withdrawn'}.`;
        renderPerson();
        showError(err, { context: done.length > 0 ? `${done.join(', ')}; but ${what}` : what });
        return;
      }
    }
    setStatus(`${done.join(', ')}.`);
  });
}

// -------------------------------------------------------------- end binding

endForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void endBinding();
});

async function endBinding(): Promise<void> {
  clearMessages(endForm);
  const p = person;
  if (!p) return;
  const reason = endReason.value;
  if (!reason) return showError(new Error('Choose a reason.'), { invalid: endReason });
  const note = endNote.value.trim();
  const keys = p.keyCount === undefined ? 'every key' : p.keyCount === 0 ? 'any key' : `all ${keysText(p.keyCount)}`;
  const ok = await confirmAction({
    heading: `End the binding of ${p.name}?`,
    paragraphs: [
      `Reason: ${reasonWords(reason)}.`,
      `${p.name} is no longer bound to the organisation: ${keys} are revoked, every session ends, and ${p.name} is told by email.`,
      'This cannot be undone. A person who returns must be added again.',
    ],
    confirm: 'End binding and revoke keys',
  });
  if (!ok) return;
  await busy(endSubmit, endForm, async () => {
    setStatus('Ending the binding…');
    let answer: { revokedKeys?: RevokedKeys };
    try {
      answer = await stepUpApi<{ revokedKeys?: RevokedKeys }>(
        'POST',
        `/api/admin/identities/${encodeURIComponent(p.id)}/end-binding`,
        note ? { reason, note } : { reason },
      );
    } catch (err) {
      if (handleAccessLost(err)) return;
      showError(err, { form: endForm, context: 'The binding was not ended.' });
      return;
    }
    updatePerson({ bindingState: 'ended', activeKeyCount: 0 });
    setStatus(`The binding of ${p.name} has ended. ${revokedText(answer.revokedKeys)}`.trim());
    focusElement(byId('person-heading'));
  });
}

// ------------------------------------------------------------------- import

importFile.addEventListener('change', () => {
  const file = importFile.files?.[0];
  if (!file) return;
  clearMessages(importForm);
  void (async () => {
    if (file.size > 1_000_000) {
      showError(new Error('The file is larger than 1 MB. Split it into smaller files.'), { invalid: importFile });
      return;
    }
    try {
      importCsv.value = (await file.text()).replace(/^\uFEFF/, '');
      const lines = importCsv.value.split(/\r?\n/).filter((l) => l.trim()).length;
      setStatus(`“${file.name}” is loaded: ${lines} ${lines === 1 ? 'line' : 'lines'}, including the header. Check it, then press Import.`);
    } catch {
      showError(new Error('The file could not be read.'), { invalid: importFile });
    }
  })();
});

importForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void importIdentities();
});

async function importIdentities(): Promise<void> {
  clearMessages(importForm);
  const csv = importCsv.value;
  if (!csv.trim()) return showError(new Error('Paste the CSV text, or choose a CSV file.'), { invalid: importCsv });
  const header = csv.replace(/^\uFEFF/, '').split(/\r?\n/, 1)[0]?.trim().toLowerCase() ?? '';
  if (!/^name,email,ial,proofing_method(,|$)/.test(header.replace(/\s+/g, ''))) {
    return showError(new Error('The first line must be the header line: name,email,ial,proofing_method (and optionally ,roles).'), { invalid: importCsv });
  }
  await busy(importSubmit, importForm, async () => {
    setStatus('Importing…');
    let report: ImportReport;
    try {
      report = await stepUpApi<ImportReport>('POST', '/api/admin/identities/import', { csv });
    } catch (err) {
      if (handleAccessLost(err)) return;
      if (err instanceof ApiError && err.errors.length > 0) {
        renderImportErrors(err);
        showError(new Error(err.message), { context: /nothing was imported/i.test(err.message) ? undefined : 'Nothing was imported.', invalid: importCsv });
      } else {
        importReport.hidden = true;
        showError(err, { form: importForm, context: 'Nothing was imported.' });
      }
      return;
    }
    renderImportReport(report);
    const c = report.created.length;
    const s = report.skipped.length;
    setStatus(`${c === 1 ? '1 employee' : `${c} employees`} added${s > 0 ? `, ${s} skipped` : ''}.`);
    if (c > 0) importCsv.value = '';
    importFile.value = '';
    focusElement(importReport);
  });
}

function table(caption: string, headings: string[], rows: HTMLTableRowElement[], testid: string): HTMLDivElement {
  const t = el('table', testid);
  const cap = el('caption', undefined, caption);
  const head = el('tr', undefined, ...headings.map((h) => {
    const th = el('th', undefined, h);
    th.scope = 'col';
    return th;
  }));
  t.append(cap, el('thead', undefined, head), el('tbody', undefined, ...rows));
  const wrap = el('div', undefined, t);
  wrap.className = 'table-wrap';
  return wrap;
}

function rowHeader(text: string): HTMLTableCellElement {
  const th = el('th', undefined, text);
  th.scope = 'row';
  return th;
}

function renderImportReport(report: ImportReport): void {
  importReport.dataset['ok'] = 'true';
  const parts: Node[] = [];
  const summary = el('p', 'import-summary', `${report.created.length} added, ${report.skipped.length} skipped.`);
  summary.className = 'report-ok';
  parts.push(summary);
  if (report.created.length > 0) {
    const rows = report.created.map((c) => {
      const tr = el('tr', 'import-created-row');
      tr.dataset['identityId'] = c.id;
      const into = el('div');
      const issue = button('Issue enrolment link', 'import-enrolment-button', 'secondary', hidden(` for ${c.email}`));
      issue.addEventListener('click', () => void issueEnrolment({ id: c.id, name: c.email }, issue, into));
      const linkCell = el('td', undefined, issue, into);
      tr.append(rowHeader(String(c.row)), el('td', undefined, c.email), linkCell);
      return tr;
    });
    parts.push(table('Added', ['Line', 'Email', 'Enrolment link'], rows, 'import-created'));
  }
  if (report.skipped.length > 0) {
    const rows = report.skipped.map((s) => {
      const tr = el('tr', 'import-skipped-row');
      tr.append(rowHeader(String(s.row)), el('td', undefined, s.email), el('td', undefined, s.reason));
      return tr;
    });
    parts.push(table('Skipped', ['Line', 'Email', 'Why'], rows, 'import-skipped'));
  }
  importReport.replaceChildren(...parts);
  importReport.hidden = false;
}

function renderImportErrors(err: ApiError): void {
  importReport.dataset['ok'] = 'false';
  const summary = el('p', 'import-summary', `Nothing was imported: ${err.errors.length === 1 ? '1 problem' : `${err.errors.length} problems`} in the CSV. Correct them and import again.`);
  summary.className = 'report-bad';
  const rows = err.errors.map((e) => {
    const tr = el('tr', 'import-error-row');
    tr.append(rowHeader(e.path), el('td', undefined, e.message));
    return tr;
  });
  importReport.replaceChildren(summary, table('Problems', ['Where', 'Problem'], rows, 'import-errors'));
  importReport.hidden = false;
}

// ------------------------------------------------------------- access lost

/** 401 (session ended) or 403 ROLE_REQUIRED: say so and hide the administration tools. */
function handleAccessLost(err: unknown): boolean {
  if (!(err instanceof ApiError) || !allowed) return false;
  if (err.status === 401 && err.code !== 'STEP_UP_REQUIRED') {
    allowed = false;
    showSignedOut('Your session has ended. Sign in again to administer employees.', 'Session ended');
    return true;
  }
  if (err.status === 403 && err.code === 'ROLE_REQUIRED') {
    allowed = false;
    showNotAllowed(true);
    return true;
  }
  return false;
}

function hideTools(): void {
  const dialog = byId<HTMLDialogElement>('confirm-dialog');
  if (dialog.open) dialog.close('');
  byId('console-content').hidden = true;
  resultsBody.replaceChildren();
  byId('create-link').replaceChildren();
  byId('person-link').replaceChildren();
  person = null;
  created = null;
}

