/**
 * Verifies the audit trail of a gateway database against a trust anchor from outside it (NSIS
 * 6 (Low) 7, 4.1.7 (Low) 3): the signing keys (each must be held by the anchor or vouched for by
 * a signed record of a trusted key), the signed prune records, the hash chain, every checkpoint
 * (signature, place in the checkpoint chain, the entry it vouches for) and the witness.
 *
 *   npm run audit:verify                                  # var/gateway.db, keys from the HSM, var/audit-witness
 *   npm run audit:verify -- path/to/copy.db               # any copy, e.g. a backup
 *   npm run audit:verify -- --anchor anchor.json copy.db  # keys from an exported anchor file (no HSM needed)
 *   npm run audit:verify -- --witness DIR copy.db         # another witness directory (e.g. the remote sink's copy)
 *   npm run audit:verify -- --no-witness copy.db          # no witness (said so in the report)
 *   npm run audit:verify -- --export audit.json           # a signed export of a range (security page): its
 *                                                         # signature, chain links and checkpoints
 *   GATEWAY_DATABASE_URL=postgres://... npm run audit:verify   # a PostgreSQL database (e.g. a restored
 *                                                         # copy), read through the store port
 *
 * Exit status: 0 every check passed; 1 something is wrong (each finding is named); 2 usage error
 * or the database cannot be read; 3 the trust anchor cannot be read (HSM unreachable, PIN
 * refused, anchor file unreadable): nothing was verified. A chain of 10,000 entries or more shows
 * progress and the time left on stderr.
 */
import fs from 'node:fs';
import { loadConfig } from '../server/config.js';
import { verifyAudit, verifyStoreAudit, type AuditReport } from '../server/audit/verifyAudit.js';
import { openSqliteFileReader, type FileReader } from '../server/store/sqlite/index.js';
import { openStore, storeLocation } from '../server/store/openStore.js';
import type { TrustAnchor } from '../server/audit/trustAnchor.js';
import type { Store } from '../server/ports/store.js';
import { loadTrustAnchor, loadWitness } from './lib/auditAnchor.js';
import { formatAuditReport } from './lib/auditReport.js';
import { verifyExportFile } from './lib/verifyExportFile.js';
import { createProgress, type Progress } from './lib/progress.js';

const USAGE = 'usage: npm run audit:verify -- [--anchor FILE] [--witness DIR | --no-witness] [database.db]\n       npm run audit:verify -- [--anchor FILE] --export EXPORT.json\n';

interface Args {
  file: string | undefined;
  anchor: string | undefined;
  witness: string | undefined;
  noWitness: boolean;
  exportFile: string | undefined;
}

function parseArgs(argv: string[]): Args | undefined {
  const args: Args = { file: undefined, anchor: undefined, witness: undefined, noWitness: false, exportFile: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--anchor' || a === '--witness' || a === '--export') {
      const v = argv[++i];
      if (!v) return undefined;
      if (a === '--anchor') args.anchor = v;
      else if (a === '--export') args.exportFile = v;
      else args.witness = v;
    } else if (a === '--no-witness') args.noWitness = true;
    else if (a?.startsWith('-') || args.file !== undefined) return undefined;
    else args.file = a;
  }
  if (args.exportFile && (args.file || args.witness || args.noWitness)) return undefined;
  return args.witness && args.noWitness ? undefined : args;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (!args) {
    process.stderr.write(USAGE);
    return 2;
  }
  const config = loadConfig();
  if (args.exportFile) return verifyExportFile(config, args.exportFile, args.anchor);
  if (config.database && !args.file) return verifyPostgres(config, args);
  const file = args.file ?? config.dbFile;
  if (!fs.existsSync(file)) {
    process.stderr.write(`audit: no database at ${file}\n`);
    return 2;
  }
  let anchor: TrustAnchor;
  try {
    anchor = await loadTrustAnchor(config, args.anchor);
  } catch (err) {
    process.stderr.write(`audit: the trust anchor cannot be read, nothing was verified: ${err instanceof Error ? err.message : String(err)}\n`);
    return 3;
  }
  const witness = loadWitness(config, args.witness, args.noWitness);
  // A copy or the live file, read-only, in one snapshot (the SQLite adapter's tool entry point).
  let reader: FileReader;
  try {
    reader = openSqliteFileReader(file);
  } catch (err) {
    process.stderr.write(`audit: ${file} cannot be opened: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  try {
    // Progress and time left on stderr (issue 7: long-running commands show both); stdout stays the report.
    let progress: Progress | undefined;
    const started = process.hrtime.bigint();
    const report = await verifyAudit(reader.tx, {
      anchor,
      ...(witness ? { witness } : {}),
      onProgress: (verified, expected) => {
        progress ??= createProgress({ label: 'audit', total: expected, unit: 'entries', quiet: expected < 10_000 });
        progress.update(verified);
      },
    });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    progress?.done();
    process.stdout.write(`audit: database ${file}\n${formatAuditReport(report, seconds)}`);
    return report.ok ? 0 : 1;
  } catch (err) {
    process.stderr.write(`audit: ${file} cannot be read as a gateway database: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  } finally {
    reader.close();
  }
}

/**
 * GATEWAY_DATABASE_URL: the PostgreSQL database, read through the store port in one read
 * transaction, without migrating it (a copy at another schema version is refused, not changed).
 */
async function verifyPostgres(config: ReturnType<typeof loadConfig>, args: Args): Promise<number> {
  const where = storeLocation(config);
  let store: Store;
  try {
    store = await openStore(config, { migrate: false, poolSize: 1 });
  } catch (err) {
    process.stderr.write(`audit: ${where} cannot be opened: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  try {
    let anchor: TrustAnchor;
    try {
      anchor = await loadTrustAnchor(config, args.anchor);
    } catch (err) {
      process.stderr.write(`audit: the trust anchor cannot be read, nothing was verified: ${err instanceof Error ? err.message : String(err)}\n`);
      return 3;
    }
    const witness = loadWitness(config, args.witness, args.noWitness);
    let progress: Progress | undefined;
    const started = process.hrtime.bigint();
    let report: AuditReport;
    try {
      report = await verifyStoreAudit(store, {
        anchor,
        ...(witness ? { witness } : {}),
        onProgress: (verified, expected) => {
          progress ??= createProgress({ label: 'audit', total: expected, unit: 'entries', quiet: expected < 10_000 });
          progress.update(verified);
        },
      });
    } catch (err) {
      process.stderr.write(`audit: ${where} cannot be read as a gateway database: ${err instanceof Error ? err.message : String(err)}\n`);
      return 2;
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    progress?.done();
    process.stdout.write(`audit: database ${where}\n${formatAuditReport(report, seconds)}`);
    return report.ok ? 0 : 1;
  } finally {
    await store.close();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`audit: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 2;
  },
);
