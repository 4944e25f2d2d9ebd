/**
 * The key policy: the attributes a signing key is generated with and the attributes read back
 * from the token before a key is trusted, from one table each, so that what the templates state
 * and what the check reads cannot drift apart.
 *
 * Two profiles, chosen in configuration (GATEWAY_HSM_KEY_POLICY):
 * - `strict` (default): the key was generated on this token and never left it in clear:
 *   CKA_SENSITIVE, CKA_ALWAYS_SENSITIVE, CKA_NEVER_EXTRACTABLE and CKA_LOCAL true,
 *   CKA_EXTRACTABLE false;
 * - `replicated`: for keys cloned or restored under wrap onto an HA partner (Luna cloning,
 *   YubiHSM 2 wrap backup, a key imported into two tokens): CKA_SENSITIVE true and
 *   CKA_EXTRACTABLE false are required; CKA_LOCAL, CKA_NEVER_EXTRACTABLE and
 *   CKA_ALWAYS_SENSITIVE may be false (a copy made on another token is not local, and modules
 *   report a key that arrived wrapped or imported as not always sensitive), and are read back
 *   and reported.
 * Both profiles require the type, CKA_TOKEN and CKA_PRIVATE, and the usage of the private key:
 * CKA_SIGN true, CKA_DECRYPT, CKA_UNWRAP, CKA_DERIVE and CKA_SIGN_RECOVER false. A usage
 * attribute the object does not have at all (CKR_ATTRIBUTE_TYPE_INVALID) cannot be used and
 * counts as false; any other unreadable attribute is a violation (fail closed).
 *
 * The public key's usage (CKA_VERIFY true; CKA_ENCRYPT, CKA_WRAP, CKA_DERIVE,
 * CKA_VERIFY_RECOVER false) is stated in its template and read back, and reported, not
 * required: a public key holds no secret, and tpm2-pkcs11 ties CKA_VERIFY to the private key's
 * CKA_DECRYPT and CKA_ENCRYPT to its CKA_SIGN (one TPM object attribute each), so a token that
 * refuses the stated public usage gets the pair generated with the public usage left to it.
 */
import type * as graphene from 'graphene-pk11';
import pkcs11 from 'pkcs11js';
import { HsmError, toHsmError } from './errors.js';
import { readBool, readUlong } from './objects.js';

/** JWS algorithms of the keys on the token. */
export type SigningAlgorithm = 'ES256' | 'PS256';

export const KEY_POLICY_PROFILES = ['strict', 'replicated'] as const;
export type KeyPolicyProfile = (typeof KEY_POLICY_PROFILES)[number];

/** DER of the named curve OID 1.2.840.10045.3.1.7 (P-256 / prime256v1), the CKA_EC_PARAMS value. */
export const P256_EC_PARAMS: Buffer = Buffer.from('06082a8648ce3d030107', 'hex');

/** Smallest RSA modulus accepted for PS256 keys, and the size generated. */
export const MIN_RSA_MODULUS_BITS = 3072;

export const RULE_NO_CLEAR_TEXT = 'NSIS 4.1.6 (Low) 3: key material is never in clear text outside the HSM';
export const RULE_BROKER_KEY_PROTECTED = "NSIS 6 (Low) 4: the broker's private signing key is protected by the HSM";
export const RULE_ES256_KEY = 'ES256: the key is an EC P-256 private key allowed to sign';
export const RULE_PS256_KEY = `PS256: the key is an RSA private key of at least ${MIN_RSA_MODULUS_BITS} bits allowed to sign`;
export const RULE_SIGN_ONLY = 'NSIS 6 (Low) 4: the signing key does nothing but sign (no decryption, unwrapping, derivation or signature recovery)';
export const RULE_PUBLIC_USAGE = 'The public key is only for verifying (reported, not required: a public key holds no secret)';
export const RULE_GENERATED_HERE = 'strict profile: generated on this token and never outside it in clear';

export interface KeyPolicyViolation {
  /** PKCS#11 attribute name, e.g. "CKA_EXTRACTABLE". */
  attribute: string;
  expected: string;
  actual: string;
  /** The requirement the attribute enforces. */
  rule: string;
}

/** One attribute read back from the token, whether the profile requires it or not. */
export interface KeyAttributeReading extends KeyPolicyViolation {
  object: 'private' | 'public';
  required: boolean;
  complies: boolean;
}

// ------------------------------------------------------------------ usage: templates and checks

interface UsageRow {
  object: 'private' | 'public';
  attribute: string;
  type: number;
  template: 'sign' | 'decrypt' | 'unwrap' | 'derive' | 'signRecover' | 'verify' | 'encrypt' | 'wrap' | 'verifyRecover';
  value: boolean;
}

