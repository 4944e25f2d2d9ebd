/**
 * JWS signers backed by a key on the token: ES256 (ECDSA P-256 with SHA-256)
 * and, where the token offers it, PS256 (RSASSA-PSS with SHA-256, MGF1-SHA-256,
 * 32-byte salt).
 *
 * The SHA-256 digest is computed on the host (node:crypto) and the 32-byte
 * digest is signed on the token: with CKM_ECDSA (CKM_ECDSA_SHA256 is not
 * available everywhere, SoftHSM 2.6 lacks it; the result is identical), which
 * returns r||s (32 + 32 bytes) as JWS (RFC 7518 3.4) wants; or with
 * CKM_RSA_PKCS_PSS, whose parameters name the hash already applied.
 *
 * C_Sign runs on the libuv thread pool (pkcs11js callback form), so the event
 * loop is not blocked while the HSM works, and up to `sessions` signatures run
 * in parallel (one per session of the {@link HsmConnection} pool). C_SignInit
 * has no asynchronous form in pkcs11js and runs on the event loop.
 *
 * Key handles are looked up per session, by identity (C_FindObjects by CKA_CLASS, CKA_KEY_TYPE
 * and CKA_ID, every handle read back), and cached per session object: a replaced or
 * re-established session looks the key up again, checks it against the key policy and checks
 * that it still has the same public key (kid).
 *
 * The public key: read from the token's public key object and, when the caller recorded one at
 * generation (`expectedPublicJwk`, from the database), compared with it. When the token has no
 * public key object for the key (lost, or never copied to an HA partner), the recorded public
 * key is used after a test signature of the private key verifies against it (host side,
 * node:crypto); a test signature that does not verify refuses the key
 * (HSM_KEY_POLICY_VIOLATION).
 *
 * Operations are finished or cancelled: C_Sign ends the signing operation
 * started by C_SignInit whatever its outcome (PKCS#11 2.40 5.11, except
 * CKR_BUFFER_TOO_SMALL); and every failure after C_SignInit (C_Sign failing,
 * pkcs11js refusing the arguments before calling the module, an unexpected
 * result) rejects the operation, after which {@link HsmConnection.withSession}
 * closes that session (C_CloseSession ends any active operation) and puts a
 * fresh one in its place, so a half-done operation never sticks to a session.
 */
import { constants, createHash, createPublicKey, randomBytes, verify } from 'node:crypto';
import type * as graphene from 'graphene-pk11';
import pkcs11 from 'pkcs11js';
import type { HsmConnection } from './HsmConnection.js';
import { HsmError } from './errors.js';
import { type EcP256PublicJwk, type RsaPublicJwk, jwkThumbprint } from './jwk.js';
import { exportPublicJwk, exportRsaPublicJwk, findPrivateKey, findPublicKey } from './keys.js';
import { type KeyPolicyProfile, type SigningAlgorithm, assertKeyPolicy } from './policy.js';

interface HsmSignerBase<A extends SigningAlgorithm, J> {
  /** RFC 7638 thumbprint of the public JWK. */
  readonly kid: string;
  readonly publicJwk: J;
  readonly alg: A;
  /** CKA_ID (hex) of the key pair on the token. */
  readonly ckaId: string;
  /**
   * Where the public key came from: the token's public key object, or the recorded public key
   * after a test signature (the token has no public key object for this key).
   */
  readonly publicKeySource: 'token' | 'recorded';
}

export interface SignerOptions<J> {
  /** The public key recorded when the key was generated: must match; stands in for a missing public key object. */
  expectedPublicJwk?: J;
  /** Key policy profile the private key is checked against. Default `strict`. */
  profile?: KeyPolicyProfile;
}

export interface Es256Signer extends HsmSignerBase<'ES256', EcP256PublicJwk> {
  /** ES256 signature of `data` as raw r||s (64 bytes). */
  sign(data: Uint8Array): Promise<Uint8Array>;
}

export interface Ps256Signer extends HsmSignerBase<'PS256', RsaPublicJwk> {
  /** PS256 signature of `data` (as many bytes as the modulus). */
  sign(data: Uint8Array): Promise<Uint8Array>;
}

export type HsmSigner = Es256Signer | Ps256Signer;

const SHA256_LENGTH = 32;
const ES256_SIGNATURE_LENGTH = 64;
/** RFC 7518 3.5: the salt is as long as the hash. */
const PS256_SALT_LENGTH = 32;

