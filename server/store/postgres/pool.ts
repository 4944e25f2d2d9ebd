/**
 * The connection pool of the PostgreSQL adapter (node-postgres, `pg`; docs/architecture-postgres.md
 * says why). Every connection is set up the same way: UTC, ISO dates, bounded lock waits and
 * statements, the gateway's application name; timestamptz is read back as Date.toISOString()
 * text and bigint as a number, so rows carry the domain's own types.
 *
 * json (not jsonb) comes back as the text stored, unparsed: it is the type of the columns whose
 * exact text matters (the audit data the hash chain covers, payloads callers read back as strings);
 * jsonb comes back parsed.
 *
 * Statements run as named prepared statements (parsed and planned once per connection, then only
 * bound and executed). The pool never throws a driver error: acquiring a connection fails with
 * StoreBusy (every connection in use past the wait bound, or too many connections at the server)
 * or StoreUnavailable (the server cannot be reached). A connection that dies while idle is
 * dropped and logged; the next acquire opens a fresh one, so the pool recovers by itself when the
 * server is back.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import type { DatabaseUrl } from './databaseUrl.js';
import { PostgresFailure, StoreBusy, StoreError, StoreUnavailable, errorCode, toStoreError } from './errors.js';

/** A row as the driver returns it: column name to value, to be read through typed accessors. */
export type Row = Record<string, unknown>;

/** Runs statements on one connection (inside or outside a transaction). */
export interface Sql {
  /** The rows of one statement. */
  rows(text: string, params?: readonly unknown[]): Promise<Row[]>;
  /** How many rows one statement inserted, updated or deleted. */
  count(text: string, params?: readonly unknown[]): Promise<number>;
  /** Several statements without parameters in one round trip (simple query protocol): migrations. */
  script(text: string): Promise<void>;
}

/** Statements inside an open transaction (transaction.ts): what advisory locks and fencing need. */
export interface TxSql extends Sql {
  readonly inTransaction: true;
}

/** The log the pool reports dropped connections to (a pino logger fits). */
export interface PoolLog {
  warn(obj: object, msg: string): void;
}

export interface PostgresPoolOptions {
  url: DatabaseUrl;
  /** From GATEWAY_DATABASE_PASSWORD_FILE; config.ts refuses a password in both places. */
  password?: string;
  /** Connections this process may open (GATEWAY_DATABASE_POOL_SIZE). */
  max: number;
  /** How long an acquire waits for a free connection or a new one, in ms. */
  acquireTimeoutMs?: number;
  /** lock_timeout: a statement waiting longer for a row or table lock fails (StoreBusy). */
  lockTimeoutMs?: number;
  /** statement_timeout: a statement running longer is cancelled (StoreBusy). */
  statementTimeoutMs?: number;
  /** idle_in_transaction_session_timeout: the server ends a transaction its client forgot. */
  idleInTransactionTimeoutMs?: number;
  applicationName?: string;
  log?: PoolLog;
}

const INT8_OID = 20;
const TIMESTAMPTZ_OID = 1184;
const JSON_OID = 114;

/** int8 (bigint, count(*)) as a number; a value past 2^53 would lose digits, so it is refused. */
function parseInt8(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new RangeError(`store: bigint ${text} is beyond a safe integer`);
  return n;
}

const TIMESTAMPTZ_UTC = /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?\+00$/;

/**
 * timestamptz as the domain writes it: Date.toISOString() (milliseconds, Z). The session's
 * TimeZone is UTC and DateStyle ISO, so the server sends `YYYY-MM-DD HH:MM:SS[.ffffff]+00`.
 */
