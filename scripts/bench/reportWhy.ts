/**
 * "Why each target that is not met is not met" (issue 17: "if a target still cannot be met, the
 * table shows exactly which cost remains and why it cannot go"): for every target with a NOT met
 * verdict, its CPU budget computed from the run's own measurements (budget.ts), the measured cost
 * items per sign-in from the profiled phases (beside the reference's, same classifier) and, per
 * item, the fixed reason it is required (costReasons.ts). Every number here is measured.
 */
import { machineShare, queueing, rateBudget, type RateBudget } from './budget.js';
import { SHARED_COSTS, partReasonOf, reasonOf } from './costReasons.js';
import { OTHER_THREADS } from './profileCosts.js';
import type { CostProfile } from './profiledPhase.js';
import { TARGETS, type BackendRun, type BenchResults, type PhaseRow, type Verdict } from './report.js';
import { fmt, fmtInt } from './stats.js';
import { PRIMARY, threadReasonOf } from './threadKinds.js';

const rowAt = (b: BackendRun | undefined, clients: number): PhaseRow | undefined => b?.signIn.find((x) => x.clients === clients)?.row;
/** What the explanations read of a run's results. */
export type WhyInput = Pick<BenchResults, 'signIn' | 'backends' | 'costProfiles'> & { machine: { cores: number } };

const backend = (r: WhyInput, key: string): BackendRun | undefined => r.backends.find((b) => b.key === key);
/** Utilisation from which the cores left to the server count as full. */
const NEAR_FULL = 0.85;
const pct = (cores: number): string => `${fmt(cores * 100, 0)} %`;
const ms = (v: number | undefined): string => `${fmt(v, 2)} ms`;

function costMap(p: CostProfile | undefined): Map<string, number> {
  return new Map((p?.costs.lines ?? []).map((l) => [l.cost, l.msPerCeremony]));
}

/** The total row's name: CPU when the profiles were scaled to it, else raw samples. */
const totalLabel = (p: CostProfile): string => (p.costs.scaled ? 'CPU (profile scaled to each thread\'s /proc CPU)' : 'Sampled JavaScript-thread time');

/**
 * HTTP and WebAuthn verification, which both servers pay, part by part (profileParts.ts) beside
 * the other server's, each part's difference with the reason it differs (costReasons.ts).
 */
export function sharedParts(subject: CostProfile, other: CostProfile | undefined, otherName: string): string[] {
  const out: string[] = [];
  for (const cost of [...SHARED_COSTS, OTHER_THREADS]) {
    const threads = cost === OTHER_THREADS;
    const mine = subject.costs.lines.find((l) => l.cost === cost)?.parts;
    if (!mine) continue;
    const theirs = new Map((other?.costs.lines.find((l) => l.cost === cost)?.parts ?? []).map((x) => [x.part, x.msPerCeremony]));
    // The other threads: the workers' kinds first, the cluster primary's last.
    const names = [...new Set([...mine.map((x) => x.part), ...theirs.keys()])].sort((a, b) => Number(a.startsWith(PRIMARY)) - Number(b.startsWith(PRIMARY)));
    const own = new Map(mine.map((x) => [x.part, x.msPerCeremony]));
    out.push(
      '',
      threads
        ? `${cost}, thread by thread (each thread's CPU over the profiled window, /proc/self/task/*/schedstat; the kinds told apart by scripts/bench/threadCensus.ts, summed over the processes, a cluster primary apart):`
        : `${cost}, part by part (the innermost recognised frame of each sample, scripts/bench/profileParts.ts):`,
      '',
      `| Part | ${subject.server}, ms per sign-in | ${other ? `${otherName}, ms per sign-in` : '–'} | Difference | Why the difference |`,
      '| --- | ---: | ---: | ---: | --- |',
      ...names.map((n) => {
        const a = own.get(n) ?? 0;
        const b = theirs.get(n);
        return `| ${n} | ${fmt(a, 3)} | ${other ? fmt(b ?? 0, 3) : '–'} | ${other ? fmt(a - (b ?? 0), 3) : '–'} | ${threads ? threadReasonOf(n) : partReasonOf(n)} |`;
      }),
    );
  }
  return out;
}

