/**
 * The broker's signing keys on the HSM (NSIS 6 (Low) 4, (Substantial) 11, (High) 13-14; 4.1.6
 * (Low) 3): generated inside the HSM, never exportable, loaded as signers whose attributes are
 * read back, published in the JWKS only when the HSM holds them. Their life cycle (pending ->
 * active -> retired -> destroyed, two security officers for rotation and destruction) is carried
 * out by the flows in server/flows/signingKeys/ over the store port; this object is their HSM side
 * and binds those flows for the edge and the tools.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { HsmError, adoptKeyPair, generateSigningKeyPair, type CheckedKeyPair, type Es256Signer, type HsmGroup } from '../../hsm/index.js';
import type { Approvals, ApprovalView } from '../approvals/Approvals.js';
import { anchorFromHsm, type TrustAnchor } from '../audit/trustAnchor.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { SigningKeyRecord } from '../domain/signingKeys.js';
import type { Actor, Identity } from '../domain/types.js';
import { GatewayError, ServiceUnavailableError } from '../errors.js';
import { ensureInitialKey, auditHsmConfiguration, registerUnrecordedKeys } from '../flows/signingKeys/keyCeremony.js';
import { registerKeyExecutors } from '../flows/signingKeys/carryOut.js';
import { approveKeyRequest, listKeyRequests, rejectKeyRequest, requestKeyChange, type KeyRequestKind, type KeyRequestView } from '../flows/signingKeys/keyRequests.js';
import { promoteDueKey } from '../flows/signingKeys/promoteDueKey.js';
import type { Logger } from '../logger.js';
import type { Store } from '../ports/store.js';
import { signCompactJws, type SigningPort } from '../tokens/jws.js';
import { checkKeyOnTokens, ecJwkOf, type KeyAttributeCheck } from './attributeCheck.js';
import { HsmKeyDirectory } from './HsmKeyDirectory.js';
import { KeyRecorder } from './KeyRecorder.js';

export type { KeyRequestKind, KeyRequestView } from '../flows/signingKeys/keyRequests.js';

export interface KeyView extends SigningKeyRecord {
  /** The HSM's attributes read back now, on every token: `ok` when the key honours the policy everywhere it is. */
  attributeCheck: KeyAttributeCheck | null;
}

export interface KeyManagerPorts {
  store: Store;
  hsm: HsmGroup;
  clock: Clock;
  config: Readonly<Config>;
  log: Logger;
  /** The one approvals mechanism: key requests wait there for a second security officer. */
  approvals: Approvals;
  /** Told how long each signature took and, when it failed, the HSM's error code (metrics). */
  onSign?: (event: { seconds: number; errorCode: string | undefined }) => void;
}

/** The stable code of a signing failure: the HSM's own (HSM_UNAVAILABLE, ...) where there is one. */
function signErrorCode(err: unknown): string {
  const inner = err instanceof ServiceUnavailableError && err.cause instanceof HsmError ? err.cause : err;
  if (inner instanceof HsmError) return inner.code;
  return err instanceof GatewayError ? err.code : 'UNEXPECTED';
}

/** A key as generated or adopted on the HSM, before its row exists. */
export type NewKey = Omit<SigningKeyRecord, 'state' | 'promoteAt' | 'activatedAt' | 'retiredAt' | 'publishedUntil' | 'destroyedAt' | 'compromisedAt'>;

export class KeyManager {
  private readonly signers = new Map<string, Es256Signer>();
  readonly recorder: KeyRecorder;
  private readonly directory: HsmKeyDirectory;

  constructor(readonly ports: KeyManagerPorts) {
    this.recorder = new KeyRecorder(ports.config.origin);
    const loaded = (kid: string) => {
      const signer = this.signers.get(kid);
      return signer ? { ...signer.publicJwk } : undefined;
    };
    this.directory = new HsmKeyDirectory({ hsm: () => ports.hsm.current(), profile: ports.config.hsm.keyPolicy, store: ports.store, log: ports.log, loaded });
    registerKeyExecutors(this);
  }

  now(): Date {
    return this.ports.clock.now();
  }

  // --- the HSM side ----------------------------------------------------------------------------

