/**
 * A pool of logged-in PKCS#11 sessions on the token with the configured label.
 *
 * Portable PKCS#11 2.40 only:
 * - the module is initialised with CKF_OS_LOCKING_OK (async calls run on the
 *   libuv thread pool) and CKR_CRYPTOKI_ALREADY_INITIALIZED is tolerated;
 * - the slot is found by token label, never by slot index;
 * - `sessions` (default 4) RW serial sessions are opened; the first one logs in
 *   as CKU_USER (CKR_USER_ALREADY_LOGGED_IN tolerated) and the login state is
 *   shared by all sessions of the application on the token, so the others are
 *   logged in too (checked with C_GetSessionInfo; logged in explicitly if a
 *   module thinks otherwise);
 * - a session runs one operation at a time: {@link HsmConnection.withSession}
 *   hands out a free session and queues callers (FIFO) while all are busy, so
 *   up to `sessions` operations run in parallel (e.g. C_Sign on the libuv
 *   thread pool, whose default size, UV_THREADPOOL_SIZE, is 4 and is shared
 *   with fs, dns and crypto work: more sessions than threads add no
 *   parallelism);
 * - a session on which an operation failed is never reused: it is replaced by
 *   a fresh session (opened before the old one is closed, so that the login
 *   state of the application survives) and C_CloseSession terminates whatever
 *   operation the failure may have left active (C_SignInit without a finishing
 *   C_Sign, C_FindObjectsInit without C_FindObjectsFinal...);
 * - failures are sorted by kind through the one CKR table of errors.ts: a
 *   device or session lost retires the pool (below); an operation refused
 *   fails that request only, and the pool stays. After a refusal the token is
 *   asked whether it is still there (C_GetSessionInfo: session alive and
 *   logged in; C_GetTokenInfo: token present, same label; C_GenerateRandom
 *   when the token has an RNG, the one portable call that reaches the device
 *   itself: tpm2-pkcs11 answers the first two from memory when its TPM is gone
 *   and reports the lost TPM as CKR_GENERAL_ERROR). If it is not, the failure
 *   is reported as HSM_UNAVAILABLE: a key handle that became invalid because
 *   the token went away is an outage, not a missing key;
 * - a failed check of the token, or a session that cannot be replaced, is
 *   tried again after short pauses ({@link TOKEN_RECHECK_PAUSES_MS}) before it
 *   counts: SoftHSM's file store rewrites token.object at every C_Login, in
 *   whichever process logs in, and a C_GetTokenInfo or C_OpenSession here that
 *   reads the file meanwhile fails (CKR_GENERAL_ERROR,
 *   CKR_TOKEN_NOT_RECOGNIZED). Another worker or instance starting is a
 *   moment, not an outage; a token that is really gone fails every try;
 * - when anything reports HSM_UNAVAILABLE, the whole pool is retired (idle
 *   sessions closed at once, busy ones when their operation returns: a
 *   session is never closed under a running C_Sign), waiting callers fail
 *   with HSM_UNAVAILABLE, and the connection reconnects in the background with
 *   bounded exponential backoff (unref'd timers), until it works or is closed.
 *   A refused PIN stops the retries so that the PIN is not locked. The module
 *   is finalised when its last user lets go of it, so a reconnection after an
 *   outage normally starts with a fresh C_Initialize.
 *
 * The login state of a token is per process: use one HsmConnection per token
 * per process. (A second connection with a wrong PIN would be accepted while
 * the first is logged in, because C_Login answers CKR_USER_ALREADY_LOGGED_IN.)
 */
import * as graphene from 'graphene-pk11';
import type { HsmConfig } from './config.js';
import { HsmError, toHsmError } from './errors.js';
import { acquireModule, asOutage, closeQuietly, findSlotByTokenLabel, isCkr, releaseModule, type LoadedModule } from './moduleRegistry.js';

export type HsmStatus = 'ok' | 'unavailable';

export interface HsmHealth {
  status: HsmStatus;
  tokenLabel: string;
  detail?: string;
}

/** CKF_RNG in CK_TOKEN_INFO.flags: the token has its own random number generator. */
const CKF_RNG = 0x1;

