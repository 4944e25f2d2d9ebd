/**
 * The servers under load, each as its own process: the gateway (`node --import tsx
 * server/main.ts`, exactly as `npm start` runs it, with a fresh var dir, and GATEWAY_WORKERS for
 * node:cluster when main.ts supports it) and the in-memory reference. Both load processProbe.ts
 * for the per-phase event-loop delay. Output goes to a log file in the run's temp dir.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stopChild, track } from './children.js';
import { ProbeControl } from './probeControl.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const probeModule = path.join(repoRoot, 'scripts', 'bench', 'processProbe.ts');

export interface ServerProcess {
  name: string;
  origin: string;
  child: ChildProcess;
  probe: ProbeControl;
  logFile: string;
  /** The process and its children (cluster workers), by pid, as seen in /proc. */
  processTree(): number[];
  /** CPU time (user + system) the process and its live children have used so far, ms. */
  cpuMs(): number;
  /** Resident memory of the process and its live children now, MiB (VmRSS from /proc). */
  rssMiB(): number;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Children of `pid` from /proc (cluster workers are direct children of the primary). */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid ...: comm may contain spaces, so read after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let clockTicks: number | undefined;
/** Kernel clock ticks per second, the unit of /proc/<pid>/stat's CPU times. */
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** VmRSS of one process from /proc, MiB (0 when it is gone). */
export function processRssMiB(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** utime + stime of one process from /proc, ms (0 when it is gone). */
export function processCpuMs(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the comm: state(0) ppid(1) ... utime(11) stime(12).
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond();
  } catch {
    return 0;
  }
}

function get(origin: string, p: string): Promise<number> {
  const url = new URL(p, origin);
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port: url.port, path: url.pathname, timeout: 2000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

function tail(file: string, lines = 30): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Starts a server script under tsx with the probe; resolves once `healthPath` answers 200. */
async function startServer(opts: {
  name: string;
  script: string;
  port: number;
  env: Record<string, string>;
  runDir: string;
  healthPath: string;
  /** Processes expected to be up (primary + workers) before the server counts as ready. */
  expectProcesses: number;
  /** Working directory (default this checkout; a --baseline tree otherwise). */
  cwd?: string;
}): Promise<ServerProcess> {
  const logFile = path.join(opts.runDir, `${opts.name}-${Date.now()}.log`);
  const probeDir = path.join(opts.runDir, `probe-${opts.name}-${Date.now()}`);
  const probe = new ProbeControl(probeDir);
  const fd = fs.openSync(logFile, 'a', 0o600);
  const env: Record<string, string> = {
    ...Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined)),
    ...opts.env,
    BENCH_PROBE_DIR: probeDir,
  };
  const child = track(
    spawn(process.execPath, ['--import', 'tsx', '--import', probeModule, opts.script], { cwd: opts.cwd ?? repoRoot, env, stdio: ['ignore', fd, fd] }),
  );
  fs.closeSync(fd);
  const origin = `http://localhost:${opts.port}`;
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = `exited with ${code ?? signal}`));
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (exited) throw new Error(`${opts.name} ${exited} while starting; log:\n${tail(logFile)}`);
    if (Date.now() > deadline) {
      await stopChild(child, 'SIGKILL');
      throw new Error(`${opts.name} did not answer ${opts.healthPath} within 90 s; log:\n${tail(logFile)}`);
    }
    if ((await get(origin, opts.healthPath)) === 200) break;
    await sleep(200);
  }
  // Cluster workers come up one by one; wait (a bounded time) until all of them loaded the probe.
  const workersDeadline = Date.now() + 20_000;
  while (probe.processes() < opts.expectProcesses && Date.now() < workersDeadline && !exited) await sleep(200);
  const pid = child.pid ?? -1;
  let known: number[] = [];
  return {
    name: opts.name,
    origin,
    child,
    probe,
    logFile,
    processTree() {
      known = [pid, ...childPids(pid)];
      return known;
    },
    cpuMs() {
      return [pid, ...childPids(pid)].reduce((s, p) => s + processCpuMs(p), 0);
    },
    rssMiB() {
      return [pid, ...childPids(pid)].reduce((s, p) => s + processRssMiB(p), 0);
    },
    async stop() {
      const tree = [pid, ...childPids(pid)];
      await stopChild(child, 'SIGTERM', 20_000);
      // Workers that outlive their primary are ended by pid, never by name.
      for (const p of tree.slice(1).concat(known.slice(1))) {
        try {
          process.kill(p, 0);
          process.kill(p, 'SIGKILL');
        } catch {
          // gone already
        }
      }
    },
  };
}

