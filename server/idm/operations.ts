/**
 * Idempotent building blocks over the IdM API client. The API takes no idempotency key, so a
 * retry after an unknown outcome must not repeat a creation blindly: the person's employee is
 * found by the one thing that is ours alone, the subject name id on its LocalIdentityProvider
 * authenticator, before anything is created, and a state change that is already in place counts
 * as done.
 */
import type { IdmClient } from './client.js';
import { IdmError } from './errors.js';
import { type EmployeeSummary, LOCAL_IDP } from './schemas.js';
import { sameSubjectNameId } from './subjectNameId.js';

export interface FindHints {
  email: string | null;
  rid?: string | null;
}

export interface FindOptions {
  /** false: look only at employees the hints point to; true: at every employee (after a 409). */
  exhaustive: boolean;
  /** Most employees whose authenticators are read in one search. */
  maxScan: number;
}

export interface Located {
  uuid: string;
  status: string;
}

/** The LocalIdentityProvider ids of an employee; null when the employee is gone. */
export async function localSubjectNameIds(client: IdmClient, uuid: string): Promise<string[] | null> {
  try {
    const list = await client.listAuthenticators(uuid);
    return list.filter((a) => a.type === LOCAL_IDP && typeof a.id === 'string' && a.id.length > 0).map((a) => a.id ?? '');
  } catch (err) {
    if (err instanceof IdmError && err.code === 'IDM_NOT_FOUND') return null;
    throw err;
  }
}

function pointedTo(e: EmployeeSummary, hints: FindHints): boolean {
  const email = hints.email?.toLowerCase();
  return (email !== undefined && e.emailAddress?.toLowerCase() === email) || (!!hints.rid && e.rid === hints.rid);
}

/** The employee whose LocalIdentityProvider authenticator carries `subjectNameId`, if any. */
export async function findBySubjectNameId(client: IdmClient, subjectNameId: string, hints: FindHints, options: FindOptions): Promise<Located | null> {
  const employees = await client.searchEmployees();
  const first = employees.filter((e) => pointedTo(e, hints));
  const rest = options.exhaustive ? employees.filter((e) => !pointedTo(e, hints)) : [];
  for (const e of [...first, ...rest].slice(0, options.maxScan)) {
    const ids = await localSubjectNameIds(client, e.uuid);
    if (ids?.some((id) => sameSubjectNameId(id, subjectNameId))) return { uuid: e.uuid, status: e.status };
  }
  return null;
}

/** An employee as reconciliation sees it. */
export interface TheirEmployee {
  uuid: string;
  status: string;
  email: string | null;
  /** The ids of its LocalIdentityProvider authenticators (normally one). */
  subjectNameIds: string[];
}

/** Every employee with its LocalIdentityProvider ids, reading authenticators a few at a time. */
export async function collectEmployees(client: IdmClient, concurrency = 4): Promise<TheirEmployee[]> {
  const employees = await client.searchEmployees();
  const out: TheirEmployee[] = [];
  let next = 0;
  const worker = async () => {
    while (next < employees.length) {
      const e = employees[next++];
      if (!e) break;
      const ids = await localSubjectNameIds(client, e.uuid);
      if (ids !== null) out.push({ uuid: e.uuid, status: e.status, email: e.emailAddress ?? null, subjectNameIds: ids });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, employees.length)) }, worker));
  return out.sort((a, b) => a.uuid.localeCompare(b.uuid));
}
