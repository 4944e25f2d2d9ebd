/**
 * The benchmark's results and their Markdown report (printed, and written to docs/benchmarks.md).
 * Every verdict is computed from the measured figures here; none is written by hand.
 */
import type { ProfileSummary } from './cpuProfile.js';
import type { costsPerCeremony } from './profileCosts.js';
import type { CostProfile } from './profiledPhase.js';
import type { CryptoCeiling } from './cryptoCeiling.js';
import type { PhaseFigures } from './generatorPool.js';
import type { AuditVerification } from './growth.js';
import type { HsmCeiling } from './hsmCeiling.js';
import type { Machine } from './machine.js';
import type { HistogramDelta } from './metricsScraper.js';
import type { LoopDelay } from './probeControl.js';
import type { Stage, StageFigures } from './stageBreakdown.js';
import { backendSection, backendVerdicts, beforeSection } from './reportBackends.js';
import { baselineSection, type BaselineResults } from './reportBaseline.js';
import { growthFlatness, growthSection } from './growthReport.js';
import { profileSection } from './reportProfile.js';
import { whySection } from './reportWhy.js';
import { fmt, fmtInt } from './stats.js';

export interface PhaseRow extends PhaseFigures {
  loop: LoopDelay | undefined;
  /** prom-client's nodejs_eventloop_lag_p99_seconds after the phase, ms (when /metrics answers). */
  metricsLoopP99Ms: number | undefined;
  /** CPU the server's processes used over the phase (warm-up included), ms, and the phase's length. */
  serverCpuMs: number;
  phaseWallMs: number;
  /** Highest resident memory of each instance during the phase (its whole process tree), MiB. */
  rssMiB: number[];
  /** PostgreSQL phases: CPU of the private cluster's processes (postmaster and backends) over the phase, ms. */
  postgresCpuMs?: number;
  /** Busy CPU of the whole machine over the phase (every process, /proc/stat), ms. */
  machineCpuMs?: number;
}

/** One backend configuration's figures. */
export interface BackendRun {
  key: string;
  label: string;
  instances: number;
  workersPerInstance: number;
  /** Processes of one instance (cluster primary + workers, or the one process). */
  processesPerInstance: number;
  signIn: { clients: number; row: PhaseRow }[];
  enrolment: PhaseRow[];
}

export interface GrowthRow {
  targetKeys: number;
  activeKeys: number;
  auditEntries: number;
  seedSeconds: number;
  /** After the restart: until the checkpointer had re-hashed the seeded entries and signed the head. */
  checkpointSeconds?: number;
  phase: PhaseRow;
  /** --growth-env: which gateway ("as configured" or NAME=VALUE) and which round (1, 2). */
  variant?: string;
  round?: number;
  /** The profiled phase at this size (unless --no-cpu-prof): CPU per sign-in by cost. */
  profile?: CostProfile;
}

export interface BenchResults {
  command: string;
  date: string;
  machine: Machine;
  settings: {
    workersRequested: number;
    clusterSupported: boolean;
    gatewayProcesses: number;
    generators: number;
    durationMs: number;
    warmupMs: number;
    populationKeys: number;
    raisedLimits: Record<string, string>;
    logLevel: string;
    metricsEndpoint: string;
  };
  ceilings: { crypto: CryptoCeiling | string; hsm: HsmCeiling | string };
  signIn: { clients: number; gateway: PhaseRow; reference: PhaseRow | undefined }[];
  enrolment: PhaseRow[];
  /** SQLite and PostgreSQL configurations side by side. */
  backends: BackendRun[];
  postgresStatus: string;
  stages: StageFigures | string;
  /** An earlier report to compare with (docs/benchmarks-before-issue-14.md). */
  before: { file: string; text: string } | undefined;
  /** The stage table on PostgreSQL (undefined when PostgreSQL did not run). */
  stagesPostgres: StageFigures | string | undefined;
  histograms: HistogramDelta[];
  growth: { status: string; rows: GrowthRow[] };
  audit: AuditVerification | string;
  profile: (ProfileSummary & { costs: ReturnType<typeof costsPerCeremony> }) | undefined;
  /** The profiled 16-client phases, costs per sign-in by the same classifier (absent with --no-cpu-prof). */
  costProfiles?: { gateway?: CostProfile; reference?: CostProfile; postgres?: CostProfile };
  notes: string[];
  /** --baseline: an older commit benched in the same run, phase by phase. */
  baseline?: BaselineResults;
}

