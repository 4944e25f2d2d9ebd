/**
 * Signing keys held on the token (EC P-256 for ES256, RSA >= 3072 bits for PS256 and, later,
 * SAML): generation, lookup, adoption and destruction, always by identity (hsm/objects.ts) and
 * checked against the key policy (hsm/policy.ts).
 *
 * A key pair is identified by its CKA_ID (hex here, "ckaId"): the private and the public key
 * object carry the same CKA_ID and CKA_LABEL. Object handles are never kept across sessions and
 * never trusted before they read back as the object wanted.
 */
import { randomBytes } from 'node:crypto';
import * as graphene from 'graphene-pk11';
import pkcs11 from 'pkcs11js';
import type { HsmConnection } from './HsmConnection.js';
import { HsmError, toHsmError } from './errors.js';
import { type EcP256PublicJwk, type RsaPublicJwk, ecPointToJwk, rsaPublicJwk } from './jwk.js';
import {
  type DestroyReport,
  type KeyObjectType,
  type ObjectIdentity,
  assertIdentity,
  ckaIdBuffer,
  destroyAllWithId,
  destroyVerified,
  findByIdentity,
  findOneByIdentity,
} from './objects.js';
import {
  type KeyAttributeReading,
  type KeyPolicyProfile,
  type KeyPolicyViolation,
  type SigningAlgorithm,
  MIN_RSA_MODULUS_BITS,
  P256_EC_PARAMS,
  assertKeyPolicy,
  bitLength,
  checkKeyPolicy,
  readKeyAttributes,
  usageTemplate,
} from './policy.js';

/** Durable reference to a key pair on the token. */
export interface SigningKeyRef {
  /** CKA_ID, lower-case hex. */
  ckaId: string;
  /** CKA_LABEL. */
  label: string;
}

/** A key pair generated (or adopted) and checked: its reference and public key. */
export interface CheckedKeyPair<J extends EcP256PublicJwk | RsaPublicJwk = EcP256PublicJwk | RsaPublicJwk> extends SigningKeyRef {
  algorithm: SigningAlgorithm;
  publicJwk: J;
  /**
   * `stated`: the public template stated every usage attribute and the token honoured it;
   * `token-default`: the token refused the stated public usage (tpm2-pkcs11) and the pair was
   * generated with the public key's usage left to the token (the private key's usage is
   * always stated and checked). `adopted` for a key found on the token.
   */
  publicUsage: 'stated' | 'token-default' | 'adopted';
  /**
   * Set when the token handed out object handles that read back as another object and the
   * connection was reset (C_Finalize / C_Initialize) before the new key was found by identity.
   */
  recoveredFromHandleMismatch?: string;
}

export interface HsmKeyPair {
  privateKey: graphene.PrivateKey;
  publicKey: graphene.PublicKey;
}

export interface GenerateSigningKeyOptions {
  /** CKA_LABEL of both key objects. */
  label: string;
  /** CKA_ID (hex). Default: 16 random bytes. */
  ckaId?: string;
  /** Key policy profile the new key is checked against. Default `strict`. */
  profile?: KeyPolicyProfile;
}

export interface GenerateRsaSigningKeyOptions extends GenerateSigningKeyOptions {
  /** CKA_MODULUS_BITS, at least {@link MIN_RSA_MODULUS_BITS} (the default). */
  modulusBits?: number;
}

export interface KeyLookupOptions {
  /** Also match CKA_KEY_TYPE (EC for ES256, RSA for PS256). */
  algorithm?: SigningAlgorithm;
  /** Also match CKA_LABEL. */
  label?: string;
}

const KEY_TYPE: Readonly<Record<SigningAlgorithm, KeyObjectType>> = { ES256: 'EC', PS256: 'RSA' };

function identity(kind: 'private' | 'public', ckaId: string, options: KeyLookupOptions): ObjectIdentity {
  return {
    class: kind,
    ckaId: ckaId.toLowerCase(),
    ...(options.algorithm ? { keyType: KEY_TYPE[options.algorithm] } : {}),
    ...(options.label !== undefined ? { label: options.label } : {}),
  };
}

// ------------------------------------------------------------------ session-level operations

/** The private key object with this identity, or undefined (HSM_OBJECT_MISMATCH if a handle reads back otherwise). */
export function findPrivateKey(session: graphene.Session, ckaId: string, options: KeyLookupOptions = {}): graphene.PrivateKey | undefined {
  return findOneByIdentity(session, identity('private', ckaId, options))?.toType<graphene.PrivateKey>();
}

