/**
 * The CPU profile part of "Where the time of a sign-in goes": the gateway's profiled 16-client
 * phase on SQLite (costs, areas, functions, native callers, inclusive time), and the profiled
 * phases of every server side by side (reportWhy.ts's costColumns).
 */
import { OTHER_THREADS } from './profileCosts.js';
import type { BenchResults } from './report.js';
import { costColumns } from './reportWhy.js';
import { fmt, fmtInt } from './stats.js';
import { PRIMARY } from './threadKinds.js';

export function profileSection(r: BenchResults): string[] {
  const p = r.profile;
  if (!p) return [];
  return [
    '',
    `CPU profile of the gateway during a 16-client sign-in phase (${p.processes} process(es), ${fmtInt(p.busyMs)} ms of non-idle samples over ${fmt(p.wallMs / 1000, 1)} s).`,
    "V8 samples the JavaScript thread whether or not it is on a core: a synchronous call that blocks (SQLite's fsync at",
    'COMMIT, waiting for the write lock, C_Sign) counts as time in that native call — time the event loop was stopped.',
    '',
    `Per sign-in, by cost (${fmt(p.costs.busyMsPerCeremony, 2)} ms per ceremony over all processes${p.costs.scaled ? `: the samples (${fmt(p.costs.sampledMsPerCeremony, 2)} ms of clock time) scaled to each JavaScript thread's CPU, the other threads' CPU a row of its own` : ' of sampled JavaScript-thread time'}; each sample charged to the innermost`,
    "frame outside Node's own modules, scripts/bench/profileCosts.ts):",
    '',
    '| Cost | ms per sign-in | Share |',
    '| --- | ---: | ---: |',
    ...p.costs.lines.flatMap((l) => [
      `| ${l.cost} | ${fmt(l.msPerCeremony, 3)} | ${fmt(l.share * 100, 1)} % |`,
      // The other threads kind by kind (threadKinds.ts), under their row.
      ...(l.cost === OTHER_THREADS ? [...(l.parts ?? [])].sort((a, b) => Number(a.part.startsWith(PRIMARY)) - Number(b.part.startsWith(PRIMARY))).map((x) => `| … ${x.part} | ${fmt(x.msPerCeremony, 3)} | ${fmt(p.costs.busyMsPerCeremony > 0 ? (100 * x.msPerCeremony) / p.costs.busyMsPerCeremony : 0, 1)} % |`) : []),
    ]),
    ...costColumns(r),
    '',
    '| Self time by area | ms | Share |',
    '| --- | ---: | ---: |',
    ...p.selfByArea.map((l) => `| ${l.name} | ${fmtInt(l.ms)} | ${fmt(l.share * 100, 1)} % |`),
    '',
    '| Self time by function | ms | Share |',
    '| --- | ---: | ---: |',
    ...p.selfByFunction.map((l) => `| \`${l.name}\` | ${fmtInt(l.ms)} | ${fmt(l.share * 100, 1)} % |`),
    '',
    '| Native calls by the function of ours that made them | ms | Share |',
    '| --- | ---: | ---: |',
    ...p.nativeByCaller.map((l) => `| \`${l.name}\` | ${fmtInt(l.ms)} | ${fmt(l.share * 100, 1)} % |`),
    '',
    '| Inclusive time, our own functions | ms | Share |',
    '| --- | ---: | ---: |',
    ...p.inclusiveOwnCode.map((l) => `| \`${l.name}\` | ${fmtInt(l.ms)} | ${fmt(l.share * 100, 1)} % |`),
  ];
}
