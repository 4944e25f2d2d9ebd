/**
 * Key-management requests (the duties table's hsm-key-* rows, NSIS 6 (Substantial) 11): a
 * security officer asks for a rotation, an emergency rotation or a destruction; a second,
 * independent officer approves it; while the organisation has fewer than two security officers,
 * the one officer carries it out alone (bootstrap). One such request at a time.
 */
import { z } from 'zod';
import type { ApprovalView } from '../../approvals/Approvals.js';
import type { Actor, Identity } from '../../domain/types.js';
import type { ApprovalKind, DutyAction } from '../../duties/index.js';
import { GatewayError, NotFoundError } from '../../errors.js';
import type { KeyManager } from '../../keys/KeyManager.js';
import type { ReadTx } from '../../ports/store.js';

export type KeyRequestKind = 'rotation' | 'emergency-rotation' | 'destroy';

export const APPROVAL_KIND_OF: Readonly<Record<KeyRequestKind, ApprovalKind>> = {
  rotation: 'hsm-key-rotation',
  'emergency-rotation': 'hsm-key-emergency-rotation',
  destroy: 'hsm-key-destroy',
};
export const KEY_KIND_OF: Readonly<Partial<Record<DutyAction, KeyRequestKind>>> = {
  'hsm-key-rotation': 'rotation',
  'hsm-key-emergency-rotation': 'emergency-rotation',
  'hsm-key-destroy': 'destroy',
};
export const KEY_APPROVAL_KINDS = ['hsm-key-rotation', 'hsm-key-emergency-rotation', 'hsm-key-destroy'] as const satisfies readonly ApprovalKind[];
const KIND_WORDS: Readonly<Record<KeyRequestKind, string>> = { rotation: 'Rotation', 'emergency-rotation': 'Emergency rotation', destroy: 'Destruction' };

export const keyPayloadSchema = z.object({ targetKid: z.string().nullable(), reason: z.string() });

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

/** The requests `viewer` may see (every one, without a viewer), with the officers' names. */
export async function listKeyRequests(km: KeyManager, viewer?: Identity): Promise<KeyRequestView[]> {
  const ids = viewer ? (await km.ports.approvals.list(viewer, KEY_APPROVAL_KINDS)).map((a) => a.id) : (await km.ports.store.read((tx) => tx.approvals.list(KEY_APPROVAL_KINDS))).map((a) => a.id);
  const out: KeyRequestView[] = [];
  for (const id of ids) out.push(await view(km, id, viewer));
  return out;
}