export const TARGETS = {
  referenceRatio: 1.5,
  p99At16Ms: 25,
  enrolmentPerSecond: 500,
  postgresWithinOfSqlite: 0.2,
  scaleOutRatio: 1.6,
} as const;

/** Which target a verdict is about, so that reportWhy.ts can explain a target that is not met. */
export type TargetKind =
  | { kind: 'reference-ratio'; clients: number }
  | { kind: 'p99'; clients: number }
  | { kind: 'postgres-within'; clients: number }
  | { kind: 'scale-out'; clients: number }
  | { kind: 'enrolment'; backend: string }
  | { kind: 'other' };

export interface Verdict {
  target: string;
  measured: string;
  met: boolean;
  about?: TargetKind;
}

function errorsOf(row: PhaseRow | undefined): string {
  if (!row) return '–';
  if (row.errorCount === 0) return '0';
  return `**${row.errorCount}** (${Object.entries(row.errors)
    .map(([k, n]) => `${k}: ${n}`)
    .join('; ')})`;
}

const loopOf = (row: PhaseRow | undefined): string => (row?.loop ? fmt(row.loop.p99Ms, 1) : '–');
/** Server CPU per ceremony (warm-up ceremonies included, as is their CPU), and as a share of one core. */
const cpuPerCeremony = (row: PhaseRow): string => fmt(row.serverCpuMs / (row.completed + row.warmupCompleted), 2);
const cpuPercent = (ms: number, wallMs: number): string => `${fmt((100 * ms) / wallMs, 0)} %`;
const cpuColumns = (row: PhaseRow): string =>
  `${cpuPerCeremony(row)} | ${cpuPercent(row.serverCpuMs, row.phaseWallMs)} | ${cpuPercent(row.generatorCpuMs, row.phaseWallMs)}`;
const metricsLoopOf = (row: PhaseRow | undefined): string => fmt(row?.metricsLoopP99Ms, 1);

export function verdicts(r: BenchResults): Verdict[] {
  const out: Verdict[] = [];
  for (const clients of [16, 64]) {
    const at = r.signIn.find((x) => x.clients === clients);
    if (!at?.reference) continue;
    const ratio = at.gateway.perSecond / at.reference.perSecond;
    out.push({
      target: `Sign-ins/s on SQLite with everything on ≥ ${TARGETS.referenceRatio}× the in-memory reference at ${clients} clients`,
      measured: `${fmtInt(at.gateway.perSecond)}/s vs ${fmtInt(at.reference.perSecond)}/s: ${fmt(ratio, 2)}×`,
      met: ratio >= TARGETS.referenceRatio,
      about: { kind: 'reference-ratio', clients },
    });
  }
  out.push(...backendVerdicts(r.backends, r.postgresStatus));
  const at16 = r.signIn.find((s) => s.clients === 16);
  if (at16) {
    out.push({
      target: `Sign-in p99 < ${TARGETS.p99At16Ms} ms at 16 concurrent clients`,
      measured: `${fmt(at16.gateway.latency.p99, 1)} ms`,
      met: at16.gateway.latency.p99 < TARGETS.p99At16Ms,
      about: { kind: 'p99', clients: 16 },
    });
  }
  for (const b of r.backends) {
    const enrolPeak = b.enrolment.reduce<PhaseRow | undefined>((best, e) => (e.perSecond > (best?.perSecond ?? -1) ? e : best), undefined);
    if (!enrolPeak) continue;
    out.push({
      target: `Enrolment ceremonies ≥ ${TARGETS.enrolmentPerSecond}/s (${b.label})`,
      measured: `${fmtInt(enrolPeak.perSecond)}/s (peak, ${enrolPeak.clients} clients)`,
      met: enrolPeak.perSecond >= TARGETS.enrolmentPerSecond,
      about: { kind: 'enrolment', backend: b.key },
    });
  }
  const flat = growthFlatness(r.growth.rows);
  if (flat) {
    out.push({
      target: `Latency flat with more keys: p99 at ${fmtInt(flat.top.activeKeys)} keys within 1.2× of ${fmtInt(flat.base.activeKeys)} (SQLite${flat.variant ? `, gateway ${flat.variant}, mean p99 of its rounds` : ''})`,
      measured: `${fmt(flat.topP99, 1)} ms vs ${fmt(flat.baseP99, 1)} ms: ${fmt(flat.ratio, 2)}×`,
      met: flat.ratio <= 1.2,
    });
  }
  const phases = [
    ...r.signIn.flatMap((s) => (s.reference ? [s.reference] : [])),
    ...r.backends.flatMap((b) => [...b.signIn.map((x) => x.row), ...b.enrolment]),
    ...r.growth.rows.map((g) => g.phase),
  ];
  const errors = phases.reduce((s, p) => s + p.errorCount, 0);
  out.push({ target: 'No failed ceremony in any phase', measured: `${errors} errors in ${phases.length} phases`, met: errors === 0 });
  return out;
}

