/**
 * The installation's key ceremony and the records of older keys (NSIS 6 (Low) 4, 4.1.6): the
 * first key generated (or adopted) and activated at once, audited as an operator action; key rows
 * from before signed key records registered once, signed by the active key; and, at every start,
 * which HSM tokens and which key policy the gateway signs with.
 */
import type { JsonValue } from '../../audit/canonicalJson.js';
import type { SigningKeyRecord } from '../../domain/signingKeys.js';
import type { Actor } from '../../domain/types.js';
import type { KeyManager } from '../../keys/KeyManager.js';
import { REGISTERED_ADOPTED, REGISTERED_ON_HSM, type KeySnapshot } from '../../keys/keyRecords.js';
import type { WriteTx } from '../../ports/store.js';
import { appendAudit } from '../shared/audit.js';

const SYSTEM: Actor = { identityId: null, role: 'system' };

/** A key row's state with every field after `fields` applied (the snapshot a record signs). */
export function after(row: SigningKeyRecord, fields: Partial<KeySnapshot>): KeySnapshot {
  return { ...row, publicJwk: { ...row.publicJwk }, ...fields };
}

/** Appends a signing-key audit event in `tx`; returns its sequence number (its record names it). */
export async function auditKey(km: KeyManager, tx: WriteTx, type: string, actor: Actor, subjectId: string | null, data: { [k: string]: JsonValue }): Promise<number> {
  return (await appendAudit(tx, km.now().toISOString(), type, actor, subjectId, data)).seq;
}

/**
 * Records, at every start, which HSM tokens the gateway signs with and which key policy profile
 * it holds their keys to (GATEWAY_HSM_KEY_POLICY), so an auditor sees when either changed.
 * NSIS 4.1.6 (Low) 3, 6 (Low) 4.
 */
export async function auditHsmConfiguration(km: KeyManager): Promise<void> {
  const { hsm } = km.ports.config;
  await km.ports.store.write((tx) =>
    auditKey(km, tx, 'hsm.configuration', SYSTEM, null, {
      keyPolicy: hsm.keyPolicy,
      tokens: hsm.tokens.map((t) => ({ name: t.name, tokenLabel: t.tokenLabel, module: t.modulePath })),
      clause: 'NSIS 4.1.6 (Low) 3, NSIS 6 (Low) 4',
    }),
  );
}

/**
 * With no active and no pending key, one key is generated in the HSM, or the key pair named by
 * GATEWAY_HSM_INITIAL_KEY_ID (made by the HSM's own key ceremony and replicated to every token) is
 * adopted, and activated at once (an operator action at install time, audited as such).
 */
export async function ensureInitialKey(km: KeyManager): Promise<void> {
  const { store, config } = km.ports;
  const present = await store.read(async (tx) => (await tx.signingKeys.active()) !== undefined || (await tx.signingKeys.inState('pending')).length > 0);
  if (present) return;
  const initialKeyId = config.hsm.initialKeyId;
  const created = initialKeyId ? await km.adopt(initialKeyId) : await km.generate();
  const procedure = initialKeyId ? 'initial key adopted from the HSM at installation' : 'initial key at installation';
  const at = km.now().toISOString();
  const row: SigningKeyRecord = { ...created, state: 'pending', promoteAt: null, activatedAt: null, retiredAt: null, publishedUntil: null, destroyedAt: null, compromisedAt: null };
  // The first key vouches for itself; the trust anchor (the HSM, an anchor file) vouches for it.
  const record = await km.recorder.sign('activated', at, after(row, { state: 'active', activatedAt: at }), km.portOf(created.kid));
  await store.write(async (tx) => {
    await tx.signingKeys.insert({ ...created, state: 'pending', promoteAt: null, activatedAt: null });
    await tx.signingKeys.promote(created.kid, at);
    await auditKey(km, tx, initialKeyId ? 'signing-key.adopted' : 'signing-key.generated', SYSTEM, created.kid, {
      ckaId: created.ckaId,
      alg: created.alg,
      procedure,
      keyPolicy: config.hsm.keyPolicy,
    });
    const seq = await auditKey(km, tx, 'signing-key.activated', SYSTEM, created.kid, { procedure, record: record.hash });
    await km.recorder.commit(tx, record, seq);
  });
}

/**
 * Key rows made before signed key records existed get one now ('registered'), signed by the
 * active key: a key the HSM still holds is proven by the token; a destroyed key is adopted from
 * the database (said so in the record, and by the verifier). A live key the HSM does not hold is
 * not registered: the verifier reports it.
 */
export async function registerUnrecordedKeys(km: KeyManager): Promise<number> {
  const { store, log } = km.ports;
  const { kids, active } = await store.read(async (tx) => ({ kids: await tx.signingKeys.kidsWithoutRecord(), active: await tx.signingKeys.active() }));
  if (kids.length === 0 || !active) return 0;
  const signer = await km.activeSigner();
  let registered = 0;
  for (const kid of kids) {
    const row = await store.read((tx) => tx.signingKeys.get(kid));
    if (!row) continue;
    const held = row.state !== 'destroyed' && (await km.hsmPublicJwk(row)) !== undefined;
    if (!held && row.state !== 'destroyed') {
      log.error({ kid, state: row.state }, 'signing key row without a key on the HSM: not registered; audit:verify reports it');
      continue;
    }
    const at = km.now().toISOString();
    const basis = held ? REGISTERED_ON_HSM : REGISTERED_ADOPTED;
    const record = await km.recorder.sign('registered', at, after(row, {}), signer, basis);
    const done = await store.write(async (tx) => {
      if (!(await tx.signingKeys.kidsWithoutRecord()).includes(kid)) return false;
      const seq = await auditKey(km, tx, 'signing-key.registered', SYSTEM, kid, { basis, record: record.hash, clause: 'NSIS 4.1.6 (Substantial) 6' });
      await km.recorder.commit(tx, record, seq);
      return true;
    });
    if (done) registered++;
  }
  return registered;
}
