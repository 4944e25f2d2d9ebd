/**
 * A PKCS#10 certification request (RFC 2986) for a key on the token, signed
 * by that key (proof of possession), to send to a CA such as OCES3.
 */
import { CertificationRequest, CertificationRequestInfo } from '@peculiar/asn1-csr';
import { type CertificateSigner, arrayBuffer, der, signatureAlgorithm, subjectPublicKeyInfo } from './certificateSigner.js';
import { type DistinguishedName, toName } from './name.js';
import { toPem } from './pem.js';

export interface EncodedCertificationRequest {
  der: Uint8Array;
  pem: string;
}

/** Version 0, the subject, the key and no attributes (the CA decides extensions by its profile). */
export async function createCertificationRequest(signer: CertificateSigner, subject: DistinguishedName): Promise<EncodedCertificationRequest> {
  const info = new CertificationRequestInfo({ version: 0, subject: toName(subject), subjectPKInfo: subjectPublicKeyInfo(signer) });
  const signature = await signer.sign(der(info));
  const request = new CertificationRequest({ certificationRequestInfo: info, signatureAlgorithm: signatureAlgorithm(), signature: arrayBuffer(signature) });
  const encoded = der(request);
  return { der: encoded, pem: toPem(encoded, 'CERTIFICATE REQUEST') };
}