/** Whether server/main.ts knows GATEWAY_WORKERS (node:cluster) yet. */
export function clusterSupported(root = repoRoot): boolean {
  return fs.readFileSync(path.join(root, 'server', 'main.ts'), 'utf8').includes('GATEWAY_WORKERS');
}

/**
 * Rate limits raised for the load (they are per IP, and every virtual browser comes from
 * 127.0.0.1): every whole-number key of server/config.ts that names a rate or a per-period cap
 * is set to the largest value the configuration accepts, so the gateway starts and the limits
 * stay on but out of reach.
 */
export function raisedLimits(root = repoRoot): Record<string, string> {
  const source = fs.readFileSync(path.join(root, 'server', 'config.ts'), 'utf8');
  const out: Record<string, string> = {};
  const re = /int\(\s*env,\s*'(GATEWAY_[A-Z0-9_]*(?:RATE|PER_MINUTE|PER_HOUR|PER_SECOND|_PER_)[A-Z0-9_]*)',\s*[^,]+,\s*[^,]+,\s*([0-9_]+)\s*\)/g;
  for (const m of source.matchAll(re)) {
    const key = m[1];
    const max = Number((m[2] ?? '').replace(/_/g, ''));
    if (key && Number.isFinite(max) && max > 0) out[key] = String(max);
  }
  return out;
}

export interface GatewayOptions {
  varDir: string;
  runDir: string;
  workers: number;
  logLevel: string;
  env?: Record<string, string>;
  /** The checkout whose server/main.ts runs (default this one; `--baseline` passes its exported tree). */
  root?: string;
  /** Its name in logs and probe dirs (default gateway). */
  name?: string;
}

export async function startGateway(opts: GatewayOptions): Promise<ServerProcess & { workersRequested: number; clusterSupported: boolean }> {
  const port = await freePort();
  const root = opts.root ?? repoRoot;
  const cluster = clusterSupported(root);
  const env: Record<string, string> = {
    GATEWAY_PORT: String(port),
    GATEWAY_HOST: '127.0.0.1',
    GATEWAY_ORIGIN: `http://localhost:${port}`,
    GATEWAY_VAR_DIR: opts.varDir,
    GATEWAY_SEED_DEMO: 'false',
    GATEWAY_OUTBOX: 'file',
    GATEWAY_LOG_LEVEL: opts.logLevel,
    GATEWAY_WORKERS: String(opts.workers),
    ...(process.env['GATEWAY_HSM_PIN'] ? {} : { GATEWAY_HSM_PIN_FILE: process.env['GATEWAY_HSM_PIN_FILE'] ?? path.join(repoRoot, 'var', 'hsm-user.pin') }),
    SOFTHSM2_CONF: process.env['SOFTHSM2_CONF'] ?? path.join(repoRoot, 'var', 'softhsm2.conf'),
    ...raisedLimits(root),
    ...opts.env,
  };
  const server = await startServer({
    name: opts.name ?? 'gateway',
    script: path.join(root, 'server', 'main.ts'),
    cwd: root,
    port,
    env,
    runDir: opts.runDir,
    healthPath: '/api/health',
    // With cluster support: the primary and its workers; without: the one process.
    expectProcesses: cluster && opts.workers > 1 ? opts.workers + 1 : 1,
  });
  return { ...server, workersRequested: opts.workers, clusterSupported: cluster };
}

export async function startReference(opts: { runDir: string; populationFile: string; rpId: string }): Promise<ServerProcess> {
  const port = await freePort();
  return startServer({
    name: 'reference',
    script: path.join(repoRoot, 'scripts', 'bench', 'reference-server.ts'),
    port,
    env: { BENCH_REF_PORT: String(port), BENCH_REF_ORIGIN: `http://localhost:${port}`, BENCH_REF_RP_ID: opts.rpId, BENCH_REF_POPULATION: opts.populationFile },
    runDir: opts.runDir,
    healthPath: '/health',
    expectProcesses: 1,
  });
}