const ES256_MECHANISM: pkcs11.Mechanism = { mechanism: pkcs11.CKM_ECDSA };
const PS256_PARAMETER: pkcs11.RsaPSS = {
  type: pkcs11.CK_PARAMS_RSA_PSS,
  hashAlg: pkcs11.CKM_SHA256,
  mgf: pkcs11.CKG_MGF1_SHA256,
  saltLen: PS256_SALT_LENGTH,
};
const PS256_MECHANISM: pkcs11.Mechanism = { mechanism: pkcs11.CKM_RSA_PKCS_PSS, parameter: PS256_PARAMETER };

/**
 * C_SignInit then C_Sign on the libuv thread pool. Must run inside
 * withSession: on rejection the session is replaced, which ends an operation
 * that C_Sign did not end.
 */
function signDigest(session: graphene.Session, mechanism: pkcs11.Mechanism, key: graphene.PrivateKey, digest: Buffer, length: number): Promise<Buffer> {
  if (digest.length !== SHA256_LENGTH) return Promise.reject(new Error(`expected a SHA-256 digest, got ${digest.length} bytes`));
  const output = Buffer.alloc(length);
  session.lib.C_SignInit(session.handle, mechanism, key.handle);
  // From here the session has an active signing operation until C_Sign returns.
  return new Promise<Buffer>((resolve, reject) => {
    try {
      // pkcs11js keeps only the callback alive while C_Sign runs on the thread
      // pool, so the callback references both buffers.
      session.lib.C_Sign(session.handle, digest, output, (err, value) => {
        if (err) reject(err);
        else if (value.buffer !== output.buffer || digest.length !== SHA256_LENGTH) reject(new Error('unexpected C_Sign output'));
        else resolve(Buffer.from(value));
      });
    } catch (err) {
      // Refused before reaching the module: the operation is still active.
      reject(err);
    }
  });
}

interface SignerSpec<A extends SigningAlgorithm, J extends EcP256PublicJwk | RsaPublicJwk> {
  alg: A;
  mechanism: pkcs11.Mechanism;
  exportJwk: (publicKey: graphene.PublicKey) => J;
  /** Exact length of a signature by this key. */
  signatureLength: (jwk: J) => number;
  /** Host-side verification of a signature over `data` (SHA-256 applied here). */
  verify: (jwk: J, data: Buffer, signature: Buffer) => boolean;
}

async function createSigner<A extends SigningAlgorithm, J extends EcP256PublicJwk | RsaPublicJwk>(
  connection: HsmConnection,
  ckaId: string,
  spec: SignerSpec<A, J>,
  options: SignerOptions<J>,
): Promise<HsmSignerBase<A, J> & { sign(data: Uint8Array): Promise<Uint8Array> }> {
  const profile = options.profile ?? 'strict';
  const expected = options.expectedPublicJwk;
  const expectedKid = expected === undefined ? undefined : jwkThumbprint(expected);
  const lookup = { algorithm: spec.alg };

  /** The private key, by identity, checked against the policy. */
  const loadPrivate = (session: graphene.Session): graphene.PrivateKey => {
    const privateKey = findPrivateKey(session, ckaId, lookup);
    if (!privateKey) throw new HsmError('HSM_KEY_NOT_FOUND', `no private key with CKA_ID ${ckaId} on the token`);
    assertKeyPolicy(privateKey, ckaId, spec.alg, profile);
    return privateKey;
  };

  /** The public key of `privateKey`: from the token, or the recorded one proven by a test signature. */
  const publicKeyOf = async (session: graphene.Session, privateKey: graphene.PrivateKey): Promise<{ jwk: J; source: 'token' | 'recorded' }> => {
    const publicKey = findPublicKey(session, ckaId, lookup);
    if (publicKey) {
      const jwk = spec.exportJwk(publicKey);
      if (expectedKid !== undefined && jwkThumbprint(jwk) !== expectedKid) {
        throw new HsmError('HSM_KEY_POLICY_VIOLATION', `the public key object of ${ckaId} is not the public key recorded at generation (${expectedKid})`);
      }
      return { jwk, source: 'token' };
    }
    if (expected === undefined) {
      throw new HsmError('HSM_KEY_NOT_FOUND', `no public key with CKA_ID ${ckaId} on the token, and no recorded public key to check the private key against`);
    }
    const data = randomBytes(32);
    const signature = await signDigest(session, spec.mechanism, privateKey, createHash('sha256').update(data).digest(), spec.signatureLength(expected));
    if (!spec.verify(expected, data, signature)) {
      throw new HsmError('HSM_KEY_POLICY_VIOLATION', `the private key ${ckaId} does not match the public key recorded at generation (${expectedKid ?? ''}): a test signature does not verify`);
    }
    return { jwk: expected, source: 'recorded' };
  };

  /** Private key handle per session object (a new session is a new object). */
  const handles = new WeakMap<graphene.Session, graphene.PrivateKey>();

  const initial = await connection.withSession(`loading signing key ${ckaId}`, async (session) => {
    const privateKey = loadPrivate(session);
    const found = await publicKeyOf(session, privateKey);
    handles.set(session, privateKey);
    return found;
  });
  const publicJwk: J = structuredClone(initial.jwk);
  Object.freeze(publicJwk);
  const kid = jwkThumbprint(publicJwk);
  const signatureLength = spec.signatureLength(publicJwk);

  const keyFor = async (session: graphene.Session): Promise<graphene.PrivateKey> => {
    const cached = handles.get(session);
    if (cached) return cached;
    const privateKey = loadPrivate(session);
    const found = await publicKeyOf(session, privateKey);
    if (jwkThumbprint(found.jwk) !== kid) {
      throw new HsmError('HSM_KEY_POLICY_VIOLATION', `key ${ckaId} no longer has the public key ${kid}`);
    }
    handles.set(session, privateKey);
    return privateKey;
  };

  const sign = async (data: Uint8Array): Promise<Uint8Array> => {
    const digest = createHash('sha256').update(data).digest();
    const signature = await connection.withSession(`${spec.alg} signing with key ${kid}`, async (session) =>
      signDigest(session, spec.mechanism, await keyFor(session), digest, signatureLength),
    );
    if (signature.length !== signatureLength) {
      throw new HsmError('HSM_OPERATION_FAILED', `${spec.alg} signature of ${signature.length} bytes, expected ${signatureLength}`);
    }
    return new Uint8Array(signature);
  };

  return Object.freeze({ kid, publicJwk, alg: spec.alg, ckaId, publicKeySource: initial.source, sign });
}

