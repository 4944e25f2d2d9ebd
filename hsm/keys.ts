/**
 * Signing keys held on the token (EC P-256 for ES256, RSA >= 3072 bits for
 * PS256), and the key-protection policy.
 *
 * A key pair is identified by its CKA_ID (hex here, "ckaId"): the private and
 * the public key object carry the same CKA_ID and CKA_LABEL. Object handles
 * are never kept across sessions; keys are looked up by CKA_ID.
 */
import { randomBytes } from 'node:crypto';
import { endianness } from 'node:os';
import * as graphene from 'graphene-pk11';
import pkcs11 from 'pkcs11js';
import type { HsmConnection } from './HsmConnection.js';
import { HsmError, toHsmError } from './errors.js';
import { type EcP256PublicJwk, type RsaPublicJwk, ecPointToJwk, rsaPublicJwk } from './jwk.js';

/** DER of the named curve OID 1.2.840.10045.3.1.7 (P-256 / prime256v1), the CKA_EC_PARAMS value. */
export const P256_EC_PARAMS: Buffer = Buffer.from('06082a8648ce3d030107', 'hex');

/** JWS algorithms of the keys on the token. */
export type SigningAlgorithm = 'ES256' | 'PS256';

/** Smallest RSA modulus accepted for PS256 keys, and the size generated. */
export const MIN_RSA_MODULUS_BITS = 3072;

/** Durable reference to a key pair on the token. */
export interface SigningKeyRef {
  /** CKA_ID, lower-case hex. */
  ckaId: string;
  /** CKA_LABEL. */
  label: string;
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
}

export interface GenerateRsaSigningKeyOptions extends GenerateSigningKeyOptions {
  /** CKA_MODULUS_BITS, at least {@link MIN_RSA_MODULUS_BITS} (the default). */
  modulusBits?: number;
}

export const RULE_NO_CLEAR_TEXT = 'NSIS 4.1.6 (Low) 3: key material is never in clear text outside the HSM';
export const RULE_BROKER_KEY_PROTECTED = "NSIS 6 (Low) 4: the broker's private signing key is protected by the HSM";
export const RULE_ES256_KEY = 'ES256: the key is an EC P-256 private key allowed to sign';
export const RULE_PS256_KEY = `PS256: the key is an RSA private key of at least ${MIN_RSA_MODULUS_BITS} bits allowed to sign`;

export interface KeyPolicyViolation {
  /** PKCS#11 attribute name, e.g. "CKA_EXTRACTABLE". */
  attribute: string;
  expected: string;
  actual: string;
  /** The requirement the attribute enforces. */
  rule: string;
}

// ------------------------------------------------------------------ helpers

function ckaIdBuffer(ckaId: string): Buffer {
  if (!/^(?:[0-9a-f]{2})+$/i.test(ckaId)) throw new HsmError('HSM_OPERATION_FAILED', `CKA_ID must be non-empty hex, got "${ckaId}"`);
  return Buffer.from(ckaId, 'hex');
}

function readUlong(value: Buffer): bigint {
  if (value.length === 8) return endianness() === 'LE' ? value.readBigUInt64LE() : value.readBigUInt64BE();
  if (value.length === 4) return BigInt(endianness() === 'LE' ? value.readUInt32LE() : value.readUInt32BE());
  throw new Error(`unexpected CK_ULONG length ${value.length}`);
}

function readBool(value: Buffer): boolean {
  if (value.length !== 1) throw new Error(`unexpected CK_BBOOL length ${value.length}`);
  return value[0] !== 0;
}

function findOne(session: graphene.Session, template: graphene.ITemplate, what: string): graphene.SessionObject | undefined {
  const found = session.find(template);
  if (found.length > 1) throw new HsmError('HSM_OPERATION_FAILED', `${found.length} ${what} objects share this CKA_ID`);
  return found.length === 1 ? found.items(0) : undefined;
}

// ------------------------------------------------------------------ session-level operations

/** The private and public key objects with this CKA_ID. Throws HSM_KEY_NOT_FOUND if either is missing. */
export function findKeyPair(session: graphene.Session, ckaId: string): HsmKeyPair {
  const id = ckaIdBuffer(ckaId);
  const privateObject = findOne(session, { class: graphene.ObjectClass.PRIVATE_KEY, id }, 'private key');
  if (!privateObject) throw new HsmError('HSM_KEY_NOT_FOUND', `no private key with CKA_ID ${ckaId} on the token`);
  const publicObject = findOne(session, { class: graphene.ObjectClass.PUBLIC_KEY, id }, 'public key');
  if (!publicObject) throw new HsmError('HSM_KEY_NOT_FOUND', `no public key with CKA_ID ${ckaId} on the token`);
  return { privateKey: privateObject.toType<graphene.PrivateKey>(), publicKey: publicObject.toType<graphene.PublicKey>() };
}

