/**
 * The life cycle of the broker's signing keys (NSIS 6 (Low) 4, (Substantial) 11, (High) 13-14;
 * 4.1.6 (Low) 3): generated inside the HSM, never exportable; pending -> active -> retired ->
 * destroyed, with metadata in the database and key material only in the HSM. Rotation,
 * emergency rotation and destruction need two different security officers.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { HsmError, adoptKeyPair, generateSigningKeyPair, type CheckedKeyPair, type Es256Signer, type HsmGroup } from '../../hsm/index.js';
import type { JsonValue } from '../audit/canonicalJson.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { Actor, Identity } from '../domain/types.js';
import { GatewayError, NotFoundError, ServiceUnavailableError } from '../errors.js';
import type { Logger } from '../logger.js';
import { z } from 'zod';
import type { Approvals, ApprovalView, Execution, Outcome } from '../approvals/Approvals.js';
import type { ApprovalKind, DutyAction } from '../duties/index.js';
import type { SigningKeyRecord, Store } from '../store/index.js';
import { signCompactJws, type SigningPort } from '../tokens/jws.js';
import { HsmKeyDirectory } from './HsmKeyDirectory.js';
import { KeyRecorder } from './KeyRecorder.js';
import { anchorFromHsm, type TrustAnchor } from '../audit/trustAnchor.js';
import { REGISTERED_ADOPTED, REGISTERED_ON_HSM, type KeySnapshot } from './keyRecords.js';
import { checkKeyOnTokens, ecJwkOf, type KeyAttributeCheck } from './attributeCheck.js';

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

type NewKey = Omit<SigningKeyRecord, 'state' | 'promoteAt' | 'activatedAt' | 'retiredAt' | 'publishedUntil' | 'destroyedAt' | 'compromisedAt'>;

export type KeyRequestKind = 'rotation' | 'emergency-rotation' | 'destroy';

const APPROVAL_KIND_OF: Readonly<Record<KeyRequestKind, ApprovalKind>> = {
  rotation: 'hsm-key-rotation',
  'emergency-rotation': 'hsm-key-emergency-rotation',
  destroy: 'hsm-key-destroy',
};
const KEY_KIND_OF: Readonly<Partial<Record<DutyAction, KeyRequestKind>>> = {
  'hsm-key-rotation': 'rotation',
  'hsm-key-emergency-rotation': 'emergency-rotation',
  'hsm-key-destroy': 'destroy',
};
const KEY_APPROVAL_KINDS = ['hsm-key-rotation', 'hsm-key-emergency-rotation', 'hsm-key-destroy'] as const satisfies readonly ApprovalKind[];
const KIND_WORDS: Readonly<Record<KeyRequestKind, string>> = { rotation: 'Rotation', 'emergency-rotation': 'Emergency rotation', destroy: 'Destruction' };

const keyPayloadSchema = z.object({ targetKid: z.string().nullable(), reason: z.string() });

function parseKeyPayload(text: string): z.infer<typeof keyPayloadSchema> {
  return keyPayloadSchema.parse(JSON.parse(text));
}

/** A key request as the security page and `npm run keys -- requests` show it. */
export interface KeyRequestView extends Omit<ApprovalView, 'kind'> {
  kind: KeyRequestKind;
  targetKid: string | null;
  reason: string;
}

function keyRequestView(a: ApprovalView, payload: string): KeyRequestView {
  const kind = KEY_KIND_OF[a.kind];
  if (!kind) throw new TypeError(`${a.kind} is not a key request`);
  const p = parseKeyPayload(payload);
  return { ...a, kind, targetKid: p.targetKid, reason: p.reason };
}

/** Tokens may be a few seconds older than their iat on a relying party's clock. */
const CLOCK_SKEW_SECONDS = 60;

/** A key row's state with every field after `fields` applied (the snapshot a record signs). */
function after(row: SigningKeyRecord, fields: Partial<KeySnapshot>): KeySnapshot {
  return { ...row, publicJwk: { ...row.publicJwk }, ...fields };
}

export class KeyManager {
  private readonly signers = new Map<string, Es256Signer>();
  private readonly recorder: KeyRecorder;
  private readonly directory: HsmKeyDirectory;

