/**
 * Enveloped XML signature (XML-DSig, rsa-sha256, exclusive c14n, SHA-256
 * digest, the certificate in ds:KeyInfo) over a document's root element,
 * signed through the asynchronous {@link SamlSigningKey} so the private key
 * stays in the HSM. xml-crypto 6 computes the references and SignedInfo and
 * calls our algorithm object for the SignatureValue.
 */
import type { BinaryLike, KeyLike } from 'node:crypto';
import { type ErrorFirstCallback, type SignatureAlgorithm, SignedXml } from 'xml-crypto';
import { ALG } from '../constants.js';
import type { SamlSigningKey } from '../ports.js';

export interface SignEnvelopedOptions {
  /** Local name of the root element (the one signed, identified by its ID attribute). */
  rootLocalName: string;
  /** Local name of the child after which ds:Signature goes (saml:Issuer for SAML messages and assertions); default: first child. */
  afterLocalName?: string;
}

/** The xml-crypto algorithm class for one key: asynchronous only. */
function algorithmFor(key: SamlSigningKey): new () => SignatureAlgorithm {
  return class HsmRsaSha256 implements SignatureAlgorithm {
    getSignature(signedInfo: BinaryLike, privateKey: KeyLike): string;
    getSignature(signedInfo: BinaryLike, privateKey: KeyLike, callback?: ErrorFirstCallback<string>): void;
    getSignature(signedInfo: BinaryLike, _privateKey: KeyLike, callback?: ErrorFirstCallback<string>): string | void {
      if (!callback) throw new TypeError('the HSM signs asynchronously only');
      // xml-crypto passes the canonical SignedInfo as a string.
      const data = typeof signedInfo === 'string' ? Buffer.from(signedInfo, 'utf8') : Buffer.from(signedInfo.buffer, signedInfo.byteOffset, signedInfo.byteLength);
      key.sign(data).then(
        (signature) => callback(null, Buffer.from(signature).toString('base64')),
        (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))),
      );
    }
    verifySignature(): boolean {
      throw new TypeError('this algorithm object only signs');
    }
    getAlgorithmName(): string {
      return ALG.rsaSha256;
    }
  };
}

/** Signs the root element of `xml` (which must carry an ID attribute) and returns the signed document. */
export function signEnveloped(xml: string, key: SamlSigningKey, options: SignEnvelopedOptions): Promise<string> {
  const sig = new SignedXml({
    // xml-crypto refuses to sign without a private key; the key is in the HSM, this marks it.
    privateKey: 'held-in-the-hsm',
    publicCert: key.certificatePem,
    signatureAlgorithm: ALG.rsaSha256,
    canonicalizationAlgorithm: ALG.excC14n,
  });
  sig.SignatureAlgorithms = { [ALG.rsaSha256]: algorithmFor(key) };
  const root = `/*[local-name(.)='${options.rootLocalName}']`;
  sig.addReference({ xpath: root, transforms: [ALG.enveloped, ALG.excC14n], digestAlgorithm: ALG.sha256 });
  const location = options.afterLocalName
    ? { reference: `${root}/*[local-name(.)='${options.afterLocalName}']`, action: 'after' as const }
    : { reference: root, action: 'prepend' as const };
  return new Promise<string>((resolve, reject) => {
    try {
      sig.computeSignature(xml, { prefix: 'ds', location }, (err, signed) => {
        if (err || !signed) reject(err ?? new Error('no signature computed'));
        else resolve(signed.getSignedXml());
      });
    } catch (err) {
      reject(err);
    }
  });
}
