/**
 * HSM failover: several tokens holding the same keys (a primary and one or more secondaries,
 * in order of preference), each with its own {@link HsmConnection}. Signing goes to the first
 * token that is available; when it fails because its device or session is lost (or the key is
 * not on it), the same signature is asked of the next one, so a request only fails (503) when
 * no token can sign. Each token reconnects on its own, with backoff, and is preferred again as
 * soon as it is back.
 *
 * A token that goes away without a failing operation is noticed by a background probe (every
 * `probeIntervalMs`, HsmConnection.health: session, token and a device round trip), so the
 * group fails over within about that interval even when nothing is being signed. An HA group
 * that the vendor presents as one virtual slot (Thales Luna HA) is one token here: the vendor
 * library does the failover.
 *
 * The same failover serves the ES256 token keys ({@link HsmGroup.signer}) and the RSA SAML
 * signing key ({@link HsmGroup.rsaSigner}).
 *
 * With one token this is simply that token. Keys are not copied between tokens here: a key
 * generated on the primary exists on the others once the HSMs' own replication (cloning, wrap
 * backup) put it there; until then the others are skipped for it.
 */
import type { HsmConfig } from './config.js';
import { HsmConnection, type HsmConnectionOptions, type HsmHealth, type HsmStatus } from './HsmConnection.js';
import { HsmError, toHsmError } from './errors.js';
import type { EcP256PublicJwk } from './jwk.js';
import { destroyKeyPair } from './keys.js';
import type { KeyPolicyProfile } from './policy.js';
import { type RsaPkcs1Sha256Signer, createRsaPkcs1Sha256Signer } from './rsaPkcs1Signer.js';
import { type Es256Signer, createEs256Signer } from './signer.js';

export interface HsmGroupOptions {
  /** Options of every token's connection (sessions, reconnect backoff, health timeout). */
  connection?: Omit<HsmConnectionOptions, 'onStateChange'>;
  /** How often each available token is probed in the background (ms). Default 1000. */
  probeIntervalMs?: number;
  /** A token became unavailable or available again. */
  onStateChange?: (event: { token: string; tokenLabel: string; status: HsmStatus; detail?: string }) => void;
  /**
   * When no token is available at open: how long (ms) to let the tokens' reconnections try
   * before giving up (default 0: give up at once). A token that is briefly unreadable at start
   * (SoftHSM under concurrent access from several processes: "Token integrity check failed",
   * softhsm/SoftHSMv2#757; an HSM appliance finishing its own start) then does not fail the start.
   */
  startWaitMs?: number;
  /** Signing moved to another token (`from` undefined for the first signature). */
  onFailover?: (event: { from: string | undefined; to: string }) => void;
}

export interface HsmTokenStatus {
  /** The token's name (config), e.g. "primary". */
  name: string;
  status: HsmStatus;
  /** This is the token signatures go to now (the first available one). */
  signing: boolean;
}

export interface HsmGroupHealth {
  /** `ok` when at least one token can sign. */
  status: HsmStatus;
  tokens: (HsmTokenStatus & { detail?: string })[];
  detail?: string;
}

/** How long a token that does not hold a key (or holds another one under its CKA_ID) is skipped for it. */
const MISSING_KEY_RETRY_MS = 30_000;

export interface GroupSignerOptions {
  expectedPublicJwk?: EcP256PublicJwk;
  profile?: KeyPolicyProfile;
}

export interface GroupRsaSignerOptions {
  /** RFC 7638 thumbprint the key must have on every token (the one recorded with it). */
  expectedKid?: string;
  profile?: KeyPolicyProfile;
}

export class HsmGroup {
  readonly members: readonly HsmConnection[];
  readonly #options: HsmGroupOptions;
  #probeTimer: NodeJS.Timeout | undefined;
  #probing = false;
  #lastSigning: string | undefined;
  #closing: Promise<void> | undefined;
  /** Set while open() waits for a first available token (startWaitMs). */
  #onAvailable: (() => void) | undefined;

  private constructor(members: HsmConnection[], options: HsmGroupOptions) {
    this.members = members;
    this.#options = options;
  }

