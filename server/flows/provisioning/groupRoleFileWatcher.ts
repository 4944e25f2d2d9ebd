/**
 * Follows GATEWAY_SCIM_GROUP_ROLES_FILE while the gateway runs (issue 18): looks at the file every
 * GATEWAY_SCIM_GROUP_ROLES_POLL_SECONDS (its inode, size and mtime; then the SHA-256 of its bytes)
 * and on SIGHUP (main.ts). A changed, valid table goes through the SAME reconciliation as a start
 * (reconcileGroupRoles.ts: a role only a removed row asked for is withdrawn at once, NSIS 4.1.5
 * (Substantial) 7; a row added asks and grants nothing, NSIS 5.2 (Substantial) 8; once across
 * instances by compare-and-set), and only then goes in force here (`onApplied` tells the sibling
 * workers). A file that cannot be used (removed, unreadable, not JSON, not a valid table) is
 * refused whole: the table in force stays, and the refusal is logged with what to do and audited
 * (`scim.group-roles-refused`), once per state of the file (a SIGHUP asks again, so it says again).
 *
 * One look at a time: a poll or a signal during a look is run once after it, never alongside, so
 * the reconciliation never runs concurrently with itself in this process. `stop` ends the polling
 * and waits for a look in progress.
 */
import fs from 'node:fs';
import { SYSTEM_ACTOR } from '../../domain/types.js';
import { type GroupRoleFileRead, readGroupRoleFile } from '../../scim/groupRolesFile.js';
import type { CoreDeps } from '../deps.js';
import { recordEvent } from '../shared/audit.js';
import type { GroupRoleTableInForce } from './groupRoleTable.js';
import { reconcileGroupRoles } from './reconcileGroupRoles.js';

/** What asked for the look: the poll, or the operator (SIGHUP). */
export type GroupRoleReloadTrigger = 'poll' | 'signal';

export interface GroupRoleFileWatcherOptions {
  /** The absolute path of the file. */
  file: string;
  /** Between two polls (0: no polling, SIGHUP only). */
  pollMs: number;
  /** After a new table went in force in this process (main.ts: tell the sibling workers). */
  onApplied?: () => void;
}

/** The file as last handled: cheap to compare (stat), and what it held (digest, or why none). */
interface Seen {
  stat: string;
  content: string;
}

const WHAT_TO_DO =
  'the table in force stays; write a JSON array of {"displayName": …, "role": "helpdesk" | "security-officer" | "org-admin"} (each displayName once; [] maps none) to the file, ideally by renaming a finished file over it; it is read again within the poll interval or on SIGHUP';

export class GroupRoleFileWatcher {
  readonly #deps: CoreDeps;
  readonly #tables: GroupRoleTableInForce;
  readonly #opts: GroupRoleFileWatcherOptions;
  #seen: Seen | undefined;
  #timer: NodeJS.Timeout | undefined;
  #busy: Promise<void> | undefined;
  #queued: GroupRoleReloadTrigger | undefined;
  #stopped = false;

  constructor(deps: CoreDeps, tables: GroupRoleTableInForce, opts: GroupRoleFileWatcherOptions) {
    this.#deps = deps;
    this.#tables = tables;
    this.#opts = opts;
  }

  /** Starts polling (nothing when the interval is 0). */
  start(): void {
    if (this.#stopped || this.#timer || this.#opts.pollMs <= 0) return;
    this.#timer = setInterval(() => void this.reload('poll'), this.#opts.pollMs);
    this.#timer.unref();
  }

  /** Stops polling and waits for a look in progress (shutdown: no handle left open). */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#busy;
  }

  /**
   * Looks at the file now (a poll skips a file whose stat and content it already handled; a
   * signal reads it regardless). Resolves when this look, and any asked for meanwhile, is done.
   */
  reload(trigger: GroupRoleReloadTrigger): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    if (this.#busy) {
      if (this.#queued !== 'signal') this.#queued = trigger;
      return this.#busy;
    }
    const run = async () => {
      let next: GroupRoleReloadTrigger | undefined = trigger;
      while (next !== undefined && !this.#stopped) {
        this.#queued = undefined;
        await this.#look(next).catch((err: unknown) =>
          this.#deps.log.error({ err: err instanceof Error ? err.message : String(err), file: this.#opts.file }, 'directory group-role table not reloaded (store unavailable?); the table in force stays and the next look tries again'),
        );
        next = this.#queued;
      }
    };
    this.#busy = run().finally(() => (this.#busy = undefined));
    return this.#busy;
  }

  async #look(trigger: GroupRoleReloadTrigger): Promise<void> {
    const stat = await fs.promises.stat(this.#opts.file).then(
      (s) => `${s.ino}:${s.size}:${s.mtimeMs}`,
      () => 'none',
    );
    if (trigger === 'poll' && stat === this.#seen?.stat) return;
    const read = readGroupRoleFile(this.#opts.file);
    const content = read.ok || read.digest !== null ? `sha256:${read.digest}` : `${read.reason}`;
    if (trigger === 'poll' && content === this.#seen?.content) {
      this.#seen = { stat, content };
      return;
    }
    if (!read.ok) {
      await this.#refuse(read, trigger);
      this.#seen = { stat, content };
      return;
    }
    // Applied (or found applied by another instance) before it goes in force; a failure throws
    // before `seen` moves, so the next look tries again.
    await reconcileGroupRoles(this.#deps, read.table);
    this.#seen = { stat, content };
    if (this.#tables.set(read.table)) {
      this.#deps.log.info({ rows: read.table.length, trigger }, 'directory group-role table in force');
      this.#opts.onApplied?.();
    }
  }

  async #refuse(read: Extract<GroupRoleFileRead, { ok: false }>, trigger: GroupRoleReloadTrigger): Promise<void> {
    const rows = this.#tables.current().length;
    this.#deps.log.warn({ event: 'scim.group-roles-refused', file: this.#opts.file, reason: read.reason, detail: read.detail.slice(0, 300), trigger, rowsInForce: rows }, `directory group-role table refused: ${WHAT_TO_DO}`);
    await this.#deps.store.write((tx) =>
      recordEvent(this.#deps, tx, 'scim.group-roles-refused', SYSTEM_ACTOR, null, {
        file: this.#opts.file,
        reason: read.reason,
        detail: read.detail.slice(0, 300),
        trigger,
        rowsInForce: rows,
        clause: 'NSIS 4.1.5 (Substantial) 7',
      }),
    );
  }
}
