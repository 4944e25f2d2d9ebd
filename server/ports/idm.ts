/**
 * The store port's repository of the outbound sync to MitID Erhverv (issue 18): subject name ids
 * and the IdM job queue. Claiming is atomic across processes and instances: a job is claimed by
 * one caller at a time, one person's jobs in their order, and only the claim that ran a job may
 * record its result (a claimer whose lease ran out and was taken over records nothing).
 */
import type { IdmJobRecord, IdmJobResult, IdmJobState, IdmPerson, NewIdmJob } from '../domain/idm.js';

export interface IdmReader {
  person(identityId: string): Promise<IdmPerson | undefined>;
  bySubjectNameId(subjectNameId: string): Promise<IdmPerson | undefined>;
  /** Every person with a subject name id, by identity id (reconciliation). */
  people(): Promise<IdmPerson[]>;
  /** Ids of people whose binding is active and who have no subject name id yet, oldest binding first (the backfill). */
  unlinked(limit: number): Promise<string[]>;
  /** Newest first. */
  jobs(limit: number): Promise<IdmJobRecord[]>;
  jobsOf(identityId: string): Promise<IdmJobRecord[]>;
  counts(): Promise<Record<IdmJobState, number>>;
}
export interface IdmRepo extends IdmReader {
  /** A subject name id (or a person) recorded already is refused (StoreConflict). */
  insertPerson(p: IdmPerson): Promise<void>;
  setEmployeeUuid(identityId: string, employeeUuid: string | null): Promise<void>;
  enqueue(j: NewIdmJob): Promise<void>;
  /**
   * Claims up to `limit` pending jobs due at `at` whose lease is free or ran out, oldest first,
   * none of whose person has an earlier job still pending, for `holder` until `leaseUntil`
   * (attempts + 1).
   */
  claimDue(at: string, leaseUntil: string, holder: string, limit: number): Promise<IdmJobRecord[]>;
  /** Fenced: true only while `holder` still holds the claim with `attempts`; the lease is released. */
  finish(seq: number, holder: string, attempts: number, result: IdmJobResult, at: string): Promise<boolean>;
}
