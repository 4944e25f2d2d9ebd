export { type X509ErrorCode, X509Error, isX509Error } from './errors.js';
export { type PemLabel, toPem, fromPem } from './pem.js';
export { type CertificateSigner } from './certificateSigner.js';
export { type DistinguishedName, toName } from './name.js';
export { type SelfSignedCertificateOptions, type EncodedCertificate, createSelfSignedCertificate } from './selfSignedCertificate.js';
export { type EncodedCertificationRequest, createCertificationRequest } from './certificationRequest.js';
export { type ImportedCertificate, importCertificate } from './importCertificate.js';
