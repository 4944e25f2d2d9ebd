/**
 * The life cycle of the broker's signing keys (NSIS 6 (Low) 4, (Substantial) 11, (High) 13-14;
 * 4.1.6 (Low) 3): generated inside the HSM, never exportable; pending -> active -> retired ->
 * destroyed, with metadata in the database and key material only in the HSM. Rotation,
 * emergency rotation and destruction need two different security officers.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import {
  HsmError,
  checkSigningKeyPolicy,
  createEs256Signer,
  destroyKeyPair,
  generateSigningKeyPair,
  type Es256Signer,
  type HsmConnection,
} from '../../hsm/index.js';
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

export interface KeyView extends SigningKeyRecord {
  /** The HSM's attributes read back now: empty when the key honours the policy. */
  attributeCheck: { ok: boolean; violations: string[]; error?: string } | null;
}

export interface KeyManagerPorts {
  store: Store;
  hsm: HsmConnection;
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

export class KeyManager {
  private readonly signers = new Map<string, Es256Signer>();

  constructor(private readonly ports: KeyManagerPorts) {
    for (const kind of KEY_APPROVAL_KINDS) ports.approvals.register(kind, (e) => this.executeApproved(e));
  }

  private now(): Date {
    return this.ports.clock.now();
  }

  private audit(type: string, actor: Actor, subjectId: string | null, data: { [k: string]: JsonValue }): void {
    this.ports.store.appendAudit({ at: this.now().toISOString(), type, actorId: actor.identityId, actorRole: actor.role, subjectId, data });
  }

  /**
   * The installation's key ceremony: with no active and no pending key, one key is generated in
   * the HSM and activated at once (an operator action at install time, audited as such).
   */
  async ensureInitialKey(): Promise<void> {
    const keys = this.ports.store.keys;
    if (keys.active() || keys.inState('pending').length > 0) return;
    const created = await this.generate();
    this.ports.store.transaction(() => {
      keys.insert({ ...created, state: 'pending', promoteAt: null, activatedAt: null });
      keys.promote(created.kid, this.now().toISOString());
      this.audit('signing-key.generated', { identityId: null, role: 'system' }, created.kid, { ckaId: created.ckaId, alg: created.alg, procedure: 'initial key at installation' });
      this.audit('signing-key.activated', { identityId: null, role: 'system' }, created.kid, { procedure: 'initial key at installation' });
    });
  }

  private async generate(): Promise<Omit<SigningKeyRecord, 'state' | 'promoteAt' | 'activatedAt' | 'retiredAt' | 'publishedUntil' | 'destroyedAt' | 'compromisedAt'>> {
    const label = `gateway-signing-${this.now().toISOString().slice(0, 10)}-${randomBytes(3).toString('hex')}`;
    const ref = await this.hsmCall(() => generateSigningKeyPair(this.ports.hsm, { label }));
    // Creating the signer reads the attributes back and refuses a key that violates the policy.
    const signer = await this.hsmCall(() => createEs256Signer(this.ports.hsm, ref.ckaId));
    this.signers.set(signer.kid, signer);
    return { kid: signer.kid, ckaId: ref.ckaId, label: ref.label, alg: 'ES256', publicJwk: { ...signer.publicJwk }, createdAt: this.now().toISOString() };
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
    let signer = this.signers.get(active.kid);
    if (!signer) {
      signer = await this.hsmCall(() => createEs256Signer(this.ports.hsm, active.ckaId));
      if (signer.kid !== active.kid) throw new Error(`HSM key ${active.ckaId} does not match its recorded kid ${active.kid}`);
      this.signers.set(active.kid, signer);
    }
    const port = signer;
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

  /** RFC 7517 JWK Set: pending, active, and retired keys still needed to verify tokens. */
  jwks(): { keys: Record<string, string>[] } {
    return {
      keys: this.ports.store.keys.published(this.now().toISOString()).map((k) => ({ ...k.publicJwk, kid: k.kid, alg: k.alg, use: 'sig' })),
    };
  }

  async list(): Promise<KeyView[]> {
    const out: KeyView[] = [];
    for (const k of this.ports.store.keys.list()) {
      if (k.state === 'destroyed') {
        out.push({ ...k, attributeCheck: null });
        continue;
      }
      try {
        const violations = await checkSigningKeyPolicy(this.ports.hsm, k.ckaId);
        out.push({ ...k, attributeCheck: { ok: violations.length === 0, violations: violations.map((v) => `${v.attribute}: ${v.rule}`) } });
      } catch (err) {
        out.push({ ...k, attributeCheck: { ok: false, violations: [], error: err instanceof Error ? err.message : String(err) } });
      }
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
        const promoteAt = new Date(this.now().getTime() + this.ports.config.keyPropagationSeconds * 1000).toISOString();
        this.ports.store.transaction(() => {
          keys.insert({ ...created, state: 'pending', promoteAt, activatedAt: null });
          this.audit('signing-key.generated', officer, created.kid, { ckaId: created.ckaId, alg: created.alg, requestId: req.id, promoteAt });
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
        this.ports.store.transaction(() => {
          keys.insert({ ...created, state: 'pending', promoteAt: null, activatedAt: null });
          // Compromised: unpublished at once, so every token it signed stops verifying.
          keys.retire(old.kid, at, at, true);
          keys.promote(created.kid, at);
          this.audit('signing-key.generated', officer, created.kid, { ckaId: created.ckaId, alg: created.alg, requestId: req.id });
          this.audit('signing-key.retired', officer, old.kid, { compromised: true, requestId: req.id, reason: req.reason });
          this.audit('signing-key.activated', officer, created.kid, { requestId: req.id, emergency: true });
        });
        this.signers.delete(old.kid);
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
    const removed = await this.hsmCall(() => destroyKeyPair(this.ports.hsm, key.ckaId));
    this.signers.delete(key.kid);
    this.ports.store.transaction(() => {
      this.ports.store.keys.markDestroyed(key.kid, this.now().toISOString());
      this.audit('signing-key.destroyed', officer, key.kid, { ckaId: key.ckaId, objectsDestroyed: removed, requestId });
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
    this.ports.store.transaction(() => {
      const old = keys.active();
      const at = now.toISOString();
      if (old) {
        const until = new Date(now.getTime() + (this.ports.config.tokenTtlSeconds + CLOCK_SKEW_SECONDS) * 1000).toISOString();
        keys.retire(old.kid, at, until, false);
        this.audit('signing-key.retired', { identityId: null, role: 'system' }, old.kid, { publishedUntil: until, successor: due.kid });
      }
      if (!keys.promote(due.kid, at)) return;
      this.audit('signing-key.activated', { identityId: null, role: 'system' }, due.kid, { predecessor: old?.kid ?? null });
    });
  }
}
