/**
 * A software FIDO2 authenticator for tests.
 *
 * Produces real WebAuthn responses (P-256 / ES256, COSE alg -7) signed with node:crypto, in the
 * JSON shapes that @simplewebauthn/browser's startRegistration()/startAuthentication() return,
 * so they can be fed directly to @simplewebauthn/server's verify*Response() or to the gateway's
 * HTTP endpoints.
 *
 * Layouts follow WebAuthn L2/L3:
 * - authenticatorData (§6.1): rpIdHash(32) | flags(1) | signCount(4, BE) | [attestedCredentialData]
 * - attestedCredentialData (§6.5.1): aaguid(16) | credIdLen(2, BE) | credId | COSE_Key
 * - assertion signature: ECDSA-SHA256 over authData || SHA-256(clientDataJSON), DER encoded
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  randomBytes,
  randomInt,
  sign as cryptoSign,
  type KeyObject,
} from 'node:crypto';
import { isoCBOR } from '@simplewebauthn/server/helpers';
import { generateKeyObjects } from '../../scripts/lib/keyPairs.js';
import type {
  AuthenticationResponseJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';

/** COSE algorithm identifier for ES256 (ECDSA w/ SHA-256 on P-256). */
export const COSE_ALG_ES256 = -7;

/** authenticatorData flag bits (WebAuthn §6.1). */
export const AUTH_DATA_FLAGS = {
  UP: 0x01,
  UV: 0x04,
  BE: 0x08,
  BS: 0x10,
  AT: 0x40,
  ED: 0x80,
} as const;

export type SoftAttestation = 'none' | 'packed-self' | 'packed-x5c';

/** A batch attestation certificate chain (leaf first, DER) and the leaf's private key (PEM). */
export interface SoftAttestationCa {
  chainDer: Uint8Array[];
  privateKeyPem: string;
}

export interface SoftAuthenticatorOptions {
  /** AAGUID as a UUID string. Default: all zeros. */
  aaguid?: string;
  /** Whether the authenticator performs user verification (UV flag). Default: true. */
  userVerification?: boolean;
  /** Attestation statement format. Default: 'none'. */
  attestation?: SoftAttestation;
  /** For 'packed-x5c': the batch certificate chain and key that sign the attestation. */
  attestationCa?: SoftAttestationCa;
  /** BE flag. Default: false. */
  backupEligible?: boolean;
  /** BS flag. Default: false. */
  backupState?: boolean;
  /** Transports reported in registration responses. Default: ['usb']. */
  transports?: string[];
  /** Length in bytes of the credential ids it makes. Default: random, 16 to 32. */
  credentialIdBytes?: number;
}

/** Minimal descriptor shape (compatible with PublicKeyCredentialDescriptorJSON). */
export interface SoftCredentialDescriptor {
  id: string;
  type?: string;
  transports?: readonly string[];
}

/**
 * Registration input: the PublicKeyCredentialCreationOptionsJSON from
 * generateRegistrationOptions() (or any structurally compatible subset), plus the origin.
 */
export interface SoftCreationOptions {
  /** base64url */
  challenge: string;
  /** When rp.id is absent the origin's hostname is used, like a browser does. */
  rp: { id?: string; name?: string };
  /** user.id is base64url (the user handle). */
  user: { id: string; name?: string; displayName?: string };
  origin: string;
  pubKeyCredParams?: ReadonlyArray<{ alg: number; type?: string }>;
  excludeCredentials?: ReadonlyArray<SoftCredentialDescriptor>;
  authenticatorSelection?: {
    residentKey?: string;
    requireResidentKey?: boolean;
    userVerification?: string;
    authenticatorAttachment?: string;
  };
}

/** Assertion input: compatible with PublicKeyCredentialRequestOptionsJSON. */
export interface SoftRequestOptions {
  /** base64url */
  challenge: string;
  /** When absent the origin's hostname is used, like a browser does. */
  rpId?: string;
  allowCredentials?: ReadonlyArray<SoftCredentialDescriptor>;
  userVerification?: string;
}

/** Knobs to produce malformed / hostile registration responses. */
export interface RegistrationOverrides {
  /** origin written in clientDataJSON */
  origin?: string;
  /** RP ID hashed into authenticatorData (the credential is still stored under the real RP ID) */
  rpId?: string;
  /** challenge written in clientDataJSON */
  challenge?: string;
  /** clientDataJSON type (default 'webauthn.create') */
  type?: string;
  /** UV flag (default: the constructor's userVerification) */
  userVerified?: boolean;
  /** UP flag (default: true) */
  userPresent?: boolean;
}

