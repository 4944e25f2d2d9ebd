/**
 * Records of the outbound sync to MitID Erhverv (issue 18): each person's subject name id (one
 * value, frozen at binding: the LocalIdentityProvider id there and the persistent SAML NameID)
 * with the employee uuid MitID Erhverv gave, and the IdM jobs (server/idm/jobs.ts) queued in the
 * transaction of the change they carry. No I/O.
 */

export interface IdmPerson {
  identityId: string;
  subjectNameId: string;
  employeeUuid: string | null;
  createdAt: string;
}

export const IDM_JOB_STATES = ['pending', 'done', 'failed'] as const;
export type IdmJobState = (typeof IDM_JOB_STATES)[number];

export interface IdmJobRecord {
  /** Queue order (one person's jobs run in this order). */
  seq: number;
  id: string;
  identityId: string;
  kind: string;
  /** The job as JSON (idmJobSchema of server/idm/jobs.ts). */
  payload: string;
  state: IdmJobState;
  /** Claims so far (the current one included while claimed). */
  attempts: number;
  nextAttemptAt: string;
  /** While claimed: until when, and by whom. */
  leaseUntil: string | null;
  claimedBy: string | null;
  lastError: string | null;
  /** How it ended (runJob's note, e.g. created, linked, already-gone). */
  note: string | null;
  createdAt: string;
  finishedAt: string | null;
}

export type NewIdmJob = Pick<IdmJobRecord, 'id' | 'identityId' | 'kind' | 'payload' | 'createdAt'>;

/** What a claimer records for a job it ran (fenced: only while its claim holds). */
export type IdmJobResult =
  | { state: 'done'; note: string }
  | { state: 'failed'; error: string }
  | { state: 'pending'; error: string; nextAttemptAt: string };
