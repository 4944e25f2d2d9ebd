/**
 * Load-independent evidence for the growth step (issue 17): at each database size, the sign-in's
 * stages timed one sign-in at a time (scripts/bench/stageBreakdown.ts, no concurrent load), every
 * SQLite statement those stages ran put through EXPLAIN QUERY PLAN (a full-table SCAN is flagged),
 * and the database's size in pages against the connection's page cache.
 *
 *   node --import tsx scripts/bench/growthProbe.ts [--sizes 10000,100000] [--iterations 200]
 *
 * Uses a temp var dir (removed at the end) and this checkout's SoftHSM token, as `npm run bench`.
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cleanupAll, killAllNow, trackTempDir } from './children.js';
import { countDatabase, loadSeedKeys, seed } from './growth.js';
import { destroyRunKeys, say } from './phases.js';
import { benchConfig, enrolAndActivate, outboxDirOf, preparePeople } from './population.js';
import { repoRoot, startGateway } from './serverProcess.js';
import { runStageBreakdown } from './stageBreakdown.js';
import { fmt } from './stats.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

/** EXPLAIN QUERY PLAN of each statement; the plan lines, SCANs of a whole table marked. */
function explain(dbFile: string, statements: string[]): { sql: string; plan: string[]; scan: boolean }[] {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  // The challenges live in the ephemeral file beside the durable one (server/store/sqlite/SqliteStore.ts).
  db.prepare('ATTACH DATABASE ? AS ephemeral').run(`${dbFile.replace(/\.db$/, '')}-ephemeral.db`);
  try {
    return statements
      .filter((sql) => /^\s*(SELECT|UPDATE|DELETE|INSERT|WITH)/i.test(sql))
      .map((sql) => {
        let plan: string[];
        try {
          // Every parameter bound to NULL: the plan depends on the statement, not on the values.
          const params = new Array<null>((sql.match(/\?/g) ?? []).length).fill(null);
          plan = db
            .prepare(`EXPLAIN QUERY PLAN ${sql}`)
            .all(...params)
            .map((r) => String((r as { detail: unknown }).detail));
        } catch (err) {
          plan = [`(not explainable: ${err instanceof Error ? err.message : String(err)})`];
        }
        // "SCAN t" without USING is a walk of the whole table; "SCAN t USING INDEX" / covering index walks are flagged too.
        return { sql: sql.replace(/\s+/g, ' ').trim(), plan, scan: plan.some((l) => /^SCAN /.test(l)) };
      });
  } finally {
    db.close();
  }
}

function fileFacts(dbFile: string): { pages: number; pageSize: number; cacheSize: number; mmapSize: number } {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    return {
      pages: Number(db.pragma('page_count', { simple: true })),
      pageSize: Number(db.pragma('page_size', { simple: true })),
      cacheSize: Number(db.pragma('cache_size', { simple: true })),
      mmapSize: Number(db.pragma('mmap_size', { simple: true })),
    };
  } finally {
    db.close();
  }
}

/**
 * Pages of each b-tree a sign-in INSERTs into (sessions, audit_events and their indexes), from the
 * dbstat table: a key that arrives in random order (a session's id hash) lands on a random leaf,
 * so the more leaves, the fewer of a checkpoint's pages are shared between commits.
 */
function insertedTrees(dbFile: string): { name: string; pages: number; rows: number }[] {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    const names = db
      .prepare("SELECT name FROM sqlite_master WHERE tbl_name IN ('sessions', 'audit_events') AND type IN ('table', 'index') ORDER BY name")
      .all()
      .map((r) => String((r as { name: unknown }).name));
    return names.map((name) => {
      const row = db.prepare('SELECT pageno AS pages, ncell AS rows FROM dbstat WHERE name = ? AND aggregate = 1').get(name) as { pages: number; rows: number } | undefined;
      return { name, pages: Number(row?.pages ?? 0), rows: Number(row?.rows ?? 0) };
    });
  } finally {
    db.close();
  }
}

/**
 * The WAL as the stage run left it (a connection held open keeps the last close from
 * checkpointing it away): frames and commits of its current generation (frames whose salts match
 * the header) and the distinct pages among them: what the next checkpoint writes back to the file.
 */
function walFacts(dbFile: string): { frames: number; commits: number; distinctPages: number } | undefined {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(`${dbFile}-wal`);
  } catch {
    return undefined;
  }
  if (buf.length < 32) return undefined;
  const pageSize = buf.readUInt32BE(8);
  const salt1 = buf.readUInt32BE(16);
  const salt2 = buf.readUInt32BE(20);
  const pages = new Set<number>();
  let frames = 0;
  let commits = 0;
  for (let off = 32; off + 24 + pageSize <= buf.length; off += 24 + pageSize) {
    if (buf.readUInt32BE(off + 8) !== salt1 || buf.readUInt32BE(off + 12) !== salt2) break;
    frames += 1;
    pages.add(buf.readUInt32BE(off));
    if (buf.readUInt32BE(off + 4) !== 0) commits += 1;
  }
  return { frames, commits, distinctPages: pages.size };
}

