/**
 * One logged-in PKCS#11 session on the token with the configured label.
 *
 * Portable PKCS#11 2.40 only:
 * - the module is initialised with CKF_OS_LOCKING_OK (async calls run on the
 *   libuv thread pool) and CKR_CRYPTOKI_ALREADY_INITIALIZED is tolerated;
 * - the slot is found by token label, never by slot index;
 * - one RW serial session, logged in as CKU_USER (CKR_USER_ALREADY_LOGGED_IN
 *   tolerated: the login state is shared by all sessions of the application);
 * - operations on the session are serialised (a session runs one
 *   cryptographic operation at a time);
 * - when an operation fails with an HSM_UNAVAILABLE error, the connection is
 *   marked unavailable and reconnects in the background with bounded
 *   exponential backoff (unref'd timers), until it works or is closed. A
 *   refused PIN stops the retries so that the PIN is not locked.
 *
 * The login state of a token is per process: use one HsmConnection per token
 * per process. (A second connection with a wrong PIN would be accepted while
 * the first is logged in, because C_Login answers CKR_USER_ALREADY_LOGGED_IN.)
 */
import * as graphene from 'graphene-pk11';
import pkcs11 from 'pkcs11js';
import type { HsmConfig } from './config.js';
import { HsmError, ckrName, toHsmError } from './errors.js';

export type HsmStatus = 'ok' | 'unavailable';

export interface HsmHealth {
  status: HsmStatus;
  tokenLabel: string;
  detail?: string;
}

export interface HsmConnectionOptions {
  /** Backoff of the background reconnection. Defaults: 500 ms doubling up to 30 s. */
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number };
  /** How long {@link HsmConnection.health} waits for the session. Default 5 s. */
  healthTimeoutMs?: number;
  /** Called when the connection becomes unavailable or available again (for logging). */
  onStateChange?: (event: { status: HsmStatus; tokenLabel: string; detail?: string }) => void;
}

type State =
  | { kind: 'connected'; session: graphene.Session }
  | { kind: 'unavailable'; detail: string }
  | { kind: 'closed' };

/** PKCS#11 2.40 session state "R/W user functions" (not exported by pkcs11js). */
const CKS_RW_USER_FUNCTIONS = 3;

// ------------------------------------------------------------------ module registry
// C_Initialize / C_Finalize and the login state are per process, so a module is
// loaded once per path and finalised only when its last connection goes away.

interface LoadedModule {
  module: graphene.Module;
  refs: number;
  /** Open connections per token label (C_Logout is done by the last one). */
  tokenUsers: Map<string, number>;
}

const loadedModules = new Map<string, LoadedModule>();

function acquireModule(modulePath: string): LoadedModule {
  let entry = loadedModules.get(modulePath);
  if (!entry) {
    let module: graphene.Module;
    try {
      module = graphene.Module.load(modulePath, 'gateway-hsm');
    } catch (err) {
      throw toHsmError(err, `cannot load PKCS#11 module ${modulePath}`, 'HSM_UNAVAILABLE');
    }
    entry = { module, refs: 0, tokenUsers: new Map() };
    loadedModules.set(modulePath, entry);
  }
  if (entry.refs === 0) {
    try {
      // graphene's initialize() ignores CKR_CRYPTOKI_ALREADY_INITIALIZED.
      entry.module.initialize({ flags: pkcs11.CKF_OS_LOCKING_OK });
    } catch (err) {
      throw toHsmError(err, 'C_Initialize', 'HSM_UNAVAILABLE');
    }
  }
  entry.refs += 1;
  return entry;
}

function releaseModule(entry: LoadedModule): void {
  entry.refs -= 1;
  if (entry.refs > 0) return;
  entry.refs = 0;
  try {
    entry.module.finalize();
  } catch {
    // Already finalised or device gone: nothing left to release.
  }
}

