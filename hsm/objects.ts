/**
 * Objects by identity, never by an unchecked handle.
 *
 * A PKCS#11 object handle is only a number the module hands out; a module whose handle table
 * goes wrong can hand out the handle of another live object (tpm2-pkcs11 #931: after a
 * C_DestroyObject, C_GenerateKeyPair and C_FindObjects return handles that read back as an
 * older key). So here a key object is what its attributes say: CKA_CLASS, CKA_KEY_TYPE, CKA_ID
 * and, when known, CKA_LABEL. Objects are found with that template and every handle found is
 * read back before it is trusted; an object is destroyed only right after its attributes were
 * read through the very handle that is destroyed, and matched.
 */
import { endianness } from 'node:os';
import * as graphene from 'graphene-pk11';
import pkcs11 from 'pkcs11js';
import { HsmError, toHsmError } from './errors.js';

export type KeyObjectClass = 'private' | 'public';
export type KeyObjectType = 'EC' | 'RSA';

/** What an object must be: class and CKA_ID always, key type and label when known. */
export interface ObjectIdentity {
  class: KeyObjectClass;
  /** CKA_ID, lower-case hex. */
  ckaId: string;
  keyType?: KeyObjectType;
  label?: string;
}

/** What an object says it is, read through its handle. */
export interface ObservedIdentity {
  class: string;
  ckaId: string;
  keyType: string | undefined;
  label: string | undefined;
}

const CLASS_VALUES: Readonly<Record<KeyObjectClass, number>> = { private: pkcs11.CKO_PRIVATE_KEY, public: pkcs11.CKO_PUBLIC_KEY };
const KEY_TYPE_VALUES: Readonly<Record<KeyObjectType, number>> = { EC: pkcs11.CKK_EC, RSA: pkcs11.CKK_RSA };
const CLASS_NAMES = new Map<number, string>([
  [pkcs11.CKO_PRIVATE_KEY, 'private'],
  [pkcs11.CKO_PUBLIC_KEY, 'public'],
  [pkcs11.CKO_CERTIFICATE, 'certificate'],
  [pkcs11.CKO_SECRET_KEY, 'secret'],
  [pkcs11.CKO_DATA, 'data'],
]);
const KEY_TYPE_NAMES = new Map<number, string>([
  [pkcs11.CKK_EC, 'EC'],
  [pkcs11.CKK_RSA, 'RSA'],
]);

/** The CKA_ID bytes of a hex CKA_ID; refuses anything but non-empty hex. */
export function ckaIdBuffer(ckaId: string): Buffer {
  if (!/^(?:[0-9a-f]{2})+$/i.test(ckaId)) throw new HsmError('HSM_OPERATION_FAILED', `CKA_ID must be non-empty hex, got "${ckaId}"`);
  return Buffer.from(ckaId, 'hex');
}

/** A CK_ULONG attribute value (4 or 8 bytes, host byte order). */
export function readUlong(value: Buffer): bigint {
  if (value.length === 8) return endianness() === 'LE' ? value.readBigUInt64LE() : value.readBigUInt64BE();
  if (value.length === 4) return BigInt(endianness() === 'LE' ? value.readUInt32LE() : value.readUInt32BE());
  throw new Error(`unexpected CK_ULONG length ${value.length}`);
}

/** A CK_BBOOL attribute value. */
export function readBool(value: Buffer): boolean {
  if (value.length !== 1) throw new Error(`unexpected CK_BBOOL length ${value.length}`);
  return value[0] !== 0;
}

/** The C_FindObjects template for an identity. */
export function identityTemplate(identity: ObjectIdentity): graphene.ITemplate {
  const template: graphene.ITemplate = { class: CLASS_VALUES[identity.class], id: ckaIdBuffer(identity.ckaId) };
  if (identity.keyType) template.keyType = KEY_TYPE_VALUES[identity.keyType];
  if (identity.label !== undefined) template.label = identity.label;
  return template;
}

function optionalAttribute(object: graphene.SessionObject, type: number): Buffer | undefined {
  try {
    return object.getAttribute(type);
  } catch (err) {
    const error = toHsmError(err, 'C_GetAttributeValue');
    // An attribute the object does not have; anything else (device lost...) is thrown.
    if (error.ckr === 'CKR_ATTRIBUTE_TYPE_INVALID') return undefined;
    throw error;
  }
}

/** Reads CKA_CLASS, CKA_ID, CKA_KEY_TYPE and CKA_LABEL through the object's handle, now. */
export function readIdentity(object: graphene.SessionObject): ObservedIdentity {
  let classValue: number;
  let ckaId: string;
  try {
    classValue = Number(readUlong(object.getAttribute(pkcs11.CKA_CLASS)));
    ckaId = object.getAttribute(pkcs11.CKA_ID).toString('hex');
  } catch (err) {
    throw toHsmError(err, 'reading an object identity (CKA_CLASS, CKA_ID)');
  }
  const keyType = optionalAttribute(object, pkcs11.CKA_KEY_TYPE);
  const label = optionalAttribute(object, pkcs11.CKA_LABEL);
  const keyTypeValue = keyType === undefined ? undefined : Number(readUlong(keyType));
  return {
    class: CLASS_NAMES.get(classValue) ?? `0x${classValue.toString(16)}`,
    ckaId,
    keyType: keyTypeValue === undefined ? undefined : (KEY_TYPE_NAMES.get(keyTypeValue) ?? `0x${keyTypeValue.toString(16)}`),
    label: label?.toString('utf8'),
  };
}

