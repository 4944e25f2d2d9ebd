/**
 * The kinds of threads of a server process besides its JavaScript thread (the profile's "Other
 * threads" row, profileCosts.ts), and why each costs the gateway CPU. Node 20 names every thread
 * "node" (/proc/<pid>/task/<tid>/comm), so the probe tells the kinds apart by what they do when
 * it loads (threadCensus.ts): libuv's pool threads are the ones it blocks in the open of a FIFO,
 * Node's event-loop threads wait in epoll, V8's platform threads on a futex, a thread born when the
 * probe started V8's profiler is the profiler's, and any other thread born after the probe was
 * started by the server (a worker_threads Worker).
 */

export const THREAD_KINDS = {
  pool: "libuv thread pool (WebCrypto jobs; the gateway's fdatasync of the WAL)",
  v8: "V8 platform threads (concurrent GC marking and sweeping, compiler) and the inspector's signal thread",
  loops: "Node's other event-loop threads (V8's delayed-task scheduler, the tsx loader's hooks thread)",
  later: 'Threads the server started (worker_threads: the SQLite WAL checkpoint Worker)',
  profiler: "The benchmark's V8 CPU profiler (its thread, started with the profiled phase)",
  rest: "Remainder: threads that ended in the window, rounding of /proc's ticks",
} as const;

export type ThreadKind = keyof typeof THREAD_KINDS;

/** Prefix of a kind measured in a cluster primary (the process that only supervises its workers). */
export const PRIMARY = 'Cluster primary: ';

/** What the probe learnt of its process's threads when it loaded. */
export interface ThreadCensus {
  pid: number;
  pool: Set<number>;
  /** Threads present at load other than the JavaScript thread and the pool, waiting in epoll. */
  loops: Set<number>;
  /** Every thread present at load. */
  startup: Set<number>;
  /** Threads born when the probe started V8's CPU profiler (processProbe.ts). */
  profiler?: Set<number>;
}

export function kindOf(tid: number, c: ThreadCensus): ThreadKind | 'main' {
  if (tid === c.pid) return 'main';
  if (c.pool.has(tid)) return 'pool';
  if (c.loops.has(tid)) return 'loops';
  if (c.startup.has(tid)) return 'v8';
  if (c.profiler?.has(tid)) return 'profiler';
  return 'later';
}

/**
 * CPU per kind of thread (ms) over a window, from two readings of every thread's CPU (tid -> ms);
 * a thread seen only at the end was born in the window and counts from zero.
 */
export function cpuByKind(before: Map<number, number>, after: Map<number, number>, c: ThreadCensus): Partial<Record<ThreadKind, number>> {
  const out: Partial<Record<ThreadKind, number>> = {};
  for (const [tid, ms] of after) {
    const kind = kindOf(tid, c);
    if (kind === 'main') continue;
    out[kind] = (out[kind] ?? 0) + Math.max(0, ms - (before.get(tid) ?? 0));
  }
  return out;
}

/** Why each kind costs CPU in the gateway, and what corresponds in the reference. */
export const THREAD_REASONS: Record<string, string> = {
  [THREAD_KINDS.pool]:
    "WebCrypto runs its SHA-256 and ECDSA jobs here in both servers (the WebAuthn check, NSIS 3.2.1 (Substantial) 1-2); the gateway also flushes the WAL (fdatasync) here after each group commit before a sign-in is answered (NSIS 6 (Low) 7: the commit survives a crash; one per group, not per sign-in: the writer exports no count of groups), and its async file reads. The reference keeps nothing.",
  [THREAD_KINDS.v8]: "Follows from the allocations of the JavaScript thread (the gateway's heap and garbage are larger: more to mark and sweep) and from code compiled in the window; the inspector's thread costs nothing.",
  [THREAD_KINDS.loops]: "Node's own: V8's delayed tasks and the module loader (tsx) of both servers; nothing of the server's.",
  [THREAD_KINDS.later]:
    "The gateway's WAL checkpoint Worker (server/store/sqlite/walCheckpointer.ts): it copies committed pages from the WAL into the database file past a threshold, off the event loop, so that the WAL stays short and reads stay fast; the reference has no file.",
  [THREAD_KINDS.profiler]: "The benchmark's measurement, not the server's cost: V8's profiler processes its samples on a thread of its own (in both servers, one per process).",
  [THREAD_KINDS.rest]: "The other threads' CPU from getrusage less the live threads' own (/proc/self/task/*/schedstat): a thread that ended in the window, and the readings' rounding.",
};

/** The cluster primary forks and watches the workers and serves no request; the profiler runs in it too. */
const PRIMARY_REASON =
  "The cluster primary serves no request (it forks and watches the workers, relays their metrics; its JavaScript thread is in the rows above): what its threads of this kind use is that upkeep and the benchmark's probe and profiler in it.";

export const threadReasonOf = (part: string): string => {
  const kind = part.startsWith(PRIMARY) ? part.slice(PRIMARY.length) : part;
  if (kind === THREAD_KINDS.profiler || kind === THREAD_KINDS.rest || !part.startsWith(PRIMARY)) return THREAD_REASONS[kind] ?? '–';
  return PRIMARY_REASON;
};
