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
 */
import fs from 'node:fs';
import { Session } from 'node:inspector';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';

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

function startProbe(dir: string): void {
  const controlFile = path.join(dir, 'control.json');
  // 10 ms sampling, as prom-client's default event-loop metrics use.
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  let current = readControl(controlFile)?.phase ?? 'start';
  let session: Session | undefined;
  fs.writeFileSync(path.join(dir, `hello-${process.pid}.json`), JSON.stringify({ pid: process.pid, ppid: process.ppid }));

  const stopProfile = (phase: string): void => {
    const s = session;
    if (!s) return;
    session = undefined;
    s.post('Profiler.stop', (err, result) => {
      if (!err && result?.profile) {
        // Written aside and renamed, so the bench never reads half a profile.
        const file = path.join(dir, `cpu-${safe(phase)}-${process.pid}.cpuprofile`);
        fs.writeFileSync(`${file}.tmp`, JSON.stringify(result.profile));
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
      s.post('Profiler.enable', () => s.post('Profiler.start'));
    }
  }, 100);
  timer.unref();
}

const dir = process.env['BENCH_PROBE_DIR'];
if (dir) startProbe(dir);