/** Cost items per sign-in of `subject` beside `other` (the reference, or SQLite), each with its reason. */
export function costItems(subject: CostProfile, other: CostProfile | undefined, otherName: string): string[] {
  const theirs = costMap(other);
  const cpu = (p: CostProfile): number => p.row.serverCpuMs / Math.max(1, p.row.completed + p.row.warmupCompleted);
  const lines = [
    `| Cost (profiled ${subject.row.clients}-client phase) | ${subject.server}, ms per sign-in | ${otherName}, ms per sign-in | Difference | Why it is required |`,
    '| --- | ---: | ---: | ---: | --- |',
  ];
  for (const l of subject.costs.lines) {
    const o = theirs.get(l.cost);
    lines.push(`| ${l.cost} | ${fmt(l.msPerCeremony, 3)} | ${other ? fmt(o ?? 0, 3) : '–'} | ${other ? fmt(l.msPerCeremony - (o ?? 0), 3) : '–'} | ${reasonOf(l.cost)} |`);
  }
  for (const l of other?.costs.lines ?? []) {
    if (!subject.costs.lines.some((x) => x.cost === l.cost)) lines.push(`| ${l.cost} | 0.000 | ${fmt(l.msPerCeremony, 3)} | ${fmt(-l.msPerCeremony, 3)} | ${reasonOf(l.cost)} |`);
  }
  lines.push(
    `| **${totalLabel(subject)} per sign-in** | **${fmt(subject.costs.busyMsPerCeremony, 3)}** | ${other ? `**${fmt(other.costs.busyMsPerCeremony, 3)}**` : '–'} | ${other ? fmt(subject.costs.busyMsPerCeremony - other.costs.busyMsPerCeremony, 3) : '–'} | |`,
    `| Server CPU per sign-in in the profiled phase (/proc, all threads) | ${fmt(cpu(subject), 3)} | ${other ? fmt(cpu(other), 3) : '–'} | ${other ? fmt(cpu(subject) - cpu(other), 3) : '–'} | |`,
    ...(subject.costs.sampledMsPerCeremony !== undefined
      ? [`| Raw samples per sign-in (clock time of the JavaScript threads, before scaling) | ${fmt(subject.costs.sampledMsPerCeremony, 3)} | ${other?.costs.sampledMsPerCeremony !== undefined ? fmt(other.costs.sampledMsPerCeremony, 3) : '–'} | | A thread waiting for a core collects samples too: the excess over the CPU above is that wait. |`]
      : []),
  );
  if (subject.row.postgresCpuMs !== undefined) {
    lines.push(`| PostgreSQL's own processes per sign-in (/proc) | ${fmt(subject.row.postgresCpuMs / Math.max(1, subject.row.completed + subject.row.warmupCompleted), 3)} | ${other?.row.postgresCpuMs !== undefined ? fmt(other.row.postgresCpuMs / Math.max(1, other.row.completed + other.row.warmupCompleted), 3) : '0 (none)'} | | NSIS 6 (Low) 7: the durable commits, executed by the database server. |`);
  }
  const shared = subject.costs.lines.filter((l) => SHARED_COSTS.has(l.cost)).reduce((s, l) => s + l.msPerCeremony, 0);
  const sharedOther = (other?.costs.lines ?? []).filter((l) => SHARED_COSTS.has(l.cost)).reduce((s, l) => s + l.msPerCeremony, 0);
  lines.push(
    '',
    `Both servers pay HTTP and WebAuthn verification: ${ms(shared)} per sign-in in the ${subject.server}${other ? `, ${ms(sharedOther)} in the ${otherName}` : ''}; the other items (${ms(subject.costs.busyMsPerCeremony - shared)}) are what the rows above require.`,
    subject.costs.scaled
      ? "Each process's samples are scaled to its JavaScript thread's CPU over the profiled window (/proc/self/task), and its other threads' CPU is its own row: on 2 oversubscribed cores a thread waiting for a core keeps collecting samples, which made the raw samples of the gateway (2 workers beside 2 load generators) up to three times its CPU (scripts/bench/profileCosts.ts). A blocking native call counts while it blocks."
      : 'Sampled time is the JavaScript thread of each process (a blocking native call counts while it blocks); /proc CPU also counts libuv\'s threads and V8\'s helper threads, so the two totals differ.',
    ...sharedParts(subject, other, otherName),
  );
  if (subject.row.postgresCpuMs !== undefined) {
    lines.push('On PostgreSQL a statement is asynchronous I/O through the driver (node-postgres): its samples are the driver\'s parsing and the socket, charged to "Store reads and other statements" whichever transaction they belong to; the database\'s own work is the "PostgreSQL\'s own processes" row.');
  }
  return lines;
}