/** Every usage attribute of the pair, as stated in the templates and read back. */
export const USAGE: readonly UsageRow[] = [
  { object: 'private', attribute: 'CKA_SIGN', type: pkcs11.CKA_SIGN, template: 'sign', value: true },
  { object: 'private', attribute: 'CKA_DECRYPT', type: pkcs11.CKA_DECRYPT, template: 'decrypt', value: false },
  { object: 'private', attribute: 'CKA_UNWRAP', type: pkcs11.CKA_UNWRAP, template: 'unwrap', value: false },
  { object: 'private', attribute: 'CKA_DERIVE', type: pkcs11.CKA_DERIVE, template: 'derive', value: false },
  { object: 'private', attribute: 'CKA_SIGN_RECOVER', type: pkcs11.CKA_SIGN_RECOVER, template: 'signRecover', value: false },
  { object: 'public', attribute: 'CKA_VERIFY', type: pkcs11.CKA_VERIFY, template: 'verify', value: true },
  { object: 'public', attribute: 'CKA_ENCRYPT', type: pkcs11.CKA_ENCRYPT, template: 'encrypt', value: false },
  { object: 'public', attribute: 'CKA_WRAP', type: pkcs11.CKA_WRAP, template: 'wrap', value: false },
  { object: 'public', attribute: 'CKA_DERIVE', type: pkcs11.CKA_DERIVE, template: 'derive', value: false },
  { object: 'public', attribute: 'CKA_VERIFY_RECOVER', type: pkcs11.CKA_VERIFY_RECOVER, template: 'verifyRecover', value: false },
];

/** The usage part of a key template, from {@link USAGE}. */
export function usageTemplate(object: 'private' | 'public'): graphene.ITemplate {
  const template: graphene.ITemplate = {};
  for (const row of USAGE) if (row.object === object) template[row.template] = row.value;
  return template;
}

// ------------------------------------------------------------------ protection and type

interface AttributeCheck {
  attribute: string;
  type: number;
  expected: string;
  rule: string;
  decode: (value: Buffer) => string;
  /** Whether the decoded value complies; default: equal to `expected`. */
  accept?: (actual: string) => boolean;
  /** The profiles that require it; the others read it and report it. Default: every profile. */
  requiredIn?: readonly KeyPolicyProfile[];
  /** An attribute the object does not have counts as this value (usage flags: not permitted). */
  absentMeans?: string;
}

const bool = (value: Buffer): string => String(readBool(value));
const ulongHex = (value: Buffer): string => `0x${readUlong(value).toString(16)}`;
const hex = (value: Buffer): string => value.toString('hex');
/** Bit length of a big-endian unsigned integer (CKA_MODULUS). */
export const bitLength = (value: Buffer): string => (value.length === 0 ? '0' : String(BigInt(`0x${value.toString('hex')}`).toString(2).length));

const TYPE_POLICY: Readonly<Record<SigningAlgorithm, readonly AttributeCheck[]>> = {
  ES256: [
    { attribute: 'CKA_CLASS', type: pkcs11.CKA_CLASS, expected: `0x${pkcs11.CKO_PRIVATE_KEY.toString(16)}`, rule: RULE_ES256_KEY, decode: ulongHex },
    { attribute: 'CKA_KEY_TYPE', type: pkcs11.CKA_KEY_TYPE, expected: `0x${pkcs11.CKK_EC.toString(16)}`, rule: RULE_ES256_KEY, decode: ulongHex },
    { attribute: 'CKA_EC_PARAMS', type: pkcs11.CKA_EC_PARAMS, expected: P256_EC_PARAMS.toString('hex'), rule: RULE_ES256_KEY, decode: hex },
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
  ],
};

/** Protection of the private key, whatever its type. */
const PROTECTION_POLICY: readonly AttributeCheck[] = [
  { attribute: 'CKA_TOKEN', type: pkcs11.CKA_TOKEN, expected: 'true', rule: RULE_BROKER_KEY_PROTECTED, decode: bool },
  { attribute: 'CKA_PRIVATE', type: pkcs11.CKA_PRIVATE, expected: 'true', rule: RULE_BROKER_KEY_PROTECTED, decode: bool },
  { attribute: 'CKA_SENSITIVE', type: pkcs11.CKA_SENSITIVE, expected: 'true', rule: RULE_NO_CLEAR_TEXT, decode: bool },
  { attribute: 'CKA_EXTRACTABLE', type: pkcs11.CKA_EXTRACTABLE, expected: 'false', rule: RULE_NO_CLEAR_TEXT, decode: bool },
  { attribute: 'CKA_ALWAYS_SENSITIVE', type: pkcs11.CKA_ALWAYS_SENSITIVE, expected: 'true', rule: RULE_GENERATED_HERE, decode: bool, requiredIn: ['strict'] },
  { attribute: 'CKA_NEVER_EXTRACTABLE', type: pkcs11.CKA_NEVER_EXTRACTABLE, expected: 'true', rule: RULE_GENERATED_HERE, decode: bool, requiredIn: ['strict'] },
  // Generated on the token, not imported or restored from outside.
  { attribute: 'CKA_LOCAL', type: pkcs11.CKA_LOCAL, expected: 'true', rule: RULE_GENERATED_HERE, decode: bool, requiredIn: ['strict'] },
];

