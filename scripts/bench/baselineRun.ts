/**
 * `--baseline`: the baseline's gateway up beside this checkout's, its keys enrolled over HTTP, a
 * load generator pool of its own (the same generator code, its own credentials), and the
 * alternation of phases: at every sign-in level the two gateways are loaded one after the other,
 * the order swapped from level to level, so drift of the shared machine falls on both.
 */
import { checkoutBaseline, baselinePeople, type BaselineCheckout } from './baseline.js';
import { GeneratorPool } from './generatorPool.js';
import { measured, say, type Measured } from './phases.js';
import { enrolAndActivate, outboxDirOf } from './population.js';
import { startGateway, type ServerProcess } from './serverProcess.js';

export interface BaselineGateway {
  checkout: BaselineCheckout;
  gateway: ServerProcess;
  pool: GeneratorPool;
  stop(): Promise<void>;
}

export async function startBaselineGateway(ref: string, opts: { runDir: string; clients: number; workers: number; generators: number; logLevel: string }): Promise<BaselineGateway> {
  say(`baseline: exporting ${ref} (git archive into var/bench-baseline/)`);
  const checkout = checkoutBaseline(ref);
  say(`baseline: ${checkout.sha.slice(0, 12)}; binding ${opts.clients} sign-in employees with its own scripts/bench/population.ts`);
  const people = await baselinePeople(checkout, { signIn: opts.clients, enrolment: 0 }, opts.runDir);
  say(`baseline: starting its gateway (GATEWAY_WORKERS=${opts.workers}, its own SoftHSM token)`);
  const gateway = await startGateway({ varDir: checkout.varDir, runDir: opts.runDir, workers: opts.workers, logLevel: opts.logLevel, env: checkout.env, root: checkout.root, name: 'baseline' });
  try {
    say(`baseline: enrolling and activating ${people.signIn.length} keys over HTTP`);
    const members = await enrolAndActivate(gateway.origin, outboxDirOf(checkout.varDir), people.signIn);
    const pool = await GeneratorPool.start(opts.generators, members);
    let stopped = false;
    return {
      checkout,
      gateway,
      pool,
      async stop() {
        if (stopped) return;
        stopped = true;
        await pool.close();
        await gateway.stop();
      },
    };
  } catch (err) {
    await gateway.stop();
    throw err;
  }
}

/** One level: this checkout's phase and the baseline's, back to back; `nowFirst` sets the order. */
export async function alternate(
  base: BaselineGateway,
  level: { clients: number; audience: string; warmupMs: number; durationMs: number; nowFirst: boolean },
  now: () => Promise<Measured>,
): Promise<{ now: Measured; baseline: Measured }> {
  const baselinePhase = () =>
    measured([base.gateway], `baseline-signin-${level.clients}`, () => base.pool.signIn(`baseline sign-in ${level.clients}`, [base.gateway.origin], level.audience, level.clients, level.warmupMs, level.durationMs), {
      metrics: false,
    });
  if (level.nowFirst) {
    const n = await now();
    return { now: n, baseline: await baselinePhase() };
  }
  const b = await baselinePhase();
  return { now: await now(), baseline: b };
}
