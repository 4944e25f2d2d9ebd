/** Named leases: one holder at a time across the processes sharing the file. */
import type { LeaseRepo } from '../../ports/repositories.js';
import type { Connection } from './connection.js';

export class SqliteLeases implements LeaseRepo {
  constructor(private readonly db: Connection) {}

  async acquire(name: string, holder: string, until: string, at: string): Promise<boolean> {
    const r = this.db
      .prepare(
        `INSERT INTO leases (name, holder, until) VALUES (?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until
           WHERE leases.holder = excluded.holder OR leases.until <= ?`,
      )
      .run(name, holder, until, at);
    return r.changes === 1;
  }

  async release(name: string, holder: string): Promise<void> {
    this.db.prepare('DELETE FROM leases WHERE name = ? AND holder = ?').run(name, holder);
  }
}
