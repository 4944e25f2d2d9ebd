/**
 * Configuration of the outbound sync to MitID Erhverv, from ONE table of keys. Without
 * GATEWAY_IDM_BASE_URL the sync is off (and the admin page says so); with it, the certificate,
 * its password file and the invoice method are required, and a half-done configuration stops the
 * start naming the key.
 */
import path from 'node:path';
import { ConfigError } from '../configValues.js';
import { type SubjectNameIdRule, SubjectNameIdError, parseSubjectNameIdRule } from './subjectNameId.js';

type Env = Record<string, string | undefined>;

/** The keys, their defaults and what they mean (README "Configuration" lists them). */
export const IDM_CONFIG_KEYS = [
  { name: 'GATEWAY_IDM_BASE_URL', default: '', doc: 'https URL of the MitID Erhverv IdM API (e.g. https://services.nemlog-in.dk); unset: outbound sync off' },
  { name: 'GATEWAY_IDM_PKCS12_FILE', default: '', doc: "PKCS#12 file with the organisation's OCES system certificate (right: IdM services); mode 0600" },
  { name: 'GATEWAY_IDM_PKCS12_PASSWORD_FILE', default: '', doc: 'file holding the PKCS#12 password; mode 0600' },
  { name: 'GATEWAY_IDM_CA_FILE', default: '', doc: "PEM trust anchors used INSTEAD of the public roots for the API's server certificate (integration test environments)" },
  { name: 'GATEWAY_IDM_INVOICE_METHOD_UUID', default: '', doc: "the organisation's invoice method uuid in MitID Erhverv, given to new employees" },
  { name: 'GATEWAY_IDM_CREATE_STATUS', default: 'Active', doc: 'status of new employees: Active (Local IdM with Local IdP, NSIS-notified identity proofing) or Pending' },
  { name: 'GATEWAY_IDM_TIMEOUT_MS', default: '30000', doc: 'deadline of one API call, connection included' },
  { name: 'GATEWAY_IDM_MAX_RESPONSE_BYTES', default: String(32 * 1024 * 1024), doc: 'largest answer read (the employee search lists everyone)' },
  { name: 'GATEWAY_IDM_SUBJECT_NAME_ID_SOURCES', default: 'externalId,identityId', doc: 'where the subject name id comes from, first with a value wins: externalId, userName, employeeNumber, identityId' },
  { name: 'GATEWAY_IDM_SUBJECT_NAME_ID_SUFFIX', default: '', doc: 'appended to the subject name id (e.g. @kommune.dk after a bare account name)' },
  { name: 'GATEWAY_IDM_SUBJECT_NAME_ID_LOWERCASE', default: 'false', doc: 'lower-case the subject name id' },
  { name: 'GATEWAY_IDM_RECONCILE_HOUR', default: '2', doc: 'local hour (0-23) of the nightly reconciliation' },
  { name: 'GATEWAY_IDM_LEASE_SECONDS', default: '600', doc: "how long a claimed IdM job is its instance's before another may run it (a crashed instance's jobs wait this long); at least 4 x GATEWAY_IDM_TIMEOUT_MS" },
] as const;

export interface IdmConfig {
  enabled: true;
  baseUrl: string;
  pkcs12File: string;
  passwordFile: string;
  caFile: string | undefined;
  invoiceMethodUuid: string;
  createStatus: 'Active' | 'Pending';
  timeoutMs: number;
  maxResponseBytes: number;
  subjectNameId: SubjectNameIdRule;
  reconcileHour: number;
  /** A claimed job's lease (IdmDispatcher). */
  leaseSeconds: number;
}

export type IdmSetting = IdmConfig | { enabled: false; reason: string };

const value = (env: Env, key: string) => {
  const v = env[key];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
};

