/**
 * How a test reads a gateway's state for its assertions: through the store port (one read
 * transaction per call), whatever the engine. Engine-specific inspection (raw SQL on the SQLite
 * files, tampering) is test/support/sqliteInspection.ts.
 */
import type { AuditEntry } from '../../server/domain/audit.js';
import type { ReadTx, Store } from '../../server/ports/store.js';

/** Runs `fn` in one read transaction of the store. */
export function read<T>(store: Store, fn: (tx: ReadTx) => Promise<T>): Promise<T> {
  return store.read(fn);
}

/** Every audit entry from `fromSeq` on, in order (one snapshot). */
export function auditEntries(store: Store, fromSeq = 1): Promise<AuditEntry[]> {
  return store.read(async (tx) => {
    const out: AuditEntry[] = [];
    for (let from = fromSeq; ; ) {
      const page = await tx.audit.page(from, 5000);
      if (page.length === 0) return out;
      out.push(...page);
      from = (page[page.length - 1]?.seq ?? from) + 1;
    }
  });
}
