/**
 * Encryption of the signed Assertion to the SP (saml-core 6.2, XML-Enc 1.1)
 * with xml-encryption 6: OIOSAML 3 content encryption AES-256-GCM and key
 * transport RSA-OAEP (xmlenc11) with SHA-256 and MGF1-SHA-256, EncryptedKey
 * inline. The legacy pair (AES-256-CBC, rsa-oaep-mgf1p) only when the SP's
 * metadata lists md:EncryptionMethod values that exclude the modern ones
 * (OIOSAML.Net advertises them).
 */
import { X509Certificate } from 'node:crypto';
import { createRequire } from 'node:module';
import { ALG } from './constants.js';

export interface EncryptionChoice {
  content: typeof ALG.aes256Gcm | typeof ALG.aes128Gcm | typeof ALG.aes256Cbc;
  keyTransport: typeof ALG.rsaOaep11 | typeof ALG.rsaOaepMgf1p;
}

export const MODERN_ENCRYPTION: EncryptionChoice = Object.freeze({ content: ALG.aes256Gcm, keyTransport: ALG.rsaOaep11 });

/**
 * The algorithms to use for an SP, from its md:EncryptionMethod list: the
 * modern ones unless the SP lists content or key-transport algorithms and
 * none of them is a modern one.
 */
export function chooseEncryption(methods: readonly string[]): EncryptionChoice {
  const has = (uri: string) => methods.includes(uri);
  const listsContent = methods.some((m) => m === ALG.aes256Gcm || m === ALG.aes128Gcm || m === ALG.aes256Cbc || m.endsWith('#aes128-cbc'));
  const listsTransport = methods.some((m) => m === ALG.rsaOaep11 || m === ALG.rsaOaepMgf1p);
  let content: EncryptionChoice['content'] = ALG.aes256Gcm;
  if (listsContent && !has(ALG.aes256Gcm)) content = has(ALG.aes128Gcm) ? ALG.aes128Gcm : ALG.aes256Cbc;
  const keyTransport: EncryptionChoice['keyTransport'] = listsTransport && !has(ALG.rsaOaep11) ? ALG.rsaOaepMgf1p : ALG.rsaOaep11;
  return { content, keyTransport };
}

interface XmlEncryptOptions {
  rsa_pub: string;
  pem: string;
  encryptionAlgorithm: string;
  keyEncryptionAlgorithm: string;
  keyEncryptionDigest?: 'sha1' | 'sha256';
  keyEncryptionMgf?: 'sha256';
  disallowEncryptionWithInsecureAlgorithm?: boolean;
  warnInsecureAlgorithm?: boolean;
}

interface XmlEncryptionModule {
  encrypt(content: string, options: XmlEncryptOptions, callback: (err: Error | null, result?: string) => void): void;
}

// Typed here: @types/xml-encryption describes 1.x and lacks xmlenc11 rsa-oaep with its digest and MGF options.
const xmlenc: XmlEncryptionModule = createRequire(import.meta.url)('xml-encryption');

/**
 * Encrypts `assertionXml` to the certificate (PEM) and returns the
 * `<saml:EncryptedAssertion>` element.
 */
export function encryptAssertion(assertionXml: string, certificatePem: string, choice: EncryptionChoice = MODERN_ENCRYPTION): Promise<string> {
  const publicKey = new X509Certificate(certificatePem).publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const modern = choice.keyTransport === ALG.rsaOaep11;
  const options: XmlEncryptOptions = {
    rsa_pub: publicKey,
    pem: certificatePem,
    encryptionAlgorithm: choice.content,
    keyEncryptionAlgorithm: choice.keyTransport,
    keyEncryptionDigest: modern ? 'sha256' : 'sha1',
    // AES-CBC is "insecure" to xml-encryption (no integrity); allowed only as the SP's explicit legacy choice.
    disallowEncryptionWithInsecureAlgorithm: choice.content !== ALG.aes256Cbc,
    warnInsecureAlgorithm: false,
  };
  if (modern) options.keyEncryptionMgf = 'sha256';
  return new Promise<string>((resolve, reject) => {
    xmlenc.encrypt(assertionXml, options, (err, result) => {
      if (err || !result) reject(err ?? new Error('xml-encryption returned nothing'));
      else resolve(`<saml:EncryptedAssertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">${result.trim()}</saml:EncryptedAssertion>`);
    });
  });
}
