/**
 * Imports people (name,email,ial,proofing_method[,roles][,language]) from a CSV file through the running
 * gateway, as an organisation admin signed in with a security key (NSIS 5.2 (Substantial) 8),
 * with progress and an estimate of the time left.
 *
 *   npm run import -- people.csv --session-file F          check the file, then import it
 *   npm run import -- people.csv --dry-run                 check the file only; nothing is sent
 *   npm run import -- people.csv --session-file F --chunk-rows 200
 *
 * Like `npm run keys`, the change goes through the running gateway's API, because a command line
 * cannot touch a security key: sign in at <origin>/admin.html, copy the value of the gw_session
 * cookie (__Host-gw_session on https) into a file only you can read, and pass --session-file
 * (or GATEWAY_SESSION_FILE). Importing is a console action that needs a recent key touch
 * (GATEWAY_STEP_UP_MINUTES, default 5): sign in shortly before.
 *
 * What is all or nothing. The console's import (POST /api/admin/identities/import) creates the
 * rows of one request in one transaction, and a request body is capped (GATEWAY_BODY_LIMIT_BYTES).
 * A large file therefore goes in chunks, and this command is honest about it:
 * 1. the whole file is checked here first, with the gateway's own rules (parseImportCsv): any
 *    problem anywhere and nothing is sent;
 * 2. each chunk is all or nothing on the gateway;
 * 3. if a chunk fails (gateway down, session expired, network), the chunks before it stay
 *    imported and the command says up to which row. Running the same command again finishes
 *    the job: people already bound are skipped, never created twice.
 * Exit 0: every row imported or skipped as already bound; 1: refused or stopped midway; 2: usage.
 */
import fs from 'node:fs';
import { z } from 'zod';
import { loadConfig } from '../server/config.js';
import { IMPORT_HEADER, parseImportCsv, type ImportRow } from '../server/flows/identities/importCsv.js';
import { createProgress } from './lib/progress.js';

const USAGE = 'usage: npm run import -- <file.csv> (--session-file <file> | --dry-run) [--chunk-rows N]\n';

const importAnswer = z.object({
  created: z.array(z.object({ row: z.number(), id: z.string(), email: z.string() })),
  skipped: z.array(z.object({ row: z.number(), email: z.string(), reason: z.string() })),
});
const problem = z.object({
  code: z.string().optional(),
  detail: z.string().optional(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});

interface Args {
  file: string;
  sessionFile: string | undefined;
  dryRun: boolean;
  chunkRows: number;
}

function parseArgs(argv: string[]): Args | undefined {
  let file: string | undefined;
  let sessionFile = process.env['GATEWAY_SESSION_FILE'];
  let dryRun = false;
  let chunkRows = 500;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--session-file') sessionFile = argv[++i];
    else if (a === '--dry-run') dryRun = true;
    else if (a === '--chunk-rows') {
      chunkRows = Number(argv[++i]);
      if (!Number.isInteger(chunkRows) || chunkRows < 1 || chunkRows > 10_000) return undefined;
    } else if (a && !a.startsWith('--') && file === undefined) file = a;
    else return undefined;
  }
  if (!file || (!dryRun && !sessionFile)) return undefined;
  return { file, sessionFile, dryRun, chunkRows };
}

