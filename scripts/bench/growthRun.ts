/**
 * The growth phases (issue 17): at each size, seed keys into the run's database with the gateway
 * stopped, restart it, wait for its audit checkpointer's catch-up, then one 16-client sign-in
 * phase (and, unless --no-cpu-prof, a profiled one after it: CPU per sign-in by cost at each size).
 *
 * With `--growth-env NAME=VALUE`, every size is measured in two rounds of two restarts, the
 * gateway as configured and the gateway with NAME=VALUE in its environment taking turns (A B A B,
 * same database, same load generators): an A/B of a setting at every size in the same minutes
 * of a shared machine, instead of two runs a quarter of an hour apart.
 */
import type { BenchOptions } from './options.js';
import type { GeneratorPool } from './generatorPool.js';
import { countDatabase, loadSeedKeys, seed, waitForCheckpointAt } from './growth.js';
import { measured, say } from './phases.js';
import { profiledPhase } from './profiledPhase.js';
import type { GrowthRow } from './report.js';
import { startGateway } from './serverProcess.js';

export interface GrowthRun {
  status: string;
  rows: GrowthRow[];
}

export async function runGrowth(
  opts: BenchOptions,
  ctx: { pool: GeneratorPool; dbFile: string; varDir: string; runDir: string; audience: string; metrics: boolean },
): Promise<GrowthRun> {
  if (!opts.growth) return { status: 'skipped (--skip-growth or --quick without --growth)', rows: [] };
  if (opts.growthLevels.length === 0) return { status: 'no growth step within --max-keys', rows: [] };
  const seedKeys = await loadSeedKeys();
  if (typeof seedKeys === 'string') return { status: `not possible: ${seedKeys}`, rows: [] };
  const { pool, dbFile, varDir, runDir, audience, metrics } = ctx;
  const variants: { label: string; env: Record<string, string> }[] = [{ label: 'as configured', env: {} }];
  if (opts.growthEnv) variants.push({ label: `${opts.growthEnv.name}=${opts.growthEnv.value}`, env: { [opts.growthEnv.name]: opts.growthEnv.value } });
  const rounds = variants.length > 1 ? 2 : 1;
  const rows: GrowthRow[] = [];
  for (const target of opts.growthLevels) {
    const before = await countDatabase(dbFile);
    const add = Math.max(0, target - before.activeKeys);
    say(`growth: seeding ${add} keys (to ${target})`);
    const seedSeconds = add > 0 ? await seed(seedKeys, dbFile, add, `seeding to ${target}`) : 0;
    const counts = await countDatabase(dbFile);
    for (let round = 1; round <= rounds; round += 1) {
      for (const variant of variants) {
        const tag = variants.length > 1 ? ` [${variant.label}, round ${round}]` : '';
        const gw = await startGateway({ varDir, runDir, workers: opts.workers, logLevel: opts.logLevel, env: variant.env });
        try {
          say(`growth${tag}: waiting for the audit checkpointer to check the ${counts.auditEntries} entries and sign a checkpoint at the head`);
          // The seeded entries' catch-up (the first restart at this size); later restarts find it signed already.
          const checkpointSeconds = await waitForCheckpointAt(dbFile, counts.auditEntries, 900_000);
          const label = `growth-${target}${variants.length > 1 ? `-${variants.indexOf(variant) === 0 ? 'a' : 'b'}${round}` : ''}`;
          const m = await measured([gw], label, () => pool.signIn(`growth ${target} keys, 16 clients${tag}`, gw.origin, audience, 16, opts.warmupMs, opts.durationMs), { metrics });
          // Where a sign-in's CPU goes at this size: the same profiled phase and cost classifier as the main one (after the measured phase; first round only).
          const profiled =
            opts.cpuProf && round === 1
              ? (await profiledPhase(pool, gw, { key: label, server: `gateway on SQLite, ${target} keys${tag}`, audience, warmupMs: opts.warmupMs, durationMs: opts.durationMs, metrics, keepDir: opts.cpuProfDir })).profile
              : undefined;
          rows.push({
            targetKeys: target,
            ...counts,
            seedSeconds: round === 1 && variant === variants[0] ? seedSeconds : 0,
            checkpointSeconds,
            phase: m.row,
            ...(variants.length > 1 ? { variant: variant.label, round } : {}),
            ...(profiled ? { profile: profiled } : {}),
          });
        } finally {
          await gw.stop();
        }
      }
    }
  }
  return { status: '', rows };
}