  constructor(private readonly ports: KeyManagerPorts) {
    this.recorder = new KeyRecorder(ports.store, ports.config.origin);
    const loaded = (kid: string) => {
      const signer = this.signers.get(kid);
      return signer ? { ...signer.publicJwk } : undefined;
    };
    this.directory = new HsmKeyDirectory({ hsm: () => ports.hsm.current(), profile: ports.config.hsm.keyPolicy, store: ports.store, log: ports.log, loaded });
    for (const kind of KEY_APPROVAL_KINDS) ports.approvals.register(kind, (e) => this.executeApproved(e));
  }

  private now(): Date {
    return this.ports.clock.now();
  }

  private audit(type: string, actor: Actor, subjectId: string | null, data: { [k: string]: JsonValue }): number {
    return this.ports.store.appendAudit({ at: this.now().toISOString(), type, actorId: actor.identityId, actorRole: actor.role, subjectId, data }).seq;
  }

  /**
   * Records, at every start, which HSM tokens the gateway signs with and which key policy
   * profile it holds their keys to (GATEWAY_HSM_KEY_POLICY), so an auditor sees when either
   * changed. NSIS 4.1.6 (Low) 3, 6 (Low) 4.
   */
  auditHsmConfiguration(): void {
    const { hsm } = this.ports.config;
    this.ports.store.transaction(() =>
      this.audit('hsm.configuration', { identityId: null, role: 'system' }, null, {
        keyPolicy: hsm.keyPolicy,
        tokens: hsm.tokens.map((t) => ({ name: t.name, tokenLabel: t.tokenLabel, module: t.modulePath })),
        clause: 'NSIS 4.1.6 (Low) 3, NSIS 6 (Low) 4',
      }),
    );
  }

  /**
   * The installation's key ceremony: with no active and no pending key, one key is generated in
   * the HSM, or the key pair named by GATEWAY_HSM_INITIAL_KEY_ID (made by the HSM's own key
   * ceremony and replicated to every token) is adopted, and activated at once (an operator
   * action at install time, audited as such).
   */
  async ensureInitialKey(): Promise<void> {
    const keys = this.ports.store.keys;
    if (keys.active() || keys.inState('pending').length > 0) return;
    const initialKeyId = this.ports.config.hsm.initialKeyId;
    const created = initialKeyId ? await this.adopt(initialKeyId) : await this.generate();
    const procedure = initialKeyId ? 'initial key adopted from the HSM at installation' : 'initial key at installation';
    const at = this.now().toISOString();
    const row: SigningKeyRecord = { ...created, state: 'pending', promoteAt: null, activatedAt: null, retiredAt: null, publishedUntil: null, destroyedAt: null, compromisedAt: null };
    // The first key vouches for itself; the trust anchor (the HSM, an anchor file) vouches for it.
    const record = await this.recorder.sign('activated', at, after(row, { state: 'active', activatedAt: at }), this.portOf(created.kid));
    this.ports.store.transaction(() => {
      keys.insert({ ...created, state: 'pending', promoteAt: null, activatedAt: null });
      keys.promote(created.kid, at);
      this.audit(initialKeyId ? 'signing-key.adopted' : 'signing-key.generated', { identityId: null, role: 'system' }, created.kid, {
        ckaId: created.ckaId,
        alg: created.alg,
        procedure,
        keyPolicy: this.ports.config.hsm.keyPolicy,
      });
      const seq = this.audit('signing-key.activated', { identityId: null, role: 'system' }, created.kid, { procedure, record: record.hash });
      this.recorder.commit(record, seq);
    });
  }