function stageTable(stages: StageFigures, ceremonyP50: number | undefined, engine: 'sqlite' | 'postgres'): string[] {
  const rows: [string, Stage, number][] = [
    ['Options: challenge built and put in the ephemeral store (`beginSignIn`)', 'options', 1],
    ['WebAuthn assertion verification (SimpleWebAuthn, pure)', 'verify', 1],
    ['Completion: challenge consumed (ephemeral), key read once, ONE commit of counter, session and audit events (`completeSignIn` − verification − HSM)', 'complete', 1],
    ['Session read by a later request (`resolveSession`)', 'session', 1],
    ['HSM signature of the identity token (`KeyManager.signJws`, SoftHSM)', 'hsm', 1],
    ['Token audit event committed for a later audience (`issueToken` − HSM; not part of a sign-in, whose one commit holds its token\'s event)', 'token-audit', 0],
    ['HTTP round trip through Express + helmet + JSON, no work (×2 per ceremony)', 'http', 2],
    ['Software authenticator (client side, in the load generator)', 'authenticator', 1],
  ];
  // Medians, not means: on a shared machine a few preempted samples would dominate a mean.
  const total = rows.reduce((s, [, k, times]) => s + stages[k].p50 * times, 0);
  const lines = [
    '| Stage | p50 ms | Mean ms | p99 ms | Per ceremony ms (p50 × times) | Share of the sum |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(([label, k, times]) => {
      const s = stages[k];
      return `| ${label} | ${fmt(s.p50, 3)} | ${fmt(s.mean, 3)} | ${fmt(s.p99, 3)} | ${fmt(s.p50 * times, 3)} | ${fmt((100 * s.p50 * times) / total, 0)} % |`;
    }),
    `| **Sum of the stages** | | | | **${fmt(total, 3)}** | 100 % |`,
  ];
  if (ceremonyP50 !== undefined) lines.push(`| Whole ceremony over HTTP, 1 client (p50, for comparison) | | | | ${fmt(ceremonyP50, 3)} | |`);
  const cpu = stages.verifyCpu;
  lines.push(
    ...(cpu
      ? [
          `| CPU of the WebAuthn check (all threads of the process, one check at a time): the gateway's \`verifyAssertion\` | ${fmt(cpu.gateway.p50, 3)} | ${fmt(cpu.gateway.mean, 3)} | ${fmt(cpu.gateway.p99, 3)} | | |`,
          `| For comparison: CPU of the same assertion checked by SimpleWebAuthn's \`verifyAuthenticationResponse\` alone, as the in-memory reference calls it (the two take turns in going first) | ${fmt(cpu.library.p50, 3)} | ${fmt(cpu.library.mean, 3)} | ${fmt(cpu.library.p99, 3)} | | |`,
        ]
      : []),
    engine === 'sqlite'
      ? `| Floor: one raw 1-row SQLite commit (the adapter's writer: WAL, flushed with fdatasync before it is acknowledged), same file system | ${fmt(stages.commit.p50, 3)} | ${fmt(stages.commit.mean, 3)} | ${fmt(stages.commit.p99, 3)} | | |`
      : `| Floor: one 1-row PostgreSQL write through the port (BEGIN, INSERT … ON CONFLICT, COMMIT; fsync on) | ${fmt(stages.commit.p50, 3)} | ${fmt(stages.commit.mean, 3)} | ${fmt(stages.commit.p99, 3)} | | |`,
    `| Database round trips per sign-in (statements, BEGIN and COMMIT included): options ${fmt(stages.statements.options, 1)}, completion ${fmt(stages.statements.complete, 1)}; the per-IP and per-account rate limits add theirs per request | | | | | |`,
    `| Durable commits per sign-in (write transactions begun, options and completion; the challenge is ephemeral) | | | | ${fmt(stages.statements.durableCommits, 2)} | |`,
  );
  return lines;
}

