/** The benchmark's command line. */
import path from 'node:path';

export interface BenchOptions {
  quick: boolean;
  durationMs: number;
  warmupMs: number;
  workers: number;
  generators: number;
  write: boolean;
  /** Also write the report here (the smoke test reads it). */
  out: string | undefined;
  growth: boolean;
  maxKeys: number;
  /** The profiled phases (on unless --no-cpu-prof). */
  cpuProf: boolean;
  /** Keep the CPU profiles here (default: summarised, then deleted with the run's temp dir). */
  cpuProfDir: string | undefined;
  ceilingMs: number;
  stageIterations: number;
  /** Enrolment links issued per level: this rate times (warm-up + duration). */
  enrolLinksPerSecond: number;
  logLevel: string;
  /** Keep the run's temp dir (logs, database) instead of deleting it. */
  keep: boolean;
  signInLevels: number[];
  enrolLevels: number[];
  growthLevels: number[];
  /** sqlite always; postgres unless left out (a private cluster is started for the run). */
  backends: ('sqlite' | 'postgres')[];
  /** PostgreSQL: also 1 instance × 1 worker and 2 instances × 1 worker (the scale-out ratio). */
  scaleOut: boolean;
  /** --baseline REF: that commit benched side by side in the same run (no default: a ref is required). */
  baseline: string | undefined;
  /** --growth-env NAME=VALUE: each growth size also measured with the gateway started with this variable (A B A B). */
  growthEnv: { name: string; value: string } | undefined;
}

export const USAGE = `Usage: npm run bench -- [options]

  --quick             short phases and small counts (smoke run); growth only up to 10,000 keys
  --duration S        measured seconds per phase (default 8; --quick 1)
  --warmup S          warm-up seconds before each phase (default 2; --quick 0.5)
  --workers N         GATEWAY_WORKERS for the gateway under test (default 2)
  --generators N      load-generator processes, 1 or 2 (default 2)
  --growth            run the growth phases (default unless --quick)
  --skip-growth       skip them
  --max-keys N        largest database for the growth phases (default 1000000)
  --no-cpu-prof       skip the profiled phases (by default an extra 16-client sign-in phase is
                      profiled on the gateway (SQLite, and PostgreSQL when it runs) and on the
                      reference, and the costs per sign-in reported); --cpu-prof: the default
  --cpu-prof-dir DIR  keep the .cpuprofile files in DIR
 --backends LIST    sqlite,postgres (default) or sqlite: PostgreSQL runs on a private cluster
                      started for the run (scripts/postgres-cluster.sh) and stopped at its end
  --no-scale-out      PostgreSQL: skip the 1-worker and 2-instance phases
  --baseline REF      also bench the commit REF (required; no default) in the same run: a
                      git archive of it under var/bench-baseline/<sha>, sharing node_modules
                      (refused when its package.json dependencies differ), its own SoftHSM token;
                      its gateway and this one take turns phase by phase, same load generator
  --growth-env N=V    growth: at each size, the gateway as configured and the gateway with the
                      environment variable N=V take turns (two rounds: A B A B), same database
                      and load: an A/B of a setting, e.g. GATEWAY_SQLITE_CHECKPOINT_MS=0
  --log-level L       the gateway's GATEWAY_LOG_LEVEL (default info)
  --keep              keep the run's temp dir (server logs, database) for inspection
  --no-write          do not write docs/benchmarks.md
  --out FILE          also write the report to FILE
`;

function num(name: string, raw: string | undefined, min: number, max: number): number {
  const n = Number(raw);
  if (raw === undefined || !Number.isFinite(n) || n < min || n > max) throw new Error(`${name} needs a number between ${min} and ${max}`);
  return n;
}

