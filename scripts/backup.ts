/**
 * Online backup of the gateway database while it serves, then verification of the copy's audit
 * trail against the keys on the HSM token and the witness directory (as `npm run audit:verify` does).
 *
 *   npm run backup -- var/backups/gateway-2026-11-22.db
 *
 * The store's backup tool (SQLite: `VACUUM INTO`) writes a consistent snapshot (one read
 * transaction; writers go on in WAL mode) as ONE self-contained file in rollback-journal mode: no
 * `-wal` or `-shm` beside it, nothing left in a write-ahead log that a copy of the single file
 * would miss, and no free pages (deleted rows are not carried over). The file is created empty
 * with mode 0600 before SQLite writes into it, flushed to disk, then opened read-only to verify.
 * Back up var/gateway-secret.key and the HSM token with it: the database alone cannot verify codes
 * or sign. (On PostgreSQL, back up with pg_dump or point-in-time recovery: docs/architecture.md.)
 */
import fs from 'node:fs';
import path from 'node:path';
import { verifyAudit } from '../server/audit/verifyAudit.js';
import { loadConfig } from '../server/config.js';
import { openStore } from '../server/store/openStore.js';
import { withSqliteFile } from '../server/store/sqlite/index.js';
import { loadTrustAnchor, loadWitness } from './lib/auditAnchor.js';

async function main(): Promise<number> {
  const target = process.argv[2];
  if (!target) {
    process.stderr.write('backup: usage: npm run backup -- <target.db>\n');
    return 2;
  }
  if (fs.existsSync(target)) {
    process.stderr.write(`backup: ${target} exists; choose a new file\n`);
    return 2;
  }
  const config = loadConfig();
  if (config.database) {
    process.stderr.write(
      'backup: GATEWAY_DATABASE_URL selects PostgreSQL, whose backups are pg_dump or point-in-time recovery (docs/architecture-postgres.md, "Backup, restore and verification"); verify a restored copy with GATEWAY_DATABASE_URL=<its URL> npm run audit:verify\n',
    );
    return 2;
  }
  fs.mkdirSync(path.dirname(path.resolve(target)), { recursive: true, mode: 0o700 });
  // Created empty and private first, so the copy is never readable by others (VACUUM INTO accepts
  // an empty file).
  fs.writeFileSync(target, '', { mode: 0o600, flag: 'wx' });
  try {
    if (!fs.existsSync(config.dbFile)) throw new Error(`no database at ${config.dbFile}`);
    const store = await openStore(config);
    try {
      await store.tools.backup(target);
    } finally {
      await store.close();
    }
  } catch (err) {
    // No half-written copy left behind to be mistaken for a backup.
    fs.rmSync(target, { force: true });
    throw err;
  }
  let anchor;
  try {
    anchor = await loadTrustAnchor(config, undefined);
  } catch (err) {
    process.stdout.write(`backup: ${target} written; its audit trail was NOT verified: the HSM cannot be read (${err instanceof Error ? err.message : String(err)})\n`);
    return 1;
  }
  const witness = loadWitness(config, undefined, false);
  const report = await withSqliteFile(target, (tx) => verifyAudit(tx, { anchor, ...(witness ? { witness } : {}) }));
  process.stdout.write(
    `backup: ${target} written; audit chain ${report.chain.ok ? `intact (${report.chain.entries} entries)` : 'BROKEN'}; ${report.checkpoints.filter((c) => c.ok).length} signed checkpoints verify against ${anchor.description}\n`,
  );
  for (const p of report.problems) process.stdout.write(`backup: PROBLEM: ${p}\n`);
  return report.ok ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`backup: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