/** How an observed identity differs from the expected one, or undefined when it matches. */
export function identityMismatch(observed: ObservedIdentity, expected: ObjectIdentity): string | undefined {
  const differences: string[] = [];
  if (observed.class !== expected.class) differences.push(`CKA_CLASS ${observed.class}, expected ${expected.class}`);
  if (observed.ckaId !== expected.ckaId.toLowerCase()) differences.push(`CKA_ID ${observed.ckaId}, expected ${expected.ckaId.toLowerCase()}`);
  if (expected.keyType !== undefined && observed.keyType !== expected.keyType) {
    differences.push(`CKA_KEY_TYPE ${observed.keyType ?? 'absent'}, expected ${expected.keyType}`);
  }
  if (expected.label !== undefined && observed.label !== expected.label) {
    differences.push(`CKA_LABEL "${observed.label ?? ''}", expected "${expected.label}"`);
  }
  return differences.length === 0 ? undefined : differences.join('; ');
}

/** Throws HSM_OBJECT_MISMATCH unless the object's handle reads back as `expected` now. */
export function assertIdentity(object: graphene.SessionObject, expected: ObjectIdentity): void {
  const mismatch = identityMismatch(readIdentity(object), expected);
  if (mismatch !== undefined) {
    throw new HsmError(
      'HSM_OBJECT_MISMATCH',
      `object handle 0x${object.handle.toString('hex')} does not read back as the ${expected.class} key ${expected.ckaId}: ${mismatch}`,
    );
  }
}

/**
 * The objects with this identity: C_FindObjects with the identity as template, then every
 * handle read back. Throws HSM_OBJECT_MISMATCH when the module answered with a handle that
 * reads back as something else (its handle table is not to be trusted), HSM_OPERATION_FAILED
 * when two handles read back as the same identity.
 */
export function findByIdentity(session: graphene.Session, expected: ObjectIdentity): graphene.SessionObject[] {
  const found = session.find(identityTemplate(expected));
  const objects: graphene.SessionObject[] = [];
  for (let i = 0; i < found.length; i++) {
    const object = found.items(i);
    assertIdentity(object, expected);
    objects.push(object);
  }
  const handles = new Set(objects.map((o) => o.handle.toString('hex')));
  if (handles.size !== objects.length) {
    throw new HsmError('HSM_OBJECT_MISMATCH', `the token returned one handle twice for the ${expected.class} key ${expected.ckaId}`);
  }
  return objects;
}

/** The one object with this identity, or undefined; HSM_OPERATION_FAILED when there are several. */
export function findOneByIdentity(session: graphene.Session, expected: ObjectIdentity): graphene.SessionObject | undefined {
  const objects = findByIdentity(session, expected);
  if (objects.length > 1) throw new HsmError('HSM_OPERATION_FAILED', `${objects.length} ${expected.class} key objects share the CKA_ID ${expected.ckaId}`);
  return objects[0];
}

/**
 * C_DestroyObject on this handle only if it reads back as `expected` right now; otherwise
 * nothing is destroyed and HSM_OBJECT_MISMATCH is thrown.
 */
export function destroyVerified(session: graphene.Session, object: graphene.SessionObject, expected: ObjectIdentity): void {
  assertIdentity(object, expected);
  try {
    session.destroy(object);
  } catch (err) {
    throw toHsmError(err, `C_DestroyObject (${expected.class} key ${expected.ckaId})`);
  }
}

export interface DestroyReport {
  /** Objects destroyed (each read back and matched just before). */
  destroyed: number;
  /** Handles found by CKA_ID that read back as something else and were left alone. */
  refused: string[];
  /** Objects that matched but whose C_DestroyObject the token refused. */
  failed: HsmError[];
}

/**
 * Destroys every object whose CKA_ID is `ckaId` (key objects and, say, a certificate that
 * carries the key's CKA_ID), each only after it read back with that CKA_ID through the handle
 * destroyed. Handles that read back otherwise are left alone and listed in `refused`; a
 * C_DestroyObject the token refuses is listed in `failed` (a lost device is thrown).
 */
export function destroyAllWithId(session: graphene.Session, ckaId: string): DestroyReport {
  const id = ckaIdBuffer(ckaId);
  const found = session.find({ id });
  const report: DestroyReport = { destroyed: 0, refused: [], failed: [] };
  const seen = new Set<string>();
  for (let i = 0; i < found.length; i++) {
    const object = found.items(i);
    const handle = object.handle.toString('hex');
    if (seen.has(handle)) {
      report.refused.push(`handle 0x${handle} was returned twice`);
      continue;
    }
    seen.add(handle);
    const observed = readIdentity(object);
    if (observed.ckaId !== ckaId.toLowerCase()) {
      report.refused.push(`handle 0x${object.handle.toString('hex')} reads back as the ${observed.class} object ${observed.ckaId}`);
      continue;
    }
    try {
      session.destroy(object);
      report.destroyed += 1;
    } catch (err) {
      const error = toHsmError(err, `C_DestroyObject (${observed.class} object ${ckaId})`);
      if (error.kind === 'device-lost') throw error;
      report.failed.push(error);
    }
  }
  return report;
}
