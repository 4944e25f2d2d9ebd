/**
 * The growth section of the report (issue 17): the table of sizes (with --growth-env, both
 * gateways and both rounds at each size, each row's p99 set against the smallest size of the same
 * gateway), resident memory per instance, and at each size the profiled phase's CPU per sign-in by
 * cost (scripts/bench/profileCosts.ts, the classifier of the main profiled phases) side by side,
 * so that a cost that grows with the keys shows as a row that grows.
 */
import type { BenchResults, GrowthRow, PhaseRow } from './report.js';
import { fmt, fmtInt } from './stats.js';

interface Cells {
  loopOf: (row: PhaseRow) => string;
  cpuPerCeremony: (row: PhaseRow) => string;
  errorsOf: (row: PhaseRow) => string;
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

/** p99 at the smallest and the largest size, of the first gateway (mean over its rounds). */
export function growthFlatness(rows: GrowthRow[]): { base: GrowthRow; top: GrowthRow; baseP99: number; topP99: number; ratio: number; variant: string | undefined } | undefined {
  const variant = rows[0]?.variant;
  const mine = rows.filter((g) => g.variant === variant);
  const base = mine[0];
  const top = mine[mine.length - 1];
  if (!base || !top || base.targetKeys === top.targetKeys) return undefined;
  const baseP99 = mean(mine.filter((g) => g.targetKeys === base.targetKeys).map((g) => g.phase.latency.p99));
  const topP99 = mean(mine.filter((g) => g.targetKeys === top.targetKeys).map((g) => g.phase.latency.p99));
  return { base, top, baseP99, topP99, ratio: topP99 / baseP99, variant };
}

export function growthSection(growth: BenchResults['growth'], c: Cells): string[] {
  const rows = growth.rows;
  const ab = rows.some((g) => g.variant !== undefined);
  const baseOf = (g: GrowthRow): number | undefined => rows.find((b) => b.variant === g.variant && b.round === g.round)?.phase.latency.p99;
  return [
    `Sign-ins at 16 concurrent clients with more active keys in the database (seeded by scripts/seed-keys.ts with the gateway stopped, then restarted; measured once the restarted gateway's audit checkpointer had re-hashed the seeded entries, which carry no checkpoint, and signed the head: "Checkpoint catch-up s").${growth.status ? ` ${growth.status}` : ''}`,
    ...(ab ? ['', 'Two gateways take turns at each size (--growth-env): restarted for every row, same database, same load generators, in the order of the rows; "p99 vs smallest" is against the same gateway\'s row of the same round at the smallest size.'] : []),
    '',
    `| Active keys | Audit entries |${ab ? ' Gateway | Round |' : ''} Seeding s | Checkpoint catch-up s | Sign-ins/s | p50 ms | p95 ms | p99 ms | p99 vs smallest | Event-loop p99 ms | Server CPU ms per sign-in | Resident MiB per instance | Errors |`,
    `| ---: | ---: |${ab ? ' --- | ---: |' : ''} ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |`,
    ...rows.map((g) => {
      const base = baseOf(g);
      return `| ${fmtInt(g.activeKeys)} | ${fmtInt(g.auditEntries)} |${ab ? ` ${g.variant ?? ''} | ${g.round ?? ''} |` : ''} ${fmt(g.seedSeconds, 0)} | ${g.checkpointSeconds === undefined ? '–' : fmt(g.checkpointSeconds, 1)} | ${fmtInt(g.phase.perSecond)} | ${fmt(g.phase.latency.p50, 2)} | ${fmt(g.phase.latency.p95, 2)} | ${fmt(g.phase.latency.p99, 2)} | ${base ? `${fmt(g.phase.latency.p99 / base, 2)}×` : '–'} | ${c.loopOf(g.phase)} | ${c.cpuPerCeremony(g.phase)} | ${g.phase.rssMiB.map((m) => fmtInt(m)).join(' / ') || '–'} | ${c.errorsOf(g.phase)} |`;
    }),
    '',
    "Resident memory: the highest VmRSS of the instance's whole process tree (primary and workers) during the phase, sampled once a second.",
    ...growthCostTable(rows),
  ];
}

function growthCostTable(rows: GrowthRow[]): string[] {
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
    `| Cost, ms per sign-in | ${profiled.map((g) => `${fmtInt(g.activeKeys)} keys${g.variant ? ` (${g.variant})` : ''}`).join(' | ')} |`,
    `| --- | ${profiled.map(() => '---:').join(' | ')} |`,
    ...costs.map((cost) => `| ${cost} | ${profiled.map((g) => cell(g, cost)).join(' | ')} |`),
    `| **${profiled.every((g) => g.profile.costs.scaled) ? 'CPU per sign-in (samples scaled to each thread\'s /proc CPU)' : 'Sampled JavaScript-thread time per sign-in'}** | ${profiled.map((g) => `**${fmt(g.profile.costs.busyMsPerCeremony, 2)}**`).join(' | ')} |`,
    `| Sign-ins/s while profiled | ${profiled.map((g) => fmtInt(g.profile.row.perSecond)).join(' | ')} |`,
  ];
}
