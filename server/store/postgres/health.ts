/**
 * The adapter's health check (GET /health and the load balancer's probe): the database answers
 * now, it is the primary (a standby after a failover that the address in front has not followed
 * would refuse every write), and its schema is the one this release runs on. Any of these
 * failing is StoreUnavailable: the instance should be taken out of rotation, not serve 5xx.
 */
import { StoreUnavailable } from './errors.js';
import type { PostgresPool } from './pool.js';
import { inTransaction } from './transaction.js';

export interface PostgresHealth {
  schemaVersion: number;
  /** Time for the check's round trips, in ms. */
  latencyMs: number;
}

export async function checkHealth(pool: PostgresPool, expectedSchemaVersion: number): Promise<PostgresHealth> {
  const started = process.hrtime.bigint();
  const { standby, version } = await inTransaction(
    pool,
    async (sql) => {
      // A check that cannot answer within 2 s says "unavailable" rather than hang the probe.
      await sql.rows("SELECT set_config('statement_timeout', '2000', true)");
      const [row] = await sql.rows(
        "SELECT pg_is_in_recovery() AS standby, CASE WHEN to_regclass('schema_migrations') IS NULL THEN NULL ELSE 'present' END AS migrations",
      );
      let schema = 0;
      if (row?.['migrations'] === 'present') {
        const [v] = await sql.rows('SELECT coalesce(max(version), 0) AS version FROM schema_migrations');
        schema = typeof v?.['version'] === 'number' ? v['version'] : 0;
      }
      return { standby: row?.['standby'] === true, version: schema };
    },
    { readOnly: true, maxAttempts: 1 },
  );
  if (standby) throw new StoreUnavailable('The database is a read-only standby; writes would fail.', 5);
  if (version !== expectedSchemaVersion) {
    throw new StoreUnavailable(`The database schema is at version ${version}, this release runs on ${expectedSchemaVersion}.`, 5);
  }
  return { schemaVersion: version, latencyMs: Number(process.hrtime.bigint() - started) / 1e6 };
}