/** Knobs to produce malformed / hostile assertion responses. */
export interface AssertionOverrides {
  origin?: string;
  rpId?: string;
  challenge?: string;
  /** clientDataJSON type (default 'webauthn.get') */
  type?: string;
  userVerified?: boolean;
  userPresent?: boolean;
  /** Use (and store) this sign counter instead of incrementing. */
  counter?: number;
  /** Use this stored credential regardless of allowCredentials / rpId. */
  credentialId?: string;
  /** Corrupt the signature (still well-formed DER, but cryptographically invalid). */
  tamperSignature?: boolean;
  /** BE flag in this assertion (default: the constructor's): a key whose eligibility changed. */
  backupEligible?: boolean;
  /** BS flag in this assertion (default: the constructor's). */
  backupState?: boolean;
}

/** JSON-serialisable snapshot of a credential, including its private key. */
export interface ExportedSoftCredential {
  /** base64url credential ID */
  id: string;
  /** base64url PKCS#8 DER P-256 private key */
  privateKeyPkcs8: string;
  rpId: string;
  /** base64url user handle */
  userHandle: string;
  signCount: number;
  discoverable: boolean;
}

interface StoredCredential {
  id: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  rpId: string;
  userHandle: string;
  signCount: number;
  discoverable: boolean;
}

const b64url = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url');
const fromB64url = (s: string): Buffer => Buffer.from(s, 'base64url');
const sha256 = (data: Uint8Array | string): Buffer => createHash('sha256').update(data).digest();

function domException(message: string, name: string): Error {
  return new DOMException(message, name);
}

function parseAaguid(uuid: string): Buffer {
  const hex = uuid.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) {
    throw new TypeError(`Invalid AAGUID "${uuid}": expected a UUID`);
  }
  return Buffer.from(hex, 'hex');
}

function assertCounter(n: number): void {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) {
    throw new RangeError(`Sign counter must be a uint32, got ${n}`);
  }
}

/** COSE_Key (RFC 9052/9053) for an EC2 P-256 public key, canonical CTAP2 key order. */
export function coseEc2PublicKey(publicKey: KeyObject): Uint8Array<ArrayBuffer> {
  const jwk = publicKey.export({ format: 'jwk' });
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || !jwk.x || !jwk.y) {
    throw new TypeError('Expected a P-256 EC public key');
  }
  const x = new Uint8Array(fromB64url(jwk.x));
  const y = new Uint8Array(fromB64url(jwk.y));
  if (x.length !== 32 || y.length !== 32) {
    throw new Error('Unexpected P-256 coordinate length');
  }
  // Integer keys in CTAP2 canonical order: 1, 3, -1, -2, -3.
  const coseKey = new Map<number, number | Uint8Array>([
    [1, 2], // kty: EC2
    [3, COSE_ALG_ES256], // alg: ES256
    [-1, 1], // crv: P-256
    [-2, x],
    [-3, y],
  ]);
  return isoCBOR.encode(coseKey);
}

export class SoftAuthenticator {
  readonly aaguid: string;
  readonly userVerification: boolean;
  readonly attestation: SoftAttestation;
  readonly backupEligible: boolean;
  readonly backupState: boolean;
  readonly transports: string[];

  readonly #aaguidBytes: Buffer;
  readonly #credentials = new Map<string, StoredCredential>();
  readonly #attestationCa: SoftAttestationCa | undefined;
  readonly #credentialIdBytes: number | undefined;

  constructor(options: SoftAuthenticatorOptions = {}) {
    this.aaguid = options.aaguid ?? '00000000-0000-0000-0000-000000000000';
    this.#aaguidBytes = parseAaguid(this.aaguid);
    this.userVerification = options.userVerification ?? true;
    this.attestation = options.attestation ?? 'none';
    this.#attestationCa = options.attestationCa;
    this.backupEligible = options.backupEligible ?? false;
    this.backupState = options.backupState ?? false;
    this.transports = options.transports ?? ['usb'];
    this.#credentialIdBytes = options.credentialIdBytes;
  }

