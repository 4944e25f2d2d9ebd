/**
 * The profiled phases: one extra 16-client sign-in phase with the V8 profiler on in every process
 * of a server (the gateway on SQLite, the gateway on PostgreSQL, the in-memory reference), its
 * samples charged to costs by profileCosts.ts — the same classifier for all three, so "HTTP" or
 * "WebAuthn verification" mean the same code in each. Not part of the tables of unprofiled phases.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { GeneratorPool } from './generatorPool.js';
import { measured } from './phases.js';
import { costsPerCeremony } from './profileCosts.js';
import type { PhaseRow } from './report.js';
import type { ServerProcess } from './serverProcess.js';

export const PROFILED_CLIENTS = 16;

export interface CostProfile {
  /** What was profiled, e.g. "gateway on SQLite". */
  server: string;
  /** The profiled phase's own figures (its rate is lowered by the profiler). */
  row: PhaseRow;
  costs: ReturnType<typeof costsPerCeremony>;
}

export async function profiledPhase(
  pool: GeneratorPool,
  server: ServerProcess,
  opts: { key: string; server: string; audience: string; warmupMs: number; durationMs: number; metrics: boolean; keepDir: string | undefined; postgresCpuMs?: () => number },
): Promise<{ profile: CostProfile; files: string[] }> {
  const label = `${opts.key}-signin-${PROFILED_CLIENTS}-profiled`;
  const m = await measured([server], label, () => pool.signIn(`${opts.server} sign-in ${PROFILED_CLIENTS} (profiled)`, server.origin, opts.audience, PROFILED_CLIENTS, opts.warmupMs, opts.durationMs), {
    metrics: opts.metrics,
    profile: true,
    ...(opts.postgresCpuMs ? { postgresCpuMs: opts.postgresCpuMs } : {}),
  });
  let files = m.profiles;
  if (opts.keepDir) {
    const dir = opts.keepDir;
    fs.mkdirSync(dir, { recursive: true });
    files = files.map((f) => {
      const dest = path.join(dir, path.basename(f));
      fs.copyFileSync(f, dest);
      return dest;
    });
  }
  const ceremonies = m.row.completed + m.row.warmupCompleted;
  return { profile: { server: opts.server, row: m.row, costs: costsPerCeremony(files, ceremonies) }, files };
}