/** The public key object with this identity, or undefined. */
export function findPublicKey(session: graphene.Session, ckaId: string, options: KeyLookupOptions = {}): graphene.PublicKey | undefined {
  return findOneByIdentity(session, identity('public', ckaId, options))?.toType<graphene.PublicKey>();
}

/** The private and public key objects with this CKA_ID. Throws HSM_KEY_NOT_FOUND if either is missing. */
export function findKeyPair(session: graphene.Session, ckaId: string, options: KeyLookupOptions = {}): HsmKeyPair {
  const type = options.algorithm ? `${KEY_TYPE[options.algorithm]} ` : '';
  const privateKey = findPrivateKey(session, ckaId, options);
  if (!privateKey) throw new HsmError('HSM_KEY_NOT_FOUND', `no ${type}private key with CKA_ID ${ckaId} on the token`);
  const publicKey = findPublicKey(session, ckaId, options);
  if (!publicKey) throw new HsmError('HSM_KEY_NOT_FOUND', `no ${type}public key with CKA_ID ${ckaId} on the token`);
  return { privateKey, publicKey };
}

/** The public key as a JWK, from CKA_EC_POINT. Refuses other curves than P-256. */
export function exportPublicJwk(publicKey: graphene.PublicKey): EcP256PublicJwk {
  const params = publicKey.getAttribute(pkcs11.CKA_EC_PARAMS);
  if (!params.equals(P256_EC_PARAMS)) {
    throw new HsmError('HSM_KEY_POLICY_VIOLATION', `public key is not on P-256 (CKA_EC_PARAMS ${params.toString('hex')})`);
  }
  try {
    return ecPointToJwk(publicKey.getAttribute(pkcs11.CKA_EC_POINT));
  } catch (err) {
    throw toHsmError(err, 'exporting the public key');
  }
}

/** The RSA public key as a JWK, from CKA_MODULUS and CKA_PUBLIC_EXPONENT. Refuses moduli under {@link MIN_RSA_MODULUS_BITS}. */
export function exportRsaPublicJwk(publicKey: graphene.PublicKey): RsaPublicJwk {
  const modulus = publicKey.getAttribute(pkcs11.CKA_MODULUS);
  const bits = Number.parseInt(bitLength(modulus), 10);
  if (bits < MIN_RSA_MODULUS_BITS) {
    throw new HsmError('HSM_KEY_POLICY_VIOLATION', `RSA public key has ${bits} bits, at least ${MIN_RSA_MODULUS_BITS} are required`);
  }
  try {
    return rsaPublicJwk(modulus, publicKey.getAttribute(pkcs11.CKA_PUBLIC_EXPONENT));
  } catch (err) {
    throw toHsmError(err, 'exporting the public key');
  }
}

const EXPORT: Readonly<Record<SigningAlgorithm, (publicKey: graphene.PublicKey) => EcP256PublicJwk | RsaPublicJwk>> = {
  ES256: exportPublicJwk,
  PS256: exportRsaPublicJwk,
};

// ------------------------------------------------------------------ generation

interface GenerationSpec {
  what: string;
  algorithm: SigningAlgorithm;
  mechanism: graphene.KeyGenMechanism;
  /** Type and size part of the public template. */
  publicBase: graphene.ITemplate;
  profile: KeyPolicyProfile;
}

/** CKR values with which a module refuses a template it will not honour. */
const TEMPLATE_REFUSALS = new Set(['CKR_GENERAL_ERROR', 'CKR_TEMPLATE_INCONSISTENT', 'CKR_ATTRIBUTE_TYPE_INVALID', 'CKR_ATTRIBUTE_VALUE_INVALID']);

function templates(spec: GenerationSpec, ckaId: string, label: string, statePublicUsage: boolean): { publicTemplate: graphene.ITemplate; privateTemplate: graphene.ITemplate } {
  const id = ckaIdBuffer(ckaId);
  const keyType = spec.algorithm === 'ES256' ? graphene.KeyType.EC : graphene.KeyType.RSA;
  return {
    publicTemplate: { token: true, private: false, keyType, id, label, ...spec.publicBase, ...(statePublicUsage ? usageTemplate('public') : {}) },
    privateTemplate: { token: true, private: true, keyType, id, label, sensitive: true, extractable: false, ...usageTemplate('private') },
  };
}

type Generated = { ok: true; pair: CheckedKeyPair } | { ok: false; mismatch: string };

/**
 * One C_GenerateKeyPair (async, on the libuv thread pool), then the returned handles are read
 * back: only if both read back as the new key (class, type, CKA_ID, label) and are the only
 * objects with that identity are they checked against the policy and used. A pair that violates
 * the policy is destroyed through the handles just read back. A handle that reads back as
 * anything else is never used for anything (`mismatch`).
 */
