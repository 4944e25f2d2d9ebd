/**
 * The ephemeral store on PostgreSQL: UNLOGGED tables (0001_schema.sql), shared by every process
 * and instance on the one primary, written without WAL and so without an fsync; emptied by a
 * crash of the server and not replicated (a promoted standby starts with none). Losing them costs
 * a retry (a new challenge) or a fresh rate-limit window, never a guarantee.
 *
 * Each method is ONE autocommit statement. Single use holds across instances: a challenge is
 * consumed by `UPDATE ... WHERE consumed_at IS NULL RETURNING`, and a caller that waited for the
 * winner's row lock re-checks the WHERE on the committed row and gets nothing.
 *
 * Rate-limit times are epoch milliseconds in the port and timestamptz in the table: milliseconds
 * pass as Date.toISOString() text and read back exactly.
 */
import type { ChallengeRecord, NewChallenge } from '../../domain/keys.js';
import type { ChallengeStore, EphemeralStore, LimitCounterStore, LimitWindow } from '../../ports/ephemeral.js';
import type { PostgresPool, Row } from './pool.js';
import * as records from './records.js';
import { num, str } from './rows.js';

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function windowOf(r: Row): LimitWindow {
  return { hits: num(r, 'hits'), resetAt: Date.parse(str(r, 'reset_at')) };
}

class PgChallenges implements ChallengeStore {
  constructor(private readonly pool: PostgresPool) {}

  async put(c: NewChallenge): Promise<void> {
    await this.pool.count(
      `INSERT INTO challenges (challenge, flow_hash, ceremony, identity_id, enrolment_id, created_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [c.challenge, c.flowHash, c.ceremony, c.identityId, c.enrolmentId, c.createdAt, c.expiresAt],
    );
  }

  async consume(challenge: string, at: string): Promise<ChallengeRecord | undefined> {
    const [r] = await this.pool.rows('UPDATE challenges SET consumed_at = $1 WHERE challenge = $2 AND consumed_at IS NULL RETURNING *', [at, challenge]);
    return r === undefined ? undefined : records.challenge(r);
  }

  prune(before: string): Promise<number> {
    return this.pool.count('DELETE FROM challenges WHERE expires_at < $1', [before]);
  }
}

class PgLimits implements LimitCounterStore {
  constructor(private readonly pool: PostgresPool) {}

  async hitThen(first: string, firstLimit: number, second: string, windowMs: number, at: number): Promise<{ first: LimitWindow; second: LimitWindow | undefined }> {
    if (first === second) throw new TypeError('store: hitThen needs two different keys');
    // One statement: the second upsert runs only on the first's row as it returned it; each row
    // is locked by its own upsert, so concurrent hits on either key queue and each counts.
    const [r] = await this.pool.rows(
      `WITH f AS (
         INSERT INTO rate_limit_windows AS w (key, hits, reset_at) VALUES ($1, 1, $2::timestamptz)
         ON CONFLICT (key) DO UPDATE SET
           hits = CASE WHEN w.reset_at <= $3::timestamptz THEN 1 ELSE w.hits + 1 END,
           reset_at = CASE WHEN w.reset_at <= $3::timestamptz THEN excluded.reset_at ELSE w.reset_at END
         RETURNING hits, reset_at
       ), s AS (
         INSERT INTO rate_limit_windows AS w (key, hits, reset_at) SELECT $4::text, 1, $2::timestamptz FROM f WHERE f.hits <= $5::int
         ON CONFLICT (key) DO UPDATE SET
           hits = CASE WHEN w.reset_at <= $3::timestamptz THEN 1 ELSE w.hits + 1 END,
           reset_at = CASE WHEN w.reset_at <= $3::timestamptz THEN excluded.reset_at ELSE w.reset_at END
         RETURNING hits, reset_at
       )
       SELECT f.hits, f.reset_at, s.hits AS second_hits, s.reset_at AS second_reset_at FROM f LEFT JOIN s ON true`,
      [first, iso(at + windowMs), iso(at), second, firstLimit],
    );
    if (r === undefined) throw new Error('store: a rate-limit hit returned no window');
    const counted = r['second_hits'] !== null && r['second_hits'] !== undefined;
    return {
      first: windowOf(r),
      second: counted ? { hits: num(r, 'second_hits'), resetAt: Date.parse(str(r, 'second_reset_at')) } : undefined,
    };
  }

  async hit(key: string, windowMs: number, at: number): Promise<LimitWindow> {
    // One statement: concurrent hits on one key queue on its row and each counts.
    const [r] = await this.pool.rows(
      `INSERT INTO rate_limit_windows AS w (key, hits, reset_at) VALUES ($1, 1, $2)
       ON CONFLICT (key) DO UPDATE SET
         hits = CASE WHEN w.reset_at <= $3::timestamptz THEN 1 ELSE w.hits + 1 END,
         reset_at = CASE WHEN w.reset_at <= $3::timestamptz THEN excluded.reset_at ELSE w.reset_at END
       RETURNING hits, reset_at`,
      [key, iso(at + windowMs), iso(at)],
    );
    if (r === undefined) throw new Error('store: a rate-limit hit returned no window');
    return windowOf(r);
  }

  async get(key: string, at: number): Promise<LimitWindow | undefined> {
    const [r] = await this.pool.rows('SELECT hits, reset_at FROM rate_limit_windows WHERE key = $1 AND reset_at > $2', [key, iso(at)]);
    return r === undefined ? undefined : windowOf(r);
  }

  async undo(key: string, at: number): Promise<void> {
    await this.pool.count('UPDATE rate_limit_windows SET hits = hits - 1 WHERE key = $1 AND hits > 0 AND reset_at > $2', [key, iso(at)]);
  }

  async reset(key: string): Promise<void> {
    await this.pool.count('DELETE FROM rate_limit_windows WHERE key = $1', [key]);
  }

  prune(at: number): Promise<number> {
    return this.pool.count('DELETE FROM rate_limit_windows WHERE reset_at <= $1', [iso(at)]);
  }
}

export class PgEphemeral implements EphemeralStore {
  readonly challenges: ChallengeStore;
  readonly limits: LimitCounterStore;

  constructor(pool: PostgresPool) {
    this.challenges = new PgChallenges(pool);
    this.limits = new PgLimits(pool);
  }
}
