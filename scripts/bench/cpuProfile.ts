/**
 * Summarises V8 CPU profiles (.cpuprofile, as processProbe.ts records them for one phase in each
 * gateway process): self time by function and by where the code lives (our modules, each npm
 * package, Node internals, native calls, GC), and inclusive time of our own functions.
 */
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from './serverProcess.js';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileLine {
  name: string;
  ms: number;
  share: number;
}

export interface ProfileSummary {
  processes: number;
  /** Sampled time that was not idle, over all processes, ms. */
  busyMs: number;
  wallMs: number;
  selfByFunction: ProfileLine[];
  selfByArea: ProfileLine[];
  inclusiveOwnCode: ProfileLine[];
  /** Native calls (SQLite statements, PKCS#11, crypto, I/O) by the nearest function of ours above them. */
  nativeByCaller: ProfileLine[];
}

function parseProfile(file: string): CpuProfile | undefined {
  const raw: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
  if (typeof raw !== 'object' || raw === null) return undefined;
  const p = raw as Partial<CpuProfile>;
  if (!Array.isArray(p.nodes) || !Array.isArray(p.samples) || !Array.isArray(p.timeDeltas)) return undefined;
  return { nodes: p.nodes, samples: p.samples, timeDeltas: p.timeDeltas, startTime: Number(p.startTime), endTime: Number(p.endTime) };
}

function relative(url: string): string {
  const file = url.startsWith('file://') ? decodeURIComponent(new URL(url).pathname) : url;
  return file.startsWith(repoRoot) ? path.relative(repoRoot, file) : file;
}

/** Where a frame's code lives. */
function areaOf(frame: CallFrame): string {
  const name = frame.functionName;
  if (name === '(garbage collector)') return 'GC';
  if (name === '(program)') return '(program: V8/native outside JS)';
  if (frame.url === '') return `native: ${name || '(anonymous)'}`;
  const file = relative(frame.url);
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
  if (nm) return `npm: ${nm[1]}`;
  if (file.startsWith('node:')) return 'Node internals (node:*)';
  const top = /^(server\/[^/]+|hsm|scripts\/bench)/.exec(file);
  if (top) return `ours: ${top[1]}`;
  return file;
}

function functionOf(frame: CallFrame): string {
  const name = frame.functionName || '(anonymous)';
  if (frame.url === '') return name.startsWith('(') ? name : `${name} [native]`;
  const file = relative(frame.url).replace(/^.*node_modules\//, '');
  // Our TypeScript runs transpiled by tsx without source maps here: its line numbers would mislead.
  if (/^(server|hsm|scripts)\//.test(file)) return `${name} (${file})`;
  return `${name} (${file}:${frame.lineNumber + 1})`;
}

const isOwn = (frame: CallFrame): boolean => {
  const file = relative(frame.url);
  return file.startsWith('server/') || file.startsWith('hsm/');
};

function top(map: Map<string, number>, total: number, n: number): ProfileLine[] {
  return [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, us]) => ({ name, ms: us / 1000, share: total > 0 ? us / total : 0 }));
}

export function summariseProfiles(files: string[], topN = 15): ProfileSummary {
  const selfFn = new Map<string, number>();
  const selfArea = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const nativeCaller = new Map<string, number>();
  let busy = 0;
  let wall = 0;
  let processes = 0;
  for (const file of files) {
    const profile = parseProfile(file);
    if (!profile) continue;
    processes += 1;
    wall = Math.max(wall, (profile.endTime - profile.startTime) / 1000);
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    // A sample's time is the delta to the next sample (V8's convention: timeDeltas[i+1]).
    for (let i = 0; i < profile.samples.length; i += 1) {
      const id = profile.samples[i] ?? -1;
      const node = byId.get(id);
      const us = profile.timeDeltas[i + 1] ?? 0;
      if (!node || us <= 0) continue;
      if (node.callFrame.functionName === '(idle)') continue;
      busy += us;
      const fn = functionOf(node.callFrame);
      selfFn.set(fn, (selfFn.get(fn) ?? 0) + us);
      const area = areaOf(node.callFrame);
      selfArea.set(area, (selfArea.get(area) ?? 0) + us);
      if (node.callFrame.url === '' && !node.callFrame.functionName.startsWith('(')) {
        let caller: string | undefined;
        for (let cur = parent.get(id); cur !== undefined && caller === undefined; cur = parent.get(cur)) {
          const frame = byId.get(cur)?.callFrame;
          if (frame && isOwn(frame)) caller = functionOf(frame);
        }
        const key = `${fn} ← ${caller ?? '(not under our code)'}`;
        nativeCaller.set(key, (nativeCaller.get(key) ?? 0) + us);
      }
      // Inclusive: every own function on the stack, once per sample even under recursion.
      const seen = new Set<string>();
      for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
        const frame = byId.get(cur)?.callFrame;
        if (!frame || !isOwn(frame)) continue;
        const key = functionOf(frame);
        if (seen.has(key)) continue;
        seen.add(key);
        inclusive.set(key, (inclusive.get(key) ?? 0) + us);
      }
    }
  }
  return {
    processes,
    busyMs: busy / 1000,
    wallMs: wall,
    selfByFunction: top(selfFn, busy, topN),
    selfByArea: top(selfArea, busy, topN),
    inclusiveOwnCode: top(inclusive, busy, topN),
    nativeByCaller: top(nativeCaller, busy, topN),
  };
}
