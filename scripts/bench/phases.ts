/**
 * One measured phase against one or more server instances (the probe's phase in each, /metrics
 * before and after, CPU and resident memory of every instance), and the sign-in levels of one
 * backend configuration.
 */
import fs from 'node:fs';
import path from 'node:path';
import { HsmConnection, applySoftHsm2ConfDefault, destroyKeyPair, loadHsmConfig } from '../../hsm/index.js';
import type { Config } from '../../server/config.js';
import { openStore } from '../../server/store/openStore.js';
import type { PhaseFigures } from './generatorPool.js';
import { gauge, histogramDeltas, scrapeMetrics, type HistogramDelta } from './metricsScraper.js';
import { PhaseAborted, bounded, processState, tailFile } from './phaseGuard.js';
import type { LoopDelay } from './probeControl.js';
import { machineBusyMs } from './procCpu.js';
import type { PhaseRow } from './report.js';
import { repoRoot, type ServerProcess } from './serverProcess.js';

export const say = (line: string): void => {
  process.stderr.write(`bench: ${line}\n`);
};

export interface Measured {
  row: PhaseRow;
  histograms: HistogramDelta[];
  profiles: string[];
}

function mergeLoops(loops: (LoopDelay | undefined)[]): LoopDelay | undefined {
  const known = loops.filter((l): l is LoopDelay => l !== undefined);
  if (known.length === 0) return undefined;
  return {
    processes: known.reduce((s, l) => s + l.processes, 0),
    p99Ms: Math.max(...known.map((l) => l.p99Ms)),
    p50Ms: Math.max(...known.map((l) => l.p50Ms)),
    maxMs: Math.max(...known.map((l) => l.maxMs)),
    perProcessP99Ms: known.flatMap((l) => l.perProcessP99Ms).sort((a, b) => b - a),
  };
}

/** One phase against `servers` (one gateway instance, several, or the reference). */
export async function measured(
  servers: ServerProcess[],
  label: string,
  run: () => Promise<PhaseFigures>,
  opts: { metrics: boolean; profile?: boolean; postgresCpuMs?: () => number },
): Promise<Measured> {
  for (const s of servers) await s.probe.begin(label, opts.profile ?? false);
  const token = process.env['GATEWAY_METRICS_TOKEN'];
  const first = servers[0];
  if (!first) throw new Error('measured: no server');
  // prom-client resets its event-loop histogram at every scrape: the scrape after covers the phase.
  const before = opts.metrics ? await scrapeMetrics(first.origin, token) : undefined;
  const trees = servers.map((x) => x.processTree());
  const cpu0 = servers.reduce((s, x) => s + x.cpuMs(), 0);
  const pg0 = opts.postgresCpuMs?.();
  const machine0 = machineBusyMs();
  const t0 = performance.now();
  let rssMiB = servers.map(() => 0);
  // Resident memory at its highest during the phase, sampled once a second per instance.
  const sampler = setInterval(() => {
    rssMiB = servers.map((x, i) => Math.max(rssMiB[i] ?? 0, x.rssMiB()));
  }, 1000);
  let figures: PhaseFigures;
  try {
    // A server that exits mid-phase ends the run (with its log's last lines), not a phase of refused requests.
    figures = await bounded(label, run, { watched: servers.map((x) => ({ name: x.name, child: x.child, lastLines: () => tailFile(x.logFile) })) });
  } catch (err) {
    // A phase that overran its deadline (the load generators' bound) names the gateways' last words too.
    if (err instanceof PhaseAborted && err.message.includes('deadline')) {
      throw new PhaseAborted(`${err.message}\n${servers.map((x) => `${x.name} (${x.processTree().map((pid) => `pid ${pid}: ${processState(pid)}`).join('; ')}), the last lines of its log:\n${tailFile(x.logFile, 40)}`).join('\n')}`, { cause: err });
    }
    throw err;
  } finally {
    clearInterval(sampler);
  }
  rssMiB = servers.map((x, i) => Math.max(rssMiB[i] ?? 0, x.rssMiB()));
  // A cluster worker that died during the phase (its primary starts another) spoils the phase: the run ends, naming it.
  servers.forEach((x, i) => {
    const now = new Set(x.processTree());
    const gone = (trees[i] ?? []).filter((pid) => !now.has(pid));
    if (gone.length > 0) throw new PhaseAborted(`${label}: ${x.name} process(es) ${gone.join(', ')} exited during the phase; the last lines of its log:\n${tailFile(x.logFile)}`);
  });
  const serverCpuMs = servers.reduce((s, x) => s + x.cpuMs(), 0) - cpu0;
  const postgresCpuMs = pg0 === undefined || !opts.postgresCpuMs ? undefined : opts.postgresCpuMs() - pg0;
  const machineCpuMs = machineBusyMs() - machine0;
  const phaseWallMs = performance.now() - t0;
  const after = opts.metrics ? await scrapeMetrics(first.origin, token) : undefined;
  const ends = [];
  for (const s of servers) ends.push(await s.probe.end(label));
  const loop = mergeLoops(ends.map((e) => e.loop));
  const lag = gauge(after, 'nodejs_eventloop_lag_p99_seconds');
  const row: PhaseRow = { ...figures, loop, metricsLoopP99Ms: lag === undefined ? undefined : lag * 1000, serverCpuMs, phaseWallMs, rssMiB, ...(postgresCpuMs !== undefined && Number.isFinite(postgresCpuMs) ? { postgresCpuMs } : {}), ...(Number.isFinite(machineCpuMs) ? { machineCpuMs } : {}) };
  const errors = row.errorCount > 0 ? `, ${row.errorCount} ERRORS ${JSON.stringify(row.errors)}` : '';
  say(`${label}: ${row.perSecond.toFixed(0)}/s, p50 ${row.latency.p50.toFixed(2)} ms, p99 ${row.latency.p99.toFixed(2)} ms${errors}`);
  return { row, histograms: histogramDeltas(before, after), profiles: ends.flatMap((e) => e.profiles) };
}

/** Destroys the signing keys a run's gateway generated on the shared token (read through the store port). */
export async function destroyRunKeys(config: Readonly<Config>): Promise<void> {
  let ckaIds: string[];
  if (!config.database && !fs.existsSync(config.dbFile)) return;
  try {
    const store = await openStore(config);
    try {
      ckaIds = (await store.read((tx) => tx.signingKeys.list())).filter((k) => k.state !== 'destroyed').map((k) => k.ckaId);
    } finally {
      await store.close();
    }
  } catch {
    return; // no database (the run failed before it was made)
  }
  if (ckaIds.length === 0) return;
  applySoftHsm2ConfDefault(process.env, path.join(repoRoot, 'var'));
  const connection = await HsmConnection.open(loadHsmConfig(process.env, path.join(repoRoot, 'var')));
  try {
    for (const id of ckaIds) await destroyKeyPair(connection, id).catch(() => undefined);
  } finally {
    await connection.close();
  }
}