/** RFC 4180: quote a field holding a comma, quote or line break. */
function csvField(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

function csvLine(r: ImportRow): string {
  return [r.name, r.email, r.ial, r.proofing, r.roles.join(';'), r.language ?? ''].map(csvField).join(',');
}

/**
 * Splits the checked rows into request bodies of at most `maxRows` rows that stay under the
 * gateway's body limit (with room to spare for the JSON envelope).
 */
function chunksOf(rows: ImportRow[], maxRows: number, maxBytes: number): ImportRow[][] {
  const header = `${IMPORT_HEADER.join(',')},roles,language`;
  const envelope = Buffer.byteLength(JSON.stringify({ csv: header }));
  const chunks: ImportRow[][] = [];
  let current: ImportRow[] = [];
  let bytes = envelope;
  for (const r of rows) {
    // The line as it appears inside the JSON string, with the (escaped) line break before it.
    const size = Buffer.byteLength(JSON.stringify(`\r\n${csvLine(r)}`)) - 2;
    if (current.length > 0 && (current.length >= maxRows || bytes + size > maxBytes)) {
      chunks.push(current);
      current = [];
      bytes = envelope;
    }
    current.push(r);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (!args) {
    process.stderr.write(USAGE);
    return 2;
  }
  const config = loadConfig();
  const text = fs.readFileSync(args.file, 'utf8');

  // 1. The whole file, with the gateway's own rules, before anything is sent.
  const checked = parseImportCsv(text);
  if (!checked.headerOk || checked.errors.length > 0) {
    const head = checked.headerOk ? `${checked.errors.length} problem(s) in ${args.file}; nothing was imported:` : `the first line of ${args.file} must be: ${IMPORT_HEADER.join(',')}[,roles][,language]; nothing was imported`;
    process.stderr.write(`import: ${head}\n`);
    for (const e of checked.errors.slice(0, 50)) process.stderr.write(`  ${e.path}: ${e.message}\n`);
    if (checked.errors.length > 50) process.stderr.write(`  … and ${checked.errors.length - 50} more\n`);
    return 1;
  }
  const rows = checked.rows;
  const chunks = chunksOf(rows, args.chunkRows, Math.floor(config.bodyLimitBytes * 0.9));
  process.stderr.write(`import: ${rows.length} rows checked in ${args.file}; ${args.dryRun ? 'dry run, nothing sent' : `sending in ${chunks.length} chunk(s) of at most ${args.chunkRows} rows, each all or nothing`}\n`);
  if (args.dryRun) {
    process.stdout.write(`${rows.length} rows would be imported (people already bound are skipped by the gateway)\n`);
    return 0;
  }

  // 2. Chunk by chunk through the running gateway, as the signed-in admin.
  const session = fs.readFileSync(args.sessionFile ?? '', 'utf8').trim();
  const cookie = `${config.secureCookies ? '__Host-gw_session' : 'gw_session'}=${session}`;
  const header = `${IMPORT_HEADER.join(',')},roles,language`;
  const progress = createProgress({ label: 'import', total: rows.length, unit: 'rows' });
  let created = 0;
  const skipped: { row: number; email: string; reason: string }[] = [];
  let done = 0;
  for (const chunk of chunks) {
    const csv = [header, ...chunk.map(csvLine)].join('\r\n');
    let res: Response;
    try {
      res = await fetch(`${config.origin}/api/admin/identities/import`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: config.origin, cookie },
        body: JSON.stringify({ csv }),
      });
    } catch (err) {
      // Without an answer we cannot know whether this chunk committed; a re-run settles it.
      return stopped(
        `the gateway at ${config.origin} did not answer (${err instanceof Error ? err.message : String(err)}); the chunk of rows ${chunk[0]?.row ?? '?'}-${chunk[chunk.length - 1]?.row ?? '?'} may or may not have been imported`,
      );
    }
    const body: unknown = await res.json().catch(() => undefined);
    if (res.status !== 200) {
      const p = problem.safeParse(body);
      const code = p.success ? p.data.code : undefined;
      const detail = p.success ? (p.data.detail ?? '') : '';
      const hint =
        code === 'STEP_UP_REQUIRED' || code === 'UNAUTHENTICATED'
          ? ' Sign in again at /admin.html, put the new gw_session value in the session file, and run the same command again.'
          : '';
      for (const e of (p.success ? p.data.errors : undefined) ?? []) process.stderr.write(`  ${e.path}: ${e.message}\n`);
      return stopped(`the gateway refused the chunk starting at row ${chunk[0]?.row ?? '?'}: ${res.status} ${code ?? ''} ${detail}${hint}`);
    }
    const answer = importAnswer.safeParse(body);
    if (!answer.success) return stopped('the gateway answered in an unexpected form');
    // The gateway numbers the rows of the chunk it saw (its header is row 1): map back to the file.
    const fileRow = (r: number) => chunk[r - 2]?.row ?? r;
    created += answer.data.created.length;
    for (const s of answer.data.skipped) skipped.push({ ...s, row: fileRow(s.row) });
    done += chunk.length;
    progress.update(done);
  }
  progress.done();
  process.stdout.write(`${created} created, ${skipped.length} skipped (already bound to the organisation)\n`);
  for (const s of skipped.slice(0, 20)) process.stdout.write(`  row ${s.row} ${s.email}: ${s.reason}\n`);
  if (skipped.length > 20) process.stdout.write(`  … and ${skipped.length - 20} more\n`);
  return 0;

  function stopped(why: string): number {
    progress.done();
    const through = done > 0 ? rows[done - 1]?.row : undefined;
    process.stderr.write(
      `import: stopped: ${why}\n` +
        (through !== undefined
          ? `import: rows up to ${through} are imported (${created} created, ${skipped.length} skipped); the rest are not. Run the same command again to finish: people already bound are skipped.\n`
          : 'import: nothing was imported.\n'),
    );
    return 1;
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`import: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