interface AttributeCheck {
  attribute: string;
  type: number;
  expected: string;
  rule: string;
  decode: (value: Buffer) => string;
  /** Whether the decoded value complies; default: equal to `expected`. */
  accept?: (actual: string) => boolean;
}

const bool = (value: Buffer): string => String(readBool(value));
const ulongHex = (value: Buffer): string => `0x${readUlong(value).toString(16)}`;
const hex = (value: Buffer): string => value.toString('hex');
/** Bit length of a big-endian unsigned integer (CKA_MODULUS). */
const bitLength = (value: Buffer): string => (value.length === 0 ? '0' : String(BigInt(`0x${value.toString('hex')}`).toString(2).length));

const TYPE_POLICY: Readonly<Record<SigningAlgorithm, readonly AttributeCheck[]>> = {
  ES256: [
    { attribute: 'CKA_CLASS', type: pkcs11.CKA_CLASS, expected: `0x${pkcs11.CKO_PRIVATE_KEY.toString(16)}`, rule: RULE_ES256_KEY, decode: ulongHex },
    { attribute: 'CKA_KEY_TYPE', type: pkcs11.CKA_KEY_TYPE, expected: `0x${pkcs11.CKK_EC.toString(16)}`, rule: RULE_ES256_KEY, decode: ulongHex },
    { attribute: 'CKA_EC_PARAMS', type: pkcs11.CKA_EC_PARAMS, expected: P256_EC_PARAMS.toString('hex'), rule: RULE_ES256_KEY, decode: hex },
    { attribute: 'CKA_SIGN', type: pkcs11.CKA_SIGN, expected: 'true', rule: RULE_ES256_KEY, decode: bool },
  ],
  PS256: [
    { attribute: 'CKA_CLASS', type: pkcs11.CKA_CLASS, expected: `0x${pkcs11.CKO_PRIVATE_KEY.toString(16)}`, rule: RULE_PS256_KEY, decode: ulongHex },
    { attribute: 'CKA_KEY_TYPE', type: pkcs11.CKA_KEY_TYPE, expected: `0x${pkcs11.CKK_RSA.toString(16)}`, rule: RULE_PS256_KEY, decode: ulongHex },
    {
      attribute: 'CKA_MODULUS',
      type: pkcs11.CKA_MODULUS,
      expected: `>= ${MIN_RSA_MODULUS_BITS} bits`,
      rule: RULE_PS256_KEY,
      decode: (value) => `${bitLength(value)} bits`,
      accept: (actual) => Number.parseInt(actual, 10) >= MIN_RSA_MODULUS_BITS,
    },
    { attribute: 'CKA_SIGN', type: pkcs11.CKA_SIGN, expected: 'true', rule: RULE_PS256_KEY, decode: bool },
  ],
};

/** Protection of the private key, whatever its type. */
const PROTECTION_POLICY: readonly AttributeCheck[] = [
  { attribute: 'CKA_TOKEN', type: pkcs11.CKA_TOKEN, expected: 'true', rule: RULE_BROKER_KEY_PROTECTED, decode: bool },
  { attribute: 'CKA_PRIVATE', type: pkcs11.CKA_PRIVATE, expected: 'true', rule: RULE_BROKER_KEY_PROTECTED, decode: bool },
  { attribute: 'CKA_SENSITIVE', type: pkcs11.CKA_SENSITIVE, expected: 'true', rule: RULE_NO_CLEAR_TEXT, decode: bool },
  { attribute: 'CKA_EXTRACTABLE', type: pkcs11.CKA_EXTRACTABLE, expected: 'false', rule: RULE_NO_CLEAR_TEXT, decode: bool },
  { attribute: 'CKA_ALWAYS_SENSITIVE', type: pkcs11.CKA_ALWAYS_SENSITIVE, expected: 'true', rule: RULE_NO_CLEAR_TEXT, decode: bool },
  { attribute: 'CKA_NEVER_EXTRACTABLE', type: pkcs11.CKA_NEVER_EXTRACTABLE, expected: 'true', rule: RULE_NO_CLEAR_TEXT, decode: bool },
  // Generated on the token, not imported from outside.
  { attribute: 'CKA_LOCAL', type: pkcs11.CKA_LOCAL, expected: 'true', rule: RULE_NO_CLEAR_TEXT, decode: bool },
];

