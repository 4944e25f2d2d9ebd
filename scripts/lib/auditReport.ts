/** The audit verification report as the commands print it: one line per fact, findings spelled out. */
import type { AuditReport } from '../../server/audit/verifyAudit.js';

export function formatAuditReport(report: AuditReport, seconds: number): string {
  const lines: string[] = [];
  const out = (line: string) => lines.push(`audit: ${line}`);
  out(`trust anchor: ${report.anchor.description}`);
  const by = (t: string) => report.keys.filter((k) => k.trust === t).length;
  out(
    `signing keys: ${report.keys.length} in the database; ${by('anchor')} held by the anchor, ${by('record')} vouched for by signed records` +
      (by('database') ? `, ${by('database')} taken from the database` : '') +
      (by('untrusted') ? `, ${by('untrusted')} NOT TRUSTED` : ''),
  );
  if (report.anchoredBy !== null) out(`entries before ${report.firstSeq} were pruned; verification starts from signed checkpoint ${report.anchoredBy}`);
  const rate = seconds > 0 ? Math.round(report.chain.entries / seconds) : 0;
  if (report.chain.ok) out(`chain intact: ${report.chain.entries} entries, head ${report.chain.headHash} (${seconds.toFixed(2)} s, ${rate} entries/s)`);
  else out(`chain BROKEN at entry ${report.chain.firstBrokenSeq}: ${report.chain.problem} (${report.chain.entries} entries verified before it)`);
  const good = report.checkpoints.filter((c) => c.ok).length;
  out(`${good} of ${report.checkpoints.length} signed checkpoints verify`);
  if (report.prunes.length > 0) out(`${report.prunes.filter((p) => p.ok).length} of ${report.prunes.length} prune records are signed and verify`);
  if (report.witness) {
    out(`witness ${report.witness.source}: ${report.witness.checkpoints} checkpoints, ${report.witness.matched} of them in the database unchanged`);
  }
  if (report.truncated) out('TRUNCATED: a signed checkpoint vouches for entries that are gone');
  out(`${report.unanchoredEntries} entries after the last valid checkpoint (not yet covered by a signature)`);
  for (const n of report.notes) out(`note: ${n}`);
  for (const p of report.problems) out(`PROBLEM: ${p}`);
  out(report.ok ? 'RESULT: INTACT (every check passed)' : `RESULT: TAMPERED OR INCONSISTENT: ${report.problems.length} problem${report.problems.length === 1 ? '' : 's'} (listed above)`);
  return `${lines.join('\n')}\n`;
}
