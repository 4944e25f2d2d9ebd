/**
 * The growth section's cost table (issue 17): at each database size, the profiled 16-client
 * phase's CPU per sign-in by cost (scripts/bench/profileCosts.ts, the classifier of the main
 * profiled phases), side by side, so that a cost that grows with the keys shows as a row that grows.
 */
import type { GrowthRow } from './report.js';
import { fmt, fmtInt } from './stats.js';

export function growthCostTable(rows: GrowthRow[]): string[] {
  const profiled = rows.filter((g): g is GrowthRow & { profile: NonNullable<GrowthRow['profile']> } => g.profile !== undefined);
  if (profiled.length === 0) return [];
  const costs: string[] = [];
  for (const g of profiled) for (const l of g.profile.costs.lines) if (!costs.includes(l.cost)) costs.push(l.cost);
  const cell = (g: (typeof profiled)[number], cost: string): string => {
    const line = g.profile.costs.lines.find((l) => l.cost === cost);
    return line ? fmt(line.msPerCeremony, 3) : '–';
  };
  return [
    '',
    'CPU per sign-in by cost at each size: an extra profiled 16-client phase after the measured one (V8 profiler on in every gateway process; its rate is lowered by the profiler), the same cost classifier as the profiled phases above.',
    '',
    `| Cost, ms per sign-in | ${profiled.map((g) => `${fmtInt(g.activeKeys)} keys`).join(' | ')} |`,
    `| --- | ${profiled.map(() => '---:').join(' | ')} |`,
    ...costs.map((c) => `| ${c} | ${profiled.map((g) => cell(g, c)).join(' | ')} |`),
    `| **Sampled JavaScript-thread time per sign-in** | ${profiled.map((g) => `**${fmt(g.profile.costs.busyMsPerCeremony, 2)}**`).join(' | ')} |`,
    `| Sign-ins/s while profiled | ${profiled.map((g) => fmtInt(g.profile.row.perSecond)).join(' | ')} |`,
  ];
}
