// Importing employees from CSV, with a report of who was added, who was skipped, and why.
import { ApiError, busy, clearMessages, errorText, focusElement, fromServer, pageLanguage, setStatus, showError, t, tn, tp } from '../common.js';
import { button, el, hidden } from '../console.js';
import { stepUpApi } from '../stepUp.js';
import type { ImportReport } from './types.js';
import { handleAccessLost } from './access.js';
import { approvals } from './duties.js';
import { issueEnrolment } from './enrolment.js';
import { importForm, importFile, importCsv, importSubmit, importReport } from './elements.js';

importFile.addEventListener('change', () => {
  const file = importFile.files?.[0];
  if (!file) return;
  clearMessages(importForm);
  void (async () => {
    if (file.size > 1_000_000) {
      showError(new Error(t('admin.import.tooLarge')), { invalid: importFile });
      return;
    }
    try {
      importCsv.value = (await file.text()).replace(/^\uFEFF/, '');
      const lines = importCsv.value.split(/\r?\n/).filter((l) => l.trim()).length;
      setStatus(tp('admin.import.loaded', lines, { file: file.name }));
    } catch {
      showError(new Error(t('admin.import.unreadable')), { invalid: importFile });
    }
  })();
});

importForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void importIdentities();
});

export async function importIdentities(): Promise<void> {
  clearMessages(importForm);
  const csv = importCsv.value;
  if (!csv.trim()) return showError(new Error(t('admin.import.missing')), { invalid: importCsv });
  const header = csv.replace(/^\uFEFF/, '').split(/\r?\n/, 1)[0]?.trim().toLowerCase() ?? '';
  if (!/^name,email,ial,proofing_method(,|$)/.test(header.replace(/\s+/g, ''))) {
    return showError(new Error(t('admin.import.badHeader')), { invalid: importCsv });
  }
  await busy(importSubmit, importForm, async () => {
    setStatus(t('admin.import.importing'));
    let report: ImportReport;
    try {
      report = await stepUpApi<ImportReport>('POST', '/api/admin/identities/import', { csv });
    } catch (err) {
      if (handleAccessLost(err)) return;
      if (err instanceof ApiError && err.errors.length > 0) {
        renderImportErrors(err);
        // The problems are listed in the report: the error line says only that nothing was imported.
        const saysSo = pageLanguage() === 'en' && /nothing was imported/i.test(err.message);
        showError(new Error(errorText(err)), { context: saysSo ? undefined : t('admin.import.nothing'), invalid: importCsv });
      } else {
        importReport.hidden = true;
        showError(err, { form: importForm, context: t('admin.import.nothing') });
      }
      return;
    }
    renderImportReport(report);
    const c = report.created.length;
    const s = report.skipped.length;
    setStatus(s > 0 ? tp('admin.import.addedSkipped', c, { skipped: s }) : tp('admin.import.added', c));
    if (c > 0) importCsv.value = '';
    importFile.value = '';
    focusElement(importReport);
  });
}

export function table(caption: string, headings: string[], rows: HTMLTableRowElement[], testid: string): HTMLDivElement {
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

export function rowHeader(text: string): HTMLTableCellElement {
  const th = el('th', undefined, text);
  th.scope = 'row';
  return th;
}

export function renderImportReport(report: ImportReport): void {
  importReport.dataset['ok'] = 'true';
  const parts: Node[] = [];
  const summary = el('p', 'import-summary', t('admin.import.summary', { added: report.created.length, skipped: report.skipped.length }));
  summary.className = 'report-ok';
  parts.push(summary);
  if (report.created.length > 0) {
    const rows = report.created.map((c) => {
      const tr = el('tr', 'import-created-row');
      tr.dataset['identityId'] = c.id;
      const into = el('div');
      const issue = button(tn('admin.import.sendTo', { email: c.email, hidden }), 'import-enrolment-button', 'secondary');
      issue.addEventListener('click', () => void issueEnrolment({ id: c.id, name: c.email }, issue, into, 'mail'));
      const linkCell = el('td', undefined, issue, into);
      tr.append(rowHeader(String(c.row)), el('td', undefined, c.email), linkCell);
      return tr;
    });
    parts.push(table(t('admin.import.caption.added'), [t('admin.import.col.line'), t('admin.import.col.email'), t('admin.import.col.link')], rows, 'import-created'));
  }
  const pending = (report.roles ?? []).filter((r) => r.state === 'pending');
  if (pending.length > 0) {
    parts.push(el('p', 'import-roles-pending', t('admin.import.rolesPending', { emails: pending.map((r) => r.email).join(t('console.listSeparator')) })));
    void approvals.load();
  }
  if (report.skipped.length > 0) {
    const rows = report.skipped.map((s) => {
      const tr = el('tr', 'import-skipped-row');
      tr.append(rowHeader(String(s.row)), el('td', undefined, s.email), el('td', undefined, fromServer(s.reason)));
      return tr;
    });
    parts.push(table(t('admin.import.caption.skipped'), [t('admin.import.col.line'), t('admin.import.col.email'), t('admin.import.col.why')], rows, 'import-skipped'));
  }
  importReport.replaceChildren(...parts);
  importReport.hidden = false;
}

export function renderImportErrors(err: ApiError): void {
  importReport.dataset['ok'] = 'false';
  const summary = el('p', 'import-summary', tp('admin.import.problems', err.errors.length));
  summary.className = 'report-bad';
  const rows = err.errors.map((e) => {
    const tr = el('tr', 'import-error-row');
    tr.append(rowHeader(e.path), el('td', undefined, fromServer(e.message)));
    return tr;
  });
  importReport.replaceChildren(summary, table(t('admin.import.caption.problems'), [t('admin.import.col.where'), t('admin.import.col.problem')], rows, 'import-errors'));
  importReport.hidden = false;
}
