/**
 * The phases of one backend configuration: its population (employees bound in-process, the
 * gateway started, the sign-in keys enrolled and activated over HTTP), its sign-in levels (beside
 * a --baseline gateway when there is one) and its enrolment levels.
 */
import type { BaselineResults } from './reportBaseline.js';
import { alternate, type BaselineGateway } from './baselineRun.js';
import type { GeneratorPool } from './generatorPool.js';
import type { HistogramDelta } from './metricsScraper.js';
import type { BenchOptions } from './options.js';
import { measured, say } from './phases.js';
import { enrolAndActivate, outboxDirOf, preparePeople } from './population.js';
import type { PhaseRow } from './report.js';
import { startGateway, type ServerProcess } from './serverProcess.js';

/** Keys kept aside for the stage benchmark (never used by the load: their counters stay apart). */
export const STAGE_KEYS = 4;

export const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** Employees bound in-process, the gateway started, every sign-in employee's key enrolled and activated over HTTP. */
export async function population(opts: BenchOptions, varDir: string, runDir: string, label: string, databaseUrl?: string) {
  const maxClients = Math.max(...opts.signInLevels, 16);
  const linksPerLevel = Math.ceil((opts.enrolLinksPerSecond * (opts.warmupMs + opts.durationMs)) / 1000);
  say(`${label}: binding ${maxClients + STAGE_KEYS} sign-in employees and ${linksPerLevel * opts.enrolLevels.length} enrolment employees in-process`);
  let lastProgress = 0;
  const people = await preparePeople(
    varDir,
    { signIn: maxClients + STAGE_KEYS, enrolment: linksPerLevel * opts.enrolLevels.length },
    (done, total) => {
      if (Date.now() - lastProgress > 5000 || done === total) {
        lastProgress = Date.now();
        say(`  ${done} of ${total} people bound`);
      }
    },
    databaseUrl,
  );
  const env = databaseUrl ? { GATEWAY_DATABASE_URL: databaseUrl } : undefined;
  say(`${label}: starting the gateway (GATEWAY_WORKERS=${opts.workers})`);
  const gateway = await startGateway({ varDir, runDir, workers: opts.workers, logLevel: opts.logLevel, ...(env ? { env } : {}) });
  say(`${label}: enrolling and activating ${people.signIn.length} keys over HTTP`);
  const members = await enrolAndActivate(gateway.origin, outboxDirOf(varDir), people.signIn);
  return { people, gateway, members, loadMembers: members.slice(0, maxClients), stageMembers: members.slice(maxClients), linksPerLevel, env };
}

/** The sign-in levels against `servers` (one instance or several), then the enrolment levels if `tokens` are given. */
export async function levels(
  opts: BenchOptions,
  pool: GeneratorPool,
  servers: ServerProcess[],
  key: string,
  audience: string,
  metrics: boolean,
  baseline?: { gateway: BaselineGateway; rows: BaselineResults['rows'] },
  postgresCpuMs?: () => number,
): Promise<{ signIn: { clients: number; row: PhaseRow }[]; histograms: HistogramDelta[] }> {
  const signIn: { clients: number; row: PhaseRow }[] = [];
  let histograms: HistogramDelta[] = [];
  const origins = servers.map((s) => s.origin);
  for (const [i, clients] of opts.signInLevels.entries()) {
    const now = () => measured(servers, `${key}-signin-${clients}`, () => pool.signIn(`${key} sign-in ${clients}`, origins, audience, clients, opts.warmupMs, opts.durationMs), { metrics, ...(postgresCpuMs ? { postgresCpuMs } : {}) });
    let m: Awaited<ReturnType<typeof now>>;
    if (baseline) {
      const pair = await alternate(baseline.gateway, { clients, audience, warmupMs: opts.warmupMs, durationMs: opts.durationMs, nowFirst: i % 2 === 1 }, now);
      m = pair.now;
      baseline.rows.push({ clients, baseline: pair.baseline.row, now: pair.now.row });
    } else m = await now();
    signIn.push({ clients, row: m.row });
    if (clients === 16) histograms = m.histograms;
  }
  return { signIn, histograms };
}

export async function enrolLevels(
  opts: BenchOptions,
  pool: GeneratorPool,
  server: ServerProcess,
  key: string,
  tokens: string[],
  perLevel: number,
  metrics: boolean,
  postgresCpuMs?: () => number,
): Promise<PhaseRow[]> {
  const rows: PhaseRow[] = [];
  for (const [i, clients] of opts.enrolLevels.entries()) {
    const slice = tokens.slice(i * perLevel, (i + 1) * perLevel);
    const m = await measured([server], `${key}-enrol-${clients}`, () => pool.enrol(`${key} enrolment ${clients}`, server.origin, clients, slice, opts.warmupMs, opts.durationMs), {
      metrics,
      ...(postgresCpuMs ? { postgresCpuMs } : {}),
    });
    rows.push(m.row);
  }
  return rows;
}

