/**
 * PostgreSQL's part of the run, on a private cluster of its own (postgresBackend.ts), with
 * PostgreSQL's own CPU measured over every phase beside the server's and the generators'.
 */
import fs from 'node:fs';
import path from 'node:path';
import { GeneratorPool } from './generatorPool.js';
import { enrolLevels, errorText, levels, population } from './levels.js';
import type { BenchOptions } from './options.js';
import { destroyRunKeys, say } from './phases.js';
import { onCleanup } from './children.js';
import { benchConfig } from './population.js';
import { postgresMissing, startBenchDatabase } from './postgresBackend.js';
import { clusterCpuMs } from './procCpu.js';
import { PROFILED_CLIENTS, profiledPhase, type CostProfile } from './profiledPhase.js';
import type { BackendRun } from './report.js';
import { startGateway } from './serverProcess.js';
import { runStageBreakdown, type StageFigures } from './stageBreakdown.js';

/**
 * PostgreSQL: a private cluster, one database; one instance with the run's workers (beside
 * SQLite's figures), then one instance with one worker and two instances with one worker each
 * (the scale-out ratio), every instance its own process tree on its own port, one database.
 */
export async function runPostgres(
  opts: BenchOptions,
  runDir: string,
  notes: string[],
): Promise<{ backends: BackendRun[]; status: string; stages?: StageFigures | string; profile?: CostProfile }> {
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
  // PostgreSQL's own CPU over each phase: the postmaster and every backend (procCpu.ts).
  const pgCpu = () => clusterCpuMs(db.dataDir);
  let profile: CostProfile | undefined;
  try {
    let gateway = pop.gateway;
    const processes = gateway.processTree().length;
    const one = await levels(opts, pool, [gateway], 'pg1', audience, true, undefined, pgCpu);
    if (opts.cpuProf) {
      const gw = gateway;
      const p = await profiledPhase(pool, gw, { key: 'pg1', server: 'gateway on PostgreSQL', audience, warmupMs: opts.warmupMs, durationMs: opts.durationMs, metrics: true, keepDir: opts.cpuProfDir, postgresCpuMs: pgCpu });
      profile = p.profile;
      notes.push(`CPU profile on PostgreSQL: an extra ${PROFILED_CLIENTS}-client sign-in phase, 1 instance × ${opts.workers} workers, the V8 profiler on in every gateway process (${p.profile.row.perSecond.toFixed(0)} sign-ins/s while profiled; not in the tables above).`);
    }
    const enrolment = await enrolLevels(opts, pool, gateway, 'pg1', pop.people.enrolmentTokens, pop.linksPerLevel, true, pgCpu);
    backends.push({ key: 'pg1', label: `PostgreSQL, 1 instance × ${opts.workers} workers`, instances: 1, workersPerInstance: opts.workers, processesPerInstance: processes, signIn: one.signIn, enrolment });
    await gateway.stop();
    say(`PostgreSQL: per-stage cost of a sign-in (${opts.stageIterations} sign-ins, gateway stopped)`);
    stages = await runStageBreakdown({ varDir, databaseUrl: db.url, iterations: opts.stageIterations, audience, credentials: pop.stageMembers }).catch(errorText);

    if (opts.scaleOut) {
      gateway = await startGateway({ varDir, runDir, workers: 1, logLevel: opts.logLevel, env });
      const single = await levels(opts, pool, [gateway], 'pg1w1', audience, true, undefined, pgCpu);
      backends.push({ key: 'pg1w1', label: 'PostgreSQL, 1 instance × 1 worker', instances: 1, workersPerInstance: 1, processesPerInstance: gateway.processTree().length, signIn: single.signIn, enrolment: [] });
      const second = await startGateway({ varDir, runDir, workers: 1, logLevel: opts.logLevel, env });
      try {
        const two = await levels(opts, pool, [gateway, second], 'pg2w1', audience, false, undefined, pgCpu);
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
  return { backends, status: '', ...(stages !== undefined ? { stages } : {}), ...(profile ? { profile } : {}) };
}

