/**
 * CPU time from /proc for the "how the cores were shared" columns: the private PostgreSQL
 * cluster's processes (its postmaster, found through the data directory's postmaster.pid, and
 * every backend the postmaster forked), and the whole machine's busy time (/proc/stat, every
 * process of every user: the other work that shared the cores).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface ProcStat {
  pid: number;
  ppid: number;
  /** utime, stime: the process's own CPU; cutime, cstime: that of its children it has waited for. Clock ticks. */
  utime: number;
  stime: number;
  cutime: number;
  cstime: number;
}

/** Parses /proc/<pid>/stat: `pid (comm) state ppid ... utime stime cutime cstime ...` (comm may hold spaces and ')'). */
export function parseProcStat(text: string): ProcStat | undefined {
  const close = text.lastIndexOf(')');
  const pid = Number(text.slice(0, text.indexOf(' ')));
  if (close < 0 || !Number.isInteger(pid)) return undefined;
  // After the comm: state(0) ppid(1) pgrp(2) session(3) tty(4) tpgid(5) flags(6) minflt(7)
  // cminflt(8) majflt(9) cmajflt(10) utime(11) stime(12) cutime(13) cstime(14).
  const f = text.slice(close + 2).trim().split(/\s+/).map(Number);
  const [ppid, utime, stime, cutime, cstime] = [f[1], f[11], f[12], f[13], f[14]];
  if ([ppid, utime, stime, cutime, cstime].some((v) => v === undefined || !Number.isFinite(v))) return undefined;
  return { pid, ppid: ppid ?? 0, utime: utime ?? 0, stime: stime ?? 0, cutime: cutime ?? 0, cstime: cstime ?? 0 };
}

/**
 * CPU ticks of a process tree rooted at `root`: the root's own time, what its children that
 * already ended left in its cutime/cstime (a backend that exits during a phase still counts),
 * and the live children's own time.
 */
export function treeTicks(root: ProcStat, children: ProcStat[]): number {
  return root.utime + root.stime + root.cutime + root.cstime + children.filter((c) => c.ppid === root.pid).reduce((s, c) => s + c.utime + c.stime, 0);
}

/** The machine's busy and total ticks from /proc/stat's first line (busy = all but idle and iowait). */
export function parseMachineStat(text: string): { busy: number; total: number } | undefined {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return undefined;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  if (v.length < 4 || v.some((x) => !Number.isFinite(x))) return undefined;
  // user nice system idle iowait irq softirq steal guest guest_nice: guest time is already in user.
  const total = v.slice(0, 8).reduce((s, x) => s + x, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return { busy: total - idle, total };
}

let clockTicks: number | undefined;
/** Kernel clock ticks per second, the unit of /proc's CPU times. */
export function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

function readStat(pid: number): ProcStat | undefined {
  try {
    return parseProcStat(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined; // gone
  }
}

/** The postmaster's pid from `<dataDir>/postmaster.pid` (its first line). */
export function postmasterPid(dataDir: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]?.trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** CPU (user + system) the cluster of `dataDir` has used so far, ms: the postmaster and all its backends. */
export function clusterCpuMs(dataDir: string): number {
  const pid = postmasterPid(dataDir);
  const root = pid === undefined ? undefined : readStat(pid);
  if (!root) return Number.NaN;
  const children: ProcStat[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const s = readStat(Number(entry));
    if (s && s.ppid === root.pid) children.push(s);
  }
  return (treeTicks(root, children) * 1000) / ticksPerSecond();
}

/** Busy CPU of the whole machine so far (every process, every core), ms. */
export function machineBusyMs(): number {
  try {
    const s = parseMachineStat(fs.readFileSync('/proc/stat', 'utf8'));
    return s ? (s.busy * 1000) / ticksPerSecond() : Number.NaN;
  } catch {
    return Number.NaN;
  }
}