export async function requestKeyChange(
  km: KeyManager,
  actor: Actor,
  kind: KeyRequestKind,
  targetKid: string | null,
  reason: string,
): Promise<{ request: KeyRequestView | null; result: string | null; bootstrap: boolean }> {
  if (actor.identityId === null) throw new TypeError('a key request is made by a person');
  const { config, store, approvals } = km.ports;
  const approvalKind = APPROVAL_KIND_OF[kind];
  // Checked again in the transaction that records the request: one such request at a time.
  const precondition = async (tx: ReadTx) => {
    const current = kind === 'rotation' ? undefined : targetKid ? await tx.signingKeys.get(targetKid) : undefined;
    const waiting = (await tx.approvals.pending()).some((a) => a.kind === approvalKind && parseKeyPayload(a.payload).targetKid === (kind === 'rotation' ? null : targetKid));
    if (waiting) throw new GatewayError('CONFLICT', 409, 'The same request is already waiting for approval.');
    if (kind === 'rotation' && (await tx.signingKeys.inState('pending')).length > 0) {
      throw new GatewayError('CONFLICT', 409, 'A new key is already pending; it is promoted when its propagation delay has passed.');
    }
    if (kind === 'emergency-rotation' && current?.state !== 'active') throw new GatewayError('CONFLICT', 409, 'An emergency rotation names the active key.');
    if (kind === 'destroy' && current?.state !== 'retired') throw new GatewayError('CONFLICT', 409, 'Only a retired key can be destroyed.');
  };
  const { target, active } = await store.read(async (tx) => {
    await precondition(tx);
    return { target: kind === 'rotation' ? undefined : targetKid ? await tx.signingKeys.get(targetKid) : undefined, active: await tx.signingKeys.active() };
  });
  const items =
    kind === 'rotation'
      ? [
          `Generate a new ES256 key pair inside the HSM token ${config.hsm.tokenLabel} and publish it at once`,
          `Make it the active signing key after ${config.keyPropagationSeconds} s`,
          ...(active ? [`Retire the active key ${active.kid} (${active.label}); it stays published until the tokens it signed expire`] : []),
        ]
      : kind === 'emergency-rotation'
        ? [
            `Unpublish the active key ${target?.kid ?? ''} (${target?.label ?? ''}) at once: every token it signed stops verifying`,
            `Destroy it in the HSM (C_DestroyObject)`,
            'Generate a new key pair in the HSM and make it the active signing key at once',
          ]
        : [`Destroy the retired key ${target?.kid ?? ''} (${target?.label ?? ''}) in the HSM (C_DestroyObject); it is no longer published`];
  const asked = await approvals.request({
    kind: approvalKind,
    actor: { identityId: actor.identityId, role: 'security-officer' },
    subjects: [],
    payload: { targetKid: kind === 'rotation' ? null : targetKid, reason },
    summary: `${KIND_WORDS[kind]}: ${reason}`,
    items,
    precondition,
  });
  if (asked.state === 'done') return { request: null, result: asked.outcome.result, bootstrap: asked.bootstrap };
  return { request: await view(km, asked.approval.id, await viewerOf(km, actor)), result: null, bootstrap: false };
}

/** A second, independent security officer approves; the request is carried out at once. */
export async function approveKeyRequest(km: KeyManager, actor: Actor, id: string): Promise<KeyRequestView> {
  await keyApproval(km, id);
  await km.ports.approvals.approve(actor, id);
  return view(km, id, await viewerOf(km, actor));
}

export async function rejectKeyRequest(km: KeyManager, actor: Actor, id: string): Promise<KeyRequestView> {
  await keyApproval(km, id);
  await km.ports.approvals.reject(actor, id);
  return view(km, id, await viewerOf(km, actor));
}

async function keyApproval(km: KeyManager, id: string): Promise<void> {
  const a = await km.ports.store.read((tx) => tx.approvals.get(id));
  if (!a || !KEY_APPROVAL_KINDS.some((k) => k === a.kind)) throw new NotFoundError('Unknown key request.');
}

/** One request as `viewer` sees it. */
async function view(km: KeyManager, id: string, viewer: Identity | undefined): Promise<KeyRequestView> {
  const { record, requestedByName, decidedByName } = await km.ports.store.read(async (tx) => {
    const record = await tx.approvals.get(id);
    if (!record) throw new NotFoundError('Unknown key request.');
    return {
      record,
      requestedByName: (await tx.identities.get(record.requestedBy))?.name ?? null,
      decidedByName: record.decidedBy ? ((await tx.identities.get(record.decidedBy))?.name ?? null) : null,
    };
  });
  const seen = viewer ? (await km.ports.approvals.list(viewer, KEY_APPROVAL_KINDS)).find((a) => a.id === id) : undefined;
  const { payload, ...rest } = record;
  const base: ApprovalView = seen ?? {
    ...rest,
    summaryLanguage: 'en',
    title: '',
    approverRoles: ['security-officer'],
    requestedByName,
    decidedByName,
    canApprove: false,
    cannotApprove: null,
    eligibleApprovers: null,
  };
  return keyRequestView(base, payload);
}

async function viewerOf(km: KeyManager, actor: Actor): Promise<Identity | undefined> {
  const id = actor.identityId;
  return id ? km.ports.store.read((tx) => tx.identities.get(id)) : undefined;
}
