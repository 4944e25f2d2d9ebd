/**
 * Exports the trust anchor for audit verification: the public keys the HSM token holds (each
 * proven by a signature), with their RFC 7638 kids and C2SP verifier keys, as a JSON file to keep
 * away from the server (e.g. with the security officers, printed, in another system). Later,
 * anyone can verify a copy of the database without the HSM:
 * `npm run audit:verify -- --anchor FILE copy.db`. Keys made after the export are reached through
 * the signed key records, so one export at installation keeps working; export again after a
 * rotation to shorten that path.
 *
 *   npm run audit:anchor -- anchor.json [--force]
 *
 * Exit status: 0 written; 2 usage (or the file exists without --force); 3 the HSM cannot be read.
 */
import fs from 'node:fs';
import { checkpointOrigin } from '../server/audit/checkpointNote.js';
import { anchorFileContent, type TrustAnchor } from '../server/audit/trustAnchor.js';
import { loadConfig } from '../server/config.js';
import { loadTrustAnchor } from './lib/auditAnchor.js';

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const force = argv.includes('--force');
  const files = argv.filter((a) => a !== '--force');
  const [file] = files;
  if (!file || files.length !== 1 || file.startsWith('-')) {
    process.stderr.write('usage: npm run audit:anchor -- <anchor.json> [--force]\n');
    return 2;
  }
  if (fs.existsSync(file) && !force) {
    process.stderr.write(`audit:anchor: ${file} exists; choose a new file or pass --force\n`);
    return 2;
  }
  const config = loadConfig();
  let anchor: TrustAnchor;
  try {
    anchor = await loadTrustAnchor(config, undefined);
  } catch (err) {
    process.stderr.write(`audit:anchor: the HSM cannot be read: ${err instanceof Error ? err.message : String(err)}\n`);
    return 3;
  }
  if (anchor.keys.length === 0) {
    process.stderr.write('audit:anchor: the HSM token holds no signing key; start the gateway once first\n');
    return 3;
  }
  fs.writeFileSync(file, anchorFileContent(anchor, config.origin, checkpointOrigin(config.origin), new Date().toISOString()), { mode: 0o644 });
  process.stdout.write(`audit:anchor: ${anchor.keys.length} key(s) from ${anchor.description} written to ${file}\n`);
  for (const k of anchor.keys) process.stdout.write(`  ${k.kid}\n`);
  for (const r of anchor.refused) process.stdout.write(`  not exported: CKA_ID ${r.ckaId}: ${r.reason}\n`);
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`audit:anchor: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 2;
  },
);