async function generateOnce(connection: HsmConnection, spec: GenerationSpec, ckaId: string, label: string, statePublicUsage: boolean): Promise<Generated> {
  return connection.withSession(`generating ${spec.what} "${label}"`, async (session) => {
    if (session.find({ id: ckaIdBuffer(ckaId) }).length > 0) {
      throw new HsmError('HSM_OPERATION_FAILED', `objects with CKA_ID ${ckaId} already exist on the token`);
    }
    const { publicTemplate, privateTemplate } = templates(spec, ckaId, label, statePublicUsage);
    const keys = await new Promise<graphene.IKeyPair>((resolve, reject) => {
      session.generateKeyPair(spec.mechanism, publicTemplate, privateTemplate, (err, pair) => {
        if (err) reject(err);
        else if (!pair) reject(new Error('C_GenerateKeyPair returned no keys'));
        else resolve(pair);
      });
    });
    const options = { algorithm: spec.algorithm, label };
    const wanted = { private: identity('private', ckaId, options), public: identity('public', ckaId, options) };
    try {
      assertIdentity(keys.privateKey, wanted.private);
      assertIdentity(keys.publicKey, wanted.public);
      const [privateFound, publicFound] = [findByIdentity(session, wanted.private), findByIdentity(session, wanted.public)];
      const same = (found: graphene.SessionObject[], handle: Buffer): boolean => found.length === 1 && found[0]?.handle.equals(handle) === true;
      if (!same(privateFound, keys.privateKey.handle) || !same(publicFound, keys.publicKey.handle)) {
        throw new HsmError('HSM_OBJECT_MISMATCH', `C_FindObjects does not find the new key ${ckaId} under the handles C_GenerateKeyPair returned`);
      }
    } catch (err) {
      if (err instanceof HsmError && err.code === 'HSM_OBJECT_MISMATCH') return { ok: false, mismatch: err.message };
      throw err;
    }
    try {
      assertKeyPolicy(keys.privateKey, ckaId, spec.algorithm, spec.profile);
      const publicJwk = EXPORT[spec.algorithm](keys.publicKey);
      return { ok: true, pair: { ckaId, label, algorithm: spec.algorithm, publicJwk, publicUsage: statePublicUsage ? 'stated' : 'token-default' } };
    } catch (err) {
      // The handles read back as the new key a moment ago and are read back again before each destroy.
      destroyVerified(session, keys.privateKey, wanted.private);
      destroyVerified(session, keys.publicKey, wanted.public);
      throw err;
    }
  });
}

/**
 * The pair with this identity, found on a fresh connection, checked against the policy; or,
 * when it cannot be verified, destroyed where its objects read back as it, and refused.
 */
async function adoptAfterReset(connection: HsmConnection, spec: GenerationSpec, ckaId: string, label: string, mismatch: string, statePublicUsage: boolean): Promise<CheckedKeyPair> {
  await connection.reset(`the token returned object handles that do not read back as the new key ${ckaId}`);
  return connection.withSession(`finding the new key ${ckaId} by identity`, (session) => {
    const options = { algorithm: spec.algorithm, label };
    let pair: HsmKeyPair;
    try {
      pair = findKeyPair(session, ckaId, options);
    } catch (err) {
      const report = destroyAllWithId(session, ckaId);
      throw new HsmError(
        'HSM_OBJECT_MISMATCH',
        `the new key ${ckaId} could not be found by identity after a reset (${err instanceof Error ? err.message : String(err)}); ` +
          `${report.destroyed} of its objects destroyed after read-back, ${report.refused.length} left alone; first: ${mismatch}`,
        { cause: err },
      );
    }
    try {
      assertKeyPolicy(pair.privateKey, ckaId, spec.algorithm, spec.profile);
      const publicJwk = EXPORT[spec.algorithm](pair.publicKey);
      return { ckaId, label, algorithm: spec.algorithm, publicJwk, publicUsage: statePublicUsage ? 'stated' : 'token-default', recoveredFromHandleMismatch: mismatch };
    } catch (err) {
      destroyVerified(session, pair.privateKey, identity('private', ckaId, options));
      destroyVerified(session, pair.publicKey, identity('public', ckaId, options));
      throw err;
    }
  });
}

