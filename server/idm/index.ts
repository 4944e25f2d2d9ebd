/**
 * server/idm: keeping MitID Erhverv in step with the gateway through its IdM API (MitID Erhverv
 * Local IdM combined with Local IdP): the mTLS client, the job model with runJob, the backoff
 * policy, reconciliation and the subject name id. Part 2 of issue 18 runs the jobs from the
 * transactional outbox.
 */
export { type IdmErrorCode, IdmError, isIdmError } from './errors.js';
export {
  PATHS as IDM_PATHS,
  IAL_NAMES,
  type IalName,
  LOCAL_IDP,
  type EmployeeSummary,
  type EmployeeDetails,
  type Authenticator,
  type TokenResponse,
  type CreateEmployeeRequest,
  type UpdateProfileRequest,
  subjectNameIdSchema,
  tokenResponseSchema,
  createEmployeeRequestSchema,
  createEmployeeResponseSchema,
  updateProfileRequestSchema,
  nonsensitiveProfileRequestSchema,
  searchRequestSchema,
  searchResponseSchema,
  employeeDetailsSchema,
  authenticatorsResponseSchema,
} from './schemas.js';
export { type IdmCredentials, type IdmCredentialFiles, loadIdmCredentials } from './credentials.js';
export { type TransportOptions, type CertificateInfo, IdmTransport } from './transport.js';
export { type TokenStatus, IdmTokenManager } from './token.js';
export { type IdmClientOptions, type EmployeeProfile, type NewEmployee, type IdmClientStatus, IAL_NAME, IdmClient } from './client.js';
export { type PersonForProfile, employeeProfileOf } from './profile.js';
export {
  type SubjectNameIdSource,
  type SubjectNameIdRule,
  type SubjectNameIdInput,
  SUBJECT_NAME_ID_SOURCES,
  DEFAULT_SUBJECT_NAME_ID_RULE,
  SubjectNameIdError,
  parseSubjectNameIdRule,
  deriveSubjectNameId,
  sameSubjectNameId,
} from './subjectNameId.js';
export { type FindHints, type FindOptions, type Located, type TheirEmployee, findBySubjectNameId, collectEmployees, localSubjectNameIds } from './operations.js';
export {
  IDM_JOB_KINDS,
  type IdmJobKind,
  type IdmJob,
  type DoneNote,
  type JobFailureCode,
  type JobOutcome,
  type RunJobOptions,
  DEFAULT_RUN_JOB_OPTIONS,
  idmJobSchema,
  runJob,
} from './jobs.js';
export { type BackoffPolicy, type NextStep, DEFAULT_BACKOFF, retryDelaySeconds, nextStep } from './backoff.js';
export {
  type OurPerson,
  type FindingKind,
  type Finding,
  type IdmJobSpec,
  type Repair,
  type ReconciliationReport,
  FINDING_KINDS,
  RECONCILIATION_RULES,
  reconcile,
} from './reconcile.js';
export { IDM_CONFIG_KEYS, type IdmConfig, type IdmSetting, loadIdmConfig } from './config.js';
export { connectIdm } from './connect.js';