function findSlotByTokenLabel(module: graphene.Module, label: string): graphene.Slot {
  let slots: graphene.SlotCollection;
  try {
    slots = module.getSlots(true);
  } catch (err) {
    throw toHsmError(err, 'C_GetSlotList', 'HSM_UNAVAILABLE');
  }
  const matches: graphene.Slot[] = [];
  for (let i = 0; i < slots.length; i++) {
    const slot = slots.items(i);
    try {
      if (slot.getToken().label === label) matches.push(slot);
    } catch {
      // A token removed between C_GetSlotList and C_GetTokenInfo: skip it.
    }
  }
  const [slot] = matches;
  if (!slot) throw new HsmError('HSM_TOKEN_NOT_FOUND', `no token with label "${label}" is present`);
  if (matches.length > 1) {
    throw new HsmError('HSM_TOKEN_NOT_FOUND', `${matches.length} tokens carry the label "${label}"; refusing to guess`);
  }
  return slot;
}

function isCkr(err: unknown, name: string): boolean {
  return ckrName(err) === name;
}

// ------------------------------------------------------------------ connection

export class HsmConnection {
  readonly tokenLabel: string;
  readonly #config: HsmConfig;
  readonly #options: HsmConnectionOptions;
  #state: State = { kind: 'closed' };
  #module: LoadedModule | undefined;
  #generation = 0;
  #queue: Promise<unknown> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;

  private constructor(config: HsmConfig, options: HsmConnectionOptions) {
    this.tokenLabel = config.tokenLabel;
    this.#config = config;
    this.#options = options;
  }

  /**
   * Loads the module, finds the token by label, opens an RW session and logs
   * in. Throws HsmError: HSM_UNAVAILABLE (module or device), HSM_TOKEN_NOT_FOUND,
   * HSM_LOGIN_FAILED. Does not retry: the caller decides at start-up.
   */
  static async open(config: HsmConfig, options: HsmConnectionOptions = {}): Promise<HsmConnection> {
    const connection = new HsmConnection(config, options);
    connection.#connect();
    return connection;
  }

  /** 'ok' while a logged-in session exists; 'unavailable' while reconnecting or after close(). */
  get status(): HsmStatus {
    return this.#state.kind === 'connected' ? 'ok' : 'unavailable';
  }

  /**
   * Increases every time a new session is established. Object handles are
   * only valid for the generation in which they were obtained.
   */
  get generation(): number {
    return this.#generation;
  }

