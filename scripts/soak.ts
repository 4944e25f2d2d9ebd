/**
 * Soak run of the fault scenarios (issue 7, Faults), longer and at larger scale than the tests:
 *
 *   npm run soak                      10 minutes
 *   npm run soak -- --minutes 2       a short run
 *   npm run soak -- --people 20 --operators 4 --workers 2
 *
 * The real gateway (`server/main.ts`, its own process group, a fresh temporary var/) serves a
 * population enrolled over HTTP with software authenticators. The run has two halves:
 *
 * 1. Kill cycles: a storm of concurrent sign-ins and lifecycle transitions, `kill -9` of the whole
 *    process group at a random depth of the storm, restart on the same var/, then every invariant
 *    of test/support/invariants.ts from the SQLite file and the check that no acknowledged change
 *    was lost. Cycles alternate between one process and GATEWAY_WORKERS processes (node:cluster).
 * 2. Endurance: one gateway process under the storm without kills, with a suspension under
 *    full-speed sign-ins every half minute (not one sign-in sent after the suspension was
 *    acknowledged may succeed), the invariants checked on the live database, and the process
 *    group's resident memory and open file descriptors sampled from start to end.
 *
 * Prints a summary; exits 1 on any invariant violation, lost acknowledged change, sign-in after a
 * suspension, or a gateway that does not come back. Progress (and time left) goes to stderr.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createProgress } from './lib/progress.js';
import { disposeChildVarDir, startChildGateway, type ChildGateway } from '../test/support/childGateway.js';
import { checkAcknowledged, checkInvariants, type InvariantReport } from '../test/support/invariants.js';
import { signIn } from '../test/support/journeys.js';
import { buildPopulation, enrolPeople, startStorm, suspensionUnderLoad, STORM_ENV, type Population, type Storm, type StormStats } from '../test/support/storm.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const USAGE = `Usage: npm run soak -- [--minutes N] [--people N] [--operators N] [--workers N] [--seed N]

  --minutes N     length of the run (default 10; half kill cycles, half endurance)
  --people N      employees signing in and handling their keys (default 12)
  --operators N   helpdesk operators besides the administrator (default 3)
  --workers N     GATEWAY_WORKERS for every other kill cycle and the endurance half (default 2;
                  1 runs without node:cluster throughout)
  --seed N        seed of the storms' random choices (default: the time)
`;

interface Options {
  minutes: number;
  people: number;
  operators: number;
  workers: number;
  seed: number;
}

function parseArgs(argv: string[]): Options {
  const opts: Options = { minutes: 10, people: 12, operators: 3, workers: 2, seed: Date.now() % 100_000 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--help' || flag === '-h') {
      process.stdout.write(USAGE);
      process.exit(0);
    }
    const value = Number(argv[i + 1]);
    const key = flag?.replace(/^--/, '');
    if (key !== 'minutes' && key !== 'people' && key !== 'operators' && key !== 'workers' && key !== 'seed') {
      process.stderr.write(`soak: unknown option ${String(flag)}\n${USAGE}`);
      process.exit(2);
    }
    if (!Number.isFinite(value) || value < (key === 'operators' || key === 'seed' ? 0 : key === 'minutes' ? 0.1 : 1)) {
      process.stderr.write(`soak: ${flag} needs a number\n`);
      process.exit(2);
    }
    opts[key] = key === 'minutes' ? value : Math.floor(value);
    i++;
  }
  return opts;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

interface Totals {
  cycles: number;
  clusterCycles: number;
  signIns: number;
  signInsRefused: number;
  transitions: Record<string, number>;
  refusals: Record<string, number>;
  failures: number;
  violations: string[];
  violationCount: number;
  lost: string[];
  suspensions: { runs: number; before: number; afterAck: number; refusedAfter: number; load: number };
  invariantChecks: number;
}

function add(totals: Totals, s: StormStats): void {
  totals.signIns += s.signIns;
  totals.signInsRefused += s.signInsRefused;
  totals.failures += s.failures;
  for (const [k, n] of Object.entries(s.transitions)) totals.transitions[k] = (totals.transitions[k] ?? 0) + n;
  for (const [k, n] of Object.entries(s.refusals)) totals.refusals[k] = (totals.refusals[k] ?? 0) + n;
}

function record(totals: Totals, label: string, report: InvariantReport, lost: string[]): void {
  totals.invariantChecks++;
  totals.violationCount += report.violationCount;
  for (const v of report.violations) if (totals.violations.length < 50) totals.violations.push(`${label}: ${v}`);
  for (const l of lost) if (totals.lost.length < 50) totals.lost.push(`${label}: ${l}`);
}

async function main(): Promise<number> {
  const opts = parseArgs(process.argv.slice(2));
  process.env['SOFTHSM2_CONF'] ??= path.join(repoRoot, 'var', 'softhsm2.conf');
  const started = Date.now();
  const total = opts.minutes * 60_000;
  const faultsUntil = started + total / 2;
  const endAt = started + total;
  const progress = createProgress({ label: 'soak', total: Math.round(total / 1000), unit: 's', intervalMs: 15_000 });
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const totals: Totals = {
    cycles: 0,
    clusterCycles: 0,
    signIns: 0,
    signInsRefused: 0,
    transitions: {},
    refusals: {},
    failures: 0,
    violations: [],
    violationCount: 0,
    lost: [],
    suspensions: { runs: 0, before: 0, afterAck: 0, refusedAfter: 0, load: 0 },
    invariantChecks: 0,
  };
  const acked = new Map<string, number>();
  const merge = (m: ReadonlyMap<string, number>) => {
    for (const [k, n] of m) acked.set(k, (acked.get(k) ?? 0) + n);
  };
  const workersEnv = (n: number): Record<string, string> => (n > 1 ? { GATEWAY_WORKERS: String(n) } : {});
  let rss = { start: 0, end: 0, max: 0 };
  let fds = { start: 0, end: 0 };
  let fatal: string | undefined;

  log(`soak: ${opts.minutes} min, ${opts.people} employees, ${opts.operators + 1} helpdesk operators, seed ${opts.seed}, workers ${opts.workers}`);
  let gw: ChildGateway = await startChildGateway({ env: { ...STORM_ENV } });
  const varDir = gw.varDir;
  const port = gw.port;
  const onSignal = () => {
    void gw.kill().then(() => disposeChildVarDir(varDir)).finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let rnd = opts.seed;
  const next = () => {
    rnd = (Math.imul(rnd, 1103515245) + 12345) >>> 0;
    return (rnd >>> 8) / 0x1000000;
  };
  // Staff act at a human pace: the hourly cap on suspensions and revocations per operator
  // (GATEWAY_HELPDESK_ACTIONS_PER_HOUR, at most 10,000) must last the whole run.
  const stormOpts = (seed: number) => ({ seed, operatorPauseMs: [150, 450] as [number, number] });

  try {
    const pop: Population = await buildPopulation(gw, { people: opts.people, operators: opts.operators, tag: 'soak' });
    // The load of the suspension scenario: employees the storms never touch, so all of them sign in.
    const load = await enrolPeople(gw, pop.admin.client, 6, 'soak-load');
    const ticker = setInterval(() => progress.update(Math.round((Date.now() - started) / 1000)), 1000);
    ticker.unref();

    // 1. Kill cycles.
    while (Date.now() < faultsUntil) {
      const cycle = totals.cycles + 1;
      const workers = opts.workers > 1 && cycle % 2 === 0 ? opts.workers : 1;
      // A random depth: after 5-150 acknowledged transitions or 1-8 s of storm, whichever first.
      const killAfter = 5 + Math.floor(next() * 145);
      const storm = startStorm(gw, pop, stormOpts(opts.seed + cycle));
      await storm.until(killAfter, 1_000 + Math.floor(next() * 7_000));
      await gw.kill();
      const stats = await storm.stop();
      merge(storm.acked);
      add(totals, stats);
      totals.cycles++;
      if (workers > 1) totals.clusterCycles++;
      // Come back in the mode of the next cycle.
      const nextWorkers = opts.workers > 1 && (cycle + 1) % 2 === 0 ? opts.workers : 1;
      try {
        gw = await startChildGateway({ varDir, port, env: { ...STORM_ENV, ...workersEnv(nextWorkers) } });
      } catch (err) {
        fatal = `cycle ${cycle}: the gateway did not come back after kill -9: ${err instanceof Error ? err.message : String(err)}`;
        break;
      }
      const report = await checkInvariants(gw.dbFile);
      const lost = await checkAcknowledged(gw.dbFile, acked);
      record(totals, `cycle ${cycle}`, report, lost);
      // The restarted gateway serves: the administrator signs in (staff need a fresh key touch anyway).
      for (const staff of [pop.admin, ...pop.operators]) {
        const res = await signIn(gw, staff.client, staff.auth, staff.email);
        if (res.status !== 200) record(totals, `cycle ${cycle}`, { ok: false, violations: [`staff sign-in after restart: ${res.status}`], violationCount: 1, counts: report.counts }, []);
      }
      log(
        `cycle ${cycle} (${workers} worker${workers > 1 ? 's' : ''}): killed after ${storm.transitionCount()} transitions, ${stats.signIns} sign-ins; ` +
          `restarted; invariants ${report.ok && lost.length === 0 ? 'hold' : `BROKEN (${report.violationCount} violations, ${lost.length} lost)`}; ` +
          `${report.counts.keys} keys, ${report.counts.auditEvents} audit events`,
      );
      // Every third cycle (from the first), the suspension scenario on the fresh process.
      if (cycle % 3 === 1) await suspension(`c${cycle}`);
    }

    // 2. Endurance: one process, no kills.
    if (!fatal) {
      if (opts.workers !== (opts.workers > 1 && (totals.cycles + 1) % 2 === 0 ? opts.workers : 1)) {
        await gw.stop();
        gw = await startChildGateway({ varDir, port, env: { ...STORM_ENV, ...workersEnv(opts.workers) } });
        for (const staff of [pop.admin, ...pop.operators]) await signIn(gw, staff.client, staff.auth, staff.email);
      }
      log(`endurance: one gateway (${opts.workers} worker${opts.workers > 1 ? 's' : ''}, pid ${gw.pid}) until the end`);
      // Warm up before the first sample: JIT, caches and pools reach their working size.
      let storm: Storm = startStorm(gw, pop, stormOpts(opts.seed + 1000));
      await sleep(Math.min(15_000, Math.max(2_000, (endAt - Date.now()) / 10)));
      rss = { start: gw.rssBytes(), end: 0, max: 0 };
      fds = { start: gw.openHandles(), end: 0 };
      rss.max = rss.start;
      let round = 0;
      // At least one round, however short the run.
      while (round === 0 || Date.now() < endAt - 5_000) {
        await sleep(Math.min(30_000, Math.max(1_000, endAt - 5_000 - Date.now())));
        rss.max = Math.max(rss.max, gw.rssBytes());
        // Pause the storm (each key signs one ceremony at a time), run the suspension scenario at
        // full speed, check the live database, and storm on.
        const stats = await storm.stop();
        merge(storm.acked);
        add(totals, stats);
        round++;
        await suspension(`e${round}`);
        record(totals, `endurance ${round}`, await checkInvariants(gw.dbFile), await checkAcknowledged(gw.dbFile, acked));
        rss.max = Math.max(rss.max, gw.rssBytes());
        storm = startStorm(gw, pop, stormOpts(opts.seed + 1000 + round));
      }
      // The end sample under the same storm as the start sample.
      rss.end = gw.rssBytes();
      fds.end = gw.openHandles();
      rss.max = Math.max(rss.max, rss.end);
      const stats = await storm.stop();
      merge(storm.acked);
      add(totals, stats);
      record(totals, 'end', await checkInvariants(gw.dbFile), await checkAcknowledged(gw.dbFile, acked));
    }
    clearInterval(ticker);
    progress.done();

    async function suspension(tag: string): Promise<void> {
      const r = await suspensionUnderLoad(gw, pop, { tag: `${tag}-${opts.seed}`, load, loadMs: 1500 });
      totals.suspensions.runs++;
      totals.suspensions.before += r.before;
      totals.suspensions.afterAck += r.afterAck;
      totals.suspensions.refusedAfter += r.refusedAfter;
      totals.suspensions.load += r.load;
      totals.signIns += r.before + r.load;
    }
  } catch (err) {
    fatal = err instanceof Error ? (err.stack ?? err.message) : String(err);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }

  const db = fs.existsSync(gw.dbFile) ? (await checkInvariants(gw.dbFile)).counts : undefined;
  await gw.stop();
  await disposeChildVarDir(varDir);

  const transitions = Object.values(totals.transitions).reduce((a, b) => a + b, 0);
  const sorted = (r: Record<string, number>) =>
    Object.entries(r)
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
  const growth = rss.start > 0 ? `${(((rss.end - rss.start) / rss.start) * 100).toFixed(1)}%` : '-';
  const ok = !fatal && totals.violationCount === 0 && totals.lost.length === 0 && totals.suspensions.afterAck === 0;
  const lines = [
    '',
    `Soak summary (${((Date.now() - started) / 60_000).toFixed(1)} min, seed ${opts.seed}, ${opts.people} employees, ${opts.operators + 1} operators)`,
    `  kill -9 cycles                 ${totals.cycles} (${totals.clusterCycles} with ${opts.workers} cluster workers), each followed by restart + invariant check`,
    `  sign-ins succeeded             ${totals.signIns} (refused ${totals.signInsRefused}; requests cut by a kill or refused midway ${totals.failures})`,
    `  transitions acknowledged       ${transitions}: ${sorted(totals.transitions)}`,
    `  refusals                       ${sorted(totals.refusals) || '-'}`,
    `  suspension under load          ${totals.suspensions.runs} runs: ${totals.suspensions.before} victim sign-ins before, ${totals.suspensions.afterAck} succeeded after the suspension was acknowledged, ${totals.suspensions.refusedAfter} refused after; ${totals.suspensions.load} load sign-ins`,
    `  invariant checks               ${totals.invariantChecks}`,
    `  invariant violations           ${totals.violationCount}`,
    `  acknowledged changes lost      ${totals.lost.length}`,
    `  gateway RSS (endurance)        start ${mib(rss.start)}, end ${mib(rss.end)} (${growth}), max ${mib(rss.max)}`,
    `  open file descriptors          start ${fds.start}, end ${fds.end}`,
    db ? `  database at the end            ${db.keys} keys, ${db.transitions} transitions, ${db.signIns} sign-ins, ${db.auditEvents} audit events, ${db.checkpoints} checkpoints, ${db.mails} mails` : '',
    `  result                         ${ok ? 'PASS' : 'FAIL'}`,
  ].filter((l) => l !== '');
  process.stdout.write(`${lines.join('\n')}\n`);
  for (const v of totals.violations) process.stdout.write(`  violation: ${v}\n`);
  for (const l of totals.lost) process.stdout.write(`  lost: ${l}\n`);
  if (fatal) process.stdout.write(`  fatal: ${fatal}\n`);
  return ok ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`soak: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
