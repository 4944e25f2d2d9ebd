/**
 * Deletes audit entries older than GATEWAY_AUDIT_RETENTION_DAYS, up to the newest signed
 * checkpoint before that age, which then anchors verification. Audited as `audit.pruned`.
 *
 *   GATEWAY_AUDIT_RETENTION_DAYS=1825 npm run audit:prune
 */
import { systemClock } from '../server/clock.js';
import { loadConfig } from '../server/config.js';
import { pruneAudit } from '../server/audit/prune.js';
import { Store } from '../server/store/index.js';

const config = loadConfig();
if (config.auditRetentionDays <= 0) {
  process.stderr.write('audit:prune: GATEWAY_AUDIT_RETENTION_DAYS is 0 (keep everything); nothing to do\n');
  process.exit(0);
}
const store = Store.open(config.dbFile);
try {
  const r = pruneAudit(store, systemClock, config.auditRetentionDays, { identityId: null, role: 'system' });
  process.stdout.write(
    r.throughSeq === null
      ? `audit:prune: no signed checkpoint older than ${r.cutoff}; nothing pruned\n`
      : `audit:prune: removed ${r.pruned} entries through ${r.throughSeq}, anchored by checkpoint ${r.anchorCheckpointId}\n`,
  );
} finally {
  store.close();
}