  /**
   * Key rows made before signed key records existed get one now ('registered'), signed by the
   * active key: a key the HSM still holds is proven by the token; a destroyed key is adopted from
   * the database (said so in the record, and by the verifier). A live key the HSM does not hold
   * is not registered: the verifier reports it.
   */
  async registerUnrecordedKeys(): Promise<number> {
    const keys = this.ports.store.keys;
    const kids = keys.kidsWithoutRecord();
    if (kids.length === 0 || !keys.active()) return 0;
    const signer = await this.activeSigner();
    let registered = 0;
    for (const kid of kids) {
      const row = keys.get(kid);
      if (!row) continue;
      const held = row.state !== 'destroyed' && (await this.directory.publicJwk(row)) !== undefined;
      if (!held && row.state !== 'destroyed') {
        this.ports.log.error({ kid, state: row.state }, 'signing key row without a key on the HSM: not registered; audit:verify reports it');
        continue;
      }
      const at = this.now().toISOString();
      const basis = held ? REGISTERED_ON_HSM : REGISTERED_ADOPTED;
      const record = await this.recorder.sign('registered', at, after(row, {}), signer, basis);
      this.ports.store.transaction(() => {
        if (!keys.kidsWithoutRecord().includes(kid)) return;
        const seq = this.audit('signing-key.registered', { identityId: null, role: 'system' }, kid, { basis, record: record.hash, clause: 'NSIS 4.1.6 (Substantial) 6' });
        this.recorder.commit(record, seq);
        registered++;
      });
    }
    return registered;
  }

  private async generate(): Promise<NewKey> {
    const label = `gateway-signing-${this.now().toISOString().slice(0, 10)}-${randomBytes(3).toString('hex')}`;
    const profile = this.ports.config.hsm.keyPolicy;
    // Generated on the token that signs now; the pair is read back and checked against the policy.
    const pair = await this.hsmCall(async () => generateSigningKeyPair(this.ports.hsm.current(), { label, profile }));
    if (pair.publicUsage === 'token-default') {
      this.ports.log.info({ ckaId: pair.ckaId }, 'the HSM refused the stated public-key usage; the public key usage was left to the token (the private key usage is stated and checked)');
    }
    if (pair.recoveredFromHandleMismatch) {
      this.ports.log.warn({ ckaId: pair.ckaId, detail: pair.recoveredFromHandleMismatch }, 'the HSM returned object handles of another object; the connection was reset and the new key found by identity');
    }
    return this.recordOf(pair);
  }

