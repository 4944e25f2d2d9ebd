/**
 * The signing keys the token holds, read from the token itself: the trust anchor for audit
 * verification and for the JWKS (a database row alone never makes a key trusted).
 *
 * Every EC private key on the token (found by CKA_CLASS and CKA_KEY_TYPE) is loaded as an ES256
 * signer by its CKA_ID, which checks the private key against the key policy (sensitive, never
 * extractable, generated on the token, ...) and exports the public key of the same CKA_ID; then
 * the pair is proven: the private key signs a fresh random challenge and the signature must
 * verify with the exported public key. A public key object can be created or replaced in a
 * session without the user PIN (it is a public object); a private key that passes the policy
 * cannot. So a key listed here is one the HSM really holds.
 *
 * Built only on the exported API of this module (HsmConnection.withSession, createEs256Signer),
 * plus graphene's object search.
 */
import { createPublicKey, randomBytes, verify, type JsonWebKey } from 'node:crypto';
import * as graphene from 'graphene-pk11';
import pkcs11 from 'pkcs11js';
import type { HsmConnection } from './HsmConnection.js';
import { HsmError, toHsmError } from './errors.js';
import type { EcP256PublicJwk } from './jwk.js';
import type { KeyPolicyProfile } from './policy.js';
import { createEs256Signer } from './signer.js';

export interface TokenSigningKey {
  /** CKA_ID, lower-case hex. */
  ckaId: string;
  label: string;
  /** RFC 7638 thumbprint of the public key. */
  kid: string;
  publicJwk: EcP256PublicJwk;
}

export interface TokenKeyListing {
  keys: TokenSigningKey[];
  /** Private keys that were not accepted, with the reason (policy, missing public key, failed proof). */
  refused: { ckaId: string; reason: string }[];
}

/** CKA_IDs (hex) of the EC private keys on the token. */
async function ecPrivateKeyIds(connection: HsmConnection): Promise<{ ckaId: string; label: string }[]> {
  return connection.withSession('listing the signing keys on the token', (session) => {
    const found = session.find({ class: graphene.ObjectClass.PRIVATE_KEY, keyType: graphene.KeyType.EC });
    const out: { ckaId: string; label: string }[] = [];
    for (let i = 0; i < found.length; i++) {
      const object = found.items(i);
      try {
        const id = object.getAttribute(pkcs11.CKA_ID);
        const label = object.getAttribute(pkcs11.CKA_LABEL);
        if (id.length > 0) out.push({ ckaId: id.toString('hex'), label: label.toString('utf8') });
      } catch (err) {
        throw toHsmError(err, 'reading CKA_ID');
      }
    }
    return out;
  });
}

/** Signs a random challenge with the key and verifies it with the exported public key. */
async function provePossession(connection: HsmConnection, ckaId: string, profile: KeyPolicyProfile): Promise<{ kid: string; publicJwk: EcP256PublicJwk }> {
  const signer = await createEs256Signer(connection, ckaId, { profile });
  const challenge = randomBytes(32);
  const signature = await signer.sign(challenge);
  const key = createPublicKey({ key: { ...signer.publicJwk } as JsonWebKey, format: 'jwk' });
  if (!verify('sha256', challenge, { key, dsaEncoding: 'ieee-p1363' }, signature)) {
    throw new HsmError('HSM_KEY_POLICY_VIOLATION', `the public key with CKA_ID ${ckaId} does not belong to its private key`);
  }
  return { kid: signer.kid, publicJwk: { ...signer.publicJwk } };
}

/**
 * Every ES256 signing key the token holds and proves. An unavailable token fails (HsmError
 * HSM_UNAVAILABLE); a single key that fails the policy or the proof is listed under `refused`.
 */
export async function listTokenSigningKeys(connection: HsmConnection, profile: KeyPolicyProfile = 'strict'): Promise<TokenKeyListing> {
  const listing: TokenKeyListing = { keys: [], refused: [] };
  for (const { ckaId, label } of await ecPrivateKeyIds(connection)) {
    try {
      const proven = await provePossession(connection, ckaId, profile);
      listing.keys.push({ ckaId, label, ...proven });
    } catch (err) {
      if (err instanceof HsmError && err.code === 'HSM_UNAVAILABLE') throw err;
      listing.refused.push({ ckaId, reason: err instanceof Error ? err.message : String(err) });
    }
  }
  return listing;
}

/** The key with this CKA_ID, proven as above; undefined when the token has no such usable key. */
export async function readTokenSigningKey(connection: HsmConnection, ckaId: string, profile: KeyPolicyProfile = 'strict'): Promise<Omit<TokenSigningKey, 'label'> | undefined> {
  try {
    const proven = await provePossession(connection, ckaId, profile);
    return { ckaId, ...proven };
  } catch (err) {
    if (err instanceof HsmError && err.code === 'HSM_UNAVAILABLE') throw err;
    return undefined;
  }
}