export interface HsmConnectionOptions {
  /** Number of logged-in sessions in the pool (1..256). Default 4. */
  sessions?: number;
  /** Backoff of the background reconnection. Defaults: 500 ms doubling up to 30 s. */
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number };
  /** How long {@link HsmConnection.health} waits for a session and the token. Default 5 s. */
  healthTimeoutMs?: number;
  /** Called when the connection becomes unavailable or available again (for logging). */
  onStateChange?: (event: { status: HsmStatus; tokenLabel: string; detail?: string }) => void;
}

export const DEFAULT_SESSIONS = 4;
/** How long reset() waits for running operations before it reconnects anyway. */
const RESET_DRAIN_TIMEOUT_MS = 10_000;
const MAX_SESSIONS = 256;

/**
 * The pauses after which a failed check of the token (or a failed C_OpenSession of a replacement
 * session, or a failed connection attempt at start) is tried again before it counts: about 150 ms
 * in all. Measured on SoftHSM 2.6 with another process logging in 500 times a second, a failed
 * C_GetTokenInfo is followed by a good one within these pauses (test/hsm/concurrent-login.test.ts).
 */
export const TOKEN_RECHECK_PAUSES_MS: readonly number[] = [10, 40, 100];

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** PKCS#11 2.40 session state "R/W user functions" (not exported by pkcs11js). */
const CKS_RW_USER_FUNCTIONS = 3;

// ------------------------------------------------------------------ pool

/** One set of sessions opened by one (re)connection. */
interface Pool {
  readonly generation: number;
  readonly entry: LoadedModule;
  readonly slot: graphene.Slot;
  /** The token has an RNG (CKF_RNG): C_GenerateRandom is part of the liveness probe. */
  readonly hasRng: boolean;
  /** Free sessions (FIFO). */
  readonly idle: graphene.Session[];
  /** Sessions lent to an operation. Never closed while lent. */
  readonly busy: Set<graphene.Session>;
  /** No longer handed out; closed as soon as no session is busy. */
  retired: boolean;
  /** Set when every session is closed and the module reference released. */
  released: boolean;
  /** Log out when the last session goes (only on close(), when this is the token's last pool). */
  logoutOnRelease: boolean;
  readonly whenReleased: Promise<void>;
  readonly markReleased: () => void;
}

interface Waiter {
  operation: string;
  resolve: (lease: { pool: Pool; session: graphene.Session }) => void;
  reject: (error: HsmError) => void;
}

type State = { kind: 'connected'; pool: Pool } | { kind: 'unavailable'; detail: string } | { kind: 'closed' };

// ------------------------------------------------------------------ connection

export class HsmConnection {
  readonly tokenLabel: string;
  /** The token's name in reports (config `name`, else its label). */
  readonly name: string;
  /** Number of sessions in the pool. */
  readonly sessions: number;
  readonly #config: HsmConfig;
  readonly #options: HsmConnectionOptions;
  #state: State = { kind: 'closed' };
  #generation = 0;
  #waiters: Waiter[] = [];
  /** Pools retired but with sessions still busy. */
  readonly #draining = new Set<Pool>();
  #timer: NodeJS.Timeout | undefined;
  /** The refused PIN that ended the background reconnections (see {@link refusal}). */
  #refusal: HsmError | undefined;
  #closing: Promise<void> | undefined;
  /** Called when the current pool has no busy session and nobody waits (used by close()). */
  #onIdle: (() => void) | undefined;

  private constructor(config: HsmConfig, options: HsmConnectionOptions) {
    const sessions = options.sessions ?? DEFAULT_SESSIONS;
    if (!Number.isInteger(sessions) || sessions < 1 || sessions > MAX_SESSIONS) {
      throw new RangeError(`sessions must be an integer from 1 to ${MAX_SESSIONS}, got ${sessions}`);
    }
    this.tokenLabel = config.tokenLabel;
    this.name = config.name ?? config.tokenLabel;
    this.sessions = sessions;
    this.#config = config;
    this.#options = options;
  }

  /**
   * Loads the module, finds the token by label, opens the pool of RW sessions
   * and logs in. Throws HsmError: HSM_UNAVAILABLE (module or device),
   * HSM_TOKEN_NOT_FOUND, HSM_LOGIN_FAILED; RangeError for a bad `sessions`.
   * Does not retry: the caller decides at start-up.
   */
  static async open(config: HsmConfig, options: HsmConnectionOptions = {}): Promise<HsmConnection> {
    const connection = new HsmConnection(config, options);
    connection.#state = { kind: 'connected', pool: connection.#connect() };
    return connection;
  }