  private async adopt(ckaId: string): Promise<NewKey> {
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
  private async hsmCall<T>(fn: () => Promise<T>): Promise<T> {
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
    const active = this.ports.store.keys.active();
    if (!active) throw new ServiceUnavailableError('No active signing key; nothing was signed.', 30);
    return this.signerOf(active);
  }

  /** The signer of a key row, loaded from the HSM by its CKA_ID; its public key must have the row's kid. */
  private async signerOf(row: SigningKeyRecord): Promise<SigningPort> {
    let signer = this.signers.get(row.kid);
    if (!signer) {
      const expectedPublicJwk = ecJwkOf(row.publicJwk);
      signer = await this.hsmCall(() =>
        this.ports.hsm.signer(row.ckaId, { ...(expectedPublicJwk ? { expectedPublicJwk } : {}), profile: this.ports.config.hsm.keyPolicy }),
      );
      if (signer.kid !== row.kid) throw new Error(`HSM key ${row.ckaId} does not match its recorded kid ${row.kid}`);
      if (signer.publicKeySource === 'recorded') {
        this.ports.log.warn({ kid: row.kid, ckaId: row.ckaId }, 'the token has no public key object for this key; using the recorded public key, which a test signature of the private key verified');
      }
      this.signers.set(row.kid, signer);
    }
    return this.portOf(row.kid);
  }

  /** The signing port of a signer already loaded (generated or looked up in this process). */
  private portOf(kid: string): SigningPort {
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
    for (const k of this.ports.store.keys.list()) {
      if (k.state === 'destroyed') {
        out.push({ ...k, attributeCheck: null });
        continue;
      }
      out.push({ ...k, attributeCheck: await checkKeyOnTokens(this.ports.hsm, k.ckaId, this.ports.config.hsm.keyPolicy) });
    }
    return out;
  }

  /**
   * Key-management requests (approvals of the hsm-key-* kinds) that `viewer` may see, with the
   * officers' names and the server's answer to "may I approve this?" (every one, without a viewer).
   */
  listRequests(viewer?: Identity): KeyRequestView[] {
    const records = viewer ? this.ports.approvals.list(viewer, KEY_APPROVAL_KINDS) : this.ports.store.approvals.list(KEY_APPROVAL_KINDS);
    return records.map((a) => this.view(a.id, viewer));
  }

  // --- two-person control (the duties table, hsm-key-* rows) ---------------------------------

  /**
   * A security officer asks for a rotation, an emergency rotation or a destruction. A second,
   * independent officer approves it (NSIS 6 (Substantial) 11); while the organisation has fewer
   * than two security officers, the one officer carries it out alone (duties table, bootstrap).
   */
  async request(actor: Actor, kind: KeyRequestKind, targetKid: string | null, reason: string): Promise<{ request: KeyRequestView | null; result: string | null; bootstrap: boolean }> {
    if (actor.identityId === null) throw new TypeError('a key request is made by a person');
    const keys = this.ports.store.keys;
    const approvalKind = APPROVAL_KIND_OF[kind];
    const target = kind === 'rotation' ? undefined : targetKid ? keys.get(targetKid) : undefined;
    // Checked again in the transaction that records the request: one such request at a time.
    const precondition = () => {
      const current = kind === 'rotation' ? undefined : targetKid ? keys.get(targetKid) : undefined;
      const waiting = this.ports.store.approvals
        .pending()
        .some((a) => a.kind === approvalKind && parseKeyPayload(a.payload).targetKid === (kind === 'rotation' ? null : targetKid));
      if (waiting) throw new GatewayError('CONFLICT', 409, 'The same request is already waiting for approval.');
      if (kind === 'rotation' && keys.inState('pending').length > 0) {
        throw new GatewayError('CONFLICT', 409, 'A new key is already pending; it is promoted when its propagation delay has passed.');
      }
      if (kind === 'emergency-rotation' && current?.state !== 'active') throw new GatewayError('CONFLICT', 409, 'An emergency rotation names the active key.');
      if (kind === 'destroy' && current?.state !== 'retired') throw new GatewayError('CONFLICT', 409, 'Only a retired key can be destroyed.');
    };
    precondition();
    const active = keys.active();
    const items =
      kind === 'rotation'
        ? [
            `Generate a new ES256 key pair inside the HSM token ${this.ports.config.hsm.tokenLabel} and publish it at once`,
            `Make it the active signing key after ${this.ports.config.keyPropagationSeconds} s`,
            ...(active ? [`Retire the active key ${active.kid} (${active.label}); it stays published until the tokens it signed expire`] : []),
          ]
        : kind === 'emergency-rotation'
          ? [
              `Unpublish the active key ${target?.kid ?? ''} (${target?.label ?? ''}) at once: every token it signed stops verifying`,
              `Destroy it in the HSM (C_DestroyObject)`,
              'Generate a new key pair in the HSM and make it the active signing key at once',
            ]
          : [`Destroy the retired key ${target?.kid ?? ''} (${target?.label ?? ''}) in the HSM (C_DestroyObject); it is no longer published`];
    const asked = await this.ports.approvals.request({
      kind: approvalKind,
      actor: { identityId: actor.identityId, role: 'security-officer' },
      subjects: [],
      payload: { targetKid: kind === 'rotation' ? null : targetKid, reason },
      summary: `${KIND_WORDS[kind]}: ${reason}`,
      items,
      precondition,
    });
    if (asked.state === 'done') return { request: null, result: asked.outcome.result, bootstrap: asked.bootstrap };
    return { request: this.view(asked.approval.id, this.viewerOf(actor)), result: null, bootstrap: false };
  }

  private keyApproval(id: string): void {
    const a = this.ports.store.approvals.get(id);
    if (!a || !KEY_APPROVAL_KINDS.some((k) => k === a.kind)) throw new NotFoundError('Unknown key request.');
  }

  /** One request as `viewer` sees it. */
  private view(id: string, viewer: Identity | undefined): KeyRequestView {
    const record = this.ports.store.approvals.get(id);
    if (!record) throw new NotFoundError('Unknown key request.');
    const seen = viewer ? this.ports.approvals.list(viewer, KEY_APPROVAL_KINDS).find((a) => a.id === id) : undefined;
    const { payload, ...rest } = record;
    const base: ApprovalView = seen ?? {
      ...rest,
      title: '',
      approverRoles: ['security-officer'],
      requestedByName: this.ports.store.getIdentity(record.requestedBy)?.name ?? null,
      decidedByName: record.decidedBy ? (this.ports.store.getIdentity(record.decidedBy)?.name ?? null) : null,
      canApprove: false,
      cannotApprove: null,
      eligibleApprovers: null,
    };
    return keyRequestView(base, payload);
  }

  private viewerOf(actor: Actor): Identity | undefined {
    return actor.identityId ? this.ports.store.getIdentity(actor.identityId) : undefined;
  }

  /** A second, independent security officer approves; the request is carried out at once. */
  async approve(actor: Actor, id: string): Promise<KeyRequestView> {
    this.keyApproval(id);
    await this.ports.approvals.approve(actor, id);
    return this.view(id, this.viewerOf(actor));
  }

  reject(actor: Actor, id: string): KeyRequestView {
    this.keyApproval(id);
    this.ports.approvals.reject(actor, id);
    return this.view(id, this.viewerOf(actor));
  }

  /** How the approvals mechanism carries out an hsm-key-* request (alone in bootstrap, or approved). */
  private async executeApproved(e: Execution): Promise<Outcome> {
    const kind = KEY_KIND_OF[e.kind];
    if (!kind) throw new TypeError(`${e.kind} is not a key request`);
    const p = keyPayloadSchema.parse(e.payload);
    const officer = e.approver ?? e.requester;
    const result = await this.execute({ id: e.approvalId, kind, targetKid: p.targetKid, reason: p.reason }, officer);
    this.ports.store.transaction(() => e.tell());
    return { result };
  }

  private async execute(req: { id: string | null; kind: KeyRequestKind; targetKid: string | null; reason: string }, officer: Actor): Promise<string> {
    const keys = this.ports.store.keys;
    switch (req.kind) {
      case 'rotation': {
        const created = await this.generate();
        const at = this.now().toISOString();
        const promoteAt = new Date(this.now().getTime() + this.ports.config.keyPropagationSeconds * 1000).toISOString();
        const row: SigningKeyRecord = { ...created, state: 'pending', promoteAt, activatedAt: null, retiredAt: null, publishedUntil: null, destroyedAt: null, compromisedAt: null };
        // The key active now vouches for its successor.
        const record = await this.recorder.sign('generated', at, row, await this.activeSigner());
        this.ports.store.transaction(() => {
          keys.insert({ ...created, state: 'pending', promoteAt, activatedAt: null });
          const seq = this.audit('signing-key.generated', officer, created.kid, { ckaId: created.ckaId, alg: created.alg, requestId: req.id, promoteAt, record: record.hash });
          this.recorder.commit(record, seq);
        });
        await this.tick();
        return this.ports.store.keys.get(created.kid)?.state === 'active'
          ? `new key ${created.kid} active (no propagation delay configured)`
          : `new key ${created.kid} published, pending until ${promoteAt}`;
      }
      case 'emergency-rotation': {
        const old = req.targetKid ? keys.get(req.targetKid) : undefined;
        if (!old || old.state !== 'active') throw new GatewayError('CONFLICT', 409, 'The key named in the request is no longer active.');
        const created = await this.generate();
        const at = this.now().toISOString();
        const row: SigningKeyRecord = { ...created, state: 'pending', promoteAt: null, activatedAt: null, retiredAt: null, publishedUntil: null, destroyedAt: null, compromisedAt: null };
        // The new key signs both records: the compromised key vouches for nothing from now on.
        const successor = this.portOf(created.kid);
        const retired = await this.recorder.sign('retired', at, after(old, { state: 'retired', retiredAt: at, publishedUntil: at, compromisedAt: at }), successor);
        const activated = await this.recorder.sign('activated', at, after(row, { state: 'active', activatedAt: at }), successor);
        this.ports.store.transaction(() => {
          keys.insert({ ...created, state: 'pending', promoteAt: null, activatedAt: null });
          // Compromised: unpublished at once, so every token it signed stops verifying.
          keys.retire(old.kid, at, at, true);
          keys.promote(created.kid, at);
          this.audit('signing-key.generated', officer, created.kid, { ckaId: created.ckaId, alg: created.alg, requestId: req.id });
          this.recorder.commit(retired, this.audit('signing-key.retired', officer, old.kid, { compromised: true, requestId: req.id, reason: req.reason, record: retired.hash }));
          this.recorder.commit(activated, this.audit('signing-key.activated', officer, created.kid, { requestId: req.id, emergency: true, record: activated.hash }));
        });
        this.signers.delete(old.kid);
        this.directory.forget(old.kid);
        await this.destroy(old, officer, req.id);
        return `key ${old.kid} retired as compromised and destroyed; ${created.kid} active`;
      }
      case 'destroy': {
        const target = req.targetKid ? keys.get(req.targetKid) : undefined;
        if (!target || target.state !== 'retired') throw new GatewayError('CONFLICT', 409, 'Only a retired key can be destroyed.');
        await this.destroy(target, officer, req.id);
        return `key ${target.kid} destroyed`;
      }
    }
  }

  private async destroy(key: SigningKeyRecord, officer: Actor, requestId: string | null): Promise<void> {
    const current = this.ports.store.keys.get(key.kid) ?? key;
    const at = this.now().toISOString();
    // The record is signed (by the active key) before the key is gone; stored with the change.
    const publishedUntil = current.publishedUntil === null || current.publishedUntil > at ? at : current.publishedUntil;
    const record = await this.recorder.sign('destroyed', at, after(current, { state: 'destroyed', destroyedAt: at, publishedUntil }), await this.activeSigner());
    // On every token, each object only after it read back as this key (hsm/objects.ts).
    const perToken = await this.hsmCall(() => this.ports.hsm.destroyEverywhere(key.ckaId));
    const removed = perToken.reduce((sum, t) => sum + t.destroyed, 0);
    this.signers.delete(key.kid);
    this.directory.forget(key.kid);
    this.ports.store.transaction(() => {
      this.ports.store.keys.markDestroyed(key.kid, at);
      this.recorder.commit(
        record,
        this.audit('signing-key.destroyed', officer, key.kid, { ckaId: key.ckaId, objectsDestroyed: removed, tokens: perToken.map((t) => ({ ...t })), requestId, record: record.hash }),
      );
    });
  }

  /**
   * Promotes a pending key whose propagation delay has passed; the previous active key retires
   * and stays published until every token it signed has expired.
   */
  async tick(): Promise<void> {
    const keys = this.ports.store.keys;
    const now = this.now();
    const due = keys.inState('pending').find((k) => k.promoteAt !== null && k.promoteAt <= now.toISOString());
    if (!due) return;
    const old = keys.active();
    const at = now.toISOString();
    const until = new Date(now.getTime() + (this.ports.config.tokenTtlSeconds + CLOCK_SKEW_SECONDS) * 1000).toISOString();
    // The successor signs both records: it vouches for its predecessor.
    const successor = await this.signerOf(due);
    const retired = old ? await this.recorder.sign('retired', at, after(old, { state: 'retired', retiredAt: at, publishedUntil: until }), successor) : undefined;
    const activated = await this.recorder.sign('activated', at, after(due, { state: 'active', activatedAt: at }), successor);
    const lostRace = new Error('another process promoted the key first');
    try {
      this.ports.store.transaction(() => {
        // Another process (cluster worker) may have promoted it meanwhile: then nothing happens here.
        if (keys.active()?.kid !== old?.kid || keys.get(due.kid)?.state !== 'pending') throw lostRace;
        if (old && retired) {
          keys.retire(old.kid, at, until, false);
          this.recorder.commit(retired, this.audit('signing-key.retired', { identityId: null, role: 'system' }, old.kid, { publishedUntil: until, successor: due.kid, record: retired.hash }));
        }
        if (!keys.promote(due.kid, at)) throw lostRace;
        this.recorder.commit(activated, this.audit('signing-key.activated', { identityId: null, role: 'system' }, due.kid, { predecessor: old?.kid ?? null, record: activated.hash }));
      });
    } catch (err) {
      if (err !== lostRace) throw err;
    }
  }
}