/**
 * Reads the type and protection attributes of a private key back from the
 * token and lists every deviation from the policy for `algorithm` (empty list
 * = compliant). An attribute that cannot be read counts as a violation (fail
 * closed); a lost device or session is thrown as HsmError instead.
 */
export function checkKeyPolicy(key: graphene.PrivateKey, algorithm: SigningAlgorithm = 'ES256'): KeyPolicyViolation[] {
  const violations: KeyPolicyViolation[] = [];
  for (const check of [...TYPE_POLICY[algorithm], ...PROTECTION_POLICY]) {
    let actual: string;
    try {
      actual = check.decode(key.getAttribute(check.type));
    } catch (err) {
      const error = toHsmError(err, `reading ${check.attribute}`);
      if (error.code === 'HSM_UNAVAILABLE' || error.code === 'HSM_KEY_NOT_FOUND') throw error;
      actual = `unreadable (${error.ckr ?? error.message})`;
    }
    const complies = check.accept && !actual.startsWith('unreadable') ? check.accept(actual) : actual === check.expected;
    if (!complies) {
      violations.push({ attribute: check.attribute, expected: check.expected, actual, rule: check.rule });
    }
  }
  return violations;
}

/** Throws HSM_KEY_POLICY_VIOLATION if {@link checkKeyPolicy} finds anything. */
export function assertKeyPolicy(key: graphene.PrivateKey, ckaId: string, algorithm: SigningAlgorithm = 'ES256'): void {
  const violations = checkKeyPolicy(key, algorithm);
  if (violations.length === 0) return;
  const list = violations.map((v) => `${v.attribute}=${v.actual} (expected ${v.expected}; ${v.rule})`).join('; ');
  throw new HsmError('HSM_KEY_POLICY_VIOLATION', `key ${ckaId} violates the key policy: ${list}`);
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

// ------------------------------------------------------------------ connection-level operations

interface GenerationSpec {
  what: string;
  mechanism: graphene.KeyGenMechanism;
  publicTemplate: graphene.ITemplate;
  privateTemplate: graphene.ITemplate;
  algorithm: SigningAlgorithm;
  exportPublic: (publicKey: graphene.PublicKey) => unknown;
}

/**
 * C_GenerateKeyPair (async, on the libuv thread pool) with the given
 * templates, then reads the private key back and checks it against the
 * policy; a token that ignored the template gets the pair destroyed and an
 * HSM_KEY_POLICY_VIOLATION.
 */
async function generateCheckedKeyPair(connection: HsmConnection, ckaId: string, label: string, spec: GenerationSpec): Promise<SigningKeyRef> {
  const id = ckaIdBuffer(ckaId);
  return connection.withSession(`generating ${spec.what} "${label}"`, async (session) => {
    if (session.find({ id }).length > 0) {
      throw new HsmError('HSM_OPERATION_FAILED', `objects with CKA_ID ${ckaId} already exist on the token`);
    }
    const keys = await new Promise<graphene.IKeyPair>((resolve, reject) => {
      session.generateKeyPair(spec.mechanism, spec.publicTemplate, spec.privateTemplate, (err, pair) => {
        if (err) reject(err);
        else if (!pair) reject(new Error('C_GenerateKeyPair returned no keys'));
        else resolve(pair);
      });
    });
    try {
      assertKeyPolicy(keys.privateKey, ckaId, spec.algorithm);
      spec.exportPublic(keys.publicKey);
    } catch (err) {
      try {
        session.destroy(keys.privateKey);
        session.destroy(keys.publicKey);
      } catch {
        // best effort
      }
      throw err;
    }
    return { ckaId, label };
  });
}

/**
 * Generates an EC P-256 key pair on the token (C_GenerateKeyPair, async):
 * private key CKA_TOKEN, CKA_PRIVATE, CKA_SENSITIVE, CKA_SIGN = true,
 * CKA_EXTRACTABLE = false, CKA_DERIVE = false; public key CKA_TOKEN,
 * CKA_VERIFY = true. The result is read back and checked against the policy;
 * a token that ignored the template gets the pair destroyed and an
 * HSM_KEY_POLICY_VIOLATION.
 */
export async function generateSigningKeyPair(
  connection: HsmConnection,
  options: GenerateSigningKeyOptions,
): Promise<SigningKeyRef> {
  const ckaId = (options.ckaId ?? randomBytes(16).toString('hex')).toLowerCase();
  const id = ckaIdBuffer(ckaId);
  const { label } = options;
  return generateCheckedKeyPair(connection, ckaId, label, {
    what: 'EC P-256 key pair',
    mechanism: graphene.KeyGenMechanism.EC,
    publicTemplate: { token: true, private: false, keyType: graphene.KeyType.EC, paramsEC: P256_EC_PARAMS, id, label, verify: true },
    privateTemplate: {
      token: true,
      private: true,
      keyType: graphene.KeyType.EC,
      id,
      label,
      sensitive: true,
      extractable: false,
      sign: true,
      derive: false,
    },
    algorithm: 'ES256',
    exportPublic: exportPublicJwk,
  });
}

/**
 * Generates an RSA key pair for PS256 on the token (CKM_RSA_PKCS_KEY_PAIR_GEN,
 * async), by default 3072 bits with public exponent 65537, with the same
 * protection as {@link generateSigningKeyPair}: private key CKA_TOKEN,
 * CKA_PRIVATE, CKA_SENSITIVE, CKA_SIGN = true, CKA_EXTRACTABLE,
 * CKA_DECRYPT, CKA_UNWRAP = false; public key CKA_TOKEN, CKA_VERIFY = true.
 * Checked against the policy like EC keys. Fails with HSM_OPERATION_FAILED
 * (ckr CKR_MECHANISM_INVALID) when the token does not offer the mechanism for
 * that key size.
 */
export async function generateRsaSigningKeyPair(
  connection: HsmConnection,
  options: GenerateRsaSigningKeyOptions,
): Promise<SigningKeyRef> {
  const modulusBits = options.modulusBits ?? MIN_RSA_MODULUS_BITS;
  if (!Number.isInteger(modulusBits) || modulusBits < MIN_RSA_MODULUS_BITS) {
    throw new HsmError('HSM_KEY_POLICY_VIOLATION', `RSA keys need at least ${MIN_RSA_MODULUS_BITS} bits, got ${modulusBits}`);
  }
  const supported = await connection.supportsMechanism(pkcs11.CKM_RSA_PKCS_KEY_PAIR_GEN, {
    flags: pkcs11.CKF_GENERATE_KEY_PAIR,
    keyBits: modulusBits,
  });
  if (!supported) {
    throw new HsmError('HSM_OPERATION_FAILED', `the token does not offer CKM_RSA_PKCS_KEY_PAIR_GEN for ${modulusBits}-bit keys`, {
      ckr: 'CKR_MECHANISM_INVALID',
    });
  }
  const ckaId = (options.ckaId ?? randomBytes(16).toString('hex')).toLowerCase();
  const id = ckaIdBuffer(ckaId);
  const { label } = options;
  return generateCheckedKeyPair(connection, ckaId, label, {
    what: `RSA-${modulusBits} key pair`,
    mechanism: graphene.KeyGenMechanism.RSA,
    publicTemplate: {
      token: true,
      private: false,
      keyType: graphene.KeyType.RSA,
      modulusBits,
      publicExponent: Buffer.from([0x01, 0x00, 0x01]),
      id,
      label,
      verify: true,
    },
    privateTemplate: {
      token: true,
      private: true,
      keyType: graphene.KeyType.RSA,
      id,
      label,
      sensitive: true,
      extractable: false,
      sign: true,
      decrypt: false,
      unwrap: false,
    },
    algorithm: 'PS256',
    exportPublic: exportRsaPublicJwk,
  });
}

/** Destroys every object with this CKA_ID (C_DestroyObject). Returns how many were destroyed. */
export async function destroyKeyPair(connection: HsmConnection, ckaId: string): Promise<number> {
  const id = ckaIdBuffer(ckaId);
  return connection.withSession(`destroying key ${ckaId}`, (session) => session.destroy({ id }));
}

/** Reads the policy attributes of the private key with this CKA_ID. */
export async function checkSigningKeyPolicy(
  connection: HsmConnection,
  ckaId: string,
  algorithm: SigningAlgorithm = 'ES256',
): Promise<KeyPolicyViolation[]> {
  return connection.withSession(`checking key ${ckaId}`, (session) => checkKeyPolicy(findKeyPair(session, ckaId).privateKey, algorithm));
}