export function parseTimestamptz(text: string): string {
  const m = TIMESTAMPTZ_UTC.exec(text);
  if (!m) throw new RangeError(`store: unexpected timestamptz ${text}`);
  const millis = (m[7] ?? '').padEnd(3, '0').slice(0, 3);
  return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.${millis}Z`;
}

const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (format !== 'binary' && oid === INT8_OID) return parseInt8;
    if (format !== 'binary' && oid === TIMESTAMPTZ_OID) return parseTimestamptz;
    if (format !== 'binary' && oid === JSON_OID) return (text: string) => text;
    return format === undefined ? pg.types.getTypeParser(oid) : pg.types.getTypeParser(oid, format);
  }) as pg.CustomTypesConfig['getTypeParser'],
};

const statementNames = new Map<string, string>();

/**
 * Connections that have the listener below. node-postgres emits 'error' on a connection that
 * breaks (the server shut down, the socket reset); pg-pool listens only while the connection is
 * idle. Without a listener while it is checked out, the process would crash; with this one the
 * error reaches the caller through its pending or next statement instead (StoreUnavailable).
 */
const guarded = new WeakSet<pg.PoolClient>();

function guard(client: pg.PoolClient): pg.PoolClient {
  if (!guarded.has(client)) {
    client.on('error', () => {});
    guarded.add(client);
  }
  return client;
}

/** A stable name per SQL text, so each connection prepares a statement once. */
function statementName(text: string): string {
  let name = statementNames.get(text);
  if (name === undefined) {
    name = `gw_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
    statementNames.set(text, name);
  }
  return name;
}

/** Sql over one pg client. Driver errors leave as StoreErrors (or as they were, if not the driver's). */
export function sqlOn(client: pg.ClientBase): Sql {
  const run = async (text: string, params: readonly unknown[] | undefined): Promise<pg.QueryResult<Row>> => {
    try {
      return await client.query<Row>({ name: statementName(text), text, values: params ? [...params] : [] });
    } catch (err) {
      throw toStoreError(err);
    }
  };
  return {
    rows: async (text, params) => (await run(text, params)).rows,
    count: async (text, params) => (await run(text, params)).rowCount ?? 0,
    script: async (text) => {
      try {
        await client.query(text);
      } catch (err) {
        throw toStoreError(err);
      }
    },
  };
}

/**
 * Sql over one pg client that sends at most ONE statement (issue 17: the port's `oneStatement`
 * reads and writes, run without BEGIN and COMMIT): a second is refused with a TypeError naming
 * `refusal`, never sent. One statement is one implicit transaction, which is what TxSql's marker
 * promises a repository. `sent()` tells whether the statement went out.
 */
export function oneStatementOn(client: pg.ClientBase, refusal: string): { sql: TxSql; sent: () => boolean } {
  const base = sqlOn(client);
  let sent = false;
  const once = (): void => {
    if (sent) throw new TypeError(refusal);
    sent = true;
  };
  return {
    sql: {
      inTransaction: true,
      rows: async (text, params) => (once(), base.rows(text, params)),
      count: async (text, params) => (once(), base.count(text, params)),
      script: async (text) => (once(), base.script(text)),
    },
    sent: () => sent,
  };
}

/** Socket path or host, port and TLS of the target, for pg's client config. */
function connectionConfig(options: PostgresPoolOptions): pg.PoolConfig {
  const { url } = options;
  let ssl: pg.PoolConfig['ssl'] = false;
  if (url.sslMode === 'verify-full') {
    // NSIS 4.1.6 (Low) 2: the server proves its name with a certificate we trust. Node checks the
    // certificate against the host (pg sends it as SNI unless it is an IP address).
    ssl = { rejectUnauthorized: true, ...(url.sslRootCert ? { ca: readFileSync(url.sslRootCert, 'utf8') } : {}) };
  }
  return {
    host: url.host,
    port: url.port,
    database: url.database,
    user: url.user,
    password: options.password ?? url.revealPassword(),
    ssl,
  };
}

export class PostgresPool implements Sql {
  readonly url: DatabaseUrl;
  private readonly pool: pg.Pool;
  /** Connections this pool may open. */
  readonly max: number;
  private ended = false;