  /**
   * Like {@link open}, but a token that is absent or does not answer yet (HSM_UNAVAILABLE,
   * HSM_TOKEN_NOT_FOUND) gives a connection that starts unavailable and connects in the
   * background, with the error that kept it from connecting now: one token of a failover group
   * may be down when the gateway starts. A refused PIN is still thrown (retrying would lock it).
   */
  static async openOrRetry(config: HsmConfig, options: HsmConnectionOptions = {}): Promise<{ connection: HsmConnection; error?: HsmError }> {
    const connection = new HsmConnection(config, options);
    let error = new HsmError('HSM_UNAVAILABLE', 'connecting to the HSM: not tried');
    // Tried again after short pauses first: SoftHSM reads a token that another process is logging
    // in to as unrecognised for a moment (see TOKEN_RECHECK_PAUSES_MS).
    for (const ms of [0, ...TOKEN_RECHECK_PAUSES_MS]) {
      if (ms > 0) await pause(ms);
      try {
        connection.#state = { kind: 'connected', pool: connection.#connect() };
        return { connection };
      } catch (err) {
        error = toHsmError(err, 'connecting to the HSM', 'HSM_UNAVAILABLE');
        if (error.code !== 'HSM_UNAVAILABLE' && error.code !== 'HSM_TOKEN_NOT_FOUND') throw error;
      }
    }
    connection.#state = { kind: 'unavailable', detail: error.message };
    connection.#emit('unavailable', error.message);
    connection.#scheduleReconnect(0);
    return { connection, error };
  }

  /**
   * Set when a background reconnection was refused its PIN: the connection then stays unavailable
   * until the process restarts (retrying would lock the PIN), so nothing is left to wait for.
   */
  get refusal(): HsmError | undefined {
    return this.#refusal;
  }

  /** 'ok' while the pool is connected; 'unavailable' while reconnecting or after close(). */
  get status(): HsmStatus {
    return this.#state.kind === 'connected' && !this.#closing ? 'ok' : 'unavailable';
  }

  /**
   * Increases every time the pool is (re)established. Object handles found in
   * a session are safest used in that session (see {@link withSession}).
   */
  get generation(): number {
    return this.#generation;
  }

  /**
   * Runs `fn` with a free logged-in session of the pool (waiting for one while
   * all are busy; callers are served in order). The session is the caller's
   * alone until `fn` settles. A session is a new object whenever the
   * underlying PKCS#11 session is new, so per-session caches (e.g. object
   * handles) can be kept in a WeakMap keyed by it.
   *
   * Errors are mapped to HsmError. A failure other than HSM_UNAVAILABLE is
   * turned into HSM_UNAVAILABLE when the token no longer answers; the session
   * it happened on is replaced. An HSM_UNAVAILABLE error retires the pool and
   * starts the reconnection. While unavailable or closing, fails at once with
   * HSM_UNAVAILABLE.
   */
  async withSession<T>(operation: string, fn: (session: graphene.Session, generation: number) => T | Promise<T>): Promise<T> {
    const { pool, session } = await this.#acquire(operation);
    let failed = false;
    try {
      return await fn(session, pool.generation);
    } catch (err) {
      failed = true;
      throw await this.#classifyFailure(pool, session, err, operation);
    } finally {
      this.#release(pool, session, failed);
    }
  }

