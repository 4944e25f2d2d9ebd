/**
 * Ceiling: raw SoftHSM CKM_ECDSA signatures per second, as scripts/bench-hsm.ts measures them —
 * pkcs11js C_SignInit + C_Sign over a host-side SHA-256 digest with a temporary P-256 key on the
 * gateway's token (generated for the run and destroyed after, also on error):
 * - one session, synchronous C_Sign (one core, nothing else runs);
 * - every session of the pool at once, C_Sign's callback form (the libuv thread pool: all cores).
 */
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import pkcs11 from 'pkcs11js';
import { HsmConnection, applySoftHsm2ConfDefault, destroyKeyPair, findKeyPair, generateSigningKeyPair, loadHsmConfig } from '../../hsm/index.js';
import { repoRoot } from './serverProcess.js';

export interface HsmCeiling {
  syncOneSessionPerSecond: number;
  asyncAllSessionsPerSecond: number;
  sessions: number;
  module: string;
}

const digest = createHash('sha256').update('bench').digest();
const mechanism = { mechanism: pkcs11.CKM_ECDSA };

/**
 * Raw synchronous C_SignInit + C_Sign on one session for `ms` (or until `stop()`): it blocks the
 * event loop for the whole run. Signatures per second. Shared with scripts/bench-hsm.ts.
 */
export async function rawSyncSigns(connection: HsmConnection, keyId: string, ms: number, stop: () => boolean = () => false): Promise<{ count: number; perSecond: number }> {
  return connection.withSession('bench: raw sync C_Sign', (session) => {
    const key = findKeyPair(session, keyId).privateKey.handle;
    const output = Buffer.alloc(64);
    let count = 0;
    const start = performance.now();
    const end = start + ms;
    while (performance.now() < end && !stop()) {
      session.lib.C_SignInit(session.handle, mechanism, key);
      session.lib.C_Sign(session.handle, digest, output);
      count += 1;
    }
    return { count, perSecond: (count * 1000) / (performance.now() - start) };
  });
}

export async function measureHsmCeiling(ms: number): Promise<HsmCeiling> {
  const varDir = path.join(repoRoot, 'var');
  applySoftHsm2ConfDefault(process.env, varDir);
  const config = loadHsmConfig(process.env, varDir);
  const connection = await HsmConnection.open(config);
  let ckaId: string | undefined;
  try {
    const ref = await generateSigningKeyPair(connection, { label: `bench-ceiling-${randomBytes(4).toString('hex')}` });
    ckaId = ref.ckaId;
    const keyId = ref.ckaId;

    const sync = await rawSyncSigns(connection, keyId, ms);

    // Every pool session signs in a loop at the same time; C_Sign runs on the libuv pool.
    const sessions = connection.sessions;
    const start = performance.now();
    const end = start + ms;
    const counts = await Promise.all(
      Array.from({ length: sessions }, () =>
        connection.withSession('bench: raw async C_Sign', async (session) => {
          const key = findKeyPair(session, keyId).privateKey.handle;
          let count = 0;
          while (performance.now() < end) {
            const output = Buffer.alloc(64);
            session.lib.C_SignInit(session.handle, mechanism, key);
            await new Promise<void>((resolve, reject) => {
              session.lib.C_Sign(session.handle, digest, output, (err) => (err ? reject(err) : resolve()));
            });
            count += 1;
          }
          return count;
        }),
      ),
    );
    const elapsed = performance.now() - start;
    return {
      syncOneSessionPerSecond: sync.perSecond,
      asyncAllSessionsPerSecond: (counts.reduce((s, n) => s + n, 0) * 1000) / elapsed,
      sessions,
      module: config.modulePath,
    };
  } finally {
    if (ckaId) await destroyKeyPair(connection, ckaId).catch(() => undefined);
    await connection.close();
  }
}
