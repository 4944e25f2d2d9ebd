/**
 * The report's side-by-side section: SQLite and PostgreSQL (one instance, and two instances on one
 * database) next to the in-memory reference, with event-loop delay per process and resident
 * memory per instance; and the verdicts of the PostgreSQL targets (issue 14 "Speed", issue 17).
 */
import type { BackendRun, BenchResults, PhaseRow, Verdict } from './report.js';
import { fmt, fmtInt } from './stats.js';

const POSTGRES_WITHIN = 0.2;
const SCALE_OUT = 1.6;

const rowAt = (b: BackendRun | undefined, clients: number): PhaseRow | undefined => b?.signIn.find((x) => x.clients === clients)?.row;

export function backendVerdicts(backends: BackendRun[], postgresStatus: string): Verdict[] {
  const out: Verdict[] = [];
  const byKey = new Map(backends.map((b) => [b.key, b]));
  const sqlite = byKey.get('sqlite');
  const pg1 = byKey.get('pg1');
  if (!pg1) {
    out.push({ target: `PostgreSQL, 1 instance, within ${POSTGRES_WITHIN * 100} % of SQLite`, measured: `PostgreSQL ${postgresStatus || 'not run'}`, met: false });
    return out;
  }
  for (const clients of [16, 64]) {
    const a = rowAt(sqlite, clients);
    const p = rowAt(pg1, clients);
    if (!a || !p) continue;
    const ratio = p.perSecond / a.perSecond;
    out.push({
      target: `PostgreSQL, 1 instance, sign-ins/s within ${POSTGRES_WITHIN * 100} % of SQLite at ${clients} clients (same workers)`,
      measured: `${fmtInt(p.perSecond)}/s vs ${fmtInt(a.perSecond)}/s: ${fmt(ratio, 2)}×`,
      met: ratio >= 1 - POSTGRES_WITHIN,
      about: { kind: 'postgres-within', clients },
    });
  }
  const one = byKey.get('pg1w1');
  const two = byKey.get('pg2w1');
  for (const clients of [16, 64]) {
    const a = rowAt(one, clients);
    const p = rowAt(two, clients);
    if (!a || !p) continue;
    const ratio = p.perSecond / a.perSecond;
    out.push({
      target: `PostgreSQL, 2 instances ≥ ${SCALE_OUT}× one (1 worker each) at ${clients} clients`,
      measured: `${fmtInt(p.perSecond)}/s vs ${fmtInt(a.perSecond)}/s: ${fmt(ratio, 2)}×`,
      met: ratio >= SCALE_OUT,
      about: { kind: 'scale-out', clients },
    });
  }
  return out;
}

const mib = (row: PhaseRow): string => (row.rssMiB.length === 0 ? '–' : row.rssMiB.map((m) => fmtInt(m)).join(' / '));
const loops = (row: PhaseRow): string => (row.loop ? row.loop.perProcessP99Ms.map((v) => fmt(v, 1)).join(' / ') : '–');
const cpuPer = (row: PhaseRow): string => fmt(row.serverCpuMs / Math.max(1, row.completed + row.warmupCompleted), 2);
const share = (ms: number, wallMs: number): string => `${fmt((100 * ms) / wallMs, 0)} %`;
/** Server, generators, PostgreSQL, their sum and the whole machine, as shares of one core. */
const cores = (row: PhaseRow): string =>
  [
    share(row.serverCpuMs, row.phaseWallMs),
    share(row.generatorCpuMs, row.phaseWallMs),
    row.postgresCpuMs === undefined ? '–' : share(row.postgresCpuMs, row.phaseWallMs),
    share(row.serverCpuMs + row.generatorCpuMs + (row.postgresCpuMs ?? 0), row.phaseWallMs),
    row.machineCpuMs === undefined ? '–' : share(row.machineCpuMs, row.phaseWallMs),
  ].join(' | ');
const errors = (row: PhaseRow): string => (row.errorCount === 0 ? '0' : `**${row.errorCount}** (${Object.entries(row.errors).map(([k, n]) => `${k}: ${n}`).join('; ')})`);