  /**
   * Opens a connection to every token. A token that is absent or does not answer starts
   * unavailable and connects in the background; the group opens when at least one token is
   * available. Throws the first token's error when none is (after `startWaitMs`), and HSM_LOGIN_FAILED (with the
   * token's name) as soon as any token refuses its PIN, also when a token's background reconnection is
   * refused it during that wait (the wait then ends as soon as no token is left reconnecting). `onOpenError` hears of each token that
   * could not be reached now.
   */
  static async open(
    configs: readonly HsmConfig[],
    options: HsmGroupOptions = {},
    onOpenError?: (config: HsmConfig, error: HsmError) => void,
  ): Promise<HsmGroup> {
    if (configs.length === 0) throw new RangeError('an HSM group needs at least one token');
    const names = configs.map((c) => c.name ?? c.tokenLabel);
    if (new Set(names).size !== names.length) throw new RangeError(`token names must be unique, got ${names.join(', ')}`);
    const members: HsmConnection[] = [];
    const errors: HsmError[] = [];
    const group = new HsmGroup(members, options);
    try {
      for (const config of configs) {
        const name = config.name ?? config.tokenLabel;
        const connectionOptions: HsmConnectionOptions = {
          ...options.connection,
          onStateChange: (event) => group.#emit(name, event.tokenLabel, event.status, event.detail),
        };
        let opened: { connection: HsmConnection; error?: HsmError };
        try {
          opened = await HsmConnection.openOrRetry(config, connectionOptions);
        } catch (err) {
          throw toHsmError(err, `opening token ${name}`).forToken(name);
        }
        members.push(opened.connection);
        if (opened.error) {
          errors.push(opened.error.forToken(name));
          onOpenError?.(config, opened.error.forToken(name));
        }
      }
    } catch (err) {
      await Promise.all(members.map((m) => m.close()));
      throw err;
    }
    if (members.every((m) => m.status !== 'ok') && (options.startWaitMs ?? 0) > 0) await group.#untilOneIsAvailable(options.startWaitMs ?? 0);
    if (members.every((m) => m.status !== 'ok')) {
      await Promise.all(members.map((m) => m.close()));
      // A token whose reconnection was refused its PIN while the start waited: that is the error to fix.
      const refused = members.findIndex((m) => m.refusal !== undefined);
      const refusal = refused >= 0 ? members[refused]?.refusal : undefined;
      if (refusal) throw refusal.forToken(names[refused] ?? '');
      throw errors[0] ?? new HsmError('HSM_UNAVAILABLE', 'no token of the group is available');
    }
    group.#startProbing();
    return group;
  }

  /** `ok` while at least one token is available. */
  get status(): HsmStatus {
    return !this.#closing && this.members.some((m) => m.status === 'ok') ? 'ok' : 'unavailable';
  }

  /** The token signatures and key operations go to now: the first available one. */
  current(): HsmConnection {
    const member = this.#closing ? undefined : this.members.find((m) => m.status === 'ok');
    if (!member) throw new HsmError('HSM_UNAVAILABLE', 'no token of the HSM group is available');
    return member;
  }

  /** Every token's state, without a round trip (for metrics). */
  tokens(): HsmTokenStatus[] {
    const signing = this.#closing ? undefined : this.members.find((m) => m.status === 'ok');
    return this.members.map((m) => ({ name: m.name, status: m.status, signing: m === signing }));
  }

  /** A real round trip to every token (in parallel); `ok` when at least one answers. */
  async health(): Promise<HsmGroupHealth> {
    const reports: HsmHealth[] = await Promise.all(this.members.map((m) => m.health()));
    const firstOk = reports.findIndex((r) => r.status === 'ok');
    const tokens = reports.map((report, i): HsmTokenStatus & { detail?: string } => {
      const name = this.members[i]?.name ?? report.tokenLabel;
      const base: HsmTokenStatus = { name, status: report.status, signing: i === firstOk };
      return report.detail === undefined ? base : { ...base, detail: report.detail };
    });
    if (firstOk >= 0) return { status: 'ok', tokens };
    const detail = tokens.map((t) => `${t.name}: ${t.detail ?? t.status}`).join('; ');
    return { status: 'unavailable', tokens, detail };
  }