const usageChecks = (object: 'private' | 'public'): AttributeCheck[] =>
  USAGE.filter((row) => row.object === object).map((row) => ({
    attribute: row.attribute,
    type: row.type,
    expected: String(row.value),
    rule: object === 'private' ? RULE_SIGN_ONLY : RULE_PUBLIC_USAGE,
    decode: bool,
    requiredIn: object === 'private' ? KEY_POLICY_PROFILES : [],
    ...(row.value ? {} : { absentMeans: 'false' }),
  }));

const PRIVATE_USAGE_POLICY = usageChecks('private');
const PUBLIC_USAGE_POLICY = usageChecks('public');

function read(object: graphene.SessionObject, kind: 'private' | 'public', checks: readonly AttributeCheck[], profile: KeyPolicyProfile): KeyAttributeReading[] {
  return checks.map((check) => {
    let actual: string;
    try {
      actual = check.decode(object.getAttribute(check.type));
    } catch (err) {
      const error = toHsmError(err, `reading ${check.attribute}`);
      if (error.kind === 'device-lost' || error.code === 'HSM_KEY_NOT_FOUND') throw error;
      actual =
        error.ckr === 'CKR_ATTRIBUTE_TYPE_INVALID' && check.absentMeans !== undefined
          ? check.absentMeans
          : `unreadable (${error.ckr ?? error.message})`;
    }
    const complies = actual.startsWith('unreadable') ? false : check.accept ? check.accept(actual) : actual === check.expected;
    const required = (check.requiredIn ?? KEY_POLICY_PROFILES).includes(profile);
    return { object: kind, attribute: check.attribute, expected: check.expected, actual, rule: check.rule, required, complies };
  });
}

/**
 * Reads the private key's type, protection and usage attributes back from the token (and the
 * public key's usage, when given) and says for each whether it complies and whether the
 * profile requires it. A lost device or session is thrown as HsmError.
 */
export function readKeyAttributes(
  privateKey: graphene.SessionObject,
  publicKey: graphene.SessionObject | undefined,
  algorithm: SigningAlgorithm = 'ES256',
  profile: KeyPolicyProfile = 'strict',
): KeyAttributeReading[] {
  const readings = read(privateKey, 'private', [...TYPE_POLICY[algorithm], ...PROTECTION_POLICY, ...PRIVATE_USAGE_POLICY], profile);
  if (publicKey) readings.push(...read(publicKey, 'public', PUBLIC_USAGE_POLICY, profile));
  return readings;
}

/**
 * Every deviation of the private key from the policy for `algorithm` under `profile` (empty
 * list = compliant). An attribute that cannot be read counts as a violation (fail closed); a
 * lost device or session is thrown as HsmError instead.
 */
export function checkKeyPolicy(
  key: graphene.SessionObject,
  algorithm: SigningAlgorithm = 'ES256',
  profile: KeyPolicyProfile = 'strict',
): KeyPolicyViolation[] {
  return readKeyAttributes(key, undefined, algorithm, profile)
    .filter((r) => r.required && !r.complies)
    .map(({ attribute, expected, actual, rule }) => ({ attribute, expected, actual, rule }));
}

/** Throws HSM_KEY_POLICY_VIOLATION if {@link checkKeyPolicy} finds anything. */
export function assertKeyPolicy(
  key: graphene.SessionObject,
  ckaId: string,
  algorithm: SigningAlgorithm = 'ES256',
  profile: KeyPolicyProfile = 'strict',
): void {
  const violations = checkKeyPolicy(key, algorithm, profile);
  if (violations.length === 0) return;
  const list = violations.map((v) => `${v.attribute}=${v.actual} (expected ${v.expected}; ${v.rule})`).join('; ');
  throw new HsmError('HSM_KEY_POLICY_VIOLATION', `key ${ckaId} violates the ${profile} key policy: ${list}`);
}
