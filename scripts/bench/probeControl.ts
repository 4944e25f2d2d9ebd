/**
 * The bench's side of processProbe.ts: names the phase the probed processes are in, and collects
 * each finished phase's event-loop delay (and CPU profiles) from every probed process.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface LoopDelay {
  /** Processes that reported (cluster primary and workers, or the one process). */
  processes: number;
  /** Worst p99 over the processes, ms. */
  p99Ms: number;
  /** Worst p50 over the processes, ms. */
  p50Ms: number;
  maxMs: number;
  /** Each process's p99, ms, highest first. */
  perProcessP99Ms: number[];
}

const safe = (phase: string): string => phase.replace(/[^A-Za-z0-9_.-]/g, '_');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class ProbeControl {
  private counter = 0;
  private profiling = false;

  constructor(readonly dir: string) {
    fs.mkdirSync(dir, { recursive: true });
    this.write('start', false);
  }

  private write(phase: string, profile: boolean): void {
    const tmp = path.join(this.dir, 'control.json.tmp');
    fs.writeFileSync(tmp, JSON.stringify({ phase, profile }));
    fs.renameSync(tmp, path.join(this.dir, 'control.json'));
  }

  /** Processes that loaded the probe (each wrote a hello file when it started). */
  processes(): number {
    return fs.readdirSync(this.dir).filter((f) => f.startsWith('hello-')).length;
  }

  /** Starts a phase: the probes reset their histograms (and start profiling if asked). */
  async begin(phase: string, profile = false): Promise<void> {
    this.write(phase, profile);
    this.profiling = profile;
    // The probes poll every 100 ms; give them time to switch before load starts.
    await sleep(250);
  }

  /** Ends a phase (the probes move to an idle phase) and reads what each process measured. */
  async end(phase: string, timeoutMs = 5000): Promise<{ loop: LoopDelay | undefined; profiles: string[] }> {
    this.counter += 1;
    this.write(`idle-${this.counter}`, false);
    const expected = this.processes();
    const prefix = `loop-${safe(phase)}-`;
    const deadline = Date.now() + timeoutMs;
    let files: string[] = [];
    while (Date.now() < deadline) {
      files = fs.readdirSync(this.dir).filter((f) => f.startsWith(prefix) && f.endsWith('.json'));
      if (files.length >= expected) break;
      await sleep(100);
    }
    const reports = files.flatMap((f) => {
      try {
        const parsed: unknown = JSON.parse(fs.readFileSync(path.join(this.dir, f), 'utf8'));
        if (typeof parsed !== 'object' || parsed === null) return [];
        const num = (k: string): number => {
          const v: unknown = (parsed as Record<string, unknown>)[k];
          return typeof v === 'number' ? v : Number.NaN;
        };
        return [{ p50: num('p50Ms'), p99: num('p99Ms'), max: num('maxMs') }];
      } catch {
        return [];
      }
    });
    // Profiles are written asynchronously after the loop report.
    const listProfiles = () =>
      fs
        .readdirSync(this.dir)
        .filter((f) => f.startsWith(`cpu-${safe(phase)}-`) && f.endsWith('.cpuprofile'))
        .map((f) => path.join(this.dir, f));
    let profiles = listProfiles();
    const profileDeadline = Date.now() + 20_000;
    while (this.profiling && profiles.length < expected && Date.now() < profileDeadline) {
      await sleep(200);
      profiles = listProfiles();
    }
    this.profiling = false;
    const loop =
      reports.length === 0
        ? undefined
        : {
            processes: reports.length,
            p99Ms: Math.max(...reports.map((r) => r.p99)),
            p50Ms: Math.max(...reports.map((r) => r.p50)),
            maxMs: Math.max(...reports.map((r) => r.max)),
            perProcessP99Ms: reports.map((r) => r.p99).sort((a, b) => b - a),
          };
    return { loop, profiles };
  }
}
