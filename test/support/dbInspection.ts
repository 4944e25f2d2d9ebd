/**
 * Raw SQL on a test gateway's database whatever its engine, for the few assertions the store port
 * has no reader for (a column the port does not expose, a row aged behind the gateway's back).
 * Write the statement in the SQL both engines speak, with `?` placeholders (numbered for
 * PostgreSQL here). On SQLite it runs on sqliteInspection.ts's connection; on PostgreSQL on a
 * small pool of this module's own, ended by closeDbInspection (testGateway.close does).
 */
import type { StoreRef } from './backend.js';
import { DatabaseUrl, PostgresPool, type Row } from '../../server/store/postgres/index.js';
import { closeInspection, ephemeralSql, sql } from './sqliteInspection.js';

interface Inspectable {
  storeRef: StoreRef;
}

const pools = new Map<string, PostgresPool>();

function pgPool(urlText: string): PostgresPool {
  let pool = pools.get(urlText);
  if (!pool) {
    pool = new PostgresPool({ url: DatabaseUrl.parse(urlText), max: 2 });
    pools.set(urlText, pool);
  }
  return pool;
}

function numbered(text: string): string {
  let n = 0;
  return text.replace(/\?/g, () => `$${++n}`);
}

/**
 * Every row `text` selects. `ephemeral`: the query is about the ephemeral state (challenges,
 * rate-limit windows), which SQLite keeps in a file of its own and PostgreSQL in UNLOGGED tables.
 */
export async function dbAll(gw: Inspectable, text: string, params: readonly unknown[] = [], options: { ephemeral?: boolean } = {}): Promise<Row[]> {
  const ref = gw.storeRef;
  if (ref.engine === 'sqlite') return (options.ephemeral ? ephemeralSql(ref.file) : sql(ref.file)).prepare(text).all(...params) as Row[];
  return pgPool(ref.urlText).rows(numbered(text), params);
}

/** The first row `text` selects (undefined if none). */
export async function dbGet(gw: Inspectable, text: string, params: readonly unknown[] = [], options: { ephemeral?: boolean } = {}): Promise<Row | undefined> {
  return (await dbAll(gw, text, params, options))[0];
}

function blobAsHex(this: unknown, key: string, value: unknown): unknown {
  const raw: unknown = this !== null && typeof this === 'object' ? (this as Record<string, unknown>)[key] : undefined;
  return Buffer.isBuffer(raw) ? `hex:${raw.toString('hex')}` : value;
}

/**
 * Every durable table but the audit chain (its events and, on PostgreSQL, its head row), and the
 * challenges, each as its rows in JSON, sorted:
 * to prove a refused request changed nothing (the rate-limit counters change with every request
 * and are left out).
 */
export async function tableRows(gw: Inspectable): Promise<Map<string, string[]>> {
  const tables = new Map<string, string[]>();
  for (const [name, rows] of await tableRowObjects(gw)) tables.set(name, rows.map((r) => rowText(r)).sort());
  return tables;
}

/** A row as JSON text (bytes as hex), optionally only some of its columns. */
export function rowText(row: Row, columns?: readonly string[]): string {
  const picked = columns ? Object.fromEntries(columns.map((c) => [c, row[c]])) : row;
  return JSON.stringify(picked, blobAsHex);
}

/** What tableRows covers, as rows. */
export async function tableRowObjects(gw: Inspectable): Promise<Map<string, Row[]>> {
  const names =
    gw.storeRef.engine === 'sqlite'
      ? await dbAll(gw, "SELECT name FROM sqlite_master WHERE type = 'table' AND name <> 'audit_events' ORDER BY name")
      : await dbAll(
          gw,
          "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name NOT IN ('audit_events', 'audit_chain_head', 'rate_limit_windows', 'challenges') ORDER BY table_name",
        );
  const tables = new Map<string, Row[]>();
  const list: { name: string; ephemeral: boolean }[] = names.map((r) => ({ name: String(r['name']), ephemeral: false }));
  list.push({ name: 'challenges', ephemeral: true });
  if (gw.storeRef.engine === 'postgres') {
    // One statement (one snapshot, one round trip) for every table: hundreds of cases take snapshots.
    const union = list.map(({ name }) => `SELECT '${name}' AS name, (SELECT coalesce(json_agg(t), '[]'::json) FROM "${name}" t)::text AS rows`).join(' UNION ALL ');
    for (const r of await dbAll(gw, union)) tables.set(String(r['name']), parseRows(String(r['rows'])));
    return new Map(list.map(({ name }) => [name, tables.get(name) ?? []]));
  }
  for (const { name, ephemeral } of list) tables.set(name, await dbAll(gw, `SELECT * FROM "${name}"`, [], { ephemeral }));
  return tables;
}

/** Runs a statement that changes rows (behind the gateway's back). */
export async function dbRun(gw: Inspectable, text: string, params: readonly unknown[] = []): Promise<void> {
  const ref = gw.storeRef;
  if (ref.engine === 'sqlite') sql(ref.file).prepare(text).run(...params);
  else await pgPool(ref.urlText).rows(numbered(text), params);
}

/** Every row of every table as JSON text: to prove a secret is stored nowhere in clear. */
export async function databaseText(gw: Inspectable): Promise<string> {
  const tables =
    gw.storeRef.engine === 'sqlite'
      ? await dbAll(gw, "SELECT name FROM sqlite_master WHERE type = 'table'")
      : await dbAll(gw, "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'");
  const texts: string[] = [];
  for (const t of tables) texts.push(JSON.stringify(await dbAll(gw, `SELECT * FROM "${String(t['name'])}"`)));
  return texts.join('\n');
}

function parseRows(text: string): Row[] {
  const parsed: unknown = JSON.parse(text);
  if (!Array.isArray(parsed)) throw new TypeError('json_agg did not give an array');
  return parsed.map((r: unknown) => {
    if (r === null || typeof r !== 'object' || Array.isArray(r)) throw new TypeError('json_agg gave a non-object row');
    return { ...r };
  });
}

/** Ends the connections to `ref`'s database. */
export async function closeDbInspection(ref: StoreRef): Promise<void> {
  if (ref.engine === 'sqlite') {
    closeInspection(ref.file);
    return;
  }
  const pool = pools.get(ref.urlText);
  pools.delete(ref.urlText);
  await pool?.end();
}