const verifyEs256 = (jwk: EcP256PublicJwk, data: Buffer, signature: Buffer): boolean =>
  verify('sha256', data, { key: createPublicKey({ key: { ...jwk }, format: 'jwk' }), dsaEncoding: 'ieee-p1363' }, signature);

const verifyPs256 = (jwk: RsaPublicJwk, data: Buffer, signature: Buffer): boolean =>
  verify('sha256', data, { key: createPublicKey({ key: { ...jwk }, format: 'jwk' }), padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: PS256_SALT_LENGTH }, signature);

/**
 * Loads the EC P-256 key pair with this CKA_ID, checks the private key
 * against the key policy (HSM_KEY_POLICY_VIOLATION if it fails: such a key is
 * never used) and exports the public key (see the module comment for
 * `expectedPublicJwk`).
 */
export async function createEs256Signer(connection: HsmConnection, ckaId: string, options: SignerOptions<EcP256PublicJwk> = {}): Promise<Es256Signer> {
  return createSigner(
    connection,
    ckaId,
    { alg: 'ES256', mechanism: ES256_MECHANISM, exportJwk: exportPublicJwk, signatureLength: () => ES256_SIGNATURE_LENGTH, verify: verifyEs256 },
    options,
  );
}

/**
 * Loads the RSA key pair with this CKA_ID for PS256 (policy checked as for
 * ES256, modulus at least 3072 bits). Fails with HSM_OPERATION_FAILED (ckr
 * CKR_MECHANISM_INVALID) when the token does not offer CKM_RSA_PKCS_PSS for
 * signing: check first with `connection.supportsMechanism(pkcs11.CKM_RSA_PKCS_PSS,
 * { flags: pkcs11.CKF_SIGN })`.
 */
export async function createPs256Signer(connection: HsmConnection, ckaId: string, options: SignerOptions<RsaPublicJwk> = {}): Promise<Ps256Signer> {
  if (!(await connection.supportsMechanism(pkcs11.CKM_RSA_PKCS_PSS, { flags: pkcs11.CKF_SIGN }))) {
    throw new HsmError('HSM_OPERATION_FAILED', 'the token does not offer CKM_RSA_PKCS_PSS for signing', { ckr: 'CKR_MECHANISM_INVALID' });
  }
  return createSigner(
    connection,
    ckaId,
    {
      alg: 'PS256',
      mechanism: PS256_MECHANISM,
      exportJwk: exportRsaPublicJwk,
      signatureLength: (jwk) => Buffer.from(jwk.n, 'base64url').length,
      verify: verifyPs256,
    },
    options,
  );
}