export function parseOptions(argv: string[]): BenchOptions {
  const quick = argv.includes('--quick');
  const opts: BenchOptions = {
    quick,
    durationMs: quick ? 1000 : 8000,
    warmupMs: quick ? 500 : 2000,
    workers: 2,
    generators: 2,
    write: true,
    out: undefined,
    growth: !quick,
    maxKeys: 1_000_000,
    cpuProf: true,
    cpuProfDir: undefined,
    ceilingMs: quick ? 500 : 3000,
    stageIterations: quick ? 30 : 300,
    enrolLinksPerSecond: quick ? 400 : 800,
    logLevel: 'info',
    keep: false,
    signInLevels: [1, 16, 64],
    enrolLevels: [1, 16, 64],
    growthLevels: [10_000, 1_000_000],
    backends: ['sqlite', 'postgres'],
    scaleOut: true,
    baseline: undefined,
    growthEnv: undefined,
  };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    const value = () => {
      i += 1;
      return argv[i];
    };
    switch (arg) {
      case '--quick':
        break;
      case '--duration':
        opts.durationMs = num('--duration', value(), 0.2, 3600) * 1000;
        break;
      case '--warmup':
        opts.warmupMs = num('--warmup', value(), 0, 600) * 1000;
        break;
      case '--workers':
        opts.workers = num('--workers', value(), 1, 64);
        break;
      case '--generators':
        opts.generators = num('--generators', value(), 1, 2);
        break;
      case '--growth':
        opts.growth = true;
        break;
      case '--skip-growth':
        opts.growth = false;
        break;
      case '--max-keys':
        opts.maxKeys = num('--max-keys', value(), 1, 100_000_000);
        break;
      case '--cpu-prof':
        opts.cpuProf = true;
        break;
      case '--no-cpu-prof':
        opts.cpuProf = false;
        break;
      case '--cpu-prof-dir': {
        const dir = value();
        if (!dir) throw new Error('--cpu-prof-dir needs a directory');
        opts.cpuProf = true;
        opts.cpuProfDir = path.resolve(dir);
        break;
      }
      case '--log-level': {
        const level = value();
        if (!level) throw new Error('--log-level needs a level');
        opts.logLevel = level;
        break;
      }
      case '--backends': {
        const list = (value() ?? '').split(',').map((b) => b.trim());
        if (!list.includes('sqlite') || !list.every((b) => b === 'sqlite' || b === 'postgres')) throw new Error('--backends is sqlite or sqlite,postgres');
        opts.backends = list.filter((b): b is 'sqlite' | 'postgres' => b === 'sqlite' || b === 'postgres');
        break;
      }
      case '--baseline': {
        const ref = value();
        if (!ref || ref.startsWith('-')) throw new Error('--baseline needs a git ref (a commit, tag or branch): there is no default');
        if (!/^[A-Za-z0-9][A-Za-z0-9._/~^@{}-]*$/.test(ref)) throw new Error(`--baseline ${ref}: not a git ref`);
        opts.baseline = ref;
        break;
      }
      case '--growth-env': {
        const m = /^(GATEWAY_[A-Z0-9_]+)=(.*)$/.exec(value() ?? '');
        if (!m?.[1] || m[2] === undefined) throw new Error('--growth-env needs GATEWAY_NAME=VALUE');
        opts.growthEnv = { name: m[1], value: m[2] };
        break;
      }
      case '--no-scale-out':
        opts.scaleOut = false;
        break;
      case '--keep':
        opts.keep = true;
        break;
      case '--no-write':
        opts.write = false;
        break;
      case '--out': {
        const file = value();
        if (!file) throw new Error('--out needs a file');
        opts.out = path.resolve(file);
        break;
      }
      default:
        throw new Error(`unknown option ${arg}\n\n${USAGE}`);
    }
  }
  // The standard steps up to --max-keys (plus --max-keys itself when it falls between them);
  // --quick stops below 100,000 keys.
  const limit = quick ? Math.min(opts.maxKeys, 99_999) : opts.maxKeys;
  const steps = opts.growthLevels.filter((n) => n <= limit);
  if (!steps.includes(limit) && limit < 1_000_000 && (steps.length === 0 || limit > (steps[steps.length - 1] ?? 0)) && opts.maxKeys === limit) steps.push(limit);
  opts.growthLevels = steps;
  return opts;
}
