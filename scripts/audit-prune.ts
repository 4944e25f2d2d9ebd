/**
 * Deletes audit entries older than GATEWAY_AUDIT_RETENTION_DAYS, up to the newest signed
 * checkpoint before that age, which then anchors verification. The prune is signed by the HSM
 * key (so a forged prune record is found by audit:verify) and audited as `audit.pruned`.
 *
 *   GATEWAY_AUDIT_RETENTION_DAYS=1825 npm run audit:prune
 */
import { systemClock } from '../server/clock.js';
import { loadConfig } from '../server/config.js';
import { pruneAudit } from '../server/audit/prune.js';
import { createLogger } from '../server/logger.js';
import { createRuntime } from '../server/runtime.js';

async function main(): Promise<number> {
  const config = loadConfig();
  if (config.auditRetentionDays <= 0) {
    process.stderr.write('audit:prune: GATEWAY_AUDIT_RETENTION_DAYS is 0 (keep everything); nothing to do\n');
    return 0;
  }
  const runtime = await createRuntime(config, { log: createLogger('warn'), initialKey: false });
  try {
    if (!runtime.keys) throw new Error('the HSM is needed to sign the prune record');
    const r = await pruneAudit(runtime.store, runtime.keys, systemClock, config.origin, config.auditRetentionDays, { identityId: null, role: 'system' });
    process.stdout.write(
      r.throughSeq === null
        ? `audit:prune: no signed checkpoint older than ${r.cutoff}; nothing pruned\n`
        : `audit:prune: removed ${r.pruned} entries through ${r.throughSeq}, anchored by checkpoint ${r.anchorCheckpointId}\n`,
    );
    return 0;
  } finally {
    await runtime.close();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`audit:prune: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
