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
import { HsmConnection, applySoftHsm2ConfDefault, destroyKeyPair, loadHsmConfig } from '../hsm/index.js';
import { withSqliteFile } from '../server/store/sqlite/index.js';
import { cleanupAll, keepTempDirs, killAllNow, onCleanup, trackTempDir } from './bench/children.js';
import { summariseProfiles } from './bench/cpuProfile.js';
import { measureCryptoCeiling } from './bench/cryptoCeiling.js';
import type { PhaseFigures } from './bench/generatorPool.js';
import { GeneratorPool } from './bench/generatorPool.js';
import { countDatabase, loadSeedKeys, seed, timeAuditVerification } from './bench/growth.js';
import { measureHsmCeiling } from './bench/hsmCeiling.js';
import { describeMachine } from './bench/machine.js';
import { gauge, histogramDeltas, scrapeMetrics, type HistogramDelta } from './bench/metricsScraper.js';
import { USAGE, parseOptions, type BenchOptions } from './bench/options.js';
import { benchConfig, enrolAndActivate, outboxDirOf, preparePeople } from './bench/population.js';
import { renderReport, type BenchResults, type GrowthRow, type PhaseRow } from './bench/report.js';
import { raisedLimits, repoRoot, startGateway, startReference, type ServerProcess } from './bench/serverProcess.js';
import { runStageBreakdown, type StageFigures } from './bench/stageBreakdown.js';

/** Keys kept aside for the stage benchmark (never used by the load: their counters stay apart). */
const STAGE_KEYS = 4;

const say = (line: string): void => {
  process.stderr.write(`bench: ${line}\n`);
};

const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

interface Measured {
  row: PhaseRow;
  histograms: HistogramDelta[];
  profiles: string[];
}

/** One phase against `server`: probe phase, /metrics before and after, the load itself. */
async function measured(server: ServerProcess, label: string, run: () => Promise<PhaseFigures>, opts: { metrics: boolean; profile?: boolean }): Promise<Measured> {
  await server.probe.begin(label, opts.profile ?? false);
  const token = process.env['GATEWAY_METRICS_TOKEN'];
  // prom-client resets its event-loop histogram at every scrape: the scrape after covers the phase.
  const before = opts.metrics ? await scrapeMetrics(server.origin, token) : undefined;
  const cpu0 = server.cpuMs();
  const t0 = performance.now();
  const figures = await run();
  const serverCpuMs = server.cpuMs() - cpu0;
  const phaseWallMs = performance.now() - t0;
  const after = opts.metrics ? await scrapeMetrics(server.origin, token) : undefined;
  const { loop, profiles } = await server.probe.end(label);
  const lag = gauge(after, 'nodejs_eventloop_lag_p99_seconds');
  const row: PhaseRow = { ...figures, loop, metricsLoopP99Ms: lag === undefined ? undefined : lag * 1000, serverCpuMs, phaseWallMs };
  const errors = row.errorCount > 0 ? `, ${row.errorCount} ERRORS ${JSON.stringify(row.errors)}` : '';
  say(`${label}: ${row.perSecond.toFixed(0)}/s, p50 ${row.latency.p50.toFixed(2)} ms, p99 ${row.latency.p99.toFixed(2)} ms${errors}`);
  return { row, histograms: histogramDeltas(before, after), profiles };
}

/** Destroys the signing keys the run's gateway generated on the shared token. */
async function destroyRunKeys(dbFile: string): Promise<void> {
  if (!fs.existsSync(dbFile)) return;
  const ckaIds = (await withSqliteFile(dbFile, (tx) => tx.signingKeys.list())).filter((k) => k.state !== 'destroyed').map((k) => k.ckaId);
  if (ckaIds.length === 0) return;
  applySoftHsm2ConfDefault(process.env, path.join(repoRoot, 'var'));
  const connection = await HsmConnection.open(loadHsmConfig(process.env, path.join(repoRoot, 'var')));
  try {
    for (const id of ckaIds) await destroyKeyPair(connection, id).catch(() => undefined);
  } finally {
    await connection.close();
  }
}

