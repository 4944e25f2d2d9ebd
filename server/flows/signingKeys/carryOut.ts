/**
 * How an approved (or, in bootstrap, a lone officer's) key request is carried out (NSIS 6
 * (Substantial) 11): each record is signed by the HSM before the transaction that makes the
 * change, and the HSM objects are destroyed only after they read back as the key.
 */
import type { Execution, Outcome } from '../../approvals/Approvals.js';
import type { SigningKeyRecord } from '../../domain/signingKeys.js';
import type { Actor } from '../../domain/types.js';
import { GatewayError } from '../../errors.js';
import type { KeyManager } from '../../keys/KeyManager.js';
import { after, auditKey } from './keyCeremony.js';
import { KEY_APPROVAL_KINDS, KEY_KIND_OF, keyPayloadSchema, type KeyRequestKind } from './keyRequests.js';
import { promoteDueKey } from './promoteDueKey.js';

export function registerKeyExecutors(km: KeyManager): void {
  for (const kind of KEY_APPROVAL_KINDS) km.ports.approvals.register(kind, (e) => executeApproved(km, e));
}

async function executeApproved(km: KeyManager, e: Execution): Promise<Outcome> {
  const kind = KEY_KIND_OF[e.kind];
  if (!kind) throw new TypeError(`${e.kind} is not a key request`);
  const p = keyPayloadSchema.parse(e.payload);
  const officer = e.approver ?? e.requester;
  const result = await execute(km, { id: e.approvalId, kind, targetKid: p.targetKid, reason: p.reason }, officer);
  await km.ports.store.write((tx) => e.tell(tx));
  return { result };
}

async function execute(km: KeyManager, req: { id: string | null; kind: KeyRequestKind; targetKid: string | null; reason: string }, officer: Actor): Promise<string> {
  const { store, config } = km.ports;
  switch (req.kind) {
    case 'rotation': {
      const created = await km.generate();
      const at = km.now().toISOString();
      const promoteAt = new Date(km.now().getTime() + config.keyPropagationSeconds * 1000).toISOString();
      const row: SigningKeyRecord = { ...created, state: 'pending', promoteAt, activatedAt: null, retiredAt: null, publishedUntil: null, destroyedAt: null, compromisedAt: null };
      // The key active now vouches for its successor.
      const record = await km.recorder.sign('generated', at, row, await km.activeSigner());
      await store.write(async (tx) => {
        await tx.signingKeys.insert({ ...created, state: 'pending', promoteAt, activatedAt: null });
        await km.recorder.commit(tx, record, await auditKey(km, tx, 'signing-key.generated', officer, created.kid, { ckaId: created.ckaId, alg: created.alg, requestId: req.id, promoteAt, record: record.hash }));
      });
      await promoteDueKey(km);
      return (await store.read((tx) => tx.signingKeys.get(created.kid)))?.state === 'active'
        ? `new key ${created.kid} active (no propagation delay configured)`
        : `new key ${created.kid} published, pending until ${promoteAt}`;
    }
    case 'emergency-rotation': {
      const targetKid = req.targetKid;
      const old = targetKid ? await store.read((tx) => tx.signingKeys.get(targetKid)) : undefined;
      if (!old || old.state !== 'active') throw new GatewayError('CONFLICT', 409, 'The key named in the request is no longer active.');
      const created = await km.generate();
      const at = km.now().toISOString();
      const row: SigningKeyRecord = { ...created, state: 'pending', promoteAt: null, activatedAt: null, retiredAt: null, publishedUntil: null, destroyedAt: null, compromisedAt: null };
      // The new key signs both records: the compromised key vouches for nothing from now on.
      const successor = km.portOf(created.kid);
      const retired = await km.recorder.sign('retired', at, after(old, { state: 'retired', retiredAt: at, publishedUntil: at, compromisedAt: at }), successor);
      const activated = await km.recorder.sign('activated', at, after(row, { state: 'active', activatedAt: at }), successor);
      await store.write(async (tx) => {
        await tx.signingKeys.insert({ ...created, state: 'pending', promoteAt: null, activatedAt: null });
        // Compromised: unpublished at once, so every token it signed stops verifying.
        await tx.signingKeys.retire(old.kid, at, at, true);
        await tx.signingKeys.promote(created.kid, at);
        await auditKey(km, tx, 'signing-key.generated', officer, created.kid, { ckaId: created.ckaId, alg: created.alg, requestId: req.id });
        await km.recorder.commit(tx, retired, await auditKey(km, tx, 'signing-key.retired', officer, old.kid, { compromised: true, requestId: req.id, reason: req.reason, record: retired.hash }));
        await km.recorder.commit(tx, activated, await auditKey(km, tx, 'signing-key.activated', officer, created.kid, { requestId: req.id, emergency: true, record: activated.hash }));
      });
      km.forget(old.kid);
      await destroy(km, old, officer, req.id);
      return `key ${old.kid} retired as compromised and destroyed; ${created.kid} active`;
    }
    case 'destroy': {
      const targetKid = req.targetKid;
      const target = targetKid ? await store.read((tx) => tx.signingKeys.get(targetKid)) : undefined;
      if (!target || target.state !== 'retired') throw new GatewayError('CONFLICT', 409, 'Only a retired key can be destroyed.');
      await destroy(km, target, officer, req.id);
      return `key ${target.kid} destroyed`;
    }
  }
}

async function destroy(km: KeyManager, key: SigningKeyRecord, officer: Actor, requestId: string | null): Promise<void> {
  const { store, hsm } = km.ports;
  const current = (await store.read((tx) => tx.signingKeys.get(key.kid))) ?? key;
  const at = km.now().toISOString();
  // The record is signed (by the active key) before the key is gone; stored with the change.
  const publishedUntil = current.publishedUntil === null || current.publishedUntil > at ? at : current.publishedUntil;
  const record = await km.recorder.sign('destroyed', at, after(current, { state: 'destroyed', destroyedAt: at, publishedUntil }), await km.activeSigner());
  // On every token, each object only after it read back as this key (hsm/objects.ts).
  const perToken = await km.hsmCall(() => hsm.destroyEverywhere(key.ckaId));
  const removed = perToken.reduce((sum, t) => sum + t.destroyed, 0);
  km.forget(key.kid);
  await store.write(async (tx) => {
    await tx.signingKeys.markDestroyed(key.kid, at);
    await km.recorder.commit(
      tx,
      record,
      await auditKey(km, tx, 'signing-key.destroyed', officer, key.kid, { ckaId: key.ckaId, objectsDestroyed: removed, tokens: perToken.map((t) => ({ ...t })), requestId, record: record.hash }),
    );
  });
}
