/** FIDO Metadata Service (MDS3): BLOB verification and the metadata in force. */
export { MdsError, isMdsError, type MdsErrorCode } from './errors.js';
export { verifyBlob, MDS_ALGORITHMS, type VerifiedBlob, type VerifyBlobOptions } from './verifyBlob.js';
export { normalizeAaguid, type Entry } from './entry.js';
export {
  CERTIFICATION_LEVELS,
  COMPROMISE_STATUSES,
  isCertificationLevel,
  isCompromiseStatus,
  summarizeStatus,
  type AuthenticatorStatus,
  type CertificationLevel,
  type CompromiseStatus,
  type KnownAuthenticatorStatus,
  type StatusReport,
  type StatusSummary,
} from './status.js';
export { validatePath, parseRoots, parseX5c, type ValidatedPath } from './certificates.js';
export {
  MetadataStore,
  type FetchLike,
  type MdsCurrent,
  type MdsLoadResult,
  type MdsRefusalCode,
  type MetadataStoreOptions,
} from './MetadataStore.js';
