/**
 * Preloaded (`--import`) into the server under test — the gateway, each of its cluster workers,
 * and the reference — when BENCH_PROBE_DIR is set; does nothing otherwise. It measures the
 * process's event-loop delay per benchmark phase and, on request, records a CPU profile of one
 * phase, without touching server code:
 *
 * - the bench writes `<dir>/control.json` = {"phase": "...", "profile": bool};
 * - every 100 ms the probe reads it; when the phase changes it writes the finished phase's
 *   event-loop delay to `<dir>/loop-<phase>-<pid>.json` (and its CPU profile to
 *   `<dir>/cpu-<phase>-<pid>.cpuprofile` if one was recorded), then starts afresh.
 *
 * A profile also carries `benchCpu`: the CPU the process's JavaScript thread (/proc/self/task/<pid>)
 * and the whole process (every thread) used while it was recorded. V8 samples by the clock: a
 * thread waiting for a core still collects samples (where it was preempted), so profileCosts.ts
 * scales each process's samples to its thread's CPU (issue 17: the attribution of an
 * oversubscribed machine). It also carries the CPU of the process's other threads by kind
 * (threadKinds.ts: libuv's pool, V8's threads, a Worker the server started), learnt by
 * threadCensus.ts when the probe loads, and whether the process is a cluster primary or worker.
 */
import cluster from 'node:cluster';
import fs from 'node:fs';
import { Session } from 'node:inspector';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { allThreadsMs, noteLoops, takeCensus, threadMs } from './threadCensus.js';
import { cpuByKind, type ThreadCensus } from './threadKinds.js';

interface Control {
  phase: string;
  profile: boolean;
}

function readControl(file: string): Control | undefined {
  try {
    const parsed: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
    if (typeof parsed !== 'object' || parsed === null || !('phase' in parsed) || typeof parsed.phase !== 'string') return undefined;
    return { phase: parsed.phase, profile: 'profile' in parsed && parsed.profile === true };
  } catch {
    return undefined;
  }
}

const safe = (phase: string): string => phase.replace(/[^A-Za-z0-9_.-]/g, '_');

/** CPU used so far, ms: this process's JavaScript (main) thread alone, and all its threads. */
export interface ThreadCpu {
  threadMs: number;
  processMs: number;
}

function threadCpu(): ThreadCpu | undefined {
  const main = threadMs(process.pid);
  if (main === undefined) return undefined; // not Linux
  const usage = process.cpuUsage();
  return { threadMs: main, processMs: (usage.user + usage.system) / 1000 };
}

/** A cluster primary (it forked workers), a cluster worker, or a process on its own. */
const role = (): 'primary' | 'worker' | 'single' => (cluster.isWorker ? 'worker' : Object.keys(cluster.workers ?? {}).length > 0 ? 'primary' : 'single');

async function startProbe(dir: string): Promise<void> {
  const census: ThreadCensus | undefined = await takeCensus(dir);
  const controlFile = path.join(dir, 'control.json');
  // 10 ms sampling, as prom-client's default event-loop metrics use.
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  let current = readControl(controlFile)?.phase ?? 'start';
  let session: Session | undefined;
  let cpuAtStart: ThreadCpu | undefined;
  let threadsAtStart = new Map<number, number>();
  fs.writeFileSync(path.join(dir, `hello-${process.pid}.json`), JSON.stringify({ pid: process.pid, ppid: process.ppid }));

  const stopProfile = (phase: string): void => {
    const s = session;
    if (!s) return;
    session = undefined;
    const start = cpuAtStart;
    const end = threadCpu();
    const threadsAtEnd = allThreadsMs();
    s.post('Profiler.stop', (err, result) => {
      if (!err && result?.profile) {
        const threads = census ? cpuByKind(threadsAtStart, threadsAtEnd, census) : undefined;
        const benchCpu = start && end ? { threadMs: end.threadMs - start.threadMs, processMs: end.processMs - start.processMs, role: role(), ...(threads ? { threads } : {}) } : undefined;
        // Written aside and renamed, so the bench never reads half a profile.
        const file = path.join(dir, `cpu-${safe(phase)}-${process.pid}.cpuprofile`);
        fs.writeFileSync(`${file}.tmp`, JSON.stringify(benchCpu ? { ...result.profile, benchCpu } : result.profile));
        fs.renameSync(`${file}.tmp`, file);
      }
      s.disconnect();
    });
  };

  const timer = setInterval(() => {
    const control = readControl(controlFile);
    if (!control || control.phase === current) return;
    const ns = (v: number) => v / 1e6;
    const loopFile = path.join(dir, `loop-${safe(current)}-${process.pid}.json`);
    fs.writeFileSync(
      `${loopFile}.tmp`,
      JSON.stringify({
        pid: process.pid,
        phase: current,
        samples: histogram.count,
        p50Ms: ns(histogram.percentile(50)),
        p99Ms: ns(histogram.percentile(99)),
        maxMs: ns(histogram.max),
        meanMs: ns(histogram.mean),
      }),
    );
    fs.renameSync(`${loopFile}.tmp`, loopFile);
    stopProfile(current);
    histogram.reset();
    current = control.phase;
    if (control.profile) {
      const s = new Session();
      s.connect();
      session = s;
      const known = new Set(allThreadsMs().keys());
      s.post('Profiler.enable', () =>
        s.post('Profiler.start', () => {
          if (census) census.profiler = new Set([...allThreadsMs().keys()].filter((t) => !known.has(t)));
          if (census) noteLoops(census);
          threadsAtStart = allThreadsMs();
          cpuAtStart = threadCpu();
        }),
      );
    }
  }, 100);
  timer.unref();
}

const dir = process.env['BENCH_PROBE_DIR'];
if (dir) await startProbe(dir);