  /**
   * An ES256 signer over the group for the key with this CKA_ID: each token's signer is made
   * when first needed (and checked: policy, and the same public key on every token); a
   * signature goes to the first available token that holds the key and moves on to the next
   * when that token's device or session is lost or the key is not there. Creating the signer
   * needs the key on at least one available token.
   */
  async signer(ckaId: string, options: GroupSignerOptions = {}): Promise<Es256Signer> {
    const { reference, sign } = await this.#failover<Es256Signer>(ckaId, (member, ref) => {
      const expected = options.expectedPublicJwk ?? ref?.publicJwk;
      return createEs256Signer(member, ckaId, {
        ...(expected ? { expectedPublicJwk: expected } : {}),
        ...(options.profile ? { profile: options.profile } : {}),
      });
    });
    const { kid, publicJwk, alg, publicKeySource } = reference;
    return Object.freeze({ kid, publicJwk, alg, ckaId, publicKeySource, sign });
  }

  /**
   * An RS256 (RSASSA-PKCS1-v1_5 SHA-256) signer over the group for the RSA key with this
   * CKA_ID, the SAML signing key (OIOSAML 3 assertions, metadata, certificates): the same
   * failover as {@link signer}. A token's copy is the same key when its public key has the
   * reference's RFC 7638 thumbprint (`expectedKid` when given, e.g. the kid recorded with the
   * key; else the first token's), which also makes its SubjectPublicKeyInfo the same; a token
   * holding another key under this CKA_ID is refused (HSM_KEY_POLICY_VIOLATION) and skipped.
   */
  async rsaSigner(ckaId: string, options: GroupRsaSignerOptions = {}): Promise<RsaPkcs1Sha256Signer> {
    const { reference, sign } = await this.#failover<RsaPkcs1Sha256Signer>(ckaId, async (member, ref) => {
      const signer = await createRsaPkcs1Sha256Signer(member, ckaId, options.profile ? { profile: options.profile } : {});
      const expectedKid = options.expectedKid ?? ref?.kid;
      if (expectedKid !== undefined && signer.kid !== expectedKid) {
        throw new HsmError('HSM_KEY_POLICY_VIOLATION', `token ${member.name} holds another key under CKA_ID ${ckaId} (${signer.kid}, expected ${expectedKid})`);
      }
      return signer;
    });
    const { alg, kid, publicJwk, spki, modulusBytes } = reference;
    return Object.freeze({ alg, ckaId, kid, publicJwk, spki, modulusBytes, sign });
  }

  /**
   * The failover both kinds of signer share: `make` creates a token's signer for the key and
   * refuses (throws) one that is not the same key as `reference` (undefined for the first).
   * Each token's signer is made when first needed; a token whose key is missing or another
   * one is skipped for {@link MISSING_KEY_RETRY_MS}; a signature goes to the first available
   * token with the key and moves on when that token's device or session is lost or the key
   * has gone from it. Fails when no available token holds the key now.
   */
  async #failover<S extends { readonly kid: string; sign(data: Uint8Array): Promise<Uint8Array> }>(
    ckaId: string,
    make: (member: HsmConnection, reference: S | undefined) => Promise<S>,
  ): Promise<{ reference: S; sign: (data: Uint8Array) => Promise<Uint8Array> }> {
    const perToken = new Map<HsmConnection, { signer?: S; skipUntil?: number }>();
    let reference: S | undefined;
    let firstError: HsmError | undefined;

    const signerOn = async (member: HsmConnection): Promise<S | undefined> => {
      const entry = perToken.get(member);
      if (entry?.signer) return entry.signer;
      if (entry?.skipUntil !== undefined && entry.skipUntil > Date.now()) return undefined;
      try {
        const signer = await make(member, reference);
        perToken.set(member, { signer });
        return signer;
      } catch (err) {
        const error = toHsmError(err, `loading key ${ckaId} on token ${member.name}`);
        firstError ??= error;
        // A lost device is retried at once when the token is back; a key that is missing, or
        // that is another key, on this token is looked for again a little later.
        if (error.kind !== 'device-lost') perToken.set(member, { skipUntil: Date.now() + MISSING_KEY_RETRY_MS });
        return undefined;
      }
    };

    for (const member of this.members) {
      if (member.status !== 'ok') continue;
      reference = await signerOn(member);
      if (reference) break;
    }
    if (!reference) throw firstError ?? new HsmError('HSM_UNAVAILABLE', `no token of the HSM group is available for key ${ckaId}`);
    const { kid } = reference;

    const sign = async (data: Uint8Array): Promise<Uint8Array> => {
      let failure: HsmError | undefined;
      for (const member of this.members) {
        if (this.#closing || member.status !== 'ok') continue;
        const signer = await signerOn(member);
        if (!signer) continue;
        try {
          const signature = await signer.sign(data);
          this.#noteSigning(member.name);
          return signature;
        } catch (err) {
          const error = toHsmError(err, `signing on token ${member.name}`);
          if (error.kind !== 'device-lost' && error.code !== 'HSM_KEY_NOT_FOUND') throw error;
          failure ??= error;
        }
      }
      throw failure ?? new HsmError('HSM_UNAVAILABLE', `no token of the HSM group can sign with key ${kid}`);
    };
    return { reference, sign };
  }

  /**
   * Destroys the key's objects on every token (each after read-back, hsm/objects.ts). With a
   * token unavailable it destroys nothing and fails with HSM_UNAVAILABLE naming the token: the
   * destruction could not be completed there, and removing the other copies first would leave
   * the key on that token alone while its record still says it exists. (A token that goes away
   * during the loop fails its own destruction; the caller's record then stays as it was and a
   * retry finishes the rest.)
   */
  async destroyEverywhere(ckaId: string): Promise<{ token: string; destroyed: number }[]> {
    const unavailable = this.members.filter((m) => m.status !== 'ok').map((m) => m.name);
    if (unavailable.length > 0) {
      throw new HsmError('HSM_UNAVAILABLE', `key ${ckaId} is not destroyed while token(s) ${unavailable.join(', ')} are unavailable: nothing was destroyed; try again once they are back`);
    }
    const results: { token: string; destroyed: number }[] = [];
    for (const member of this.members) {
      results.push({ token: member.name, destroyed: await destroyKeyPair(member, ckaId) });
    }
    return results;
  }

  /** Stops the probe and closes every connection (see HsmConnection.close). */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#probeTimer) clearInterval(this.#probeTimer);
      this.#probeTimer = undefined;
      await Promise.all(this.members.map((m) => m.close()));
    })();
    return this.#closing;
  }

  #startProbing(): void {
    const interval = this.#options.probeIntervalMs ?? 1000;
    this.#probeTimer = setInterval(() => {
      if (this.#probing || this.#closing) return;
      this.#probing = true;
      // health() marks a token that does not answer unavailable; its connection then reconnects.
      Promise.all(this.members.filter((m) => m.status === 'ok').map((m) => m.health())).finally(() => {
        this.#probing = false;
      });
    }, interval);
    this.#probeTimer.unref();
  }

  #noteSigning(name: string): void {
    if (this.#lastSigning === name) return;
    const from = this.#lastSigning;
    this.#lastSigning = name;
    try {
      this.#options.onFailover?.({ from, to: name });
    } catch {
      // An observer must not break signing.
    }
  }

  /**
   * Resolves when a token reports itself available (its background reconnection), when no token
   * is left reconnecting (each refused its PIN: waiting longer cannot help), or after `ms`.
   */
  #untilOneIsAvailable(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#onAvailable = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#onAvailable = done;
    });
  }

  #emit(token: string, tokenLabel: string, status: HsmStatus, detail: string | undefined): void {
    if (status === 'ok' || this.members.every((m) => m.refusal !== undefined)) this.#onAvailable?.();
    try {
      this.#options.onStateChange?.(detail === undefined ? { token, tokenLabel, status } : { token, tokenLabel, status, detail });
    } catch {
      // A logging callback must not break the connection.
    }
  }
}
