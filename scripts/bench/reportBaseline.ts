/** The `--baseline` section of the report: an older commit and this checkout, phase by phase, in one run. */
import type { PhaseRow } from './report.js';
import { fmt, fmtInt } from './stats.js';

export interface BaselineResults {
  ref: string;
  sha: string;
  /** One pair per sign-in level, measured back to back (baseline first at odd levels, now first at even ones). */
  rows: { clients: number; baseline: PhaseRow; now: PhaseRow }[];
  note: string;
}

const ratio = (a: number, b: number): string => (b > 0 && Number.isFinite(a / b) ? `${fmt(a / b, 2)}×` : '–');
const errors = (row: PhaseRow): string => (row.errorCount === 0 ? '0' : `**${row.errorCount}**`);

export function baselineSection(b: BaselineResults | undefined): string[] {
  if (!b) return [];
  return [
    '',
    `## Baseline vs now (same run): ${b.ref} (${b.sha.slice(0, 12)})`,
    '',
    b.note,
    '',
    '| Clients | Baseline sign-ins/s | Now sign-ins/s | Now vs baseline | Baseline p50 ms | Now p50 ms | Baseline p99 ms | Now p99 ms | Baseline resident MiB | Now resident MiB | Errors (baseline / now) |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...b.rows.map(
      (r) =>
        `| ${r.clients} | ${fmtInt(r.baseline.perSecond)} | ${fmtInt(r.now.perSecond)} | ${ratio(r.now.perSecond, r.baseline.perSecond)} | ${fmt(r.baseline.latency.p50, 2)} | ${fmt(r.now.latency.p50, 2)} | ${fmt(r.baseline.latency.p99, 2)} | ${fmt(r.now.latency.p99, 2)} | ${r.baseline.rssMiB.map((m) => fmtInt(m)).join(' / ')} | ${r.now.rssMiB.map((m) => fmtInt(m)).join(' / ')} | ${errors(r.baseline)} / ${errors(r.now)} |`,
    ),
  ];
}
