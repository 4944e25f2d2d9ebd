/**
 * Verifies the audit hash chain of a gateway database and names the first broken entry.
 *
 *   npm run audit:verify                      # the database named by the configuration (var/gateway.db)
 *   npm run audit:verify -- path/to/copy.db   # any copy, e.g. a backup
 *
 * Exit status: 0 the chain holds, 1 it is broken, 2 the database cannot be read.
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import { loadConfig } from '../server/config.js';
import { verifyAuditFile } from '../server/audit/verifyAuditFile.js';

function main(): number {
  const file = process.argv[2] ?? loadConfig().dbFile;
  if (!fs.existsSync(file)) {
    process.stderr.write(`audit: no database at ${file}\n`);
    return 2;
  }
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const started = process.hrtime.bigint();
    const verdict = verifyAuditFile(db);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (verdict.ok) {
      process.stdout.write(`audit: chain intact: ${verdict.entries} entries, head ${verdict.headHash} (${seconds.toFixed(2)} s)\n`);
      return 0;
    }
    process.stdout.write(`audit: chain BROKEN at entry ${verdict.firstBrokenSeq}: ${verdict.problem} (${verdict.entries} entries verified before it)\n`);
    return 1;
  } finally {
    db.close();
  }
}

process.exitCode = main();