/** Cores the rest of the machine (other users' processes) kept busy during the phase, when /proc/stat was read. */
function otherCores(p: PhaseRow, cores: number): number | undefined {
  const m = machineShare(p, cores);
  return m.machineCores === undefined ? undefined : Math.max(0, m.machineCores - m.oursCores);
}

function budgetRows(b: RateBudget, cores: number, what: string, targetText: string, phase: PhaseRow, reference?: PhaseRow): string[] {
  const refCpu = reference ? reference.serverCpuMs / Math.max(1, reference.completed + reference.warmupCompleted) : undefined;
  const other = otherCores(phase, cores);
  return [
    '| Budget | Value |',
    '| --- | ---: |',
    `| Target: ${targetText} | ${fmtInt(b.targetPerSecond)} ${what}s/s |`,
    `| Measured | ${fmtInt(b.measuredPerSecond)} ${what}s/s |`,
    `| Server CPU per ${what} (measured, /proc)${refCpu !== undefined ? `; the reference's: ${ms(refCpu)}` : ''} | ${ms(b.serverMsPerCeremony)} |`,
    `| Cores the target needs at that cost (target × cost) | ${fmt(b.neededCores, 2)} of ${cores} |`,
    `| Cores the server had: ${cores} − generators ${fmt(b.generatorCores, 2)} − PostgreSQL ${fmt(b.postgresCores, 2)} (measured) | ${fmt(b.serverHadCores, 2)} (it used ${fmt(b.serverCores, 2)}) |`,
    `| Server CPU per ${what} the target allows on them (cores the server had ÷ target) | ${ms(b.allowedMsPerCeremony)} |`,
    `| … if the generators' (${ms(b.generatorMsPerCeremony)}) and PostgreSQL's (${ms(b.postgresMsPerCeremony)}) cost per ${what} grow with the rate (${cores} cores ÷ target − both) | ${ms(b.allowedMsPerCeremonyScaled)} |`,
    `| **To go: measured − allowed** | **${ms(b.gapMs)}** (${fmt((100 * b.gapMs) / b.serverMsPerCeremony, 0)} % of the cost) |`,
    ...(other === undefined
      ? []
      : [`| Other processes on the machine during the phase (/proc/stat busy − ours; not taken from the cores above: 0 on a quiet machine) | ${fmt(other, 2)} cores |`]),
    '',
    b.gapMs > 0
      ? `At the measured cost the target needs ${fmt(b.neededCores, 2)} cores and the server had ${fmt(b.serverHadCores, 2)}: the cost per ${what} must shrink by ${ms(b.gapMs)} (${fmt((100 * b.gapMs) / b.serverMsPerCeremony, 0)} %).${what === 'sign-in' ? ' The cost items say where it goes and why each is required.' : ''}`
      : `At the measured cost the target fits the cores the server had (${fmt(b.neededCores, 2)} of ${fmt(b.serverHadCores, 2)}), yet the server used only ${fmt(b.serverCores, 2)}: the rate was held back by something other than the server's CPU${other !== undefined && other >= OTHER_WORK ? ` (other processes kept ${fmt(other, 2)} cores busy: rerun on a quiet machine)` : ' (waiting: the database\'s commits, locks, the HSM)'}.`,
  ];
}

