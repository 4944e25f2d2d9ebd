/**
 * The identity import file (name,email,ial,proofing_method[,roles][,language]): parsed and checked without
 * changing anything. The console's import refuses a file with any problem; `npm run import` runs
 * the same check on the whole file before it sends any part of it. Pure.
 */
import { LANGUAGES, formatPlain, message, type Language, type MessageKey } from '../../../i18n/index.js';
import type { FieldProblem } from '../../errors.js';
import { ASSIGNED_ROLES, IDENTITY_ASSURANCE_LEVELS, type AssignedRole, type AssuranceLevel } from '../../domain/types.js';
import { parseCsv } from './csv.js';

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** A problem of the file: English words (the log, `npm run import`) and the catalogue key for the answer in the reader's language (issue 16). */
function problem(path: string, key: MessageKey, params: Readonly<Record<string, string | number>> = {}): FieldProblem {
  return { path, message: formatPlain(message('en', key), params), words: { key, params } };
}

/** The first columns of an import file, in this order; `roles` and `language` (issue 16) may follow, in either order. */
export const IMPORT_HEADER = ['name', 'email', 'ial', 'proofing_method'] as const;
/** The optional columns after the first four, found by their header. */
export const IMPORT_OPTIONAL = ['roles', 'language'] as const;

export interface ImportRow {
  /** The line's number in the file (the header is row 1). */
  row: number;
  name: string;
  email: string;
  ial: AssuranceLevel;
  proofing: string;
  roles: AssignedRole[];
  /** The language of the person's mails; null (an empty cell, or no column): the organisation's. */
  language: Language | null;
}

/**
 * Parses and checks an import file without changing anything: the rows to import, or every
 * problem by row and field. The console's import refuses a file with any problem; `npm run
 * import` runs the same check on the whole file before it sends any part of it.
 */
export function parseImportCsv(csv: string): { rows: ImportRow[]; errors: FieldProblem[]; headerOk: boolean } {
  const table = parseCsv(csv);
  const header = (table[0] ?? []).map((h) => h.trim().toLowerCase());
  if (IMPORT_HEADER.some((h, i) => header[i] !== h)) return { rows: [], errors: [problem('row 1', 'admin.import.error.header', { required: IMPORT_HEADER.join(',') })], headerOk: false };
  const extra = header.slice(IMPORT_HEADER.length).filter((h) => h !== '');
  if (extra.some((h) => !IMPORT_OPTIONAL.some((o) => o === h)) || new Set(extra).size !== extra.length) {
    return { rows: [], errors: [problem('row 1', 'admin.import.error.headerOptional', { required: IMPORT_HEADER.join(','), first: IMPORT_OPTIONAL[0], second: IMPORT_OPTIONAL[1] })], headerOk: false };
  }
  const rolesAt = header.indexOf('roles');
  const languageAt = header.indexOf('language');
  const errors: FieldProblem[] = [];
  const rows: ImportRow[] = [];
  const seen = new Set<string>();
  table.slice(1).forEach((cells, i) => {
    const row = i + 2;
    if (cells.every((c) => c.trim() === '')) return;
    const trimmed = cells.map((c) => c.trim());
    const [name = '', email = '', ial = '', proofing = ''] = trimmed;
    const rolesText = rolesAt >= 0 ? (trimmed[rolesAt] ?? '') : '';
    const languageText = languageAt >= 0 ? (trimmed[languageAt] ?? '').toLowerCase() : '';
    const language = LANGUAGES.find((l) => l === languageText) ?? null;
    if (languageText !== '' && !language) errors.push(problem(`row ${row} language`, 'admin.import.error.language', { first: LANGUAGES[0] ?? 'da', second: LANGUAGES[1] ?? 'en' }));
    if (name.length === 0 || name.length > 200) errors.push(problem(`row ${row} name`, 'admin.import.error.name'));
    if (!EMAIL.test(email) || email.length > 254) errors.push(problem(`row ${row} email`, 'admin.import.error.email'));
    else if (seen.has(email.toLowerCase())) errors.push(problem(`row ${row} email`, 'admin.import.error.duplicate'));
    seen.add(email.toLowerCase());
    const level = IDENTITY_ASSURANCE_LEVELS.find((l) => l === ial.toLowerCase());
    if (!level) errors.push(problem(`row ${row} ial`, 'admin.import.error.ial'));
    if (proofing.length < 3) errors.push(problem(`row ${row} proofing_method`, 'admin.import.error.proofing'));
    const roles: AssignedRole[] = [];
    for (const r of rolesText.split(';').map((x) => x.trim()).filter((x) => x.length > 0)) {
      const role = ASSIGNED_ROLES.find((a) => a === r);
      if (role) roles.push(role);
      else errors.push(problem(`row ${row} roles`, 'admin.import.error.role', { role: r }));
    }
    if (level) rows.push({ row, name, email, ial: level, proofing, roles, language });
  });
  return { rows, errors, headerOk: true };
}
