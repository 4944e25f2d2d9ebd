/**
 * The one write of a sign-in on SQLite (issue 17; the port's SignInRepo): the statements the
 * flow used to make one by one, in the same order, inside the writer's transaction (one writer:
 * nothing interleaves, and the group commit makes it durable with its neighbours).
 */
import type { SignInCommit, SignInCommitted, SignInRepo } from '../../ports/repositories.js';
import type { AuditEntry } from '../../domain/audit.js';
import type { Connection } from './connection.js';
import type { SqliteAudit } from './audit.js';
import type { SqliteCredentials } from './credentials.js';
import type { SqliteSessions } from './sessions.js';

export class SqliteSignIns implements SignInRepo {
  constructor(
    private readonly db: Connection,
    private readonly repos: { credentials: SqliteCredentials; sessions: SqliteSessions; audit: SqliteAudit },
  ) {}

  async commit(c: SignInCommit): Promise<SignInCommitted | undefined> {
    const { credentials, sessions, audit } = this.repos;
    // The compare-and-set first: when it fails, nothing is written.
    if (!(await credentials.recordUse(c.keyId, c.expectedCount, c.newCount, c.backupState, c.at))) return undefined;
    const p = c.previous;
    const previousEnded =
      p !== undefined &&
      this.db.prepare('UPDATE sessions SET ended_at = ?, end_reason = ? WHERE id_hash = ? AND identity_id = ? AND ended_at IS NULL').run(c.at, p.reason, p.idHash, p.identityId).changes === 1;
    await sessions.insert(c.session);
    const inputs = previousEnded && p ? [...c.entries.slice(0, 1), p.entry, ...c.entries.slice(1)] : c.entries;
    const entries: AuditEntry[] = [];
    for (const input of inputs) entries.push(await audit.append(input));
    return { previousEnded, entries };
  }
}
