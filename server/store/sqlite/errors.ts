/**
 * better-sqlite3's errors as the port's typed errors: nothing outside this adapter sees a
 * SQLITE_* code. Anything else (a bug, a trigger refusing a change) passes through unchanged.
 */
import { StoreBusy, StoreConflict, StoreError, StoreUnavailable } from '../../ports/storeErrors.js';

function codeOf(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

export function storeErrorOf(err: unknown): unknown {
  if (err instanceof StoreError) return err;
  const code = codeOf(err);
  if (code === undefined) {
    // better-sqlite3 throws a TypeError once the connection is closed (a stopping gateway).
    if (err instanceof TypeError && /database connection is not open/.test(err.message)) return new StoreUnavailable(undefined, 5, { cause: err });
    return err;
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return new StoreBusy(undefined, 1, { cause: err });
  if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    return new StoreConflict('A concurrent change took this first; nothing was changed.', { cause: err });
  }
  if (
    code.startsWith('SQLITE_IOERR') ||
    code.startsWith('SQLITE_CANTOPEN') ||
    code.startsWith('SQLITE_CORRUPT') ||
    code === 'SQLITE_NOTADB' ||
    code === 'SQLITE_FULL' ||
    code.startsWith('SQLITE_READONLY')
  ) {
    return new StoreUnavailable(`The database cannot be written or read (${code}); nothing was changed.`, 5, { cause: err });
  }
  return err;
}
