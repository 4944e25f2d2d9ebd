/**
 * The identity import file (name,email,ial,proofing_method[,roles]): parsed and checked without
 * changing anything. The console's import refuses a file with any problem; `npm run import` runs
 * the same check on the whole file before it sends any part of it. Pure.
 */
import { ASSIGNED_ROLES, IDENTITY_ASSURANCE_LEVELS, type AssignedRole, type AssuranceLevel } from '../../domain/types.js';
import { parseCsv } from './csv.js';

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** The first columns of an import file, in this order; a fifth, `roles`, is optional. */
export const IMPORT_HEADER = ['name', 'email', 'ial', 'proofing_method'] as const;

export interface ImportRow {
  /** The line's number in the file (the header is row 1). */
  row: number;
  name: string;
  email: string;
  ial: AssuranceLevel;
  proofing: string;
  roles: AssignedRole[];
}

/**
 * Parses and checks an import file without changing anything: the rows to import, or every
 * problem by row and field. The console's import refuses a file with any problem; `npm run
 * import` runs the same check on the whole file before it sends any part of it.
 */
export function parseImportCsv(csv: string): { rows: ImportRow[]; errors: { path: string; message: string }[]; headerOk: boolean } {
  const table = parseCsv(csv);
  const header = (table[0] ?? []).map((h) => h.trim().toLowerCase());
  if (IMPORT_HEADER.some((h, i) => header[i] !== h)) return { rows: [], errors: [{ path: 'row 1', message: 'unexpected header' }], headerOk: false };
  const errors: { path: string; message: string }[] = [];
  const rows: ImportRow[] = [];
  const seen = new Set<string>();
  table.slice(1).forEach((cells, i) => {
    const row = i + 2;
    if (cells.every((c) => c.trim() === '')) return;
    const [name = '', email = '', ial = '', proofing = '', rolesText = ''] = cells.map((c) => c.trim());
    if (name.length === 0 || name.length > 200) errors.push({ path: `row ${row} name`, message: 'a name of 1-200 characters is required' });
    if (!EMAIL.test(email) || email.length > 254) errors.push({ path: `row ${row} email`, message: 'not an email address' });
    else if (seen.has(email.toLowerCase())) errors.push({ path: `row ${row} email`, message: 'appears twice in the file' });
    seen.add(email.toLowerCase());
    const level = IDENTITY_ASSURANCE_LEVELS.find((l) => l === ial.toLowerCase());
    if (!level) errors.push({ path: `row ${row} ial`, message: 'must be low, substantial or high' });
    if (proofing.length < 3) errors.push({ path: `row ${row} proofing_method`, message: 'say how the identity was proofed' });
    const roles: AssignedRole[] = [];
    for (const r of rolesText.split(';').map((x) => x.trim()).filter((x) => x.length > 0)) {
      const role = ASSIGNED_ROLES.find((a) => a === r);
      if (role) roles.push(role);
      else errors.push({ path: `row ${row} roles`, message: `unknown role ${r}` });
    }
    if (level) rows.push({ row, name, email, ial: level, proofing, roles });
  });
  return { rows, errors, headerOk: true };
}
