/**
 * The signed JSON export of a range of the audit trail (issue 16; NSIS 6 (Low) 7, 4.1.7 (Low) 3:
 * a trail that can be checked outside the gateway), and the pieces both the writer
 * (server/flows/audit/exportTrail.ts) and the verifier (verifyExport.ts) share.
 *
 * The file is one JSON object: the range (first and last sequence numbers), the anchor (the hash
 * of the entry just before the range, or the genesis hash), every entry of the range in order
 * with its chain hashes (an entry outside the filter is kept as a stub: sequence, previous hash and
 * hash, its content withheld), the signed checkpoints that fall inside the range, and a compact
 * ES256 JWS by the HSM's active signing key (the key the audit checkpoints use) whose payload is
 * the manifest: everything above except the entries themselves, which it covers by a SHA-256
 * over their canonical JSON, one line each.
 */
import { createHash } from 'node:crypto';
import { canonicalJson, type JsonValue } from './canonicalJson.js';

export const EXPORT_FORMAT = 'nsis-gateway-audit-export/v1';
export const EXPORT_JWS_TYP = 'audit-export+jwt';
/** An export covers at most this many entries of the chain (narrow the range for more). */
export const MAX_EXPORT_ENTRIES = 250_000;

/** An entry of the range outside the filter: its place in the chain only. */
export interface WithheldEntry {
  seq: number;
  prevHash: string;
  hash: string;
  withheld: true;
}

export interface ExportFilter {
  person: string | null;
  key: string | null;
  actor: string | null;
  events: string[] | null;
  from: string | null;
  to: string | null;
}

export interface ExportCheckpoint {
  n: number | null;
  seq: number;
  headHash: string;
  note: string;
}

/** What the signature covers. */
export interface ExportManifest {
  format: typeof EXPORT_FORMAT;
  origin: string;
  exportedAt: string;
  exportedBy: string;
  filter: ExportFilter;
  range: { firstSeq: number; lastSeq: number };
  anchor: { seq: number; hash: string };
  entries: { count: number; included: number; withheld: number; sha256: string };
  checkpoints: { count: number; sha256: string };
  kid: string;
}

/** A running SHA-256 over items, one canonical JSON line each. */
export class LineDigest {
  private readonly hash = createHash('sha256');

  add(item: JsonValue): void {
    this.hash.update(canonicalJson(item), 'utf8').update('\n');
  }

  hex(): string {
    return this.hash.digest('hex');
  }
}

// --- CSV (RFC 4180) -------------------------------------------------------------------------

/**
 * One CSV cell: RFC 4180 quoting (a field with a quote, comma, CR or LF is quoted, quotes
 * doubled), and safe to open in a spreadsheet: a cell starting with = + - @ TAB or CR would be
 * read as a formula (OWASP "CSV injection"), so it is prefixed with an apostrophe.
 */
export function csvCell(value: string | number | null): string {
  let s = value === null ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvRow(cells: readonly (string | number | null)[]): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}

/** UTF-8 byte order mark: spreadsheet programs then read the file as UTF-8 (æ, ø, å). */
export const CSV_BOM = '\uFEFF';