function int(env: Env, key: string, fallback: number, min: number, max: number): number {
  const raw = value(env, key);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(key, `expected a whole number, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(key, `must be between ${min} and ${max}, got ${n}`);
  return n;
}

export function loadIdmConfig(env: Env, cwd: string): IdmSetting {
  const base = value(env, 'GATEWAY_IDM_BASE_URL');
  if (base === undefined) return { enabled: false, reason: 'GATEWAY_IDM_BASE_URL is not set: nothing is sent to MitID Erhverv.' };
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new ConfigError('GATEWAY_IDM_BASE_URL', `not a URL: "${base}"`);
  }
  // NSIS 4.1.6 (Low) 2: personal data and the token travel over this channel.
  if (url.protocol !== 'https:') throw new ConfigError('GATEWAY_IDM_BASE_URL', 'must use https://');
  const required = (key: string) => {
    const v = value(env, key);
    if (v === undefined) throw new ConfigError(key, 'required when GATEWAY_IDM_BASE_URL is set');
    return v;
  };
  const invoice = required('GATEWAY_IDM_INVOICE_METHOD_UUID');
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(invoice)) throw new ConfigError('GATEWAY_IDM_INVOICE_METHOD_UUID', 'must be a uuid');
  const status = value(env, 'GATEWAY_IDM_CREATE_STATUS') ?? 'Active';
  if (status !== 'Active' && status !== 'Pending') throw new ConfigError('GATEWAY_IDM_CREATE_STATUS', 'must be Active or Pending');
  const lower = value(env, 'GATEWAY_IDM_SUBJECT_NAME_ID_LOWERCASE') ?? 'false';
  if (lower !== 'true' && lower !== 'false') throw new ConfigError('GATEWAY_IDM_SUBJECT_NAME_ID_LOWERCASE', 'expected true or false');
  let subjectNameId: SubjectNameIdRule;
  try {
    subjectNameId = parseSubjectNameIdRule(value(env, 'GATEWAY_IDM_SUBJECT_NAME_ID_SOURCES'), value(env, 'GATEWAY_IDM_SUBJECT_NAME_ID_SUFFIX'), lower === 'true');
  } catch (err) {
    if (err instanceof SubjectNameIdError) throw new ConfigError('GATEWAY_IDM_SUBJECT_NAME_ID_SOURCES', err.message);
    throw err;
  }
  const caFile = value(env, 'GATEWAY_IDM_CA_FILE');
  const timeoutMs = int(env, 'GATEWAY_IDM_TIMEOUT_MS', 30_000, 1000, 180_000);
  const leaseSeconds = int(env, 'GATEWAY_IDM_LEASE_SECONDS', 600, 5, 86_400);
  // A job makes a few calls (token, search, create or change): its lease must outlast them, or a
  // second instance would run it while the first is still at it.
  if (leaseSeconds * 1000 < 4 * timeoutMs) throw new ConfigError('GATEWAY_IDM_LEASE_SECONDS', `must be at least 4 x GATEWAY_IDM_TIMEOUT_MS (${Math.ceil((4 * timeoutMs) / 1000)} s)`);
  return {
    enabled: true,
    baseUrl: url.origin + url.pathname.replace(/\/$/, ''),
    pkcs12File: path.resolve(cwd, required('GATEWAY_IDM_PKCS12_FILE')),
    passwordFile: path.resolve(cwd, required('GATEWAY_IDM_PKCS12_PASSWORD_FILE')),
    caFile: caFile ? path.resolve(cwd, caFile) : undefined,
    invoiceMethodUuid: invoice.toLowerCase(),
    createStatus: status,
    timeoutMs,
    maxResponseBytes: int(env, 'GATEWAY_IDM_MAX_RESPONSE_BYTES', 32 * 1024 * 1024, 64 * 1024, 512 * 1024 * 1024),
    subjectNameId,
    reconcileHour: int(env, 'GATEWAY_IDM_RECONCILE_HOUR', 2, 0, 23),
    leaseSeconds,
  };
}
