/**
 * Verifies the audit trail of a gateway database: the hash chain, every HSM-signed checkpoint
 * against the key valid when it was made, and truncation after the last checkpoint.
 *
 *   npm run audit:verify                      # the database named by the configuration (var/gateway.db)
 *   npm run audit:verify -- path/to/copy.db   # any copy, e.g. a backup
 *
 * Exit status: 0 intact, 1 broken (the first broken entry or checkpoint is named), 2 unreadable.
 * A chain of 10,000 entries or more shows progress and the time left on stderr.
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import { loadConfig } from '../server/config.js';
import { verifyAuditDatabase } from '../server/audit/verifyAuditFile.js';
import { createProgress, type Progress } from './lib/progress.js';

function main(): number {
  const file = process.argv[2] ?? loadConfig().dbFile;
  if (!fs.existsSync(file)) {
    process.stderr.write(`audit: no database at ${file}\n`);
    return 2;
  }
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    // Progress and time left on stderr (issue 7: long-running commands show both); stdout stays the report.
    let progress: Progress | undefined;
    const started = process.hrtime.bigint();
    const report = verifyAuditDatabase(db, {
      onProgress: (verified, expected) => {
        progress ??= createProgress({ label: 'audit', total: expected, unit: 'entries', quiet: expected < 10_000 });
        progress.update(verified);
      },
    });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    progress?.done();
    const out = (line: string) => process.stdout.write(`${line}\n`);
    const rate = seconds > 0 ? Math.round(report.chain.entries / seconds) : 0;
    if (report.anchoredBy !== null) out(`audit: entries before ${report.firstSeq} were pruned; verification starts from signed checkpoint ${report.anchoredBy}`);
    if (report.chain.ok) out(`audit: chain intact: ${report.chain.entries} entries, head ${report.chain.headHash} (${seconds.toFixed(2)} s, ${rate} entries/s)`);
    else out(`audit: chain BROKEN at entry ${report.chain.firstBrokenSeq}: ${report.chain.problem} (${report.chain.entries} entries verified before it)`);
    const good = report.checkpoints.filter((c) => c.ok).length;
    out(`audit: ${good} of ${report.checkpoints.length} signed checkpoints verify`);
    for (const c of report.checkpoints.filter((c) => !c.ok)) out(`audit: checkpoint ${c.id} (entry ${c.seq}, key ${c.kid}) INVALID: ${c.problem}`);
    if (report.truncated) out('audit: TRUNCATED: a signed checkpoint vouches for entries that are gone');
    out(`audit: ${report.unanchoredEntries} entries after the last valid checkpoint (not yet covered by a signature)`);
    return report.ok ? 0 : 1;
  } finally {
    db.close();
  }
}

process.exitCode = main();
