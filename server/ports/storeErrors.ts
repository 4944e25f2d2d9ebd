/**
 * The store port's typed failures (CONVENTIONS 5). Adapters map their driver's errors to these;
 * nothing outside an adapter sees a driver error code. The HTTP boundary answers them with 503
 * problem+json (StoreBusy with Retry-After) or 409 (StoreConflict).
 */

export class StoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The database is busy (another writer held it past the adapter's bound): retry shortly. */
export class StoreBusy extends StoreError {
  constructor(
    message = 'The database is busy; nothing was changed.',
    readonly retryAfterSeconds = 1,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The database cannot be reached or has stopped answering: nothing was changed. */
export class StoreUnavailable extends StoreError {
  constructor(
    message = 'The database is unavailable; nothing was changed.',
    readonly retryAfterSeconds = 5,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A uniqueness the caller checked was taken meanwhile by a concurrent transaction (it rolled back). */
export class StoreConflict extends StoreError {}