  /** navigator.credentials.create() equivalent. Stores the new credential (sign counter 0). */
  async createCredential(
    options: SoftCreationOptions,
    overrides: RegistrationOverrides = {},
  ): Promise<RegistrationResponseJSON> {
    const rpId = options.rp.id ?? new URL(options.origin).hostname;

    const params = options.pubKeyCredParams;
    if (params && params.length > 0 && !params.some((p) => p.alg === COSE_ALG_ES256)) {
      throw domException('No supported algorithm (only ES256 / -7)', 'NotSupportedError');
    }

    for (const excluded of options.excludeCredentials ?? []) {
      const existing = this.#credentials.get(excluded.id);
      if (existing && existing.rpId === rpId) {
        throw domException('Authenticator already registered (excludeCredentials)', 'InvalidStateError');
      }
    }

    // Not generateKeyPairSync's own KeyObjects: exporting one can deadlock Node 20 (keyPairs.ts).
    const { privateKey, publicKey } = generateKeyObjects('ec', { namedCurve: 'P-256' });
    const idBytes = randomBytes(this.#credentialIdBytes ?? randomInt(16, 33));
    const sel = options.authenticatorSelection;
    const discoverable =
      sel?.requireResidentKey === true ||
      sel?.residentKey === 'required' ||
      sel?.residentKey === 'preferred';

    const cred: StoredCredential = {
      id: b64url(idBytes),
      privateKey,
      publicKey,
      rpId,
      userHandle: options.user.id,
      signCount: 0,
      discoverable,
    };

    const coseKey = coseEc2PublicKey(publicKey);
    const idLen = Buffer.alloc(2);
    idLen.writeUInt16BE(idBytes.length);
    const attestedCredentialData = Buffer.concat([this.#aaguidBytes, idLen, idBytes, coseKey]);

    const authData = this.#authenticatorData({
      rpId: overrides.rpId ?? rpId,
      userPresent: overrides.userPresent ?? true,
      userVerified: overrides.userVerified ?? this.userVerification,
      signCount: cred.signCount,
      attestedCredentialData,
    });

    const clientDataJSON = Buffer.from(
      JSON.stringify({
        type: overrides.type ?? 'webauthn.create',
        challenge: overrides.challenge ?? options.challenge,
        origin: overrides.origin ?? options.origin,
        crossOrigin: false,
      }),
      'utf8',
    );

    const attStmt = new Map<string, number | Uint8Array | Uint8Array[]>();
    let fmt: string;
    if (this.attestation === 'packed-x5c') {
      // WebAuthn §8.2 full attestation: signed by the batch key, certificate chain in x5c.
      if (!this.#attestationCa) throw new TypeError('packed-x5c needs attestationCa');
      fmt = 'packed';
      const sig = cryptoSign('sha256', Buffer.concat([authData, sha256(clientDataJSON)]), createPrivateKey(this.#attestationCa.privateKeyPem));
      attStmt.set('alg', COSE_ALG_ES256);
      attStmt.set('sig', new Uint8Array(sig));
      attStmt.set('x5c', this.#attestationCa.chainDer.map((d) => new Uint8Array(d)));
    } else if (this.attestation === 'packed-self') {
      fmt = 'packed';
      const sig = cryptoSign('sha256', Buffer.concat([authData, sha256(clientDataJSON)]), privateKey);
      attStmt.set('alg', COSE_ALG_ES256);
      attStmt.set('sig', new Uint8Array(sig));
    } else {
      fmt = 'none';
    }

    // CTAP2 canonical order: fmt, attStmt, authData (shorter keys first).
    const attestationObject = isoCBOR.encode(
      new Map<string, string | Uint8Array | Map<string, number | Uint8Array | Uint8Array[]>>([
        ['fmt', fmt],
        ['attStmt', attStmt],
        ['authData', new Uint8Array(authData)],
      ]),
    );

    this.#credentials.set(cred.id, cred);

    const spki = publicKey.export({ format: 'der', type: 'spki' });
    return {
      id: cred.id,
      rawId: cred.id,
      type: 'public-key',
      response: {
        clientDataJSON: b64url(clientDataJSON),
        attestationObject: b64url(attestationObject),
        authenticatorData: b64url(authData),
        transports: [...this.transports],
        publicKeyAlgorithm: COSE_ALG_ES256,
        publicKey: b64url(spki),
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'cross-platform',
    };
  }

  /** navigator.credentials.get() equivalent. Increments (or sets) the credential's sign counter. */
  async getAssertion(
    options: SoftRequestOptions,
    origin: string,
    overrides: AssertionOverrides = {},
  ): Promise<AuthenticationResponseJSON> {
    const rpId = options.rpId ?? new URL(origin).hostname;
    const cred = this.#selectCredential(options, rpId, overrides.credentialId);

    if (overrides.counter !== undefined) {
      assertCounter(overrides.counter);
      cred.signCount = overrides.counter;
    } else {
      cred.signCount = (cred.signCount + 1) >>> 0;
    }

    const authData = this.#authenticatorData({
      rpId: overrides.rpId ?? rpId,
      userPresent: overrides.userPresent ?? true,
      userVerified: overrides.userVerified ?? this.userVerification,
      signCount: cred.signCount,
      backupEligible: overrides.backupEligible ?? this.backupEligible,
      backupState: overrides.backupState ?? this.backupState,
    });

    const clientDataJSON = Buffer.from(
      JSON.stringify({
        type: overrides.type ?? 'webauthn.get',
        challenge: overrides.challenge ?? options.challenge,
        origin: overrides.origin ?? origin,
        crossOrigin: false,
      }),
      'utf8',
    );

    const signature = cryptoSign(
      'sha256',
      Buffer.concat([authData, sha256(clientDataJSON)]),
      cred.privateKey,
    );
    if (overrides.tamperSignature) {
      // The DER SEQUENCE ends with the last byte of s: flipping it keeps the encoding valid
      // while making the signature wrong.
      const last = signature.length - 1;
      signature[last] = (signature[last] ?? 0) ^ 0x01;
    }

    return {
      id: cred.id,
      rawId: cred.id,
      type: 'public-key',
      response: {
        clientDataJSON: b64url(clientDataJSON),
        authenticatorData: b64url(authData),
        signature: b64url(signature),
        userHandle: cred.userHandle,
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'cross-platform',
    };
  }

  /** IDs (base64url) of all stored credentials, in creation/import order. */
  credentialIds(): string[] {
    return [...this.#credentials.keys()];
  }

  /** Current sign counter of a stored credential. */
  getCounter(id: string): number {
    return this.#get(id).signCount;
  }

  setCounter(id: string, n: number): void {
    assertCounter(n);
    this.#get(id).signCount = n;
  }

  /** COSE-encoded public key of a stored credential (what the RP stores after registration). */
  publicKeyCose(id: string): Uint8Array<ArrayBuffer> {
    return coseEc2PublicKey(this.#get(id).publicKey);
  }

  /** Snapshot a credential, private key included, e.g. to clone it into another authenticator. */
  exportCredential(id: string): ExportedSoftCredential {
    const cred = this.#get(id);
    return {
      id: cred.id,
      privateKeyPkcs8: b64url(cred.privateKey.export({ format: 'der', type: 'pkcs8' })),
      rpId: cred.rpId,
      userHandle: cred.userHandle,
      signCount: cred.signCount,
      discoverable: cred.discoverable,
    };
  }

  /** Store a credential previously exported (replaces one with the same ID). */
  importCredential(data: ExportedSoftCredential): void {
    assertCounter(data.signCount);
    const privateKey = createPrivateKey({
      key: fromB64url(data.privateKeyPkcs8),
      format: 'der',
      type: 'pkcs8',
    });
    if (privateKey.asymmetricKeyType !== 'ec' || privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
      throw new TypeError('Imported credential key is not a P-256 EC key');
    }
    this.#credentials.set(data.id, {
      id: data.id,
      privateKey,
      publicKey: createPublicKey(privateKey),
      rpId: data.rpId,
      userHandle: data.userHandle,
      signCount: data.signCount,
      discoverable: data.discoverable,
    });
  }

  #get(id: string): StoredCredential {
    const cred = this.#credentials.get(id);
    if (!cred) throw new Error(`Unknown credential ${id}`);
    return cred;
  }

  #selectCredential(
    options: SoftRequestOptions,
    rpId: string,
    forcedId: string | undefined,
  ): StoredCredential {
    if (forcedId !== undefined) return this.#get(forcedId);

    const allow = options.allowCredentials ?? [];
    if (allow.length > 0) {
      for (const descriptor of allow) {
        const cred = this.#credentials.get(descriptor.id);
        if (cred && cred.rpId === rpId) return cred;
      }
      throw domException('No allowed credential on this authenticator', 'NotAllowedError');
    }

    // Discoverable flow: most recently stored discoverable credential for this RP.
    const candidates = [...this.#credentials.values()].filter(
      (c) => c.rpId === rpId && c.discoverable,
    );
    const picked = candidates[candidates.length - 1];
    if (!picked) {
      throw domException(`No discoverable credential for RP "${rpId}"`, 'NotAllowedError');
    }
    return picked;
  }

  #authenticatorData(args: {
    rpId: string;
    userPresent: boolean;
    userVerified: boolean;
    signCount: number;
    attestedCredentialData?: Buffer;
    backupEligible?: boolean;
    backupState?: boolean;
  }): Buffer {
    let flags = 0;
    if (args.userPresent) flags |= AUTH_DATA_FLAGS.UP;
    if (args.userVerified) flags |= AUTH_DATA_FLAGS.UV;
    if (args.backupEligible ?? this.backupEligible) flags |= AUTH_DATA_FLAGS.BE;
    if (args.backupState ?? this.backupState) flags |= AUTH_DATA_FLAGS.BS;
    if (args.attestedCredentialData) flags |= AUTH_DATA_FLAGS.AT;

    const header = Buffer.alloc(37);
    sha256(args.rpId).copy(header, 0);
    header.writeUInt8(flags, 32);
    header.writeUInt32BE(args.signCount, 33);
    return args.attestedCredentialData
      ? Buffer.concat([header, args.attestedCredentialData])
      : header;
  }
}
