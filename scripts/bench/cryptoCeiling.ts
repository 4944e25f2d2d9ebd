/**
 * Ceiling: raw node:crypto ECDSA P-256 verifications per second — the signature check every
 * sign-in needs, with nothing around it — on one core, and on every core with worker_threads.
 * The message has the size a WebAuthn assertion signs (authenticatorData 37 bytes + SHA-256 of
 * clientDataJSON 32 bytes), the signature is DER as authenticators produce it.
 */
import { Worker } from 'node:worker_threads';
import os from 'node:os';

/** Plain JS for the worker threads (no loader needed inside them). */
const WORKER_SOURCE = `
const { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, randomBytes } = require('node:crypto');
const { parentPort, workerData } = require('node:worker_threads');
// DER, then KeyObjects: generateKeyPairSync's own KeyObjects can deadlock Node 20 (scripts/lib/keyPairs.ts).
const der = generateKeyPairSync('ec', { namedCurve: 'P-256', publicKeyEncoding: { type: 'spki', format: 'der' }, privateKeyEncoding: { type: 'pkcs8', format: 'der' } });
const privateKey = createPrivateKey({ key: der.privateKey, format: 'der', type: 'pkcs8' });
const publicKey = createPublicKey({ key: der.publicKey, format: 'der', type: 'spki' });
const data = randomBytes(69);
const signature = sign('sha256', data, privateKey);
// Warm up, then count verifications for the given time.
for (let i = 0; i < 200; i++) verify('sha256', data, publicKey, signature);
const start = performance.now();
const end = start + workerData.ms;
let count = 0;
while (performance.now() < end) {
  if (!verify('sha256', data, publicKey, signature)) throw new Error('signature did not verify');
  count++;
}
parentPort.postMessage({ count, elapsedMs: performance.now() - start });
`;

function runWorker(ms: number): Promise<{ count: number; elapsedMs: number }> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { ms } });
    worker.once('message', (m: unknown) => {
      if (typeof m === 'object' && m !== null && 'count' in m && 'elapsedMs' in m && typeof m.count === 'number' && typeof m.elapsedMs === 'number') {
        resolve({ count: m.count, elapsedMs: m.elapsedMs });
      } else reject(new Error('crypto ceiling worker: unexpected message'));
    });
    worker.once('error', reject);
  });
}

export interface CryptoCeiling {
  oneCorePerSecond: number;
  allCoresPerSecond: number;
  threads: number;
}

export async function measureCryptoCeiling(ms: number): Promise<CryptoCeiling> {
  const one = await runWorker(ms);
  const threads = os.availableParallelism();
  const all = await Promise.all(Array.from({ length: threads }, () => runWorker(ms)));
  return {
    oneCorePerSecond: (one.count * 1000) / one.elapsedMs,
    allCoresPerSecond: all.reduce((s, r) => s + (r.count * 1000) / r.elapsedMs, 0),
    threads,
  };
}