async function run(opts: BenchOptions): Promise<BenchResults> {
  const started = Date.now();
  const runDir = trackTempDir(fs.mkdtempSync(path.join(os.tmpdir(), 'gw-bench-')));
  const varDir = path.join(runDir, 'var');
  fs.mkdirSync(varDir, { mode: 0o700 });
  process.env['SOFTHSM2_CONF'] ??= path.join(repoRoot, 'var', 'softhsm2.conf');
  const dbFile = benchConfig(varDir).dbFile;
  onCleanup(() => destroyRunKeys(dbFile));
  const notes: string[] = [];
  const machine = await describeMachine(varDir);

  say(`ceilings (${opts.ceilingMs / 1000} s each)`);
  const crypto = await measureCryptoCeiling(opts.ceilingMs).catch(errorText);
  const hsm = await measureHsmCeiling(opts.ceilingMs).catch(errorText);

  const maxClients = Math.max(...opts.signInLevels, 16);
  const linksPerLevel = Math.ceil((opts.enrolLinksPerSecond * (opts.warmupMs + opts.durationMs)) / 1000);
  say(`binding ${maxClients + STAGE_KEYS} sign-in employees and ${linksPerLevel * opts.enrolLevels.length} enrolment employees in-process`);
  let lastProgress = 0;
  const people = await preparePeople(varDir, { signIn: maxClients + STAGE_KEYS, enrolment: linksPerLevel * opts.enrolLevels.length }, (done, total) => {
    if (Date.now() - lastProgress > 5000 || done === total) {
      lastProgress = Date.now();
      say(`  ${done} of ${total} people bound`);
    }
  });

  say(`starting the gateway (GATEWAY_WORKERS=${opts.workers})`);
  let gateway = await startGateway({ varDir, runDir, workers: opts.workers, logLevel: opts.logLevel });
  const gatewayProcesses = gateway.processTree().length;
  if (!gateway.clusterSupported && opts.workers > 1) notes.push(`server/main.ts does not read GATEWAY_WORKERS yet: the gateway ran as one process although ${opts.workers} workers were asked for.`);
  const metricsProbe = await scrapeMetrics(gateway.origin, process.env['GATEWAY_METRICS_TOKEN']);
  const metrics = metricsProbe !== undefined;
  const metricsEndpoint = metrics ? 'GET /metrics answered (prom-client text); scraped before and after every gateway phase' : 'GET /metrics did not answer with Prometheus text in this build: the /metrics columns are empty';

  say(`enrolling and activating ${people.signIn.length} keys over HTTP`);
  const members = await enrolAndActivate(gateway.origin, outboxDirOf(varDir), people.signIn);
  const loadMembers = members.slice(0, maxClients);
  const stageMembers = members.slice(maxClients);
  const audience = benchConfig(varDir).tokenAudiences[0] ?? 'urn:demo:intranet';
  const pool = await GeneratorPool.start(opts.generators, loadMembers);
  let histograms: HistogramDelta[] = [];
  let profileFiles: string[] = [];

  try {
    const gatewayRows = new Map<number, PhaseRow>();
    for (const clients of opts.signInLevels) {
      const gw = gateway;
      const m = await measured(gw, `gateway-signin-${clients}`, () => pool.signIn(`gateway sign-in ${clients}`, gw.origin, audience, clients, opts.warmupMs, opts.durationMs), { metrics });
      gatewayRows.set(clients, m.row);
      if (clients === 16) histograms = m.histograms;
    }

    if (opts.cpuProf) {
      const gw = gateway;
      const m = await measured(gw, 'gateway-signin-16-profiled', () => pool.signIn('gateway sign-in 16 (profiled)', gw.origin, audience, 16, opts.warmupMs, opts.durationMs), {
        metrics,
        profile: true,
      });
      profileFiles = m.profiles;
      if (opts.cpuProfDir) {
        fs.mkdirSync(opts.cpuProfDir, { recursive: true });
        profileFiles = profileFiles.map((f) => {
          const dest = path.join(opts.cpuProfDir ?? '', path.basename(f));
          fs.copyFileSync(f, dest);
          return dest;
        });
      }
      notes.push(`CPU profile: an extra 16-client sign-in phase with the V8 profiler on in every gateway process (${m.row.perSecond.toFixed(0)} sign-ins/s while profiled; not in the tables above).`);
    }

    const enrolment: PhaseRow[] = [];
    for (const [i, clients] of opts.enrolLevels.entries()) {
      const tokens = people.enrolmentTokens.slice(i * linksPerLevel, (i + 1) * linksPerLevel);
      const gw = gateway;
      const m = await measured(gw, `gateway-enrol-${clients}`, () => pool.enrol(`gateway enrolment ${clients}`, gw.origin, clients, tokens, opts.warmupMs, opts.durationMs), { metrics });
      enrolment.push(m.row);
    }
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
        const m = await measured(reference, `reference-signin-${clients}`, () => pool.signIn(`reference sign-in ${clients}`, reference.origin, audience, clients, opts.warmupMs, opts.durationMs), {
          metrics: false,
        });
        referenceRows.set(clients, m.row);
      }
    } finally {
      await reference.stop();
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
            const m = await measured(gw, `growth-${target}`, () => pool.signIn(`growth ${target} keys, 16 clients`, gw.origin, audience, 16, opts.warmupMs, opts.durationMs), { metrics });
            growthRows.push({ targetKeys: target, ...counts, seedSeconds, phase: m.row });
          } finally {
            await gateway.stop();
          }
        }
      }
    } else if (opts.growth) growthStatus = 'no growth step within --max-keys';

    say('audit chain verification');
    let audit: Awaited<ReturnType<typeof timeAuditVerification>> | string;
    try {
      audit = await timeAuditVerification(dbFile);
      if (growthRows.length === 0) notes.push(`Audit verification ran on this run's own chain (${audit.entries} entries), not on a 1,000,000-entry chain: growth did not run.`);
    } catch (err) {
      audit = errorText(err);
    }

    const profile = profileFiles.length > 0 ? summariseProfiles(profileFiles) : undefined;
    notes.push(`Total run time ${((Date.now() - started) / 1000).toFixed(0)} s.`);
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
      signIn: opts.signInLevels.map((clients) => {
        const g = gatewayRows.get(clients);
        if (!g) throw new Error(`no gateway figures for ${clients} clients`);
        return { clients, gateway: g, reference: referenceRows.get(clients) };
      }),
      enrolment,
      stages,
      histograms,
      growth: { status: growthStatus, rows: growthRows },
      audit,
      profile,
      notes,
    };
  } finally {
    await pool.close();
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
