/**
 * Child of `npm run bench -- --baseline`: runs the BASELINE's own preparePeople (its schema and
 * flows) on its var dir, with its exported tree as the working directory, and writes the people to a
 * file for the bench (scripts/bench/baseline.ts).
 */
import fs from 'node:fs';
import { pathToFileURL } from 'node:url';

async function main(): Promise<void> {
  const modulePath = process.env['BENCH_BASELINE_MODULE'];
  const varDir = process.env['BENCH_BASELINE_VAR'];
  const out = process.env['BENCH_BASELINE_OUT'];
  const countsRaw = process.env['BENCH_BASELINE_COUNTS'];
  if (!modulePath || !varDir || !out || !countsRaw) throw new Error('baselinePeople: missing BENCH_BASELINE_* environment');
  const counts: unknown = JSON.parse(countsRaw);
  const mod: unknown = await import(pathToFileURL(modulePath).href);
  if (typeof mod !== 'object' || mod === null || !('preparePeople' in mod) || typeof mod.preparePeople !== 'function') throw new Error('the baseline exports no preparePeople');
  const prepare = mod.preparePeople as (varDir: string, counts: unknown) => Promise<unknown>;
  const people = await prepare(varDir, counts);
  fs.writeFileSync(out, JSON.stringify(people), { mode: 0o600 });
}

main().catch((err: unknown) => {
  process.stderr.write(`bench baseline: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