export function backendSection(r: BenchResults): string[] {
  const lines = [
    '## Both backends side by side',
    '',
    'Every configuration ran the same ceremonies from the same two load-generator processes on the same two cores.',
    'Each gateway instance is `node --import tsx server/main.ts`, a process tree of its own on its own port',
    '(GATEWAY_WORKERS as listed: a cluster primary and its workers; with 1 worker, one process). With two instances the',
    'virtual browsers are spread over them evenly (no load balancer: browser i talks to instance i mod 2). How the two',
    'cores were shared: nothing is pinned; the instances, the load generators and PostgreSQL\'s own backends all take',
    'turns on both cores, and the "Server CPU", "Generators CPU" and "PostgreSQL CPU" columns say who used how much',
    '(100 % = one core busy for the whole phase). PostgreSQL\'s processes (the postmaster and every backend, from /proc)',
    'are not in "Server CPU"; "Ours" is the sum of the three (of 200 % = both cores): near 200 % a configuration is bound',
    'by the machine\'s cores. "Machine" is every process on the machine (/proc/stat): above "Ours", other work shared the cores.',
    'Event-loop p99 is listed per process (10 ms sampling, highest first); memory is the highest resident set per',
    'instance during the phase (its whole process tree).',
    '',
  ];
  if (r.postgresStatus) lines.push(`PostgreSQL: ${r.postgresStatus}.`, '');
  const reference = new Map(r.signIn.map((x) => [x.clients, x.reference]));
  lines.push(
    '| Clients | Server | Sign-ins/s | p50 ms | p99 ms | Ratio to reference | Server CPU ms per sign-in | Server CPU | Generators CPU | PostgreSQL CPU | Ours | Machine | Event-loop p99 per process, ms | RSS per instance, MiB | Errors |',
    '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |',
  );
  const clientsList = [...new Set(r.backends.flatMap((b) => b.signIn.map((x) => x.clients)))].sort((a, b) => a - b);
  for (const clients of clientsList) {
    const ref = reference.get(clients);
    for (const b of r.backends) {
      const row = rowAt(b, clients);
      if (!row) continue;
      const ratio = ref ? `${fmt(row.perSecond / ref.perSecond, 2)}×` : '–';
      lines.push(
        `| ${clients} | ${b.label} | ${fmtInt(row.perSecond)} | ${fmt(row.latency.p50, 2)} | ${fmt(row.latency.p99, 2)} | ${ratio} | ${cpuPer(row)} | ${cores(row)} | ${loops(row)} | ${mib(row)} | ${errors(row)} |`,
      );
    }
    if (ref) {
      lines.push(
        `| ${clients} | in-memory reference (1 process) | ${fmtInt(ref.perSecond)} | ${fmt(ref.latency.p50, 2)} | ${fmt(ref.latency.p99, 2)} | 1.00× | ${cpuPer(ref)} | ${cores(ref)} | ${loops(ref)} | ${mib(ref)} | ${errors(ref)} |`,
      );
    }
  }
  const enrolling = r.backends.filter((b) => b.enrolment.length > 0);
  if (enrolling.length > 0) {
    lines.push(
      '',
      'Enrolment ceremonies (one fresh one-time link each; key issued, activation code queued, audit events):',
      '',
      '| Clients | Server | Enrolments/s | p50 ms | p99 ms | Server CPU ms per enrolment | Server CPU | Generators CPU | PostgreSQL CPU | Ours | Machine | Event-loop p99 per process, ms | RSS per instance, MiB | Errors |',
      '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |',
    );
    for (const b of enrolling) {
      for (const e of b.enrolment) {
        lines.push(
          `| ${e.clients} | ${b.label} | ${fmtInt(e.perSecond)}${e.exhausted ? ' (links ran out)' : ''} | ${fmt(e.latency.p50, 2)} | ${fmt(e.latency.p99, 2)} | ${cpuPer(e)} | ${cores(e)} | ${loops(e)} | ${mib(e)} | ${errors(e)} |`,
        );
      }
    }
  }
  return lines;
}

/** Sign-in and enrolment rows of an earlier report (docs/benchmarks-before-issue-14.md), by clients. */
function earlierRows(text: string): { signIn: Map<number, { perSecond: number; p99: number }>; enrol: Map<number, { perSecond: number; p99: number }> } {
  const signIn = new Map<number, { perSecond: number; p99: number }>();
  const enrol = new Map<number, { perSecond: number; p99: number }>();
  const num = (v: string | undefined): number => Number((v ?? '').replace(/,/g, ''));
  for (const line of text.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    // | clients | gateway | per s | p50 | p95 | p99 | ...   (sign-in)
    if (/^\d+$/.test(cells[1] ?? '') && cells[2] === 'gateway') signIn.set(num(cells[1]), { perSecond: num(cells[3]), p99: num(cells[6]) });
    // | clients | per s | p50 | p95 | p99 | ...              (enrolment: the second column is a number)
    else if (/^\d+$/.test(cells[1] ?? '') && /^[\d,]+$/.test(cells[2] ?? '') && cells.length >= 12 && !enrol.has(num(cells[1]))) enrol.set(num(cells[1]), { perSecond: num(cells[2]), p99: num(cells[5]) });
  }
  return { signIn, enrol };
}

/** Before (an earlier report, labelled with its date and commit) and now, on SQLite. */
export function beforeSection(r: BenchResults, before: { file: string; text: string } | undefined): string[] {
  if (!before) return [];
  const date = /- Date: (\S+)/.exec(before.text)?.[1] ?? 'unknown date';
  const earlier = earlierRows(before.text);
  const sqlite = r.backends.find((b) => b.key === 'sqlite');
  if (!sqlite) return [];
  const lines = [
    '## Before and after on SQLite',
    '',
    `"Before" is main before issue 14 (commit 6fb3bf8, the synchronous store), measured ${date} on this machine when it was quiet`,
    `(${before.file}, kept verbatim); "now" is this run. Different days and different load on the shared machine: compare`,
    'the shape, and rerun both on a quiet machine for exact ratios.',
    '',
    '| Ceremony | Clients | Before /s | Now /s | Before p99 ms | Now p99 ms |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const { clients, row } of sqlite.signIn) {
    const b = earlier.signIn.get(clients);
    lines.push(`| sign-in | ${clients} | ${b ? fmtInt(b.perSecond) : '–'} | ${fmtInt(row.perSecond)} | ${b ? fmt(b.p99, 1) : '–'} | ${fmt(row.latency.p99, 1)} |`);
  }
  for (const e of sqlite.enrolment) {
    const b = earlier.enrol.get(e.clients);
    lines.push(`| enrolment | ${e.clients} | ${b ? fmtInt(b.perSecond) : '–'} | ${fmtInt(e.perSecond)} | ${b ? fmt(b.p99, 1) : '–'} | ${fmt(e.latency.p99, 1)} |`);
  }
  return lines;
}