async function main(): Promise<void> {
  const sizes = arg('--sizes', '10000,100000').split(',').map(Number);
  const iterations = Number(arg('--iterations', '200'));
  process.env['SOFTHSM2_CONF'] ??= path.join(repoRoot, 'var', 'softhsm2.conf');
  const runDir = trackTempDir(fs.mkdtempSync(path.join(os.tmpdir(), 'gw-growth-probe-')));
  const varDir = path.join(runDir, 'var');
  fs.mkdirSync(varDir, { mode: 0o700 });
  const config = benchConfig(varDir);
  // Four keys per size: a stage run advances their counters, the next one starts from fresh keys.
  const people = await preparePeople(varDir, { signIn: 4 * sizes.length, enrolment: 0 });
  const gateway = await startGateway({ varDir, runDir, workers: 1, logLevel: 'warn' });
  const members = await enrolAndActivate(gateway.origin, outboxDirOf(varDir), people.signIn);
  await gateway.stop();
  const seedKeys = await loadSeedKeys();
  if (typeof seedKeys === 'string') throw new Error(seedKeys);
  const audience = config.tokenAudiences[0] ?? 'urn:demo:intranet';
  try {
    for (const [n, size] of sizes.entries()) {
      const before = await countDatabase(config.dbFile);
      if (size > before.activeKeys) {
        say(`seeding ${size - before.activeKeys} keys (to ${size})`);
        await seed(seedKeys, config.dbFile, size - before.activeKeys, `seeding to ${size}`);
      }
      const counts = await countDatabase(config.dbFile);
      const sqlLog = path.join(runDir, `sql-${size}.json`);
      process.env['BENCH_SQL_LOG'] = sqlLog;
      const holder = new Database(config.dbFile, { fileMustExist: true });
      let wal: ReturnType<typeof walFacts>;
      let stages: Awaited<ReturnType<typeof runStageBreakdown>>;
      try {
        holder.pragma('wal_checkpoint(TRUNCATE)');
        stages = await runStageBreakdown({ varDir, iterations, audience, credentials: members.slice(4 * n, 4 * n + 4) });
        wal = walFacts(config.dbFile);
      } finally {
        holder.close();
      }
      const statements = JSON.parse(fs.readFileSync(sqlLog, 'utf8')) as string[];
      const plans = explain(config.dbFile, statements);
      const facts = fileFacts(config.dbFile);
      const out: string[] = [];
      out.push(`## ${counts.activeKeys} active keys, ${counts.auditEntries} audit entries`);
      out.push(`file: ${facts.pages} pages × ${facts.pageSize} B = ${fmt((facts.pages * facts.pageSize) / 2 ** 20, 1)} MiB; page cache per connection ${facts.cacheSize} (negative: KiB), mmap_size ${facts.mmapSize}`);
      out.push(`one sign-in at a time (${iterations}): ${(['options', 'complete', 'session', 'token-audit'] as const).map((s) => `${s} p50 ${fmt(stages[s].p50, 3)} / p99 ${fmt(stages[s].p99, 3)} ms`).join('; ')}`);
      out.push(`statements per sign-in: options ${fmt(stages.statements.options, 1)}, complete ${fmt(stages.statements.complete, 1)}; distinct statements explained: ${plans.length}; with a SCAN: ${plans.filter((p) => p.scan).length}`);
      out.push(
        wal
          ? `WAL after the run (its current generation): ${wal.frames} frames in ${wal.commits} commits = ${fmt(wal.frames / Math.max(1, wal.commits), 1)} frames per commit; ${wal.distinctPages} distinct pages = ${fmt(wal.distinctPages / Math.max(1, wal.commits), 2)} per commit written back by the checkpoint`
          : 'WAL: none left to read',
      );
      out.push(`b-trees a sign-in inserts into (pages, cells): ${insertedTrees(config.dbFile).map((t) => `${t.name} ${t.pages}/${t.rows}`).join(', ')}`);
      for (const p of plans) out.push(`${p.scan ? 'SCAN ' : '     '} ${p.sql.slice(0, 160)}\n        ${p.plan.join(' | ')}`);
      process.stdout.write(`${out.join('\n')}\n\n`);
    }
  } finally {
    await destroyRunKeys(config);
  }
}

process.on('exit', killAllNow);
main()
  .then(() => cleanupAll())
  .catch(async (err: unknown) => {
    say(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    await cleanupAll();
    process.exitCode = 1;
  });
