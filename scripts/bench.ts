/**
 * The load benchmark: `npm run bench` (options: `npm run bench -- --help`).
 *
 * In one run, on this machine:
 *  1. ceilings: raw node:crypto ECDSA P-256 verifications/s (1 core, all cores) and raw SoftHSM
 *     CKM_ECDSA signatures/s;
 *  2. a fresh temp var dir: employees bound and one-time enrolment links issued in bulk
 *     in-process; the gateway started as its own process (`node --import tsx server/main.ts`,
 *     GATEWAY_WORKERS); every sign-in employee enrols and activates a key over HTTP;
 *  3. sign-in phases at 1, 16, 64 concurrent clients driven by separate load-generator processes
 *     (whole browser ceremonies ending in an HSM-signed identity token), with the gateway's
 *     event-loop delay per phase; optionally a CPU profile of a 16-client phase (--cpu-prof);
 *  4. enrolment phases (one fresh link per ceremony);
 *  5. the per-stage cost of a sign-in (gateway stopped), the in-memory reference under the same
 *     load, growth to 10k/100k/1M keys (scripts/seed-keys.ts), and the audit chain's
 *     verification speed;
 *  6. the table: printed, written to docs/benchmarks.md (unless --no-write) and --out FILE.
 * Child processes and the temp dir are removed on exit and on Ctrl-C; the HSM keys the run's
 * gateway generated are destroyed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cleanupAll, keepTempDirs, killAllNow, onCleanup, trackTempDir } from './bench/children.js';
import { summariseProfiles } from './bench/cpuProfile.js';
import { costsPerCeremony } from './bench/profileCosts.js';
import { measureCryptoCeiling } from './bench/cryptoCeiling.js';
import { GeneratorPool } from './bench/generatorPool.js';
import { countDatabase, loadSeedKeys, seed, timeAuditVerification } from './bench/growth.js';
import { measureHsmCeiling } from './bench/hsmCeiling.js';
import { describeMachine } from './bench/machine.js';
import { scrapeMetrics, type HistogramDelta } from './bench/metricsScraper.js';
import { USAGE, parseOptions, type BenchOptions } from './bench/options.js';
import { benchConfig, enrolAndActivate, outboxDirOf, preparePeople } from './bench/population.js';
import { destroyRunKeys, measured, say } from './bench/phases.js';
import { postgresMissing, startBenchDatabase } from './bench/postgresBackend.js';
import { renderReport, type BackendRun, type BenchResults, type GrowthRow, type PhaseRow } from './bench/report.js';
import { raisedLimits, repoRoot, startGateway, startReference, type ServerProcess } from './bench/serverProcess.js';
import { runStageBreakdown, type StageFigures } from './bench/stageBreakdown.js';
import { alternate, startBaselineGateway, type BaselineGateway } from './bench/baselineRun.js';
import type { BaselineResults } from './bench/reportBaseline.js';

/** Keys kept aside for the stage benchmark (never used by the load: their counters stay apart). */
const STAGE_KEYS = 4;