/** Cores of other work on the machine from which a phase counts as disturbed. */
const OTHER_WORK = 0.25;

function explain(r: WhyInput, v: Verdict, costsShown: { gateway: boolean; postgres: boolean }): string[] {
  const cores = r.machine.cores;
  const about = v.about;
  const cp = r.costProfiles ?? {};
  const out = ['', `### ${v.target}`, '', `Measured: ${v.measured}.`, ''];
  const gatewayCosts = (): string[] => {
    if (!cp.gateway) return ['No CPU profile in this run (--no-cpu-prof): no cost items.'];
    if (costsShown.gateway) return ['Cost items: as in the table above (the same profiled phase).'];
    costsShown.gateway = true;
    return costItems(cp.gateway, cp.reference, 'in-memory reference');
  };
  if (about?.kind === 'reference-ratio') {
    const at = r.signIn.find((s) => s.clients === about.clients);
    if (!at?.reference) return [...out, 'The reference did not run at this level.'];
    const b = rateBudget(at.gateway, TARGETS.referenceRatio * at.reference.perSecond, cores);
    return [...out, ...budgetRows(b, cores, 'sign-in', `${TARGETS.referenceRatio} × the reference's ${fmtInt(at.reference.perSecond)}/s`, at.gateway, at.reference), '', ...gatewayCosts()];
  }
  if (about?.kind === 'p99') {
    const at = r.signIn.find((s) => s.clients === about.clients)?.gateway;
    const one = r.signIn.find((s) => s.clients === 1)?.gateway;
    if (!at || !one) return [...out, 'No 1-client phase: no service time to compare with.'];
    const q = queueing({ ...at, clients: about.clients, meanMs: at.latency.mean }, one.latency.p50, TARGETS.p99At16Ms, cores);
    const other = otherCores(at, cores);
    const b = rateBudget(at, 1, cores);
    const withOther = other === undefined ? Number.NaN : b.serverCores / Math.max(0.01, b.serverHadCores - other);
    return [
      ...out,
      '| Queueing | Value |',
      '| --- | ---: |',
      `| Server utilisation at ${q.clients} clients (CPU used ÷ cores the server had) | ${pct(q.utilisation)} |`,
      `| Service time: the whole ceremony at 1 client (p50) | ${ms(q.serviceMs)} |`,
      `| Mean latency at ${q.clients} clients (measured; Little's law, clients ÷ rate: ${ms(q.littleMeanMs)}) | ${ms(q.meanMs)} |`,
      `| Latency ÷ service time (time waiting for a core or the writer rather than being served) | ${fmt(q.queueFactor, 1)}× |`,
      `| A p99 under ${TARGETS.p99At16Ms} ms with ${q.clients} closed-loop clients needs a mean under it, so at least (clients ÷ ${TARGETS.p99At16Ms} ms) | ${fmtInt(q.requiredPerSecond)} sign-ins/s |`,
      `| Server CPU per sign-in that rate allows on the cores the server had (measured: ${ms(at.serverCpuMs / Math.max(1, at.completed + at.warmupCompleted))}) | ${ms(q.allowedMsPerCeremony)} |`,
      ...(other === undefined
        ? []
        : [
            `| Other processes on the machine (/proc/stat busy − ours) | ${fmt(other, 2)} cores |`,
            `| Server utilisation of the cores left after the generators AND the other processes | ${pct(withOther)} |`,
          ]),
      '',
      q.utilisation >= NEAR_FULL
        ? `The server kept ${pct(q.utilisation)} of the cores left to it busy: each sign-in waits for the ones ahead of it, so the latency is queueing (${fmt(q.queueFactor, 1)}× the service time), and it falls only with the CPU per sign-in (the cost items of the sign-in targets).`
        : withOther >= NEAR_FULL
          ? `The cores left after the generators and the other processes on the machine were full (${pct(withOther)}): the latency is queueing (${fmt(q.queueFactor, 1)}× the service time), partly behind work that is not the gateway's; rerun on a quiet machine before reading this target.`
          : `The server kept only ${pct(q.utilisation)} of the cores left to it busy, yet the latency is ${fmt(q.queueFactor, 1)}× the service time: the wait was not for the server's own CPU but for something else (the database's commits and locks, the HSM).`,
    ];
  }
  if (about?.kind === 'postgres-within') {
    const a = rowAt(backend(r, 'sqlite'), about.clients);
    const p = rowAt(backend(r, 'pg1'), about.clients);
    if (!a || !p) return out;
    const b = rateBudget(p, (1 - TARGETS.postgresWithinOfSqlite) * a.perSecond, cores);
    const rows = [...out, ...budgetRows(b, cores, 'sign-in', `${1 - TARGETS.postgresWithinOfSqlite} × SQLite's ${fmtInt(a.perSecond)}/s`, p), ''];
    if (!cp.postgres) return [...rows, 'No CPU profile on PostgreSQL in this run: no cost items.'];
    if (costsShown.postgres) return [...rows, 'Cost items: as in the PostgreSQL table above.'];
    costsShown.postgres = true;
    return [...rows, ...costItems(cp.postgres, cp.gateway, 'gateway on SQLite')];
  }
  if (about?.kind === 'scale-out') {
    const configs = ['pg1w1', 'pg2w1'].map((k) => ({ b: backend(r, k), row: rowAt(backend(r, k), about.clients) }));
    const oneRow = configs[0]?.row;
    const lines = [...out, '| Configuration | Sign-ins/s | Server | Generators | PostgreSQL | Ours, total (of ' + `${cores * 100} %) | Whole machine busy (every process) | Rate if every core were this configuration's |`, '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |'];
    for (const { b, row } of configs) {
      if (!b || !row) continue;
      const m = machineShare(row, cores);
      const w = Math.max(1, row.phaseWallMs);
      lines.push(`| ${b.label} | ${fmtInt(row.perSecond)} | ${pct(row.serverCpuMs / w)} | ${pct(row.generatorCpuMs / w)} | ${pct((row.postgresCpuMs ?? Number.NaN) / w)} | ${pct(m.oursCores)} | ${m.machineCores === undefined ? '–' : pct(m.machineCores)} | ${fmtInt(m.ceilingPerSecond)} |`);
    }
    if (oneRow && !(oneRow.perSecond > 0)) lines.push('', 'No ceremony of one instance completed inside the measured window: there is no ratio to explain (a longer --duration).');
    else if (oneRow) {
      const m = machineShare(oneRow, cores);
      const target = TARGETS.scaleOutRatio * oneRow.perSecond;
      lines.push(
        '',
        m.ceilingPerSecond < target
          ? `The target is ${fmtInt(target)}/s (${TARGETS.scaleOutRatio} × one instance). One instance with its generators and PostgreSQL already kept ${pct(m.oursCores)} of ${cores * 100} % busy: at its CPU per sign-in the whole machine gives at most ${fmtInt(m.ceilingPerSecond)}/s (${fmt(m.ceilingPerSecond / oneRow.perSecond, 2)} × one), whatever the number of instances. A second instance adds processes, not cores.`
          : `The target is ${fmtInt(target)}/s (${TARGETS.scaleOutRatio} × one instance). One instance with its generators and PostgreSQL kept ${pct(m.oursCores)} of ${cores * 100} % busy, so the cores alone would allow ${fmtInt(m.ceilingPerSecond)}/s (${fmt(m.ceilingPerSecond / oneRow.perSecond, 2)} × one): in this run the cores did not bound the scale-out; ${m.machineCores !== undefined && m.machineCores > m.oursCores + 0.25 ? `other processes kept the machine at ${pct(m.machineCores)}, so the ratio here is noise: rerun on a quiet machine.` : 'the instances waited on something other than CPU (the database\'s commits and locks).'}`,
      );
    }
    return lines;
  }
  if (about?.kind === 'enrolment') {
    const b0 = backend(r, about.backend);
    const peak = b0?.enrolment.reduce<PhaseRow | undefined>((best, e) => (e.perSecond > (best?.perSecond ?? -1) ? e : best), undefined);
    if (!peak) return out;
    return [...out, ...budgetRows(rateBudget(peak, TARGETS.enrolmentPerSecond, cores), cores, 'enrolment', `${TARGETS.enrolmentPerSecond} enrolments/s (peak phase: ${peak.clients} clients)`, peak), '', 'An enrolment pays a WebAuthn attestation check, a key issued and audited in one durable commit (NSIS 6 (Low) 7), the one-time link consumed (NSIS 3.2.2 (High) 3) and an activation code queued to the second channel; no profile of enrolment is taken.'];
  }
  return [...out, 'No cost model for this target: see its table.'];
}

