/**
 * The MitID Erhverv IdM API client: one method per call, shapes checked with zod both ways,
 * Bearer from the token manager, and on a 401 one retry with a fresh token. Errors are IdmErrors
 * (errors.ts) saying whether a retry may help. The methods are single calls; operations.ts makes
 * them idempotent for jobs.
 */
import type { z } from 'zod';
import type { Clock } from '../clock.js';
import type { AssuranceLevel } from '../domain/types.js';
import { IdmError, errorForStatus } from './errors.js';
import {
  type Authenticator,
  type EmployeeDetails,
  type EmployeeSummary,
  type IalName,
  LOCAL_IDP,
  PATHS,
  authenticatorsResponseSchema,
  createEmployeeRequestSchema,
  createEmployeeResponseSchema,
  employeeDetailsSchema,
  nonsensitiveProfileRequestSchema,
  searchResponseSchema,
  updateProfileRequestSchema,
} from './schemas.js';
import { type TokenStatus, IdmTokenManager } from './token.js';
import type { CertificateInfo, HttpAnswer, IdmTransport } from './transport.js';

export interface IdmClientOptions {
  transport: IdmTransport;
  clock: Clock;
  /** identityProfile.status of new employees: Active (Local IdM + Local IdP) or Pending. */
  createStatus: 'Active' | 'Pending';
  /** The organisation's invoice method in MitID Erhverv. */
  invoiceMethodUuid: string;
}

/** A person as MitID Erhverv is told about them. */
export interface EmployeeProfile {
  givenName: string;
  surname: string;
  email: string;
  /** The identity assurance the gateway holds for the person (NSIS 3.1). */
  ial: AssuranceLevel;
}

export interface NewEmployee extends EmployeeProfile {
  subjectNameId: string;
  rid: string | null;
}

export const IAL_NAME: Readonly<Record<AssuranceLevel, IalName>> = { low: 'Low', substantial: 'Substantial', high: 'High' };

function checked<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new IdmError('IDM_INVALID_REQUEST', `${what}: the data does not fit the request`, { cause: r.error });
  return r.data;
}

function parsed<T>(schema: z.ZodType<T>, answer: HttpAnswer, what: string): T {
  const r = schema.safeParse(answer.body);
  if (!r.success) throw new IdmError('IDM_BAD_RESPONSE', `${what}: the answer has an unexpected shape`, { cause: r.error, status: answer.status });
  return r.data;
}

export interface IdmClientStatus {
  token: TokenStatus;
  certificate: CertificateInfo | null;
}

export class IdmClient {
  private readonly tokens: IdmTokenManager;

  constructor(private readonly options: IdmClientOptions) {
    this.tokens = new IdmTokenManager(options.transport, options.clock);
  }

  status(): IdmClientStatus {
    return { token: this.tokens.status(), certificate: this.options.transport.clientCertificate() };
  }

  close(): void {
    this.options.transport.close();
  }

  /** One authorised call; a 401 gets one fresh token and one retry. Non-2xx throws. */
  private async call(method: string, path: string, json: unknown, what: string): Promise<HttpAnswer> {
    for (let attempt = 1; ; attempt++) {
      const token = await this.tokens.current();
      const answer = await this.options.transport.send(method, path, json === undefined ? { bearer: token } : { json, bearer: token }, what);
      if (answer.status === 401 && attempt === 1) {
        this.tokens.invalidate(token);
        continue;
      }
      if (answer.status < 200 || answer.status > 299) throw errorForStatus(answer.status, what, answer.snippet, answer.retryAfterSeconds);
      return answer;
    }
  }

  /** POST employee -> employeeUuid. 409 (an account exists) throws IDM_CONFLICT. */
  async createEmployee(e: NewEmployee): Promise<string> {
    const what = 'IdM create employee';
    const body = checked(
      createEmployeeRequestSchema,
      {
        identityProfile: {
          status: this.options.createStatus,
          registeredIal: IAL_NAME[e.ial],
          targetIal: IAL_NAME[e.ial],
          givenName: e.givenName,
          surname: e.surname,
          emailAddress: e.email,
          ...(e.rid ? { rid: e.rid } : {}),
        },
        identityOrganizationProfile: { invoiceMethodUuid: this.options.invoiceMethodUuid },
        identityAuthenticators: { authenticatorTypes: [LOCAL_IDP], subjectNameId: e.subjectNameId },
      },
      what,
    );
    return parsed(createEmployeeResponseSchema, await this.call('POST', PATHS.employees, body, what), what).employeeUuid;
  }

  /** GET employee; null when there is none with that uuid. */
  async getEmployee(uuid: string): Promise<EmployeeDetails | null> {
    const what = 'IdM get employee';
    try {
      return parsed(employeeDetailsSchema, await this.call('GET', PATHS.employee(uuid), undefined, what), what);
    } catch (err) {
      if (err instanceof IdmError && err.code === 'IDM_NOT_FOUND') return null;
      throw err;
    }
  }

  /** PUT profile: name, email and assurance. */
  async updateProfile(uuid: string, p: EmployeeProfile): Promise<void> {
    const what = 'IdM update profile';
    const body = checked(updateProfileRequestSchema, { registeredIal: IAL_NAME[p.ial], targetIal: IAL_NAME[p.ial], givenName: p.givenName, surname: p.surname, emailAddress: p.email }, what);
    await this.call('PUT', PATHS.profile(uuid), body, what);
  }

  /** PUT profile/nonsensitive: the email alone. */
  async updateEmail(uuid: string, email: string): Promise<void> {
    const what = 'IdM update email';
    await this.call('PUT', PATHS.nonsensitive(uuid), checked(nonsensitiveProfileRequestSchema, { emailAddress: email }, what), what);
  }

  async suspend(uuid: string): Promise<void> {
    await this.call('PUT', PATHS.suspend(uuid), undefined, 'IdM suspend employee');
  }

  async reactivate(uuid: string): Promise<void> {
    await this.call('PUT', PATHS.reactivate(uuid), undefined, 'IdM reactivate employee');
  }

  /** DELETE employee; 404 means it is already gone. */
  async deleteEmployee(uuid: string): Promise<'deleted' | 'already-gone'> {
    try {
      await this.call('DELETE', PATHS.employee(uuid), undefined, 'IdM delete employee');
      return 'deleted';
    } catch (err) {
      if (err instanceof IdmError && err.code === 'IDM_NOT_FOUND') return 'already-gone';
      throw err;
    }
  }

  /** POST employee/search: every employee of the organisation. */
  async searchEmployees(): Promise<EmployeeSummary[]> {
    const what = 'IdM search employees';
    return parsed(searchResponseSchema, await this.call('POST', PATHS.search, { maxCount: 0, removeUuidFromResultSet: false }, what), what).employees;
  }

  /** GET authenticators of an employee (LocalIdentityProvider's `id` is the subject name id). */
  async listAuthenticators(uuid: string): Promise<Authenticator[]> {
    const what = 'IdM list authenticators';
    return parsed(authenticatorsResponseSchema, await this.call('GET', PATHS.authenticators(uuid), undefined, what), what).authenticators;
  }
}