  constructor(options: PostgresPoolOptions) {
    if (!Number.isInteger(options.max) || options.max < 1) throw new TypeError('PostgresPool: max must be a positive integer');
    this.url = options.url;
    this.max = options.max;
    const lockTimeout = options.lockTimeoutMs ?? 5_000;
    const statementTimeout = options.statementTimeoutMs ?? 30_000;
    const idleInTx = options.idleInTransactionTimeoutMs ?? 60_000;
    this.pool = new pg.Pool({
      ...connectionConfig(options),
      max: options.max,
      connectionTimeoutMillis: options.acquireTimeoutMs ?? 5_000,
      idleTimeoutMillis: 30_000,
      application_name: options.applicationName ?? 'nsis-hwk-gateway',
      // Set at connection start-up, so no extra round trip per connection.
      options: `-c TimeZone=UTC -c DateStyle=ISO -c lock_timeout=${lockTimeout} -c statement_timeout=${statementTimeout} -c idle_in_transaction_session_timeout=${idleInTx}`,
      types,
      keepAlive: true,
    });
    const log = options.log;
    // An idle connection the server closed (restart, failover, idle timeout): the pool has
    // already dropped it; without a listener the process would crash.
    this.pool.on('error', (err) => {
      log?.warn({ database: String(this.url), code: errorCode(err) ?? 'none' }, 'an idle PostgreSQL connection was closed; it is replaced on the next use');
    });
  }

  /** Connections open, idle and callers waiting for one (for metrics and tests). */
  stats(): { total: number; idle: number; waiting: number } {
    return { total: this.pool.totalCount, idle: this.pool.idleCount, waiting: this.pool.waitingCount };
  }

  /**
   * A connection for one unit of work. Always hand it back with `release()`, or with
   * `release(true)` when it may be broken (it is then closed, not reused).
   */
  async acquire(): Promise<pg.PoolClient> {
    if (this.ended) throw new StoreUnavailable('The database pool is closed.');
    const saturatedBefore = this.pool.totalCount >= this.max;
    try {
      return guard(await this.pool.connect());
    } catch (err) {
      if (err instanceof StoreError) throw err;
      const message = err instanceof Error ? err.message : '';
      if (message === 'timeout exceeded when trying to connect') {
        // Every connection stayed in use for the whole wait (or, when the pool was not full,
        // a new connection did not come up in time: the server is not answering).
        throw saturatedBefore
          ? new StoreBusy('Every database connection is in use; nothing was changed.', 1)
          : new StoreUnavailable('The database did not accept a connection in time.', 5);
      }
      const mapped = toStoreError(err);
      if (mapped instanceof StoreBusy || mapped instanceof StoreUnavailable) throw mapped;
      // Anything else at connection time (authentication refused, no such database) leaves the
      // gateway without its database: unavailable, with only the SQLSTATE kept.
      throw new StoreUnavailable('The database refused the connection.', 5, {
        cause: new PostgresFailure(errorCode(err), undefined, undefined),
      });
    }
  }

  /** Runs `fn` on a connection of its own, handed back afterwards (closed if it broke). */
  private async onConnection<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    const client = await this.acquire();
    let broken = false;
    try {
      return await fn(sqlOn(client));
    } catch (err) {
      broken = err instanceof StoreUnavailable;
      throw err;
    } finally {
      client.release(broken);
    }
  }

  /** One statement in its own transaction (autocommit), on any connection. */
  rows(text: string, params?: readonly unknown[]): Promise<Row[]> {
    return this.onConnection((sql) => sql.rows(text, params));
  }

  /** One statement in its own transaction (autocommit): the rows it changed. */
  count(text: string, params?: readonly unknown[]): Promise<number> {
    return this.onConnection((sql) => sql.count(text, params));
  }

  /** Statements without parameters, each in its own transaction unless the text says otherwise. */
  script(text: string): Promise<void> {
    return this.onConnection((sql) => sql.script(text));
  }

  /** Closes every connection; acquire fails with StoreUnavailable afterwards. Idempotent. */
  async end(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    await this.pool.end();
  }
}
