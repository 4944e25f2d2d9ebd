/**
 * `npm run audit:verify -- --export FILE [--anchor ANCHOR]`: checks a signed export of the audit
 * trail (server/audit/verifyExport.ts) against the trust anchor (the HSM token, or an anchor file)
 * and says what it proves and what not. Exit status: 0 verified; 1 refused (the reason named);
 * 2 the file cannot be read; 3 the trust anchor cannot be read.
 */
import fs from 'node:fs';
import type { loadConfig } from '../../server/config.js';
import type { TrustAnchor } from '../../server/audit/trustAnchor.js';
import { verifyExport } from '../../server/audit/verifyExport.js';
import { loadTrustAnchor } from './auditAnchor.js';

export async function verifyExportFile(config: ReturnType<typeof loadConfig>, file: string, anchorFile: string | undefined): Promise<number> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    process.stderr.write(`audit: the export ${file} cannot be read (${err instanceof Error && 'code' in err ? String(err.code) : 'unreadable'})\n`);
    return 2;
  }
  let anchor: TrustAnchor;
  try {
    anchor = await loadTrustAnchor(config, anchorFile);
  } catch (err) {
    process.stderr.write(`audit: the trust anchor cannot be read, nothing was verified: ${err instanceof Error ? err.message : String(err)}\n`);
    return 3;
  }
  const verdict = verifyExport(text.replace(/^\uFEFF/, ''), anchor.keys);
  if (!verdict.ok) {
    process.stdout.write(`audit: export ${file}\nREFUSED: ${verdict.problem}\nNothing in this file can be relied on.\n`);
    return 1;
  }
  const m = verdict.manifest;
  const f = m.filter;
  const filterWords = [f.person && `person ${f.person}`, f.key && `key ${f.key}`, f.actor && `actor ${f.actor}`, f.events && `events ${f.events.join(', ')}`, f.from && `from ${f.from}`, f.to && `to ${f.to}`].filter(Boolean).join('; ') || 'none';
  process.stdout.write(
    [
      `audit: export ${file}`,
      `VERIFIED against ${anchor.description}`,
      `exported ${m.exportedAt} by ${m.exportedBy} from ${m.origin}; filter: ${filterWords}`,
      `entries ${m.range.firstSeq}-${m.range.lastSeq}: ${m.entries.included} included, ${m.entries.withheld} withheld (outside the filter)`,
      'Proven:',
      ...verdict.proves.map((p) => `  - ${p}`),
      'Not proven:',
      ...verdict.doesNotProve.map((p) => `  - ${p}`),
      '',
    ].join('\n'),
  );
  return 0;
}
