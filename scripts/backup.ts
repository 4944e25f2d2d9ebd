/**
 * Online backup of the gateway database while it serves (SQLite's backup API: a consistent copy,
 * page by page, without stopping writers), then verification of the copy's audit trail against
 * the keys on the HSM token and the witness directory (as `npm run audit:verify` does).
 *
 *   npm run backup -- var/backups/gateway-2026-11-22.db
 *
 * The copy is written with mode 0600. Back up var/gateway-secret.key and the HSM token with it:
 * the database alone cannot verify codes or sign.
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { verifyAuditDatabase } from '../server/audit/verifyAuditFile.js';
import { loadConfig } from '../server/config.js';
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
  fs.mkdirSync(path.dirname(path.resolve(target)), { recursive: true, mode: 0o700 });
  const source = new Database(config.dbFile, { fileMustExist: true });
  source.pragma('busy_timeout = 5000');
  try {
    await source.backup(target);
  } finally {
    source.close();
  }
  fs.chmodSync(target, 0o600);
  let anchor;
  try {
    anchor = await loadTrustAnchor(config, undefined);
  } catch (err) {
    process.stdout.write(`backup: ${target} written; its audit trail was NOT verified: the HSM cannot be read (${err instanceof Error ? err.message : String(err)})\n`);
    return 1;
  }
  const witness = loadWitness(config, undefined, false);
  const copy = new Database(target, { readonly: true, fileMustExist: true });
  try {
    const report = verifyAuditDatabase(copy, { anchor, ...(witness ? { witness } : {}) });
    process.stdout.write(
      `backup: ${target} written; audit chain ${report.chain.ok ? `intact (${report.chain.entries} entries)` : 'BROKEN'}; ${report.checkpoints.filter((c) => c.ok).length} signed checkpoints verify against ${anchor.description}\n`,
    );
    for (const p of report.problems) process.stdout.write(`backup: PROBLEM: ${p}\n`);
    return report.ok ? 0 : 1;
  } finally {
    copy.close();
  }
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