  /**
   * Real round trip to the token: is a session alive and logged in
   * (C_GetSessionInfo), is the token present with the configured label
   * (C_GetTokenInfo)? A failed check makes the connection unavailable.
   */
  async health(): Promise<HsmHealth> {
    const state = this.#state;
    if (state.kind === 'closed' || this.#closing) {
      return { status: 'unavailable', tokenLabel: this.tokenLabel, detail: 'connection closed' };
    }
    if (state.kind === 'unavailable') return { status: 'unavailable', tokenLabel: this.tokenLabel, detail: state.detail };
    const timeoutMs = this.#options.healthTimeoutMs ?? 5000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<HsmHealth>((resolve) => {
      timer = setTimeout(
        () => resolve({ status: 'unavailable', tokenLabel: this.tokenLabel, detail: `no answer within ${timeoutMs} ms` }),
        timeoutMs,
      );
      timer.unref();
    });
    const probe = this.withSession('health check', async (session) => {
      const problem = await this.#confirmedTokenProblem(session, this.#state.kind === 'connected' && this.#state.pool.hasRng);
      if (problem) throw new HsmError('HSM_UNAVAILABLE', problem);
    }).then(
      (): HsmHealth => ({ status: 'ok', tokenLabel: this.tokenLabel }),
      (err: unknown): HsmHealth => ({
        status: 'unavailable',
        tokenLabel: this.tokenLabel,
        detail: err instanceof Error ? err.message : String(err),
      }),
    );
    try {
      return await Promise.race([probe, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Whether the token's slot offers `mechanism` (C_GetMechanismList), with
   * all of `flags` set (C_GetMechanismInfo, e.g. CKF_SIGN) and, if `keyBits`
   * is given, for keys of that size (ulMinKeySize..ulMaxKeySize; bits for RSA
   * and EC mechanisms).
   */
  async supportsMechanism(mechanism: number, options: { flags?: number; keyBits?: number } = {}): Promise<boolean> {
    return this.withSession(`checking mechanism 0x${mechanism.toString(16)}`, (session) => {
      const slot = session.slot.handle;
      if (!session.lib.C_GetMechanismList(slot).includes(mechanism)) return false;
      const info = session.lib.C_GetMechanismInfo(slot, mechanism);
      const flags = (options.flags ?? 0) >>> 0;
      if (((info.flags & flags) >>> 0) !== flags) return false;
      const { keyBits } = options;
      if (keyBits !== undefined && (keyBits < info.minKeySize || keyBits > info.maxKeySize)) return false;
      return true;
    });
  }

  /**
   * Starts afresh: retires the pool, so that the module is finalised once its
   * last user lets go of it (C_Finalize; the next C_Initialize rebuilds the
   * module's object-handle table), and reconnects at once instead of after the
   * backoff. For a module that handed out a handle which reads back as another
   * object (tpm2-pkcs11 #931: fixed by C_Finalize + C_Initialize). Waits for
   * every lent session to come back, so never call it inside
   * {@link withSession}. Resolves when connected again; rejects with
   * HSM_UNAVAILABLE otherwise (the background reconnection goes on). If
   * another connection of this process uses the same module, the module stays
   * initialised and the reset only renews the sessions.
   */
  async reset(reason: string): Promise<void> {
    const state = this.#state;
    if (state.kind === 'closed' || this.#closing) throw new HsmError('HSM_UNAVAILABLE', `reset (${reason}): HSM connection is closed`);
    if (state.kind === 'connected') this.#markUnavailable(state.pool, `reset: ${reason}`);
    // The reconnection is made here, once the old sessions are closed and the module let go of:
    // a backoff timer firing first would reconnect to a module that was never finalised.
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    let waited: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all([...this.#draining].map((pool) => pool.whenReleased)),
      // An operation that never returns must not keep the connection down for good.
      new Promise<void>((resolve) => {
        waited = setTimeout(resolve, RESET_DRAIN_TIMEOUT_MS);
        waited.unref();
      }),
    ]);
    clearTimeout(waited);
    if (this.#state.kind === 'unavailable' && !this.#closing) {
      if (this.#timer) clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#tryReconnect(0);
    }
    const after = this.#state;
    if (after.kind !== 'connected') {
      throw new HsmError('HSM_UNAVAILABLE', `reset (${reason}): ${after.kind === 'unavailable' ? after.detail : 'HSM connection is closed'}`);
    }
  }

  /**
   * Stops accepting operations, lets the running and already queued ones
   * finish, logs out (if last user of the token), closes every session and
   * finalises the module (if last user). Safe to call twice or concurrently.
   */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  // ---------------------------------------------------------------- lending

  #acquire(operation: string): Promise<{ pool: Pool; session: graphene.Session }> {
    const state = this.#state;
    if (state.kind === 'closed' || this.#closing) {
      return Promise.reject(new HsmError('HSM_UNAVAILABLE', `${operation}: HSM connection is closed`));
    }
    if (state.kind === 'unavailable') {
      return Promise.reject(new HsmError('HSM_UNAVAILABLE', `${operation}: HSM unavailable (${state.detail})`));
    }
    const { pool } = state;
    const session = pool.idle.shift();
    if (session) {
      pool.busy.add(session);
      return Promise.resolve({ pool, session });
    }
    return new Promise((resolve, reject) => {
      this.#waiters.push({ operation, resolve, reject });
    });
  }

  #release(pool: Pool, lent: graphene.Session, failed: boolean): void {
    pool.busy.delete(lent);
    const current = this.#state.kind === 'connected' && this.#state.pool === pool;
    if (pool.retired || !current) {
      closeQuietly(lent);
      this.#releaseIfDrained(pool);
      return;
    }
    let session = lent;
    if (failed) {
      try {
        session = this.#replaceSession(pool, lent);
      } catch (err) {
        // The old session is closed by #replaceSession: the pool is one short until a later try works.
        void this.#refill(pool, err);
        return;
      }
    }
    this.#lend(pool, session);
  }

  /** Hands `session` to the first waiter, or back to the idle sessions. */
  #lend(pool: Pool, session: graphene.Session): void {
    const waiter = this.#waiters.shift();
    if (waiter) {
      pool.busy.add(session);
      waiter.resolve({ pool, session });
      return;
    }
    pool.idle.push(session);
    if (pool.busy.size === 0) {
      const notify = this.#onIdle;
      this.#onIdle = undefined;
      notify?.();
    }
  }

  /**
   * A session that could not be replaced after a failed operation is opened again after each of
   * {@link TOKEN_RECHECK_PAUSES_MS} (the pool serves with one session fewer meanwhile); only when
   * every try fails is the token unavailable and the pool rebuilt.
   */
  async #refill(pool: Pool, first: unknown): Promise<void> {
    let failure = first;
    for (const ms of TOKEN_RECHECK_PAUSES_MS) {
      await pause(ms);
      if (pool.retired || this.#state.kind !== 'connected' || this.#state.pool !== pool) return;
      let fresh: graphene.Session | undefined;
      try {
        fresh = pool.slot.open(graphene.SessionFlag.SERIAL_SESSION | graphene.SessionFlag.RW_SESSION);
        this.#ensureLoggedIn(fresh);
        this.#lend(pool, fresh);
        return;
      } catch (err) {
        if (fresh) closeQuietly(fresh);
        failure = err;
      }
    }
    this.#markUnavailable(pool, toHsmError(failure, 'replacing a session after a failed operation', 'HSM_UNAVAILABLE').message);
  }

  /**
   * A fresh logged-in session in place of `old`. The new one is opened first:
   * closing the application's last session on a token logs it out.
   */
  #replaceSession(pool: Pool, old: graphene.Session): graphene.Session {
    let fresh: graphene.Session;
    try {
      fresh = pool.slot.open(graphene.SessionFlag.SERIAL_SESSION | graphene.SessionFlag.RW_SESSION);
    } catch (err) {
      closeQuietly(old);
      throw toHsmError(err, 'C_OpenSession', 'HSM_UNAVAILABLE');
    }
    closeQuietly(old);
    try {
      this.#ensureLoggedIn(fresh);
    } catch (err) {
      closeQuietly(fresh);
      throw err;
    }
    return fresh;
  }

  /**
   * The error to give the caller for a failed operation. Anything but
   * HSM_UNAVAILABLE is checked against the token: if it does not answer, the
   * failure is an outage. HSM_UNAVAILABLE retires the pool.
   */
  async #classifyFailure(pool: Pool, session: graphene.Session, err: unknown, operation: string): Promise<HsmError> {
    let error = toHsmError(err, operation);
    if (error.code !== 'HSM_UNAVAILABLE') {
      const problem = await this.#confirmedTokenProblem(session, pool.hasRng);
      if (problem) {
        const options = error.ckr === undefined ? { cause: error } : { cause: error, ckr: error.ckr };
        const failure = error.ckr ?? error.message;
        error = new HsmError('HSM_UNAVAILABLE', `${operation}: ${failure}, and the token does not answer (${problem})`, options);
      }
    }
    if (error.code === 'HSM_UNAVAILABLE') this.#markUnavailable(pool, error.message);
    return error;
  }

  /**
   * Why the token is not usable through this session, asked again after each of
   * {@link TOKEN_RECHECK_PAUSES_MS} while it fails: undefined as soon as one check passes.
   */
  async #confirmedTokenProblem(session: graphene.Session, hasRng: boolean): Promise<string | undefined> {
    let problem = this.#tokenProblem(session, hasRng);
    for (const ms of TOKEN_RECHECK_PAUSES_MS) {
      if (problem === undefined) return undefined;
      await pause(ms);
      problem = this.#tokenProblem(session, hasRng);
    }
    return problem;
  }

  /** Why the token is not usable through this session, or undefined if it is. Never throws. */
  #tokenProblem(session: graphene.Session, hasRng: boolean): string | undefined {
    try {
      const info = session.lib.C_GetSessionInfo(session.handle);
      if (info.state !== CKS_RW_USER_FUNCTIONS) return `session is not logged in (state ${info.state})`;
    } catch (err) {
      return toHsmError(err, 'C_GetSessionInfo', 'HSM_UNAVAILABLE').message;
    }
    try {
      const label = session.slot.getToken().label;
      if (label !== this.tokenLabel) return `the token in the slot is now labelled "${label}"`;
    } catch (err) {
      return toHsmError(err, 'C_GetTokenInfo', 'HSM_UNAVAILABLE').message;
    }
    if (hasRng) {
      try {
        session.lib.C_GenerateRandom(session.handle, Buffer.alloc(8));
      } catch (err) {
        return toHsmError(err, 'C_GenerateRandom', 'HSM_UNAVAILABLE').message;
      }
    }
    return undefined;
  }

  // ---------------------------------------------------------------- pool life cycle

  /** Opens a new pool (sync). Throws HsmError; leaves nothing open on failure. */
  #connect(): Pool {
    const entry = acquireModule(this.#config.modulePath);
    const sessions: graphene.Session[] = [];
    let slot: graphene.Slot;
    try {
      slot = findSlotByTokenLabel(entry.module, this.#config.tokenLabel, this.#config.tokenSerial);
      for (let i = 0; i < this.sessions; i++) {
        let session: graphene.Session;
        try {
          session = slot.open(graphene.SessionFlag.SERIAL_SESSION | graphene.SessionFlag.RW_SESSION);
        } catch (err) {
          throw toHsmError(err, `C_OpenSession (session ${i + 1} of ${this.sessions})`, 'HSM_UNAVAILABLE');
        }
        sessions.push(session);
        this.#ensureLoggedIn(session);
      }
    } catch (err) {
      // Closing the last session logs the application out.
      for (const session of sessions) closeQuietly(session);
      releaseModule(entry);
      throw asOutage(toHsmError(err, 'connecting to the HSM', 'HSM_UNAVAILABLE'));
    }
    const label = this.#config.tokenLabel;
    entry.tokenUsers.set(label, (entry.tokenUsers.get(label) ?? 0) + 1);
    this.#generation += 1;
    let markReleased = (): void => undefined;
    const whenReleased = new Promise<void>((resolve) => {
      markReleased = resolve;
    });
    let hasRng = false;
    try {
      hasRng = (slot.getToken().flags & CKF_RNG) !== 0;
    } catch {
      // Read again on the next connection; the probe then goes without C_GenerateRandom.
    }
    return {
      generation: this.#generation,
      entry,
      slot,
      hasRng,
      idle: sessions,
      busy: new Set(),
      retired: false,
      released: false,
      logoutOnRelease: false,
      whenReleased,
      markReleased,
    };
  }

  /** Logs in unless the application is already logged in on the token (checked with C_GetSessionInfo). */
  #ensureLoggedIn(session: graphene.Session): void {
    let state: number;
    try {
      state = session.lib.C_GetSessionInfo(session.handle).state;
    } catch (err) {
      throw toHsmError(err, 'C_GetSessionInfo', 'HSM_UNAVAILABLE');
    }
    if (state === CKS_RW_USER_FUNCTIONS) return;
    try {
      session.login(this.#config.pin, graphene.UserType.USER);
    } catch (err) {
      if (!isCkr(err, 'CKR_USER_ALREADY_LOGGED_IN')) {
        throw toHsmError(err, `C_Login on token "${this.#config.tokenLabel}"`, 'HSM_LOGIN_FAILED');
      }
    }
  }

  /** Stops lending from `pool`; closes it now or, if sessions are busy, when they come back. */
  #retire(pool: Pool, logout: boolean): void {
    if (pool.retired) return;
    pool.retired = true;
    pool.logoutOnRelease = logout;
    this.#draining.add(pool);
    this.#releaseIfDrained(pool);
  }

  #releaseIfDrained(pool: Pool): void {
    if (!pool.retired || pool.released || pool.busy.size > 0) return;
    pool.released = true;
    const { entry } = pool;
    const label = this.#config.tokenLabel;
    const users = (entry.tokenUsers.get(label) ?? 1) - 1;
    if (users > 0) entry.tokenUsers.set(label, users);
    else entry.tokenUsers.delete(label);
    const [first] = pool.idle;
    if (pool.logoutOnRelease && users === 0 && first) {
      try {
        first.logout();
      } catch {
        // CKR_USER_NOT_LOGGED_IN, session gone...
      }
    }
    for (const session of pool.idle.splice(0)) closeQuietly(session);
    releaseModule(entry);
    this.#draining.delete(pool);
    pool.markReleased();
  }

  #rejectWaiters(reason: string): void {
    for (const waiter of this.#waiters.splice(0)) waiter.reject(new HsmError('HSM_UNAVAILABLE', `${waiter.operation}: ${reason}`));
  }

  #markUnavailable(pool: Pool, detail: string): void {
    if (this.#state.kind !== 'connected' || this.#state.pool !== pool) return; // already handled
    this.#retire(pool, false);
    this.#state = { kind: 'unavailable', detail };
    this.#rejectWaiters(`HSM unavailable (${detail})`);
    const notify = this.#onIdle;
    this.#onIdle = undefined;
    notify?.();
    this.#emit('unavailable', detail);
    if (!this.#closing) this.#scheduleReconnect(0);
  }

  #scheduleReconnect(attempt: number): void {
    const initial = this.#options.reconnect?.initialDelayMs ?? 500;
    const max = this.#options.reconnect?.maxDelayMs ?? 30_000;
    const base = Math.min(max, initial * 2 ** Math.min(attempt, 30));
    const delay = Math.round(base * (0.8 + Math.random() * 0.2));
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#tryReconnect(attempt);
    }, delay);
    this.#timer.unref();
  }

  #tryReconnect(attempt: number): void {
    if (this.#state.kind !== 'unavailable' || this.#closing) return;
    // A retired pool still holding the module (a C_Sign still running on the
    // thread pool) keeps this attempt from re-initialising the module; it may
    // then fail and is simply retried.
    try {
      this.#state = { kind: 'connected', pool: this.#connect() };
      this.#emit('ok');
    } catch (err) {
      const error = toHsmError(err, 'reconnecting to the HSM', 'HSM_UNAVAILABLE');
      if (error.code === 'HSM_LOGIN_FAILED') {
        // Retrying a refused PIN would lock it: stay unavailable until restarted.
        const detail = `${error.message}; not retrying (would lock the PIN)`;
        this.#refusal = error;
        this.#state = { kind: 'unavailable', detail };
        this.#emit('unavailable', detail);
        return;
      }
      this.#state = { kind: 'unavailable', detail: error.message };
      this.#scheduleReconnect(attempt + 1);
    }
  }

  async #shutdown(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    // Running and queued operations finish; new ones are refused (#closing is set).
    const state = this.#state;
    if (state.kind === 'connected') {
      if (state.pool.busy.size > 0 || this.#waiters.length > 0) {
        // Resolved by #release when the last operation returns its session, or
        // by #markUnavailable (which rejects the waiters) if the pool fails meanwhile.
        await new Promise<void>((resolve) => {
          this.#onIdle = resolve;
        });
      }
      if (this.#state === state) this.#retire(state.pool, true);
    }
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#rejectWaiters('HSM connection is closed');
    this.#state = { kind: 'closed' };
    await Promise.all([...this.#draining].map((pool) => pool.whenReleased));
  }

  #emit(status: HsmStatus, detail?: string): void {
    const listener = this.#options.onStateChange;
    if (!listener) return;
    try {
      listener(detail === undefined ? { status, tokenLabel: this.tokenLabel } : { status, tokenLabel: this.tokenLabel, detail });
    } catch {
      // A logging callback must not break the connection.
    }
  }
}