  /** A new ES256 key pair generated on the token that signs now, read back and checked against the policy. */
  async generate(): Promise<NewKey> {
    const label = `gateway-signing-${this.now().toISOString().slice(0, 10)}-${randomBytes(3).toString('hex')}`;
    const profile = this.ports.config.hsm.keyPolicy;
    const pair = await this.hsmCall(async () => generateSigningKeyPair(this.ports.hsm.current(), { label, profile }));
    if (pair.publicUsage === 'token-default') {
      this.ports.log.info({ ckaId: pair.ckaId }, 'the HSM refused the stated public-key usage; the public key usage was left to the token (the private key usage is stated and checked)');
    }
    if (pair.recoveredFromHandleMismatch) {
      this.ports.log.warn({ ckaId: pair.ckaId, detail: pair.recoveredFromHandleMismatch }, 'the HSM returned object handles of another object; the connection was reset and the new key found by identity');
    }
    return this.recordOf(pair);
  }

  /** A key pair made by the HSM's own key ceremony (GATEWAY_HSM_INITIAL_KEY_ID), adopted. */
  async adopt(ckaId: string): Promise<NewKey> {
    const profile = this.ports.config.hsm.keyPolicy;
    return this.recordOf(await this.hsmCall(async () => adoptKeyPair(this.ports.hsm.current(), ckaId, { algorithm: 'ES256', profile })));
  }

  /** The key as recorded, once a signer over the tokens has loaded it (policy, public key, every token alike). */
  private async recordOf(pair: CheckedKeyPair): Promise<NewKey> {
    if (pair.publicJwk.kty !== 'EC') throw new HsmError('HSM_KEY_POLICY_VIOLATION', `key ${pair.ckaId} is not an ES256 key`);
    const expectedPublicJwk = pair.publicJwk;
    const signer = await this.hsmCall(() => this.ports.hsm.signer(pair.ckaId, { expectedPublicJwk, profile: this.ports.config.hsm.keyPolicy }));
    this.signers.set(signer.kid, signer);
    return { kid: signer.kid, ckaId: pair.ckaId, label: pair.label, alg: 'ES256', publicJwk: { ...signer.publicJwk }, createdAt: this.now().toISOString() };
  }