export function whySection(r: WhyInput, v: Verdict[]): string[] {
  const notMet = v.filter((x) => !x.met);
  const lines = ['', '## Why each target that is not met is not met', ''];
  if (notMet.length === 0) return [...lines, 'Every target is met.'];
  lines.push(
    `Item by item, from this run's own measurements: the CPU budget a target needs on the ${r.machine.cores} cores (the generators and PostgreSQL take their measured share), the cost items per sign-in from the profiled phases (the same classifier on every server) and why each is required.`,
  );
  const shown = { gateway: false, postgres: false };
  for (const x of notMet) lines.push(...explain(r, x, shown));
  return lines;
}

/** The profiled phases' costs per sign-in side by side (gateway on SQLite, on PostgreSQL, the reference). */
export function costColumns(r: BenchResults): string[] {
  const cp = r.costProfiles ?? {};
  const profiles = [cp.gateway, cp.postgres, cp.reference].filter((p): p is CostProfile => p !== undefined);
  if (profiles.length === 0) return [];
  const costs = [...new Set(profiles.flatMap((p) => p.costs.lines.map((l) => l.cost)))];
  const maps = profiles.map(costMap);
  const perCeremony = (p: CostProfile, v: number | undefined): string => (v === undefined ? '–' : fmt(v / Math.max(1, p.row.completed + p.row.warmupCompleted), 3));
  return [
    '',
    `Costs per sign-in side by side: each profiled ${profiles[0]?.row.clients ?? ''}-client phase, the same cost classifier (ms per sign-in; ${profiles.every((p) => p.costs.scaled) ? "each process's samples scaled to its JavaScript thread's CPU, its other threads a row of their own" : 'sampled JavaScript-thread time'}):`,
    '',
    `| Cost | ${profiles.map((p) => p.server).join(' | ')} |`,
    `| --- | ${profiles.map(() => '---:').join(' | ')} |`,
    ...costs.map((c) => `| ${c} | ${maps.map((m) => fmt(m.get(c) ?? 0, 3)).join(' | ')} |`),
    `| **Total** | ${profiles.map((p) => `**${fmt(p.costs.busyMsPerCeremony, 3)}**`).join(' | ')} |`,
    `| Raw samples (clock time of the JavaScript threads) | ${profiles.map((p) => fmt(p.costs.sampledMsPerCeremony, 3)).join(' | ')} |`,
    `| Server CPU per sign-in (/proc) | ${profiles.map((p) => perCeremony(p, p.row.serverCpuMs)).join(' | ')} |`,
    `| PostgreSQL's processes per sign-in (/proc) | ${profiles.map((p) => perCeremony(p, p.row.postgresCpuMs)).join(' | ')} |`,
    `| Sign-ins/s while profiled | ${profiles.map((p) => fmtInt(p.row.perSecond)).join(' | ')} |`,
  ];
}
