/**
 * `npm run bench -- --baseline <git-ref>`: the same bench against an older commit, side by side
 * in the same run (issue 17: "before and after figures on the same machine in the same run").
 *
 * The baseline's tree is exported with `git archive <sha>` into var/bench-baseline/<sha> (no
 * worktree is registered in the repository, so nothing is left in .git if the run is killed),
 * shares this checkout's node_modules (a symlink; refused when the baseline's package.json
 * dependencies differ), and gets a SoftHSM token and var dir of its own
 * (var/bench-baseline/<sha>-var). Its employees are bound by ITS OWN scripts/bench/population.ts
 * (its schema, its flows) in a child process (baselinePeople.ts); its gateway is its own
 * server/main.ts, started exactly as this checkout's. The client bundle is not built: the bench
 * drives the HTTP API only. Everything is removed at the end of the run and on Ctrl-C.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { onCleanup, track } from './children.js';
import { repoRoot } from './serverProcess.js';

export interface BaselineCheckout {
  ref: string;
  sha: string;
  /** The exported tree (the baseline's repository root). */
  root: string;
  /** Its var dir, with its own SoftHSM token. */
  varDir: string;
  /** Environment its gateway needs for its token. */
  env: Record<string, string>;
}

const git = (args: string[], cwd = repoRoot): string => execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

type Deps = Record<string, string>;

function depsOf(packageJson: string): { dependencies: Deps; devDependencies: Deps } {
  const parsed: unknown = JSON.parse(packageJson);
  const pick = (key: string): Deps => {
    if (typeof parsed !== 'object' || parsed === null || !(key in parsed)) return {};
    const v: unknown = (parsed as Record<string, unknown>)[key];
    if (typeof v !== 'object' || v === null) return {};
    return Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => typeof e[1] === 'string'));
  };
  return { dependencies: pick('dependencies'), devDependencies: pick('devDependencies') };
}

/** Names of the packages whose declared version differs (or which one side lacks); empty when they match. */
export function dependencyDifferences(current: string, baseline: string): string[] {
  const a = depsOf(current);
  const b = depsOf(baseline);
  const out: string[] = [];
  for (const kind of ['dependencies', 'devDependencies'] as const) {
    const names = new Set([...Object.keys(a[kind]), ...Object.keys(b[kind])]);
    for (const name of [...names].sort()) {
      if (a[kind][name] !== b[kind][name]) out.push(`${name} (${kind}: here ${a[kind][name] ?? 'absent'}, baseline ${b[kind][name] ?? 'absent'})`);
    }
  }
  return out;
}

/** The commit `ref` names, or a clear refusal. */
export function resolveBaseline(ref: string): string {
  try {
    return git(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
  } catch {
    throw new Error(`--baseline ${ref}: not a commit of this repository (git rev-parse found none)`);
  }
}

function removeCheckout(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

const randomPin = (): string => execFileSync('od', ['-An', '-tx1', '-N16', '/dev/urandom'], { encoding: 'utf8' }).replace(/\s/g, '');

/** Checks the ref out beside this checkout, with a token of its own; removed on cleanup. */
export function checkoutBaseline(ref: string): BaselineCheckout {
  const sha = resolveBaseline(ref);
  const differences = dependencyDifferences(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'), git(['show', `${sha}:package.json`]));
  if (differences.length > 0) {
    throw new Error(
      `--baseline ${ref} (${sha.slice(0, 12)}) refused: its package.json dependencies differ from this checkout's, so it cannot share node_modules: ${differences.join('; ')}. Bench it from a checkout of its own instead.`,
    );
  }
  if (!fs.existsSync(path.join(repoRoot, 'node_modules'))) throw new Error('--baseline: this checkout has no node_modules to share (npm ci first)');
  const base = path.join(repoRoot, 'var', 'bench-baseline');
  fs.mkdirSync(base, { recursive: true, mode: 0o700 });
  const root = path.join(base, sha);
  const varDir = `${root}-var`;
  if (fs.existsSync(root)) removeCheckout(root);
  fs.rmSync(varDir, { recursive: true, force: true });
  onCleanup(async () => {
    removeCheckout(root);
    fs.rmSync(varDir, { recursive: true, force: true });
    if (fs.readdirSync(base).length === 0) fs.rmdirSync(base);
  });
  fs.mkdirSync(root, { mode: 0o700 });
  execFileSync('sh', ['-c', 'git archive --format=tar "$1" | tar -x -C "$2"', 'sh', sha, root], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] });
  fs.symlinkSync(path.join(repoRoot, 'node_modules'), path.join(root, 'node_modules'), 'dir');

  // Its own SoftHSM token (as scripts/bootstrap.sh makes one): a token dir, a conf, PIN files.
  const tokens = path.join(varDir, 'softhsm', 'tokens');
  fs.mkdirSync(tokens, { recursive: true, mode: 0o700 });
  const conf = path.join(varDir, 'softhsm2.conf');
  fs.writeFileSync(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`, { mode: 0o600 });
  const userPin = randomPin();
  const soPin = randomPin();
  const pinFile = path.join(varDir, 'hsm-user.pin');
  fs.writeFileSync(pinFile, `${userPin}\n`, { mode: 0o600 });
  execFileSync('softhsm2-util', ['--init-token', '--free', '--label', 'gateway', '--so-pin', soPin, '--pin', userPin], { env: { ...process.env, SOFTHSM2_CONF: conf }, stdio: ['ignore', 'ignore', 'pipe'] });
  return { ref, sha, root, varDir, env: { SOFTHSM2_CONF: conf, GATEWAY_HSM_PIN_FILE: pinFile, GATEWAY_HSM_TOKEN_LABEL: 'gateway' } };
}

export interface BaselinePeople {
  signIn: { email: string; token: string }[];
  enrolmentTokens: string[];
}

/** The baseline's own preparePeople (its scripts/bench/population.ts), in a child process in its tree. */
export async function baselinePeople(b: BaselineCheckout, counts: { signIn: number; enrolment: number }, runDir: string): Promise<BaselinePeople> {
  const populationModule = path.join(b.root, 'scripts', 'bench', 'population.ts');
  if (!fs.existsSync(populationModule)) throw new Error(`--baseline ${b.ref}: it has no scripts/bench/population.ts, so its employees cannot be bound the way this bench binds them`);
  const out = path.join(runDir, 'baseline-people.json');
  const child = track(
    spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'scripts', 'bench', 'baselinePeople.ts')], {
      cwd: b.root,
      env: { ...process.env, ...b.env, BENCH_BASELINE_MODULE: populationModule, BENCH_BASELINE_VAR: b.varDir, BENCH_BASELINE_COUNTS: JSON.stringify(counts), BENCH_BASELINE_OUT: out },
      stdio: ['ignore', 'inherit', 'inherit'],
    }),
  );
  // Bounded: a child that never exits ends the run with an error instead of a hang.
  const code = await new Promise<number | null>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`--baseline ${b.ref}: binding its employees did not finish within 10 min`));
    }, 10 * 60_000);
    child.once('exit', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  if (code !== 0) throw new Error(`--baseline ${b.ref}: binding its employees failed (exit ${code})`);
  const parsed: unknown = JSON.parse(fs.readFileSync(out, 'utf8'));
  if (typeof parsed !== 'object' || parsed === null || !('signIn' in parsed) || !('enrolmentTokens' in parsed) || !Array.isArray(parsed.signIn) || !Array.isArray(parsed.enrolmentTokens)) {
    throw new Error(`--baseline ${b.ref}: its preparePeople answered in an unknown shape`);
  }
  return parsed as BaselinePeople;
}
