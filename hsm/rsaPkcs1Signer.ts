/**
 * RSASSA-PKCS1-v1_5 with SHA-256 (XML-DSig rsa-sha256, JWS RS256, X.509
 * sha256WithRSAEncryption) by an RSA key on the token: the signature the
 * SAML profile (OIOSAML 3 assertions and metadata), X.509 certificates and
 * PKCS#10 requests need.
 *
 * Portable PKCS#11 2.40: the SHA-256 digest is computed on the host, wrapped
 * in its DER DigestInfo (RFC 8017 9.2, note 1) and signed with the raw
 * CKM_RSA_PKCS mechanism (PKCS#11 2.40 2.1.6), which every token offers;
 * CKM_SHA256_RSA_PKCS would hash on the token and is not everywhere.
 *
 * Every signature is verified on the host with the public key before it is
 * returned: a faulty RSA-CRT signature would reveal a factor of the modulus
 * (Boneh, DeMillo, Lipton 1997), so a wrong one is never released.
 *
 * C_Sign runs on the libuv thread pool (pkcs11js callback form) through the
 * session pool of {@link HsmConnection}; a failure after C_SignInit rejects,
 * and withSession replaces that session, so no operation stays active.
 */
import { createHash, createPublicKey, verify } from 'node:crypto';
import type * as graphene from 'graphene-pk11';
import pkcs11 from 'pkcs11js';
import type { HsmConnection } from './HsmConnection.js';
import { HsmError } from './errors.js';
import { type RsaPublicJwk, jwkThumbprint } from './jwk.js';
import { exportRsaPublicJwk, findKeyPair } from './keys.js';
import { assertKeyPolicy, type KeyPolicyProfile } from './policy.js';

/** DER prefix of DigestInfo { sha256, NULL } before the 32-byte digest (RFC 8017 9.2, note 1). */
export const SHA256_DIGEST_INFO_PREFIX: Buffer = Buffer.from('3031300d060960864801650304020105000420', 'hex');

export interface RsaPkcs1Sha256Signer {
  readonly alg: 'RS256';
  /** CKA_ID (hex) of the key pair on the token. */
  readonly ckaId: string;
  /** RFC 7638 thumbprint of the public JWK. */
  readonly kid: string;
  readonly publicJwk: RsaPublicJwk;
  /** DER SubjectPublicKeyInfo of the public key (for certificates and requests). */
  readonly spki: Uint8Array;
  /** Modulus length in bytes = signature length. */
  readonly modulusBytes: number;
  /** RSASSA-PKCS1-v1_5 SHA-256 signature of `data`, verified before it is returned. */
  sign(data: Uint8Array): Promise<Uint8Array>;
}

const MECHANISM: pkcs11.Mechanism = { mechanism: pkcs11.CKM_RSA_PKCS };

/** C_SignInit + C_Sign (thread pool). Runs inside withSession. */
function signDigestInfo(session: graphene.Session, key: graphene.PrivateKey, digestInfo: Buffer, length: number): Promise<Buffer> {
  const output = Buffer.alloc(length);
  session.lib.C_SignInit(session.handle, MECHANISM, key.handle);
  return new Promise<Buffer>((resolve, reject) => {
    try {
      // The callback keeps both buffers referenced while C_Sign runs on the thread pool.
      session.lib.C_Sign(session.handle, digestInfo, output, (err, value) => {
        if (err) reject(err);
        else if (value.buffer !== output.buffer || digestInfo.length === 0) reject(new Error('unexpected C_Sign output'));
        else resolve(Buffer.from(value));
      });
    } catch (err) {
      reject(err);
    }
  });
}

/**
 * Loads the RSA key pair with this CKA_ID, checks the private key against the
 * key policy (RSA, at least 3072 bits, sensitive, never extractable, generated
 * on the token: HSM_KEY_POLICY_VIOLATION otherwise) and checks that the token
 * offers CKM_RSA_PKCS for signing (HSM_OPERATION_FAILED, ckr
 * CKR_MECHANISM_INVALID, if not).
 */
export async function createRsaPkcs1Sha256Signer(connection: HsmConnection, ckaId: string, options: { profile?: KeyPolicyProfile } = {}): Promise<RsaPkcs1Sha256Signer> {
  if (!(await connection.supportsMechanism(pkcs11.CKM_RSA_PKCS, { flags: pkcs11.CKF_SIGN }))) {
    throw new HsmError('HSM_OPERATION_FAILED', 'the token does not offer CKM_RSA_PKCS for signing', { ckr: 'CKR_MECHANISM_INVALID' });
  }
  const load = (session: graphene.Session): { privateKey: graphene.PrivateKey; jwk: RsaPublicJwk } => {
    const pair = findKeyPair(session, ckaId, { algorithm: 'PS256' });
    // The RSA rows of the key policy (type, modulus >= 3072 bits, every usage attribute) plus its protection rows.
    assertKeyPolicy(pair.privateKey, ckaId, 'PS256', options.profile ?? 'strict');
    return { privateKey: pair.privateKey, jwk: exportRsaPublicJwk(pair.publicKey) };
  };
  const handles = new WeakMap<graphene.Session, graphene.PrivateKey>();
  const initial = await connection.withSession(`loading RSA signing key ${ckaId}`, (session) => {
    const loaded = load(session);
    handles.set(session, loaded.privateKey);
    return loaded.jwk;
  });
  const publicJwk: RsaPublicJwk = Object.freeze({ ...initial });
  const kid = jwkThumbprint(publicJwk);
  const publicKey = createPublicKey({ key: { ...publicJwk }, format: 'jwk' });
  const spki = new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }));
  const modulusBytes = Buffer.from(publicJwk.n, 'base64url').length;

  const keyFor = (session: graphene.Session): graphene.PrivateKey => {
    const cached = handles.get(session);
    if (cached) return cached;
    const loaded = load(session);
    if (jwkThumbprint(loaded.jwk) !== kid) {
      throw new HsmError('HSM_KEY_POLICY_VIOLATION', `key ${ckaId} no longer has the public key ${kid}`);
    }
    handles.set(session, loaded.privateKey);
    return loaded.privateKey;
  };

  const sign = async (data: Uint8Array): Promise<Uint8Array> => {
    const digestInfo = Buffer.concat([SHA256_DIGEST_INFO_PREFIX, createHash('sha256').update(data).digest()]);
    const signature = await connection.withSession(`RS256 signing with key ${kid}`, (session) =>
      signDigestInfo(session, keyFor(session), digestInfo, modulusBytes),
    );
    if (signature.length !== modulusBytes || !verify('sha256', data, publicKey, signature)) {
      throw new HsmError('HSM_OPERATION_FAILED', `the token returned an RS256 signature that does not verify with key ${kid}`);
    }
    return new Uint8Array(signature);
  };

  return Object.freeze({ alg: 'RS256' as const, ckaId, kid, publicJwk, spki, modulusBytes, sign });
}
