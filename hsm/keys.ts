/**
 * EC P-256 signing keys held on the token, and the key-protection policy.
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
import { type EcP256PublicJwk, ecPointToJwk } from './jwk.js';

/** DER of the named curve OID 1.2.840.10045.3.1.7 (P-256 / prime256v1), the CKA_EC_PARAMS value. */
export const P256_EC_PARAMS: Buffer = Buffer.from('06082a8648ce3d030107', 'hex');

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

export const RULE_NO_CLEAR_TEXT = 'NSIS 4.1.6 (Low) 3: key material is never in clear text outside the HSM';
export const RULE_BROKER_KEY_PROTECTED = "NSIS 6 (Low) 4: the broker's private signing key is protected by the HSM";
export const RULE_ES256_KEY = 'ES256: the key is an EC P-256 private key allowed to sign';

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
}

const bool = (value: Buffer): string => String(readBool(value));
const ulongHex = (value: Buffer): string => `0x${readUlong(value).toString(16)}`;
const hex = (value: Buffer): string => value.toString('hex');

const POLICY: readonly AttributeCheck[] = [
  { attribute: 'CKA_CLASS', type: pkcs11.CKA_CLASS, expected: `0x${pkcs11.CKO_PRIVATE_KEY.toString(16)}`, rule: RULE_ES256_KEY, decode: ulongHex },
  { attribute: 'CKA_KEY_TYPE', type: pkcs11.CKA_KEY_TYPE, expected: `0x${pkcs11.CKK_EC.toString(16)}`, rule: RULE_ES256_KEY, decode: ulongHex },
  { attribute: 'CKA_EC_PARAMS', type: pkcs11.CKA_EC_PARAMS, expected: P256_EC_PARAMS.toString('hex'), rule: RULE_ES256_KEY, decode: hex },
  { attribute: 'CKA_SIGN', type: pkcs11.CKA_SIGN, expected: 'true', rule: RULE_ES256_KEY, decode: bool },
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
 * Reads the protection attributes of a private key back from the token and
 * lists every deviation from the policy (empty list = compliant). An
 * attribute that cannot be read counts as a violation (fail closed); a lost
 * device or session is thrown as HsmError instead.
 */
export function checkKeyPolicy(key: graphene.PrivateKey): KeyPolicyViolation[] {
  const violations: KeyPolicyViolation[] = [];
  for (const check of POLICY) {
    let actual: string;
    try {
      actual = check.decode(key.getAttribute(check.type));
    } catch (err) {
      const error = toHsmError(err, `reading ${check.attribute}`);
      if (error.code === 'HSM_UNAVAILABLE' || error.code === 'HSM_KEY_NOT_FOUND') throw error;
      actual = `unreadable (${error.ckr ?? error.message})`;
    }
    if (actual !== check.expected) {
      violations.push({ attribute: check.attribute, expected: check.expected, actual, rule: check.rule });
    }
  }
  return violations;
}

/** Throws HSM_KEY_POLICY_VIOLATION if {@link checkKeyPolicy} finds anything. */
export function assertKeyPolicy(key: graphene.PrivateKey, ckaId: string): void {
  const violations = checkKeyPolicy(key);
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

// ------------------------------------------------------------------ connection-level operations

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
  return connection.withSession(`generating EC P-256 key pair "${label}"`, async (session) => {
    if (session.find({ id }).length > 0) {
      throw new HsmError('HSM_OPERATION_FAILED', `objects with CKA_ID ${ckaId} already exist on the token`);
    }
    const publicTemplate: graphene.ITemplate = {
      token: true,
      private: false,
      keyType: graphene.KeyType.EC,
      paramsEC: P256_EC_PARAMS,
      id,
      label,
      verify: true,
    };
    const privateTemplate: graphene.ITemplate = {
      token: true,
      private: true,
      keyType: graphene.KeyType.EC,
      id,
      label,
      sensitive: true,
      extractable: false,
      sign: true,
      derive: false,
    };
    const keys = await new Promise<graphene.IKeyPair>((resolve, reject) => {
      session.generateKeyPair(graphene.KeyGenMechanism.EC, publicTemplate, privateTemplate, (err, pair) => {
        if (err) reject(err);
        else if (!pair) reject(new Error('C_GenerateKeyPair returned no keys'));
        else resolve(pair);
      });
    });
    try {
      assertKeyPolicy(keys.privateKey, ckaId);
      exportPublicJwk(keys.publicKey);
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

/** Destroys every object with this CKA_ID (C_DestroyObject). Returns how many were destroyed. */
export async function destroyKeyPair(connection: HsmConnection, ckaId: string): Promise<number> {
  const id = ckaIdBuffer(ckaId);
  return connection.withSession(`destroying key ${ckaId}`, (session) => session.destroy({ id }));
}

/** Reads the policy attributes of the private key with this CKA_ID. */
export async function checkSigningKeyPolicy(connection: HsmConnection, ckaId: string): Promise<KeyPolicyViolation[]> {
  return connection.withSession(`checking key ${ckaId}`, (session) => checkKeyPolicy(findKeyPair(session, ckaId).privateKey));
}
