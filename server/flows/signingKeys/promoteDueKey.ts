/**
 * Promotes a pending key whose propagation delay has passed; the previous active key retires and
 * stays published until every token it signed has expired. The successor signs both records (it
 * vouches for its predecessor), before the transaction that makes the change.
 */
import type { KeyManager } from '../../keys/KeyManager.js';
import { after, auditKey } from './keyCeremony.js';

/** Tokens may be a few seconds older than their iat on a relying party's clock. */
const CLOCK_SKEW_SECONDS = 60;

export async function promoteDueKey(km: KeyManager): Promise<void> {
  const { store, config } = km.ports;
  const now = km.now();
  const { due, old } = await store.read(async (tx) => ({
    due: (await tx.signingKeys.inState('pending')).find((k) => k.promoteAt !== null && k.promoteAt <= now.toISOString()),
    old: await tx.signingKeys.active(),
  }));
  if (!due) return;
  const at = now.toISOString();
  const until = new Date(now.getTime() + (config.tokenTtlSeconds + CLOCK_SKEW_SECONDS) * 1000).toISOString();
  const successor = await km.signerOf(due);
  const retired = old ? await km.recorder.sign('retired', at, after(old, { state: 'retired', retiredAt: at, publishedUntil: until }), successor) : undefined;
  const activated = await km.recorder.sign('activated', at, after(due, { state: 'active', activatedAt: at }), successor);
  const system = { identityId: null, role: 'system' as const };
  const lostRace = new Error('another process promoted the key first');
  try {
    await store.write(async (tx) => {
      // Another process (cluster worker) may have promoted it meanwhile: then nothing happens here.
      if ((await tx.signingKeys.active())?.kid !== old?.kid || (await tx.signingKeys.get(due.kid))?.state !== 'pending') throw lostRace;
      if (old && retired) {
        await tx.signingKeys.retire(old.kid, at, until, false);
        await km.recorder.commit(tx, retired, await auditKey(km, tx, 'signing-key.retired', system, old.kid, { publishedUntil: until, successor: due.kid, record: retired.hash }));
      }
      if (!(await tx.signingKeys.promote(due.kid, at))) throw lostRace;
      await km.recorder.commit(tx, activated, await auditKey(km, tx, 'signing-key.activated', system, due.kid, { predecessor: old?.kid ?? null, record: activated.hash }));
    });
  } catch (err) {
    if (err !== lostRace) throw err;
  }
}