  /** Maps HSM failures to a fail-closed 503: nothing is signed by anything else. */
  async hsmCall<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof HsmError && (err.code === 'HSM_UNAVAILABLE' || err.code === 'HSM_LOGIN_FAILED')) {
        throw new ServiceUnavailableError('The HSM is unavailable; nothing was signed. Try again shortly.', 5, err);
      }
      throw err;
    }
  }

  /** The signer of the one active key (the HSM re-checks the key's attributes when it is loaded). */
  async activeSigner(): Promise<SigningPort> {
    // One statement: no BEGIN/COMMIT around it, on either engine (issue 17).
    const active = await this.ports.store.read((tx) => tx.signingKeys.active(), { oneStatement: true });
    if (!active) throw new ServiceUnavailableError('No active signing key; nothing was signed.', 30);
    return this.signerOf(active);
  }

  /** The signer of a key row, loaded from the HSM by its CKA_ID; its public key must have the row's kid. */
  async signerOf(row: SigningKeyRecord): Promise<SigningPort> {
    let signer = this.signers.get(row.kid);
    if (!signer) {
      const expectedPublicJwk = ecJwkOf(row.publicJwk);
      signer = await this.hsmCall(() => this.ports.hsm.signer(row.ckaId, { ...(expectedPublicJwk ? { expectedPublicJwk } : {}), profile: this.ports.config.hsm.keyPolicy }));
      if (signer.kid !== row.kid) throw new Error(`HSM key ${row.ckaId} does not match its recorded kid ${row.kid}`);
      if (signer.publicKeySource === 'recorded') {
        this.ports.log.warn({ kid: row.kid, ckaId: row.ckaId }, 'the token has no public key object for this key; using the recorded public key, which a test signature of the private key verified');
      }
      this.signers.set(row.kid, signer);
    }
    return this.portOf(row.kid);
  }

  /** The signing port of a signer already loaded (generated or looked up in this process). */
  portOf(kid: string): SigningPort {
    const port = this.signers.get(kid);
    if (!port) throw new Error(`signing key ${kid} is not loaded`);
    return {
      kid: port.kid,
      alg: port.alg,
      publicJwk: { ...port.publicJwk },
      sign: async (data) => {
        const started = performance.now();
        try {
          const signature = await this.hsmCall(() => port.sign(data));
          this.ports.onSign?.({ seconds: (performance.now() - started) / 1000, errorCode: undefined });
          return signature;
        } catch (err) {
          this.ports.onSign?.({ seconds: (performance.now() - started) / 1000, errorCode: signErrorCode(err) });
          throw err;
        }
      },
    };
  }

  /** A key retired as compromised or destroyed: never signed with, or vouched for by the HSM, again in this process. */
  forget(kid: string): void {
    this.signers.delete(kid);
    this.directory.forget(kid);
  }

  /** Signs a JWT-shaped payload with the active key. */
  async signJws(payload: object, typ = 'JWT'): Promise<{ jws: string; kid: string }> {
    const signer = await this.activeSigner();
    return { jws: await signCompactJws(signer, payload, typ), kid: signer.kid };
  }

  /**
   * RFC 7517 JWK Set: pending, active, and retired keys still needed to verify tokens, each only
   * if the HSM holds it, with the public key as the HSM gives it (HsmKeyDirectory).
   */
  jwks(): Promise<{ keys: Record<string, string>[] }> {
    return this.directory.jwks(this.now().toISOString());
  }

  /** The public JWK of a key row if the HSM holds that key pair (undefined if not, or if it cannot be asked now). */
  hsmPublicJwk(row: SigningKeyRecord): Promise<Record<string, string> | undefined> {
    return this.directory.publicJwk(row);
  }

  /** The public JWK of `kid` if a key row names it and the HSM holds that key. */
  hsmPublicJwkOf(kid: string): Promise<Record<string, string> | undefined> {
    return this.directory.publicJwkOf(kid);
  }

  /** The trust anchor for audit verification: every key the HSM token holds and proves. */
  trustAnchor(): Promise<TrustAnchor> {
    return this.hsmCall(() => anchorFromHsm(this.ports.hsm.current(), this.ports.config.hsm.keyPolicy));
  }

  /**
   * The HSM as the security page shows it: the key policy profile in force and every token
   * with its state and whether it signs now (the first available one).
   */
  hsmOverview(): { keyPolicy: 'strict' | 'replicated'; tokens: { name: string; tokenLabel: string; status: 'ok' | 'unavailable'; signing: boolean }[] } {
    const states = this.ports.hsm.tokens();
    return {
      keyPolicy: this.ports.config.hsm.keyPolicy,
      tokens: this.ports.hsm.members.map((m, i) => ({ name: m.name, tokenLabel: m.tokenLabel, status: m.status, signing: states[i]?.signing ?? false })),
    };
  }

  async list(): Promise<KeyView[]> {
    const out: KeyView[] = [];
    for (const k of await this.ports.store.read((tx) => tx.signingKeys.list())) {
      if (k.state === 'destroyed') {
        out.push({ ...k, attributeCheck: null });
        continue;
      }
      out.push({ ...k, attributeCheck: await checkKeyOnTokens(this.ports.hsm, k.ckaId, this.ports.config.hsm.keyPolicy) });
    }
    return out;
  }

  // --- the life cycle (server/flows/signingKeys/) ------------------------------------------------

  auditHsmConfiguration(): Promise<void> {
    return auditHsmConfiguration(this);
  }

  ensureInitialKey(): Promise<void> {
    return ensureInitialKey(this);
  }

  registerUnrecordedKeys(): Promise<number> {
    return registerUnrecordedKeys(this);
  }

  listRequests(viewer?: Identity): Promise<KeyRequestView[]> {
    return listKeyRequests(this, viewer);
  }

  request(actor: Actor, kind: KeyRequestKind, targetKid: string | null, reason: string): Promise<{ request: KeyRequestView | null; result: string | null; bootstrap: boolean }> {
    return requestKeyChange(this, actor, kind, targetKid, reason);
  }

  approve(actor: Actor, id: string): Promise<KeyRequestView> {
    return approveKeyRequest(this, actor, id);
  }

  reject(actor: Actor, id: string): Promise<KeyRequestView> {
    return rejectKeyRequest(this, actor, id);
  }

  /** Promotes a pending key whose propagation delay has passed (every few seconds, in one process). */
  tick(): Promise<void> {
    return promoteDueKey(this);
  }
}

/** The view type of the approvals a key request shares. */
export type { ApprovalView };
