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
 *     event-loop delay per phase; a CPU profile of an extra 16-client phase (unless --no-cpu-prof),
 *     of the gateway on SQLite, of the reference and of the gateway on PostgreSQL, charged to costs;
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
import { measureCryptoCeiling } from './bench/cryptoCeiling.js';
import { GeneratorPool } from './bench/generatorPool.js';
import { timeAuditVerification } from './bench/growth.js';
import { runGrowth } from './bench/growthRun.js';
import { measureHsmCeiling } from './bench/hsmCeiling.js';
import { enrolLevels, errorText, levels, population } from './bench/levels.js';
import { describeMachine } from './bench/machine.js';
import { scrapeMetrics } from './bench/metricsScraper.js';
import { USAGE, parseOptions, type BenchOptions } from './bench/options.js';
import { benchConfig } from './bench/population.js';
import { destroyRunKeys, measured, say } from './bench/phases.js';
import { runPostgres } from './bench/postgresRun.js';
import { PhaseAborted } from './bench/phaseGuard.js';
import { PROFILED_CLIENTS, profiledPhase, type CostProfile } from './bench/profiledPhase.js';
import { renderReport, type BackendRun, type BenchResults, type PhaseRow } from './bench/report.js';
import { raisedLimits, repoRoot, startGateway, startReference } from './bench/serverProcess.js';
import { runStageBreakdown, type StageFigures } from './bench/stageBreakdown.js';
import { startBaselineGateway } from './bench/baselineRun.js';
import type { BaselineResults } from './bench/reportBaseline.js';

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
  const costProfiles: { gateway?: CostProfile; reference?: CostProfile; postgres?: CostProfile } = {};
  const backends: BackendRun[] = [];

  try {
    const sqlite = await levels(opts, pool, [gateway], 'sqlite', audience, metrics, base ? { gateway: base, rows: baselineRows } : undefined);
    const histograms = sqlite.histograms;
    await base?.stop();

    if (opts.cpuProf) {
      const p = await profiledPhase(pool, gateway, { key: 'sqlite', server: 'gateway on SQLite', audience, warmupMs: opts.warmupMs, durationMs: opts.durationMs, metrics, keepDir: opts.cpuProfDir });
      profileFiles = p.files;
      costProfiles.gateway = p.profile;
      notes.push(`CPU profile: an extra ${PROFILED_CLIENTS}-client sign-in phase on SQLite with the V8 profiler on in every gateway process (${p.profile.row.perSecond.toFixed(0)} sign-ins/s while profiled; not in the tables above).`);
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
      if (opts.cpuProf) {
        // The same profiled phase and the same cost classifier as the gateway's: costs side by side.
        const p = await profiledPhase(pool, reference, { key: 'reference', server: 'in-memory reference', audience, warmupMs: opts.warmupMs, durationMs: opts.durationMs, metrics: false, keepDir: opts.cpuProfDir });
        costProfiles.reference = p.profile;
        notes.push(`CPU profile of the reference: the same extra ${PROFILED_CLIENTS}-client phase with the profiler on in its process (${p.profile.row.perSecond.toFixed(0)} sign-ins/s while profiled).`);
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

    const growth = await runGrowth(opts, { pool, dbFile, varDir, runDir, audience, metrics });

    // The generators of the SQLite population go; PostgreSQL has a population (and generators) of its own.
    await pool.close();
    const postgres: Awaited<ReturnType<typeof runPostgres>> = opts.backends.includes('postgres')
      ? await runPostgres(opts, runDir, notes).catch((err: unknown) => {
          // A hung phase or a dead child ends the whole run (phaseGuard.ts); a cluster that cannot start is a status.
          if (err instanceof PhaseAborted) throw err;
          say(`PostgreSQL failed: ${errorText(err)}`);
          return { backends: [], status: `failed: ${errorText(err).split('\n')[0] ?? ''}` };
        })
      : { backends: [], status: 'not run (--backends without postgres)' };
    backends.push(...postgres.backends);
    if ('profile' in postgres && postgres.profile) costProfiles.postgres = postgres.profile;

    const profile = profileFiles.length > 0 && costProfiles.gateway ? { ...summariseProfiles(profileFiles), costs: costProfiles.gateway.costs } : undefined;
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
      growth,
      audit,
      profile,
      costProfiles,
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