/** A warning when other work shared the machine (load average above its cores at the start or the end). */
function busyWarning(m: BenchResults['machine']): string[] {
  const loads = [m.loadAverage, m.loadAverageAtEnd ?? ''].map((l) => Number(l.split(' ')[0]));
  const worst = Math.max(...loads.filter(Number.isFinite));
  if (!(worst > m.cores)) return [];
  return [
    `- **Busy machine**: load average ${fmt(worst, 1)} on ${m.cores} cores (start ${m.loadAverage}; end ${m.loadAverageAtEnd ?? 'unknown'}): other work shared the cores and the disk, so throughput and latency here are noisy; rerun on a quiet machine before reading the targets.`,
  ];
}

export function renderReport(r: BenchResults): string {
  const m = r.machine;
  const s = r.settings;
  const v = verdicts(r);
  const lines: string[] = [
    '# Benchmark',
    '',
    'Generated by `npm run bench` (scripts/bench.ts). Figures, not tests: they depend on the machine and on what else',
    'ran on it at the time.',
    '',
    `- Command: \`${r.command}\``,
    `- Date: ${r.date}`,
    `- Machine: ${m.cpu}, ${m.cores} cores, ${fmt(m.ramGiB, 1)} GiB RAM, ${m.kernel}; load average at start ${m.loadAverage}`,
    `- Node ${m.node}; ${m.softhsm.startsWith('unknown') ? 'SoftHSM version unknown' : `SoftHSM ${m.softhsm}`}; SQLite ${m.sqlite} (better-sqlite3), journal_mode=${m.journalMode}, synchronous=${m.synchronous}; var dir on ${m.fileSystem}`,
    `- Gateway under test: \`node --import tsx server/main.ts\`, its own process, fresh temp var dir, GATEWAY_WORKERS=${s.workersRequested} → ${
      s.clusterSupported ? `${s.gatewayProcesses} processes (cluster primary + workers)` : `${s.gatewayProcesses} process (server/main.ts has no cluster support yet: single process)`
    }; GATEWAY_LOG_LEVEL=${s.logLevel}; HSM signing (SoftHSM), durable commits and the audit chain all on`,
    `- Raised limits: ${Object.keys(s.raisedLimits).length > 0 ? Object.entries(s.raisedLimits).map(([k, v2]) => `${k}=${v2}`).join(', ') : 'none found in server/config.ts'}`,
    `- Load: ${s.generators} load-generator process(es) (the clients are split over them), sharing the cores with the server; ${s.warmupMs / 1000} s warm-up + ${s.durationMs / 1000} s measured per phase; every virtual client is one browser with its own cookie jar and its own key (${s.populationKeys} active keys enrolled and activated over HTTP)`,
    `- Metrics endpoint: ${s.metricsEndpoint}`,
    ...busyWarning(m),
    '',
    '## Targets',
    '',
    '| Target | Measured | Verdict |',
    '| --- | --- | --- |',
    ...v.map((x) => `| ${x.target} | ${x.measured} | ${x.met ? 'met' : '**NOT met**'} |`),
    ...whySection(r, v),
    '',
    '## Ceilings (same run)',
    '',
    '| Ceiling | Per second |',
    '| --- | ---: |',
  ];
  if (typeof r.ceilings.crypto === 'string') lines.push(`| node:crypto ECDSA P-256 verifications | not measured: ${r.ceilings.crypto} |`);
  else {
    lines.push(`| node:crypto ECDSA P-256 verifications, 1 core | ${fmtInt(r.ceilings.crypto.oneCorePerSecond)} |`);
    lines.push(`| node:crypto ECDSA P-256 verifications, ${r.ceilings.crypto.threads} cores (worker_threads) | ${fmtInt(r.ceilings.crypto.allCoresPerSecond)} |`);
  }
  if (typeof r.ceilings.hsm === 'string') lines.push(`| SoftHSM CKM_ECDSA signatures | not measured: ${r.ceilings.hsm} |`);
  else {
    lines.push(`| SoftHSM CKM_ECDSA signatures, raw pkcs11js, 1 session, synchronous (1 core) | ${fmtInt(r.ceilings.hsm.syncOneSessionPerSecond)} |`);
    lines.push(`| SoftHSM CKM_ECDSA signatures, raw pkcs11js, ${r.ceilings.hsm.sessions} sessions, libuv pool (all cores) | ${fmtInt(r.ceilings.hsm.asyncAllSessionsPerSecond)} |`);
  }
  const crypto2 = typeof r.ceilings.crypto === 'string' ? undefined : r.ceilings.crypto.allCoresPerSecond;
  lines.push(
    '',
    '## Sign-in on SQLite: gateway vs in-memory reference',
    '',
    'A sign-in is the whole browser ceremony over HTTP: POST /api/signin/options (email) → software authenticator',
    '→ POST /api/signin/verify with an audience, answered with an HSM-signed identity token (gateway) or a jose-signed',
    'JWT (reference). Latency is the whole ceremony as the client sees it. Event-loop delay p99 is the worst over the',
    "server's processes, from perf_hooks in each process (10 ms sampling); the /metrics column is prom-client's",
    '`nodejs_eventloop_lag_p99_seconds` when the gateway exposes it. CPU is user + system time from /proc over the',
    "phase (warm-up included): the server's processes per ceremony, and server and load generators as a share of one",
    'core (200 % = both cores).',
    '',
    '| Clients | Server | Sign-ins/s | p50 ms | p95 ms | p99 ms | Event-loop p99 ms | /metrics loop p99 ms | Ratio to reference | Share of the verify ceiling (all cores) | Server CPU ms per sign-in | Server CPU | Generators CPU | Errors |',
    '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  );
  for (const row of r.signIn) {
    const g = row.gateway;
    const ref = row.reference;
    const ratio = ref ? g.perSecond / ref.perSecond : Number.NaN;
    const share = crypto2 ? `${fmt((100 * g.perSecond) / crypto2, 1)} %` : '–';
    lines.push(
      `| ${row.clients} | gateway | ${fmtInt(g.perSecond)} | ${fmt(g.latency.p50, 2)} | ${fmt(g.latency.p95, 2)} | ${fmt(g.latency.p99, 2)} | ${loopOf(g)} | ${metricsLoopOf(g)} | ${fmt(ratio, 2)}× | ${share} | ${cpuColumns(g)} | ${errorsOf(g)} |`,
    );
    if (ref) {
      const refShare = crypto2 ? `${fmt((100 * ref.perSecond) / crypto2, 1)} %` : '–';
      lines.push(
        `| ${row.clients} | reference | ${fmtInt(ref.perSecond)} | ${fmt(ref.latency.p50, 2)} | ${fmt(ref.latency.p95, 2)} | ${fmt(ref.latency.p99, 2)} | ${loopOf(ref)} | – | 1.00× | ${refShare} | ${cpuColumns(ref)} | ${errorsOf(ref)} |`,
      );
    }
  }
  const authMean = r.signIn.find((x) => x.clients === 1)?.gateway.authenticatorMeanMs;
  if (authMean !== undefined) lines.push('', `The software authenticator's own time (in the load generator) is included in the latency: ${fmt(authMean, 3)} ms per ceremony at 1 client.`);

  lines.push('', ...backendSection(r));
  const earlier = beforeSection(r, r.before);
  if (earlier.length > 0) lines.push('', ...earlier);
  lines.push(
    '',
    '## Enrolment (SQLite)',
    '',
    'POST /api/enrolment/options with a fresh one-time link → the authenticator creates a P-256 credential → POST',
    '/api/enrolment/verify (key issued, activation code queued to the outbox, audit events), one link per ceremony',
    '(issued in bulk before the gateway started). A phase ends early if its links run out (marked).',
    '',
    '| Clients | Enrolments/s | p50 ms | p95 ms | p99 ms | Event-loop p99 ms | /metrics loop p99 ms | Server CPU ms per enrolment | Server CPU | Generators CPU | Errors |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...r.enrolment.map(
      (e) =>
        `| ${e.clients} | ${fmtInt(e.perSecond)}${e.exhausted ? ' (links ran out)' : ''} | ${fmt(e.latency.p50, 2)} | ${fmt(e.latency.p95, 2)} | ${fmt(e.latency.p99, 2)} | ${loopOf(e)} | ${metricsLoopOf(e)} | ${cpuColumns(e)} | ${errorsOf(e)} |`,
    ),
  );

  lines.push('', '## Where the time of a sign-in goes', '');
  if (typeof r.stages === 'string') lines.push(`Not measured: ${r.stages}`);
  else {
    lines.push(
      "Each stage of the gateway's sign-in path timed on its own, one sign-in at a time, in a separate process against",
      "the run's database and the real SoftHSM token (scripts/bench/stageBreakdown.ts), with the gateway stopped. The",
      'sum is what one sign-in costs without contention; under load the cores are shared with the load generators',
      'and the durable commits of all clients queue for SQLite\'s single writer.',
      '',
      ...stageTable(r.stages, r.signIn.find((x) => x.clients === 1)?.gateway.latency.p50, 'sqlite'),
    );
  }
  if (r.stagesPostgres !== undefined) {
    lines.push('', 'The same stages on PostgreSQL (the run\'s database on the private cluster, the gateway stopped):', '');
    if (typeof r.stagesPostgres === 'string') lines.push(`Not measured: ${r.stagesPostgres}`);
    else lines.push(...stageTable(r.stagesPostgres, r.backends.find((b) => b.key === 'pg1')?.signIn.find((x) => x.clients === 1)?.row.latency.p50, 'postgres'));
  }
  if (r.histograms.length > 0) {
    lines.push(
      '',
      "The gateway's own Prometheus histograms during the 16-client sign-in phase (mean per observation):",
      '',
      '| Series | Observations | Mean ms |',
      '| --- | ---: | ---: |',
      ...r.histograms.slice(0, 20).map((h) => `| \`${h.series}\` | ${fmtInt(h.count)} | ${fmt(h.series.includes('_seconds') ? h.mean * 1000 : h.mean, 3)} |`),
    );
  }
  lines.push(...profileSection(r));

  lines.push('', '## Growth', '');
  if (r.growth.rows.length === 0) lines.push(`Not run: ${r.growth.status}`);
  else {
    lines.push(...growthSection(r.growth, { loopOf, cpuPerCeremony, errorsOf }));
  }
  lines.push(...baselineSection(r.baseline));

  lines.push('', '## Audit chain verification', '');
  if (typeof r.audit === 'string') lines.push(`Not measured: ${r.audit}`);
  else {
    lines.push(
      '| Entries | Seconds | Entries/s | Signed checkpoints | Intact | Method |',
      '| ---: | ---: | ---: | ---: | --- | --- |',
      `| ${fmtInt(r.audit.entries)} | ${fmt(r.audit.seconds, 2)} | ${fmtInt(r.audit.perSecond)} | ${fmtInt(r.audit.checkpoints)} | ${r.audit.ok ? 'yes' : '**NO**'} | ${r.audit.method} |`,
    );
  }
  if (r.notes.length > 0) lines.push('', '## Notes', '', ...r.notes.map((n) => `- ${n}`));
  lines.push('');
  return lines.join('\n');
}
