// The measurement behind the PostgreSQL driver choice (docs/architecture-postgres.md): pg
// (node-postgres, the dependency) against postgres (porsager), same cluster, same socket, same
// statements, the same pool size. Not part of `npm run bench`; the other driver is not a
// dependency, so install it for the run only:
//
//   npm install --no-save postgres
//   bash scripts/postgres-cluster.sh start
//   node scripts/bench/postgres-drivers.mjs [rounds]
//
// Each round runs every driver once (the order alternating between rounds); the report gives the
// median of the rounds. Measured: one-row UPDATE ... RETURNING and a small transaction (BEGIN;
// UPDATE ... RETURNING; INSERT; COMMIT), one client (latency) and 16 clients (throughput and the
// client process's CPU per operation, which is what a 2-core gateway host pays).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const rounds = Number(process.argv[2] ?? 3);
const N = Number(process.env.N ?? 3000);
const ROWS = 1000;
const CLIENTS = 16;

let porsager;
try {
  porsager = (await import('postgres')).default;
} catch {
  console.error('postgres (porsager) is not installed: npm install --no-save postgres');
  process.exit(2);
}

function adminUrl() {
  const fromEnv = process.env.GATEWAY_TEST_DATABASE_URL;
  if (fromEnv) return fromEnv;
  const line = readFileSync(path.join(root, 'var', 'postgres', 'env'), 'utf8').split('\n').find((l) => l.startsWith('GATEWAY_TEST_DATABASE_URL='));
  if (!line) throw new Error('no GATEWAY_TEST_DATABASE_URL: run bash scripts/postgres-cluster.sh start');
  return line.slice('GATEWAY_TEST_DATABASE_URL='.length);
}

const u = new URL(adminUrl());
const base = { host: u.searchParams.get('host') ?? u.hostname, port: Number(u.port || 5432), user: decodeURIComponent(u.username), password: decodeURIComponent(u.password) };
const DB = 'gw_bench_drivers';

const quantile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];

async function latency(fn, n) {
  const samples = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await fn(i);
    samples.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  samples.sort((a, b) => a - b);
  return { p50: quantile(samples, 0.5), p99: quantile(samples, 0.99) };
}

async function throughput(fn, clients, n) {
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < n) await fn(next++);
    }),
  );
  const secs = Number(process.hrtime.bigint() - t) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  return { perSecond: n / secs, cpuUsPerOp: (cpu.user + cpu.system) / n };
}

const UPDATE = 'UPDATE bench_counters SET n = n + 1 WHERE id = $1 AND state = $2 RETURNING n';
const INSERT = 'INSERT INTO bench_log (counter, at, data) VALUES ($1, $2, $3)';

function pgDriver(pipeline) {
  const pool = new pg.Pool({ ...base, database: DB, max: CLIENTS, pipeline });
  const update = (i) => pool.query({ name: 'upd', text: UPDATE, values: [(i % ROWS) + 1, 'active'] });
  const tx = async (i) => {
    const c = await pool.connect();
    try {
      // With pipelining, BEGIN goes out with the first statement instead of its own round trip.
      if (pipeline) c.query('BEGIN').catch(() => {});
      else await c.query('BEGIN');
      const r = await c.query({ name: 'upd', text: UPDATE, values: [(i % ROWS) + 1, 'active'] });
      await c.query({ name: 'ins', text: INSERT, values: [r.rows[0].n, new Date(), JSON.stringify({ i })] });
      await c.query('COMMIT');
      c.release();
    } catch (err) {
      c.release(true);
      throw err;
    }
  };
  return { update, tx, end: () => pool.end() };
}

function porsagerDriver() {
  const sql = porsager({ ...base, database: DB, max: CLIENTS, onnotice: () => {} });
  const update = (i) => sql.unsafe(UPDATE, [(i % ROWS) + 1, 'active'], { prepare: true });
  const tx = (i) =>
    sql.begin(async (t) => {
      const [r] = await t.unsafe(UPDATE, [(i % ROWS) + 1, 'active'], { prepare: true });
      await t.unsafe(INSERT, [r.n, new Date(), JSON.stringify({ i })], { prepare: true });
    });
  return { update, tx, end: () => sql.end() };
}

const DRIVERS = {
  'pg 8 (node-postgres)': () => pgDriver(false),
  'pg 8, pipeline mode': () => pgDriver(true),
  'postgres 3 (porsager)': porsagerDriver,
};

async function runOnce(make) {
  const d = make();
  await latency(d.update, 300);
  await latency(d.tx, 300);
  const out = {
    update1: await latency(d.update, N),
    tx1: await latency(d.tx, N),
    update16: await throughput(d.update, CLIENTS, 2 * N),
    tx16: await throughput(d.tx, CLIENTS, 2 * N),
  };
  await d.end();
  return out;
}

const admin = new pg.Client({ ...base, database: 'postgres' });
await admin.connect();
await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
await admin.query(`CREATE DATABASE ${DB}`);
const setup = new pg.Client({ ...base, database: DB });
await setup.connect();
await setup.query(`CREATE TABLE bench_counters (id int PRIMARY KEY, n bigint NOT NULL, state text NOT NULL);
  CREATE TABLE bench_log (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, counter bigint NOT NULL, at timestamptz NOT NULL, data jsonb NOT NULL);
  INSERT INTO bench_counters SELECT g, 0, 'active' FROM generate_series(1, ${ROWS}) g;`);
const settings = await setup.query("SELECT current_setting('server_version') AS v, current_setting('fsync') AS fsync, current_setting('synchronous_commit') AS sc");
await setup.end();

const results = Object.fromEntries(Object.keys(DRIVERS).map((k) => [k, []]));
for (let r = 0; r < rounds; r++) {
  const names = Object.keys(DRIVERS);
  if (r % 2 === 1) names.reverse();
  for (const name of names) results[name].push(await runOnce(DRIVERS[name]));
}
await admin.query(`DROP DATABASE ${DB} WITH (FORCE)`);
await admin.end();

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const f = (x, d = 2) => x.toFixed(d);
console.log(`PostgreSQL ${settings.rows[0].v} over a Unix socket, fsync=${settings.rows[0].fsync}, synchronous_commit=${settings.rows[0].sc}; ${rounds} rounds, medians; ${N} sequential / ${2 * N} at ${CLIENTS} clients`);
console.log('| driver | UPDATE..RETURNING 1 client p50 / p99 ms | transaction 1 client p50 / p99 ms | UPDATE 16 clients /s (client CPU µs/op) | transaction 16 clients /s (client CPU µs/op) |');
console.log('|---|---|---|---|---|');
for (const [name, rs] of Object.entries(results)) {
  const m = (pick) => median(rs.map(pick));
  console.log(
    `| ${name} | ${f(m((r) => r.update1.p50))} / ${f(m((r) => r.update1.p99))} | ${f(m((r) => r.tx1.p50))} / ${f(m((r) => r.tx1.p99))} | ${f(m((r) => r.update16.perSecond), 0)} (${f(m((r) => r.update16.cpuUsPerOp), 0)}) | ${f(m((r) => r.tx16.perSecond), 0)} (${f(m((r) => r.tx16.cpuUsPerOp), 0)}) |`,
  );
}
