/**
 * ES256 (ECDSA P-256 with SHA-256) signer backed by a key on the token.
 *
 * The SHA-256 digest is computed on the host (node:crypto) and the 32-byte
 * digest is signed with CKM_ECDSA on the token: CKM_ECDSA_SHA256 is not
 * available everywhere (SoftHSM 2.6 lacks it) and the result is identical.
 * CKM_ECDSA returns r||s (32 + 32 bytes), which is what JWS (RFC 7518 3.4)
 * wants. C_Sign runs on the libuv thread pool (pkcs11js callback form), so
 * the event loop is not blocked while the HSM works.
 */
import { createHash } from 'node:crypto';
import type * as graphene from 'graphene-pk11';
import pkcs11 from 'pkcs11js';
import type { HsmConnection } from './HsmConnection.js';
import { HsmError } from './errors.js';
import { type EcP256PublicJwk, jwkThumbprint } from './jwk.js';
import { assertKeyPolicy, exportPublicJwk, findKeyPair } from './keys.js';

export interface Es256Signer {
  /** RFC 7638 thumbprint of the public JWK. */
  readonly kid: string;
  readonly publicJwk: EcP256PublicJwk;
  readonly alg: 'ES256';
  /** CKA_ID (hex) of the key pair on the token. */
  readonly ckaId: string;
  /** ES256 signature of `data` as raw r||s (64 bytes). */
  sign(data: Uint8Array): Promise<Uint8Array>;
}

const SIGNATURE_LENGTH = 64;
const SHA256_LENGTH = 32;

interface ResolvedKey {
  generation: number;
  privateKey: graphene.PrivateKey;
}

/**
 * Loads the key pair with this CKA_ID, checks the private key against the
 * key policy (HSM_KEY_POLICY_VIOLATION if it fails: such a key is never used)
 * and exports the public key. After a reconnection the key is looked up and
 * checked again, and must still have the same public key.
 */
export async function createEs256Signer(connection: HsmConnection, ckaId: string): Promise<Es256Signer> {
  const load = (session: graphene.Session, generation: number): { resolved: ResolvedKey; jwk: EcP256PublicJwk } => {
    const pair = findKeyPair(session, ckaId);
    assertKeyPolicy(pair.privateKey, ckaId);
    return { resolved: { generation, privateKey: pair.privateKey }, jwk: exportPublicJwk(pair.publicKey) };
  };

  const initial = await connection.withSession(`loading signing key ${ckaId}`, load);
  const publicJwk: EcP256PublicJwk = Object.freeze({ ...initial.jwk });
  const kid = jwkThumbprint(publicJwk);
  let current = initial.resolved;

  const sign = async (data: Uint8Array): Promise<Uint8Array> => {
    const digest = createHash('sha256').update(data).digest();
    const signature = await connection.withSession(`ES256 signing with key ${kid}`, (session, generation) => {
      if (current.generation !== generation) {
        const reloaded = load(session, generation);
        if (jwkThumbprint(reloaded.jwk) !== kid) {
          throw new HsmError('HSM_KEY_POLICY_VIOLATION', `key ${ckaId} no longer has the public key ${kid}`);
        }
        current = reloaded.resolved;
      }
      const privateKey = current.privateKey;
      const output = Buffer.alloc(SIGNATURE_LENGTH * 2);
      // pkcs11js keeps only the callback alive while C_Sign runs on the
      // thread pool, so the callback references both buffers.
      session.lib.C_SignInit(session.handle, { mechanism: pkcs11.CKM_ECDSA }, privateKey.handle);
      return new Promise<Buffer>((resolve, reject) => {
        session.lib.C_Sign(session.handle, digest, output, (err, value) => {
          if (err) reject(err);
          else if (value.buffer !== output.buffer || digest.length !== SHA256_LENGTH) reject(new Error('unexpected C_Sign output'));
          else resolve(Buffer.from(value));
        });
      });
    });
    if (signature.length !== SIGNATURE_LENGTH) {
      throw new HsmError('HSM_OPERATION_FAILED', `CKM_ECDSA returned ${signature.length} bytes, expected ${SIGNATURE_LENGTH}`);
    }
    return new Uint8Array(signature);
  };

  return Object.freeze({ kid, publicJwk, alg: 'ES256' as const, ckaId, sign });
}
