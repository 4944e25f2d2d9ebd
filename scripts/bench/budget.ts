/**
 * The CPU budget of a speed target, from a phase's own measurements (pure arithmetic; the report
 * renders it in reportWhy.ts). Every CPU figure is user + system time from /proc over the phase:
 * the server's processes, the load generators, PostgreSQL's processes; per ceremony it is divided
 * by the ceremonies completed in the phase (warm-up included, as is the CPU).
 */

/** What a phase measured that a budget needs (a PhaseRow has all of it). */
export interface PhaseCpu {
  perSecond: number;
  completed: number;
  warmupCompleted: number;
  phaseWallMs: number;
  serverCpuMs: number;
  generatorCpuMs: number;
  postgresCpuMs?: number;
  machineCpuMs?: number;
}

export interface RateBudget {
  targetPerSecond: number;
  measuredPerSecond: number;
  /** The server's CPU per ceremony, measured, ms. */
  serverMsPerCeremony: number;
  generatorMsPerCeremony: number;
  postgresMsPerCeremony: number;
  /** Cores (1 = one core busy the whole phase) used by the server, the generators, PostgreSQL. */
  serverCores: number;
  generatorCores: number;
  postgresCores: number;
  /** Cores the server had: the machine's cores minus what the generators and PostgreSQL used. */
  serverHadCores: number;
  /** Cores the target rate needs at the measured server CPU per ceremony. */
  neededCores: number;
  /** Server CPU per ceremony the target allows on the cores the server had, ms. */
  allowedMsPerCeremony: number;
  /** The same when the generators' and PostgreSQL's CPU grow with the rate (their cost per ceremony × target). */
  allowedMsPerCeremonyScaled: number;
  /** Measured − allowed (on the cores the server had), ms: what would have to go. */
  gapMs: number;
}

const ceremonies = (p: PhaseCpu): number => Math.max(1, p.completed + p.warmupCompleted);

export function rateBudget(p: PhaseCpu, targetPerSecond: number, cores: number): RateBudget {
  const n = ceremonies(p);
  const wall = Math.max(1, p.phaseWallMs);
  const pg = p.postgresCpuMs ?? 0;
  const serverMsPerCeremony = p.serverCpuMs / n;
  const generatorMsPerCeremony = p.generatorCpuMs / n;
  const postgresMsPerCeremony = pg / n;
  const generatorCores = p.generatorCpuMs / wall;
  const postgresCores = pg / wall;
  const serverHadCores = Math.max(0, cores - generatorCores - postgresCores);
  const allowedMsPerCeremony = (serverHadCores * 1000) / targetPerSecond;
  return {
    targetPerSecond,
    measuredPerSecond: p.perSecond,
    serverMsPerCeremony,
    generatorMsPerCeremony,
    postgresMsPerCeremony,
    serverCores: p.serverCpuMs / wall,
    generatorCores,
    postgresCores,
    serverHadCores,
    neededCores: (targetPerSecond * serverMsPerCeremony) / 1000,
    allowedMsPerCeremony,
    allowedMsPerCeremonyScaled: (cores * 1000) / targetPerSecond - generatorMsPerCeremony - postgresMsPerCeremony,
    gapMs: serverMsPerCeremony - allowedMsPerCeremony,
  };
}

export interface Queueing {
  clients: number;
  /** Server CPU used ÷ cores the server had (1 = the cores left to it were full). */
  utilisation: number;
  /** Service time: the whole ceremony at 1 client (p50), ms. */
  serviceMs: number;
  /** Measured mean latency at `clients`, and Little's law's clients ÷ throughput, ms. */
  meanMs: number;
  littleMeanMs: number;
  /** Latency ÷ service time: the time spent waiting for a core (or a lock) rather than being served. */
  queueFactor: number;
  /**
   * A p99 under the target with `clients` closed-loop clients needs a mean under it, so by
   * Little's law at least clients ÷ target sign-ins/s; the server CPU per ceremony that allows on
   * the cores the server had.
   */
  requiredPerSecond: number;
  allowedMsPerCeremony: number;
}

export function queueing(p: PhaseCpu & { clients: number; meanMs: number }, serviceMs: number, p99TargetMs: number, cores: number): Queueing {
  const b = rateBudget(p, (p.clients * 1000) / p99TargetMs, cores);
  return {
    clients: p.clients,
    utilisation: b.serverHadCores > 0 ? b.serverCores / b.serverHadCores : Number.NaN,
    serviceMs,
    meanMs: p.meanMs,
    littleMeanMs: p.perSecond > 0 ? (p.clients * 1000) / p.perSecond : Number.NaN,
    queueFactor: serviceMs > 0 ? p.meanMs / serviceMs : Number.NaN,
    requiredPerSecond: b.targetPerSecond,
    allowedMsPerCeremony: b.allowedMsPerCeremony,
  };
}

export interface MachineShare {
  perSecond: number;
  /** Cores used by our processes: server + generators + PostgreSQL. */
  oursCores: number;
  /** Cores busy on the whole machine (every process; other work included). */
  machineCores: number | undefined;
  /** The rate if our processes had every core at the measured CPU per ceremony. */
  ceilingPerSecond: number;
}

/** How much of the machine a configuration used, and the rate it could reach with every core. */
export function machineShare(p: PhaseCpu, cores: number): MachineShare {
  const wall = Math.max(1, p.phaseWallMs);
  const oursCores = (p.serverCpuMs + p.generatorCpuMs + (p.postgresCpuMs ?? 0)) / wall;
  return {
    perSecond: p.perSecond,
    oursCores,
    machineCores: p.machineCpuMs === undefined ? undefined : p.machineCpuMs / wall,
    ceilingPerSecond: oursCores > 0 ? (p.perSecond * cores) / oursCores : Number.NaN,
  };
}