/**
 * Generates a key pair with every usage attribute stated (hsm/policy.ts), reads it back and
 * checks it:
 * 1. C_GenerateKeyPair with the full templates. A token that refuses the template (a refusal,
 *    not a lost device: the pool stays) gets a second attempt with the public key's usage left
 *    to it; the private template is the same.
 * 2. The returned handles must read back as the new key and be what C_FindObjects finds for its
 *    identity. If not, the token's handle table is not to be trusted: nothing is done through
 *    those handles, the connection is reset and the key is looked up by identity.
 * 3. The private key is checked against the policy profile; a violating pair is destroyed
 *    through handles read back just before.
 */
async function generateCheckedKeyPair(connection: HsmConnection, spec: GenerationSpec, ckaId: string, label: string): Promise<CheckedKeyPair> {
  let statePublicUsage = true;
  let result: Generated;
  try {
    result = await generateOnce(connection, spec, ckaId, label, true);
  } catch (err) {
    const error = toHsmError(err, `generating ${spec.what}`);
    if (error.kind !== 'refused' || error.ckr === undefined || !TEMPLATE_REFUSALS.has(error.ckr)) throw error;
    statePublicUsage = false;
    result = await generateOnce(connection, spec, ckaId, label, false);
  }
  if (result.ok) return result.pair;
  return adoptAfterReset(connection, spec, ckaId, label, result.mismatch, statePublicUsage);
}

/**
 * Generates an EC P-256 key pair on the token: private key CKA_TOKEN, CKA_PRIVATE,
 * CKA_SENSITIVE true, CKA_EXTRACTABLE false and the usage of hsm/policy.ts (CKA_SIGN only);
 * public key CKA_TOKEN, CKA_VERIFY only. Read back and checked (see generateCheckedKeyPair).
 */
export async function generateSigningKeyPair(connection: HsmConnection, options: GenerateSigningKeyOptions): Promise<CheckedKeyPair<EcP256PublicJwk>> {
  const ckaId = (options.ckaId ?? randomBytes(16).toString('hex')).toLowerCase();
  ckaIdBuffer(ckaId);
  const pair = await generateCheckedKeyPair(
    connection,
    { what: 'EC P-256 key pair', algorithm: 'ES256', mechanism: graphene.KeyGenMechanism.EC, publicBase: { paramsEC: P256_EC_PARAMS }, profile: options.profile ?? 'strict' },
    ckaId,
    options.label,
  );
  if (pair.publicJwk.kty !== 'EC') throw new HsmError('HSM_KEY_POLICY_VIOLATION', `key ${ckaId} is not an EC key`);
  return { ...pair, publicJwk: pair.publicJwk };
}

/**
 * Generates an RSA key pair (CKM_RSA_PKCS_KEY_PAIR_GEN, public exponent 65537, by default 3072
 * bits) with the same templates, read-back and policy as {@link generateSigningKeyPair}: for
 * PS256 tokens and for the SAML signing key. Fails with HSM_OPERATION_FAILED (ckr
 * CKR_MECHANISM_INVALID) when the token does not offer the mechanism for that key size.
 */
export async function generateRsaSigningKeyPair(connection: HsmConnection, options: GenerateRsaSigningKeyOptions): Promise<CheckedKeyPair<RsaPublicJwk>> {
  const modulusBits = options.modulusBits ?? MIN_RSA_MODULUS_BITS;
  if (!Number.isInteger(modulusBits) || modulusBits < MIN_RSA_MODULUS_BITS) {
    throw new HsmError('HSM_KEY_POLICY_VIOLATION', `RSA keys need at least ${MIN_RSA_MODULUS_BITS} bits, got ${modulusBits}`);
  }
  const supported = await connection.supportsMechanism(pkcs11.CKM_RSA_PKCS_KEY_PAIR_GEN, { flags: pkcs11.CKF_GENERATE_KEY_PAIR, keyBits: modulusBits });
  if (!supported) {
    throw new HsmError('HSM_OPERATION_FAILED', `the token does not offer CKM_RSA_PKCS_KEY_PAIR_GEN for ${modulusBits}-bit keys`, { ckr: 'CKR_MECHANISM_INVALID' });
  }
  const ckaId = (options.ckaId ?? randomBytes(16).toString('hex')).toLowerCase();
  ckaIdBuffer(ckaId);
  const pair = await generateCheckedKeyPair(
    connection,
    {
      what: `RSA-${modulusBits} key pair`,
      algorithm: 'PS256',
      mechanism: graphene.KeyGenMechanism.RSA,
      publicBase: { modulusBits, publicExponent: Buffer.from([0x01, 0x00, 0x01]) },
      profile: options.profile ?? 'strict',
    },
    ckaId,
    options.label,
  );
  if (pair.publicJwk.kty !== 'RSA') throw new HsmError('HSM_KEY_POLICY_VIOLATION', `key ${ckaId} is not an RSA key`);
  return { ...pair, publicJwk: pair.publicJwk };
}