  /**
   * Runs `fn` with the logged-in session, one call at a time. Errors are
   * mapped to HsmError; an HSM_UNAVAILABLE error starts the reconnection.
   * While unavailable, fails at once with HSM_UNAVAILABLE.
   */
  withSession<T>(operation: string, fn: (session: graphene.Session, generation: number) => T | Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      const state = this.#state;
      if (state.kind === 'closed') throw new HsmError('HSM_UNAVAILABLE', `${operation}: HSM connection is closed`);
      if (state.kind === 'unavailable') {
        throw new HsmError('HSM_UNAVAILABLE', `${operation}: HSM unavailable (${state.detail})`);
      }
      try {
        return await fn(state.session, this.#generation);
      } catch (err) {
        const error = toHsmError(err, operation);
        if (error.code === 'HSM_UNAVAILABLE' && this.#state === state) this.#markUnavailable(error.message);
        throw error;
      }
    };
    const result = this.#queue.then(run, run);
    this.#queue = result.catch(() => undefined);
    return result;
  }

  /** Cheap real round trip to the token (C_GetSessionInfo): is the session alive and logged in? */
  async health(): Promise<HsmHealth> {
    const state = this.#state;
    if (state.kind === 'closed') return { status: 'unavailable', tokenLabel: this.tokenLabel, detail: 'connection closed' };
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
    const probe = this.withSession('health check', (session) => {
      const info = session.lib.C_GetSessionInfo(session.handle);
      if (info.state !== CKS_RW_USER_FUNCTIONS) {
        throw new HsmError('HSM_UNAVAILABLE', `session is not logged in (state ${info.state})`);
      }
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

  /** Logs out (if last user of the token), closes the session, finalises the module. Safe to call twice. */
  async close(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    // Let queued operations finish first.
    await this.#queue;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#disconnect(true);
    this.#state = { kind: 'closed' };
  }

  // ---------------------------------------------------------------- internals

  #connect(): void {
    const entry = acquireModule(this.#config.modulePath);
    let session: graphene.Session | undefined;
    try {
      const slot = findSlotByTokenLabel(entry.module, this.#config.tokenLabel);
      try {
        session = slot.open(graphene.SessionFlag.SERIAL_SESSION | graphene.SessionFlag.RW_SESSION);
      } catch (err) {
        throw toHsmError(err, 'C_OpenSession', 'HSM_UNAVAILABLE');
      }
      try {
        session.login(this.#config.pin, graphene.UserType.USER);
      } catch (err) {
        if (!isCkr(err, 'CKR_USER_ALREADY_LOGGED_IN')) {
          const error = toHsmError(err, `C_Login on token "${this.#config.tokenLabel}"`, 'HSM_LOGIN_FAILED');
          throw error;
        }
      }
    } catch (err) {
      if (session) {
        try {
          session.close();
        } catch {
          // ignore
        }
      }
      releaseModule(entry);
      throw toHsmError(err, 'connecting to the HSM', 'HSM_UNAVAILABLE');
    }
    const label = this.#config.tokenLabel;
    entry.tokenUsers.set(label, (entry.tokenUsers.get(label) ?? 0) + 1);
    this.#module = entry;
    this.#generation += 1;
    this.#state = { kind: 'connected', session };
  }

  /** Releases the session and module reference, ignoring errors (the device may be gone). */
  #disconnect(logout: boolean): void {
    const state = this.#state;
    const entry = this.#module;
    this.#module = undefined;
    if (state.kind !== 'connected' || !entry) return;
    const label = this.#config.tokenLabel;
    const users = (entry.tokenUsers.get(label) ?? 1) - 1;
    if (users > 0) entry.tokenUsers.set(label, users);
    else entry.tokenUsers.delete(label);
    if (logout && users === 0) {
      try {
        state.session.logout();
      } catch {
        // CKR_USER_NOT_LOGGED_IN, session gone...
      }
    }
    try {
      state.session.close();
    } catch {
      // ignore
    }
    releaseModule(entry);
  }

  #markUnavailable(detail: string): void {
    this.#disconnect(false);
    this.#state = { kind: 'unavailable', detail };
    this.#emit('unavailable', detail);
    this.#scheduleReconnect(0);
  }

  #scheduleReconnect(attempt: number): void {
    const initial = this.#options.reconnect?.initialDelayMs ?? 500;
    const max = this.#options.reconnect?.maxDelayMs ?? 30_000;
    const base = Math.min(max, initial * 2 ** Math.min(attempt, 30));
    const delay = Math.round(base * (0.8 + Math.random() * 0.2));
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      const next = this.#queue.then(() => this.#tryReconnect(attempt));
      this.#queue = next.catch(() => undefined);
    }, delay);
    this.#timer.unref();
  }

  #tryReconnect(attempt: number): void {
    if (this.#state.kind !== 'unavailable') return;
    try {
      this.#connect();
      this.#emit('ok');
    } catch (err) {
      const error = toHsmError(err, 'reconnecting to the HSM', 'HSM_UNAVAILABLE');
      if (error.code === 'HSM_LOGIN_FAILED') {
        // Retrying a refused PIN would lock it: stay unavailable until restarted.
        const detail = `${error.message}; not retrying (would lock the PIN)`;
        this.#state = { kind: 'unavailable', detail };
        this.#emit('unavailable', detail);
        return;
      }
      this.#state = { kind: 'unavailable', detail: error.message };
      this.#scheduleReconnect(attempt + 1);
    }
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
