/**
 * The PKCS#11 modules of this process (used by HsmConnection.ts): C_Initialize / C_Finalize and
 * the login state are per process, so a module is loaded once per path and finalised only when
 * its last user goes away; finding a token's slot by label (and serial number); the small error
 * and session helpers a connection needs around them.
 */
import * as graphene from 'graphene-pk11';
import pkcs11 from 'pkcs11js';
import { HsmError, ckrName, toHsmError } from './errors.js';

// ------------------------------------------------------------------ module registry
// C_Initialize / C_Finalize and the login state are per process, so a module is
// loaded once per path and finalised only when its last user goes away.

export interface LoadedModule {
  module: graphene.Module;
  refs: number;
  /** Live pools per token label (C_Logout is done by the last one). */
  tokenUsers: Map<string, number>;
}

const loadedModules = new Map<string, LoadedModule>();

export function acquireModule(modulePath: string): LoadedModule {
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
      // Whatever C_Initialize answers (tpm2-pkcs11: CKR_GENERAL_ERROR when its TPM does not
      // answer), a module that cannot initialise is unavailable.
      throw asOutage(toHsmError(err, 'C_Initialize', 'HSM_UNAVAILABLE'));
    }
  }
  entry.refs += 1;
  return entry;
}

export function releaseModule(entry: LoadedModule): void {
  entry.refs -= 1;
  if (entry.refs > 0) return;
  entry.refs = 0;
  try {
    entry.module.finalize();
  } catch {
    // Already finalised or device gone: nothing left to release.
  }
}

export function findSlotByTokenLabel(module: graphene.Module, label: string, serial?: string): graphene.Slot {
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
      const token = slot.getToken();
      if (token.label === label && (serial === undefined || token.serialNumber === serial)) matches.push(slot);
    } catch {
      // A token removed (or unreadable) between C_GetSlotList and C_GetTokenInfo: skip it.
    }
  }
  const [slot] = matches;
  const which = serial === undefined ? `label "${label}"` : `label "${label}" and serial number "${serial}"`;
  if (!slot) throw new HsmError('HSM_TOKEN_NOT_FOUND', `no token with ${which} is present`);
  if (matches.length > 1) {
    throw new HsmError('HSM_TOKEN_NOT_FOUND', `${matches.length} tokens carry the ${which}; refusing to guess (name the token's serial number)`);
  }
  return slot;
}

/**
 * While connecting, every failure but a refused PIN or a missing token means the HSM cannot be
 * used now: it is an outage whatever CKR value the module chose.
 */
export function asOutage(error: HsmError): HsmError {
  if (error.code === 'HSM_UNAVAILABLE' || error.code === 'HSM_LOGIN_FAILED' || error.code === 'HSM_TOKEN_NOT_FOUND') return error;
  return new HsmError('HSM_UNAVAILABLE', error.message, { cause: error, ...(error.ckr === undefined ? {} : { ckr: error.ckr }) });
}

export function isCkr(err: unknown, name: string): boolean {
  return ckrName(err) === name;
}

export function closeQuietly(session: graphene.Session): void {
  try {
    session.close();
  } catch {
    // Session already gone (device removed, C_CloseAllSessions...).
  }
}
