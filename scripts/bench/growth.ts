/**
 * Growth: bulk-seeding active keys into the run's database with scripts/seed-keys.ts (its
 * `seedKeys({ dbFile, keys, onProgress })`, with the gateway stopped), counting what the database
 * then holds, and timing the audit chain's verification.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { verifyAudit } from '../../server/audit/verifyAudit.js';
import { withSqliteFile } from '../../server/store/sqlite/index.js';
import { repoRoot } from './serverProcess.js';

export type SeedKeys = (opts: { dbFile: string; keys: number; onProgress?: (...args: unknown[]) => void }) => unknown;

const seedModule = path.join(repoRoot, 'scripts', 'seed-keys.ts');

/** scripts/seed-keys.ts's seedKeys, or why it cannot be used. */
export async function loadSeedKeys(): Promise<SeedKeys | string> {
  if (!fs.existsSync(seedModule)) return 'scripts/seed-keys.ts does not exist yet';
  const mod: unknown = await import(pathToFileURL(seedModule).href);
  if (typeof mod !== 'object' || mod === null || !('seedKeys' in mod) || typeof mod.seedKeys !== 'function') return 'scripts/seed-keys.ts exports no seedKeys function';
  const fn = mod.seedKeys as (opts: unknown) => unknown;
  return (opts) => fn(opts);
}

/** Adds `keys` active keys; resolves when seedKeys is done (sync or async). */
export async function seed(seedKeys: SeedKeys, dbFile: string, keys: number, label: string): Promise<number> {
  const started = performance.now();
  let last = 0;
  await seedKeys({
    dbFile,
    keys,
    onProgress: (...args: unknown[]) => {
      const now = performance.now();
      if (now - last < 5000) return;
      last = now;
      const done = typeof args[0] === 'number' ? args[0] : typeof args[0] === 'object' && args[0] !== null && 'done' in args[0] ? Number(args[0].done) : Number.NaN;
      process.stderr.write(`bench: ${label}: ${Number.isFinite(done) ? `${done.toLocaleString('en-US')} of ${keys.toLocaleString('en-US')} keys` : 'seeding'} (${((now - started) / 1000).toFixed(0)} s)\n`);
    },
  });
  return (performance.now() - started) / 1000;
}

/** Active keys and audit entries in the database (through the store port, read-only). */
export function countDatabase(dbFile: string): Promise<{ activeKeys: number; auditEntries: number }> {
  return withSqliteFile(dbFile, async (tx) => ({
    activeKeys: (await tx.credentials.fleet()).filter((r) => r.state === 'active').reduce((s, r) => s + r.count, 0),
    auditEntries: (await tx.audit.head()).seq,
  }));
}

/**
 * Waits until the restarted gateway's audit checkpointer has signed a checkpoint at (or past)
 * `headSeq`. The seeder adds audit entries without checkpoints (a running gateway signs one every
 * second), so after the restart the checkpointer first re-hashes every seeded entry from the last
 * checkpoint to the head (Checkpointer.checkChain) in a gateway process; measuring during that
 * catch-up would measure the catch-up. Resolves with the seconds it took; rejects past `timeoutMs`.
 */
export async function waitForCheckpointAt(dbFile: string, headSeq: number, timeoutMs: number): Promise<number> {
  const started = performance.now();
  for (;;) {
    const latest = await withSqliteFile(dbFile, (tx) => tx.checkpoints.latest());
    if (latest !== undefined && latest.seq >= headSeq) return (performance.now() - started) / 1000;
    if (performance.now() - started > timeoutMs) {
      throw new Error(`growth: the gateway signed no audit checkpoint at entry ${headSeq} within ${Math.round(timeoutMs / 1000)} s (last: ${latest?.seq ?? 'none'})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

export interface AuditVerification {
  entries: number;
  seconds: number;
  perSecond: number;
  ok: boolean;
  checkpoints: number;
  method: string;
}

/** Times the auditor's check (hash chain, signed checkpoints, truncation) on a read-only snapshot. */
export function timeAuditVerification(dbFile: string): Promise<AuditVerification> {
  return withSqliteFile(dbFile, async (tx) => {
    const started = performance.now();
    const report = await verifyAudit(tx);
    const seconds = (performance.now() - started) / 1000;
    return {
      entries: report.chain.entries,
      seconds,
      perSecond: report.chain.entries / seconds,
      ok: report.ok,
      checkpoints: report.checkpoints.length,
      method: 'verifyAudit (server/audit/verifyAudit.ts), one read transaction of the store port',
    };
  });
}
