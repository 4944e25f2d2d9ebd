/**
 * Key pairs made on the host: the software authenticator's new credentials (every enrolment of
 * the tests and the bench's load generators), the seeder's pool keys, keys forged in tests. The
 * gateway's own keys never come from here: they are made in the HSM.
 *
 * Why not generateKeyPairSync's KeyObjects directly: Node 20 holds a generated key's mutex while
 * KeyObject.export() allocates JS values, and a garbage collection in that allocation can run the
 * destructor of the (garbage) key-generation job that made the same key, which takes the same
 * non-recursive mutex: the main thread then waits on itself for ever. The bench's load generator
 * hung that way about once in fifty runs (gdb: ~KeyGenJob under KeyObjectHandle::ExportJWK, in
 * futex_wait); test/unit/key-pair-gc.test.ts forces the interleaving. Asking the job for DER bytes
 * instead, and making the KeyObjects from those bytes, leaves no key that shares a lock with a job.
 */
import { type KeyObject, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';

export interface KeyObjects {
  publicKey: KeyObject;
  privateKey: KeyObject;
}


export function generateKeyObjects(type: 'ec', options: { namedCurve: string }): KeyObjects;
export function generateKeyObjects(type: 'rsa', options: { modulusLength: number; publicExponent?: number }): KeyObjects;
export function generateKeyObjects(type: 'ec' | 'rsa', options: { namedCurve: string } | { modulusLength: number; publicExponent?: number }): KeyObjects {
  const pair: { publicKey: Buffer; privateKey: Buffer } =
    type === 'ec'
      ? generateKeyPairSync('ec', { ...(options as { namedCurve: string }), publicKeyEncoding: { type: 'spki', format: 'der' }, privateKeyEncoding: { type: 'pkcs8', format: 'der' } })
      : generateKeyPairSync('rsa', { ...(options as { modulusLength: number }), publicKeyEncoding: { type: 'spki', format: 'der' }, privateKeyEncoding: { type: 'pkcs8', format: 'der' } });
  return {
    privateKey: createPrivateKey({ key: pair.privateKey, format: 'der', type: 'pkcs8' }),
    publicKey: createPublicKey({ key: pair.publicKey, format: 'der', type: 'spki' }),
  };
}