// ------------------------------------------------------------------ existing keys

/**
 * Takes a key pair already on the token (generated by a key ceremony, cloned or restored onto
 * an HA partner): found by identity, its private key checked against the policy profile, its
 * public key exported. The public key object is required here.
 */
export async function adoptKeyPair(
  connection: HsmConnection,
  ckaId: string,
  options: { algorithm?: SigningAlgorithm; profile?: KeyPolicyProfile } = {},
): Promise<CheckedKeyPair> {
  const algorithm = options.algorithm ?? 'ES256';
  return connection.withSession(`adopting key ${ckaId}`, (session) => {
    const pair = findKeyPair(session, ckaId, { algorithm });
    assertKeyPolicy(pair.privateKey, ckaId, algorithm, options.profile ?? 'strict');
    const label = pair.privateKey.getAttribute(pkcs11.CKA_LABEL).toString('utf8');
    return { ckaId: ckaId.toLowerCase(), label, algorithm, publicJwk: EXPORT[algorithm](pair.publicKey), publicUsage: 'adopted' };
  });
}

/**
 * Destroys every object with this CKA_ID, each only after reading it back through the handle
 * destroyed (hsm/objects.ts). Returns how many were destroyed. Throws HSM_OBJECT_MISMATCH, after
 * destroying the objects that matched, when the token returned a handle that reads back as
 * another object: that one is left alone.
 *
 * A token that refuses C_DestroyObject with CKR_FUNCTION_FAILED may still count the key as in
 * use by a session closed in the middle of an operation (tpm2-pkcs11 1.9 keeps such a count
 * until C_Finalize); the connection is then reset once and the destruction asked again.
 */
export async function destroyKeyPair(connection: HsmConnection, ckaId: string): Promise<number> {
  ckaIdBuffer(ckaId);
  const attempt = (): Promise<DestroyReport> => connection.withSession(`destroying key ${ckaId}`, (session) => destroyAllWithId(session, ckaId));
  let report = await attempt();
  let destroyed = report.destroyed;
  if (report.refused.length === 0 && report.failed.some((e) => e.ckr === 'CKR_FUNCTION_FAILED')) {
    await connection.reset(`C_DestroyObject refused for key ${ckaId} (CKR_FUNCTION_FAILED)`);
    // What the first attempt destroyed is gone; the rest is found and read back again.
    report = await attempt();
    destroyed += report.destroyed;
  }
  if (report.refused.length > 0) {
    throw new HsmError(
      'HSM_OBJECT_MISMATCH',
      `destroying key ${ckaId}: ${destroyed} objects destroyed; refused to destroy ${report.refused.length} whose attributes did not match: ${report.refused.join('; ')}`,
    );
  }
  const [failure] = report.failed;
  if (failure) throw failure;
  return destroyed;
}

/** Reads the policy attributes of the private key with this CKA_ID. */
export async function checkSigningKeyPolicy(
  connection: HsmConnection,
  ckaId: string,
  algorithm: SigningAlgorithm = 'ES256',
  profile: KeyPolicyProfile = 'strict',
): Promise<KeyPolicyViolation[]> {
  return connection.withSession(`checking key ${ckaId}`, (session) => {
    const privateKey = findPrivateKey(session, ckaId, { algorithm });
    if (!privateKey) throw new HsmError('HSM_KEY_NOT_FOUND', `no private key with CKA_ID ${ckaId} on the token`);
    return checkKeyPolicy(privateKey, algorithm, profile);
  });
}

/** Every policy attribute of the pair read back (the public key's too, when it is on the token). */
export async function readSigningKeyAttributes(
  connection: HsmConnection,
  ckaId: string,
  algorithm: SigningAlgorithm = 'ES256',
  profile: KeyPolicyProfile = 'strict',
): Promise<{ readings: KeyAttributeReading[]; publicKeyPresent: boolean }> {
  return connection.withSession(`reading the attributes of key ${ckaId}`, (session) => {
    const privateKey = findPrivateKey(session, ckaId, { algorithm });
    if (!privateKey) throw new HsmError('HSM_KEY_NOT_FOUND', `no private key with CKA_ID ${ckaId} on the token`);
    const publicKey = findPublicKey(session, ckaId, { algorithm });
    return { readings: readKeyAttributes(privateKey, publicKey, algorithm, profile), publicKeyPresent: publicKey !== undefined };
  });
}