const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** Employees bound in-process, the gateway started, every sign-in employee's key enrolled and activated over HTTP. */
async function population(opts: BenchOptions, varDir: string, runDir: string, label: string, databaseUrl?: string) {
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
async function levels(
  opts: BenchOptions,
  pool: GeneratorPool,
  servers: ServerProcess[],
  key: string,
  audience: string,
  metrics: boolean,
  baseline?: { gateway: BaselineGateway; rows: BaselineResults['rows'] },
): Promise<{ signIn: { clients: number; row: PhaseRow }[]; histograms: HistogramDelta[] }> {
  const signIn: { clients: number; row: PhaseRow }[] = [];
  let histograms: HistogramDelta[] = [];
  const origins = servers.map((s) => s.origin);
  for (const [i, clients] of opts.signInLevels.entries()) {
    const now = () => measured(servers, `${key}-signin-${clients}`, () => pool.signIn(`${key} sign-in ${clients}`, origins, audience, clients, opts.warmupMs, opts.durationMs), { metrics });
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

async function enrolLevels(opts: BenchOptions, pool: GeneratorPool, server: ServerProcess, key: string, tokens: string[], perLevel: number, metrics: boolean): Promise<PhaseRow[]> {
  const rows: PhaseRow[] = [];
  for (const [i, clients] of opts.enrolLevels.entries()) {
    const slice = tokens.slice(i * perLevel, (i + 1) * perLevel);
    const m = await measured([server], `${key}-enrol-${clients}`, () => pool.enrol(`${key} enrolment ${clients}`, server.origin, clients, slice, opts.warmupMs, opts.durationMs), { metrics });
    rows.push(m.row);
  }
  return rows;
}

/**
 * PostgreSQL: a private cluster, one database; one instance with the run's workers (beside
 * SQLite's figures), then one instance with one worker and two instances with one worker each
 * (the scale-out ratio), every instance its own process tree on its own port, one database.
 */
async function runPostgres(opts: BenchOptions, runDir: string, notes: string[]): Promise<{ backends: BackendRun[]; status: string; stages?: StageFigures | string }> {
  const missing = postgresMissing();
  if (missing) return { backends: [], status: `not run: ${missing}` };
  say('PostgreSQL: starting a private cluster (scripts/postgres-cluster.sh, var/bench-postgres-<pid>)');
  const db = await startBenchDatabase();
  const varDir = path.join(runDir, 'var-postgres');
  fs.mkdirSync(varDir, { mode: 0o700 });
  const config = benchConfig(varDir, db.url);
  onCleanup(() => destroyRunKeys(config));
  const pop = await population(opts, varDir, runDir, 'PostgreSQL', db.url);
  const audience = config.tokenAudiences[0] ?? 'urn:demo:intranet';
  const pool = await GeneratorPool.start(opts.generators, pop.loadMembers);
  const backends: BackendRun[] = [];
  let stages: StageFigures | string | undefined;
  const env = pop.env ?? {};
  try {
    let gateway = pop.gateway;
    const processes = gateway.processTree().length;
    const one = await levels(opts, pool, [gateway], 'pg1', audience, true);
    const enrolment = await enrolLevels(opts, pool, gateway, 'pg1', pop.people.enrolmentTokens, pop.linksPerLevel, true);
    backends.push({ key: 'pg1', label: `PostgreSQL, 1 instance × ${opts.workers} workers`, instances: 1, workersPerInstance: opts.workers, processesPerInstance: processes, signIn: one.signIn, enrolment });
    await gateway.stop();
    say(`PostgreSQL: per-stage cost of a sign-in (${opts.stageIterations} sign-ins, gateway stopped)`);
    stages = await runStageBreakdown({ varDir, databaseUrl: db.url, iterations: opts.stageIterations, audience, credentials: pop.stageMembers }).catch(errorText);

    if (opts.scaleOut) {
      gateway = await startGateway({ varDir, runDir, workers: 1, logLevel: opts.logLevel, env });
      const single = await levels(opts, pool, [gateway], 'pg1w1', audience, true);
      backends.push({ key: 'pg1w1', label: 'PostgreSQL, 1 instance × 1 worker', instances: 1, workersPerInstance: 1, processesPerInstance: gateway.processTree().length, signIn: single.signIn, enrolment: [] });
      const second = await startGateway({ varDir, runDir, workers: 1, logLevel: opts.logLevel, env });
      try {
        const two = await levels(opts, pool, [gateway, second], 'pg2w1', audience, false);
        backends.push({ key: 'pg2w1', label: 'PostgreSQL, 2 instances × 1 worker', instances: 2, workersPerInstance: 1, processesPerInstance: second.processTree().length, signIn: two.signIn, enrolment: [] });
      } finally {
        await second.stop();
        await gateway.stop();
      }
    }
  } finally {
    await pool.close();
  }
  notes.push(`PostgreSQL: ${db.settings}; the cluster of scripts/postgres-cluster.sh on a private Unix socket, started for the run and stopped at its end. The gateway connects as the cluster's superuser (the benchmark's own throw-away database).`);
  return { backends, status: '', ...(stages !== undefined ? { stages } : {}) };
}

/** The figures of main before issue 14, kept for the before/after table. */
function readBefore(): { file: string; text: string } | undefined {
  const file = path.join('docs', 'benchmarks-before-issue-14.md');
  try {
    return { file, text: fs.readFileSync(path.join(repoRoot, file), 'utf8') };
  } catch {
    return undefined;
  }
}

async function run(opts: BenchOptions): Promise<BenchResults> {
  const started = Date.now();
  const runDir = trackTempDir(fs.mkdtempSync(path.join(os.tmpdir(), 'gw-bench-')));
  const varDir = path.join(runDir, 'var');
  fs.mkdirSync(varDir, { mode: 0o700 });
  process.env['SOFTHSM2_CONF'] ??= path.join(repoRoot, 'var', 'softhsm2.conf');
  const dbFile = benchConfig(varDir).dbFile;
  onCleanup(() => destroyRunKeys(benchConfig(varDir)));
  const notes: string[] = [];
  const machine = await describeMachine(varDir);

  say(`ceilings (${opts.ceilingMs / 1000} s each)`);
  const crypto = await measureCryptoCeiling(opts.ceilingMs).catch(errorText);
  const hsm = await measureHsmCeiling(opts.ceilingMs).catch(errorText);

  const pop = opts.backends.includes('sqlite') ? await population(opts, varDir, runDir, 'SQLite') : undefined;
  if (!pop) throw new Error('--backends must include sqlite (the reference, the stages and growth run on its population)');
  let gateway = pop.gateway;
  const gatewayProcesses = gateway.processTree().length;
  if (!gateway.clusterSupported && opts.workers > 1) notes.push(`server/main.ts does not read GATEWAY_WORKERS yet: the gateway ran as one process although ${opts.workers} workers were asked for.`);
  const metricsProbe = await scrapeMetrics(gateway.origin, process.env['GATEWAY_METRICS_TOKEN']);
  const metrics = metricsProbe !== undefined;
  const metricsEndpoint = metrics ? 'GET /metrics answered (prom-client text); scraped before and after every gateway phase' : 'GET /metrics did not answer with Prometheus text in this build: the /metrics columns are empty';

  const { members, loadMembers, stageMembers } = pop;
  const audience = benchConfig(varDir).tokenAudiences[0] ?? 'urn:demo:intranet';
  const pool = await GeneratorPool.start(opts.generators, loadMembers);
  const base = opts.baseline
    ? await startBaselineGateway(opts.baseline, { runDir, clients: loadMembers.length, workers: opts.workers, generators: opts.generators, logLevel: opts.logLevel })
    : undefined;
  const baselineRows: BaselineResults['rows'] = [];
  let profileFiles: string[] = [];
  let profileCeremonies = 0;
  const backends: BackendRun[] = [];

  try {
    const sqlite = await levels(opts, pool, [gateway], 'sqlite', audience, metrics, base ? { gateway: base, rows: baselineRows } : undefined);
    const histograms = sqlite.histograms;
    await base?.stop();

    if (opts.cpuProf) {
      const gw = gateway;
      const m = await measured([gw], 'gateway-signin-16-profiled', () => pool.signIn('gateway sign-in 16 (profiled)', gw.origin, audience, 16, opts.warmupMs, opts.durationMs), {
        metrics,
        profile: true,
      });
      profileFiles = m.profiles;
      profileCeremonies = m.row.completed + m.row.warmupCompleted;
      if (opts.cpuProfDir) {
        fs.mkdirSync(opts.cpuProfDir, { recursive: true });
        profileFiles = profileFiles.map((f) => {
          const dest = path.join(opts.cpuProfDir ?? '', path.basename(f));
          fs.copyFileSync(f, dest);
          return dest;
        });
      }
      notes.push(`CPU profile: an extra 16-client sign-in phase on SQLite with the V8 profiler on in every gateway process (${m.row.perSecond.toFixed(0)} sign-ins/s while profiled; not in the tables above).`);
    }

    const enrolment = await enrolLevels(opts, pool, gateway, 'sqlite', pop.people.enrolmentTokens, pop.linksPerLevel, metrics);
    backends.push({ key: 'sqlite', label: `SQLite, 1 instance × ${opts.workers} workers`, instances: 1, workersPerInstance: opts.workers, processesPerInstance: gatewayProcesses, signIn: sqlite.signIn, enrolment });
    await gateway.stop();

    say(`per-stage cost of a sign-in (${opts.stageIterations} sign-ins, gateway stopped)`);
    const stages: StageFigures | string = await runStageBreakdown({ varDir, iterations: opts.stageIterations, audience, credentials: stageMembers }).catch(errorText);

    say('in-memory reference');
    const populationFile = path.join(runDir, 'reference-population.json');
    fs.writeFileSync(populationFile, JSON.stringify(loadMembers.map((mem) => ({ email: mem.email, credentialId: mem.credential.id, publicKey: mem.publicKeyCose }))), { mode: 0o600 });
    const reference = await startReference({ runDir, populationFile, rpId: benchConfig(varDir).rpId });
    const referenceRows = new Map<number, PhaseRow>();
    try {
      for (const clients of opts.signInLevels) {
        const m = await measured([reference], `reference-signin-${clients}`, () => pool.signIn(`reference sign-in ${clients}`, reference.origin, audience, clients, opts.warmupMs, opts.durationMs), {
          metrics: false,
        });
        referenceRows.set(clients, m.row);
      }
    } finally {
      await reference.stop();
    }

    say('audit chain verification (the run\'s own chain, before growth)');
    let audit: Awaited<ReturnType<typeof timeAuditVerification>> | string;
    try {
      audit = await timeAuditVerification(dbFile);
    } catch (err) {
      audit = errorText(err);
    }

    const growthRows: GrowthRow[] = [];
    let growthStatus = 'skipped (--skip-growth or --quick without --growth)';
    if (opts.growth && opts.growthLevels.length > 0) {
      const seedKeys = await loadSeedKeys();
      if (typeof seedKeys === 'string') growthStatus = `not possible: ${seedKeys}`;
      else {
        growthStatus = '';
        for (const target of opts.growthLevels) {
          const before = await countDatabase(dbFile);
          const add = Math.max(0, target - before.activeKeys);
          say(`growth: seeding ${add} keys (to ${target})`);
          const seedSeconds = add > 0 ? await seed(seedKeys, dbFile, add, `seeding to ${target}`) : 0;
          const counts = await countDatabase(dbFile);
          gateway = await startGateway({ varDir, runDir, workers: opts.workers, logLevel: opts.logLevel });
          try {
            const gw = gateway;
            const m = await measured([gw], `growth-${target}`, () => pool.signIn(`growth ${target} keys, 16 clients`, gw.origin, audience, 16, opts.warmupMs, opts.durationMs), { metrics });
            growthRows.push({ targetKeys: target, ...counts, seedSeconds, phase: m.row });
          } finally {
            await gateway.stop();
          }
        }
      }
    } else if (opts.growth) growthStatus = 'no growth step within --max-keys';

    // The generators of the SQLite population go; PostgreSQL has a population (and generators) of its own.
    await pool.close();
    const postgres: Awaited<ReturnType<typeof runPostgres>> = opts.backends.includes('postgres')
      ? await runPostgres(opts, runDir, notes).catch((err: unknown) => ({ backends: [], status: `failed: ${errorText(err)}` }))
      : { backends: [], status: 'not run (--backends without postgres)' };
    backends.push(...postgres.backends);

    const profile = profileFiles.length > 0 ? { ...summariseProfiles(profileFiles), costs: costsPerCeremony(profileFiles, profileCeremonies) } : undefined;
    notes.push(`Total run time ${((Date.now() - started) / 1000).toFixed(0)} s.`);
    machine.loadAverageAtEnd = os.loadavg().map((l) => l.toFixed(2)).join(' ');
    return {
      command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
      date: new Date().toISOString(),
      machine,
      settings: {
        workersRequested: opts.workers,
        clusterSupported: gateway.clusterSupported,
        gatewayProcesses,
        generators: pool.processes,
        durationMs: opts.durationMs,
        warmupMs: opts.warmupMs,
        populationKeys: members.length,
        raisedLimits: raisedLimits(),
        logLevel: opts.logLevel,
        metricsEndpoint,
      },
      ceilings: { crypto, hsm },
      signIn: sqlite.signIn.map(({ clients, row }) => ({ clients, gateway: row, reference: referenceRows.get(clients) })),
      enrolment,
      backends,
      postgresStatus: postgres.status,
      stages,
      before: readBefore(),
      stagesPostgres: 'stages' in postgres ? postgres.stages : undefined,
      histograms,
      growth: { status: growthStatus, rows: growthRows },
      audit,
      profile,
      notes,
      ...(base
        ? {
            baseline: {
              ref: base.checkout.ref,
              sha: base.checkout.sha,
              rows: baselineRows,
              note: `The baseline is commit ${base.checkout.sha} exported beside this one (git archive into var/bench-baseline/, this checkout's node_modules), with its own var dir and SoftHSM token, its own gateway (GATEWAY_WORKERS=${opts.workers}) and a load-generator pool of its own (${opts.generators} processes, the same generator code). At each level the two gateways were loaded one after the other (the order swapped from level to level); the idle one stayed up. SQLite on both.`,
            },
          }
        : {}),
    };
  } finally {
    await pool.close();
    await base?.stop();
  }
}

async function main(): Promise<number> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  const opts = parseOptions(process.argv.slice(2));
  if (opts.keep) keepTempDirs();
  const results = await run(opts);
  const report = renderReport(results);
  process.stdout.write(`${report}\n`);
  if (opts.write) {
    const file = path.join(repoRoot, 'docs', 'benchmarks.md');
    fs.writeFileSync(file, report);
    say(`written to ${path.relative(process.cwd(), file)}`);
  }
  if (opts.out) fs.writeFileSync(opts.out, report);
  return 0;
}

let interrupted = false;
process.on('SIGINT', () => {
  if (interrupted) return;
  interrupted = true;
  say('interrupted; stopping child processes and removing the temp dir');
  void cleanupAll(3000).finally(() => process.exit(130));
});
process.on('exit', killAllNow);

main()
  .then(async (code) => {
    await cleanupAll();
    process.exitCode = code;
  })
  .catch(async (err: unknown) => {
    // After Ctrl-C the children are being stopped on purpose; their exits are not the failure.
    if (!interrupted) say(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    await cleanupAll();
    process.exitCode = 1;
  });
