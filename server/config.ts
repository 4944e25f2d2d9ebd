/**
 * Configuration: process.env -> frozen, typed config. Fails fast naming the bad key.
 * Every key is documented in README.md ("Configuration").
 */
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_LANGUAGE, LANGUAGES, isLanguage, isTimeZone, type Language } from '../i18n/index.js';
import { isValidCvr } from './domain/cvr.js';
import { IDENTITY_ASSURANCE_LEVELS, type AssuranceLevel } from './domain/types.js';
import { CERTIFICATION_ORDER, type AttestationPolicy } from './assurance/policy.js';
import { PROXY_ADDRESS_NAMES, isIpOrCidr } from './net/addresses.js';
import { ConfigError, type Env, bool, int, oneOf, optional, str } from './configValues.js';
import { hsmSettings, type HsmSettings } from './hsmConfig.js';
import { samlSettings, type SamlSettings } from './samlConfig.js';
import { DatabaseUrl, DatabaseUrlError } from './store/postgres/databaseUrl.js';
import { readPasswordFile } from './store/postgres/passwordFile.js';
import { type ScimConfig, loadScimConfig } from './scim/config.js';
import { type IdmSetting, loadIdmConfig } from './idm/config.js';

export { ConfigError };
export type { HsmSettings, SamlSettings };

export type OutboxKind = 'file' | 'smtp';

/** GATEWAY_DATABASE_URL and friends: the PostgreSQL backend (docs/architecture-postgres.md). */
export interface PostgresSettings {
  /** Parsed and checked; prints with the password as `***`. */
  url: DatabaseUrl;
  /** GATEWAY_DATABASE_PASSWORD_FILE, read when the pool is built. */
  passwordFile: string | undefined;
  /** Connections each gateway process may open (GATEWAY_DATABASE_POOL_SIZE). */
  poolSize: number;
}
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'silent';

export interface SmtpConfig {
  host: string;
  port: number;
  secure: boolean;
  user: string | undefined;
  passwordFile: string | undefined;
  from: string;
  rejectUnauthorized: boolean;
}

export interface Config {
  port: number;
  host: string;
  origin: string;
  rpId: string;
  rpName: string;
  varDir: string;
  dbFile: string;
  /**
   * SQLite (issue 17): who copies the WAL into the database file past 1,000 pages: a thread off
   * the event loop ('thread', default) or SQLite inside that COMMIT ('commit'). GATEWAY_SQLITE_CHECKPOINT.
   */
  sqliteCheckpoint: 'thread' | 'commit';
  /** PostgreSQL when GATEWAY_DATABASE_URL is set; undefined means SQLite in dbFile. */
  database: PostgresSettings | undefined;
  /** Issue 18: the SCIM service provider at /scim/v2 (server/scim/config.ts has its keys). */
  scim: ScimConfig;
  /** Issue 18: the outbound sync to MitID Erhverv (server/idm/config.ts); off without GATEWAY_IDM_BASE_URL. */
  idm: IdmSetting;
  secretFile: string;
  bodyLimitBytes: number;
  /**
   * Which reverse proxies' X-Forwarded-For Express believes: false (none), a hop count, or the
   * proxies' addresses and CIDR blocks (or loopback, linklocal, uniquelocal). Never `true`.
   */
  trustProxy: false | number | string[];
  /**
   * Development mode: a gateway only this machine reaches (http://localhost). It lets relying
   * parties register back-channel logout URIs on loopback or private addresses; off otherwise.
   */
  developmentMode: boolean;
  logLevel: LogLevel;
  enrolmentTtlMinutes: number;
  activationCodeTtlMinutes: number;
  challengeTtlSeconds: number;
  sessionIdleMinutes: number;
  sessionAbsoluteMinutes: number;
  outbox: OutboxKind;
  outboxDir: string;
  smtp: SmtpConfig | undefined;
  seedDemo: boolean;
  /** Worker processes serving HTTP (node:cluster); 1 runs in this process, no cluster. */
  workers: number;
  demo: { orgName: string; orgCvr: string; adminName: string; adminEmail: string };
  hsm: HsmSettings;
  /** Cookies get Secure and the __Host- prefix unless the origin is http://localhost. */
  secureCookies: boolean;
  tokenTtlSeconds: number;
  tokenAudiences: string[];
  federationLevel: AssuranceLevel;
  keyPropagationSeconds: number;
  auditCheckpointEvery: number;
  auditCheckpointSeconds: number;
  auditRetentionDays: number;
  /** The witness directory every checkpoint is also written to, outside the database. */
  auditWitnessDir: string;
  /** Optional remote witness: each checkpoint note is POSTed here. */
  auditWitnessUrl: string | undefined;
  /** Bearer token for the remote witness, if it wants one. */
  auditWitnessToken: string | undefined;
  stepUpMinutes: number;
  helpdeskActionsPerHour: number;
  bulkApprovalThreshold: number;
  oidcClientsFile: string | undefined;
  /** The OIOSAML 3 identity provider (issue 15; samlConfig.ts). */
  saml: SamlSettings;
  attestation: AttestationPolicy & { conveyance: 'direct' | 'enterprise' };
  mds: { blobFile: string | undefined; rootFile: string | undefined; url: string | undefined };
  /** Bearer token for GET /metrics; without one, /metrics answers loopback clients only. */
  metricsToken: string | undefined;
  /**
   * Requests a minute on the ceremony endpoints (enrolment, activation, sign-in, OIDC authorize
   * and token) per client IP, per account (email, enrolment link or credential id) and client,
   * and failed requests per account from untrusted clients before each is delayed; 0 is off.
   */
  rateLimit: { ipPerMinute: number; accountPerMinute: number; accountSoftPerMinute: number };
  /** IANA time zone the mails write times in (with the zone named), e.g. Europe/Copenhagen. */
  timeZone: string;
  /** The organisation's language (GATEWAY_DEFAULT_LANGUAGE): mails to a person who chose none, pages and problems when nothing else says. */
  defaultLanguage: Language;
}

/** GATEWAY_WORKERS: a count, or `auto` (the default) for one per CPU the process may use, at most 16. */
function workers(env: Env): number {
  const raw = env['GATEWAY_WORKERS'];
  if (raw === undefined || raw === '' || raw === 'auto') return Math.max(1, Math.min(16, os.availableParallelism()));
  return int(env, 'GATEWAY_WORKERS', 1, 1, 64);
}

/**
 * GATEWAY_TRUST_PROXY (issue 13, 2): `true` would make Express believe the leftmost address of
 * X-Forwarded-For, which any client writes itself (a forged 127.0.0.1 opened /metrics and a
 * rotating one passed the per-IP limit). A hop count or the proxies' own addresses make Express
 * take the address the nearest untrusted hop reported.
 */
function trustProxy(env: Env): false | number | string[] {
  const key = 'GATEWAY_TRUST_PROXY';
  const raw = optional(env, key)?.trim();
  if (raw === undefined || raw === 'false' || raw === '0') return false;
  if (raw === 'true') {
    throw new ConfigError(
      key,
      'true would trust every hop, so any client could forge X-Forwarded-For (e.g. 127.0.0.1 to reach /metrics). Give the number of reverse proxies in front of the gateway (e.g. 1) or their addresses (e.g. 10.0.0.5,10.0.1.0/24 or loopback)',
    );
  }
  if (/^\d+$/.test(raw)) {
    const hops = Number(raw);
    if (hops > 10) throw new ConfigError(key, `a hop count must be between 1 and 10, got ${hops}`);
    return hops;
  }
  const list = raw.split(',').map((e) => e.trim()).filter((e) => e.length > 0);
  for (const entry of list) {
    if (!(PROXY_ADDRESS_NAMES as readonly string[]).includes(entry) && !isIpOrCidr(entry)) {
      throw new ConfigError(key, `"${entry}" is neither an IP address, a CIDR block (10.0.0.0/8) nor one of ${PROXY_ADDRESS_NAMES.join(', ')}`);
    }
  }
  if (list.length === 0) throw new ConfigError(key, 'name a hop count or at least one proxy address');
  return list;
}

/** A scrape token must be long and plain enough to be a real secret in an HTTP header. */
function metricsToken(env: Env): string | undefined {
  const token = optional(env, 'GATEWAY_METRICS_TOKEN');
  if (token !== undefined && !/^[A-Za-z0-9._~+/=-]{32,512}$/.test(token)) {
    throw new ConfigError('GATEWAY_METRICS_TOKEN', 'must be 32 to 512 characters of A-Z a-z 0-9 . _ ~ + / = - (e.g. openssl rand -hex 32)');
  }
  return token;
}

/** GATEWAY_TIME_ZONE: an IANA zone the runtime knows (mails name it next to every time). */
function timeZone(env: Env): string {
  const zone = str(env, 'GATEWAY_TIME_ZONE', 'Europe/Copenhagen');
  if (!isTimeZone(zone)) throw new ConfigError('GATEWAY_TIME_ZONE', `"${zone}" is not an IANA time zone, e.g. Europe/Copenhagen`);
  return zone;
}

/** GATEWAY_DEFAULT_LANGUAGE: one of the languages the catalogues have (i18n/languages.ts). */
function defaultLanguage(env: Env): Language {
  const raw = str(env, 'GATEWAY_DEFAULT_LANGUAGE', DEFAULT_LANGUAGE);
  if (!isLanguage(raw)) throw new ConfigError('GATEWAY_DEFAULT_LANGUAGE', `"${raw}" is not one of ${LANGUAGES.join(', ')}`);
  return raw;
}

/** The remote audit witness: https, or http to a loopback address (a sink on the same host or a tunnel). */
function witnessUrl(env: Env): string | undefined {
  const raw = optional(env, 'GATEWAY_AUDIT_WITNESS_URL');
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('GATEWAY_AUDIT_WITNESS_URL', `not a URL: "${raw}"`);
  }
  const loopback = url.hostname === 'localhost' || url.hostname === '127.0.0.1' || url.hostname === '[::1]';
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new ConfigError('GATEWAY_AUDIT_WITNESS_URL', 'must use https:// (http:// only to a loopback address)');
  }
  if (url.username || url.password) throw new ConfigError('GATEWAY_AUDIT_WITNESS_URL', 'must not hold credentials; use GATEWAY_AUDIT_WITNESS_TOKEN');
  return url.href;
}

function witnessToken(env: Env): string | undefined {
  const token = optional(env, 'GATEWAY_AUDIT_WITNESS_TOKEN');
  if (token !== undefined && !/^[A-Za-z0-9._~+/=-]{16,512}$/.test(token)) {
    throw new ConfigError('GATEWAY_AUDIT_WITNESS_TOKEN', 'must be 16 to 512 characters of A-Z a-z 0-9 . _ ~ + / = -');
  }
  return token;
}

/** NSIS 6 (Substantial) 9: tokens are only ever issued for these named audiences. */
function audiences(env: Env): string[] {
  const raw = str(env, 'GATEWAY_TOKEN_AUDIENCES', 'urn:demo:intranet');
  const list = raw.split(',').map((a) => a.trim()).filter((a) => a.length > 0);
  if (list.length === 0) throw new ConfigError('GATEWAY_TOKEN_AUDIENCES', 'name at least one audience');
  for (const a of list) {
    if (!/^(urn:[A-Za-z0-9][A-Za-z0-9-]{0,31}:\S+|https:\/\/\S+)$/.test(a)) {
      throw new ConfigError('GATEWAY_TOKEN_AUDIENCES', `"${a}" is neither a URN nor an https URL`);
    }
  }
  return list;
}

function aaguids(env: Env, key: string): string[] {
  const list = (env[key] ?? '').split(',').map((a) => a.trim().toLowerCase()).filter((a) => a.length > 0);
  for (const a of list) {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(a)) throw new ConfigError(key, `"${a}" is not an AAGUID`);
  }
  return list;
}

/**
 * GATEWAY_DATABASE_URL selects PostgreSQL; unset, the gateway runs on SQLite (GATEWAY_DB_FILE).
 * The URL is checked here (server/store/postgres/databaseUrl.ts) and never echoed: it may hold
 * the password.
 */
function postgresSettings(env: Env, cwd: string): PostgresSettings | undefined {
  const raw = optional(env, 'GATEWAY_DATABASE_URL');
  const passwordFileRaw = optional(env, 'GATEWAY_DATABASE_PASSWORD_FILE');
  if (raw === undefined) {
    for (const key of ['GATEWAY_DATABASE_PASSWORD_FILE', 'GATEWAY_DATABASE_POOL_SIZE']) {
      if (optional(env, key) !== undefined) throw new ConfigError(key, 'only applies with GATEWAY_DATABASE_URL (PostgreSQL)');
    }
    return undefined;
  }
  if (optional(env, 'GATEWAY_DB_FILE') !== undefined) {
    throw new ConfigError('GATEWAY_DB_FILE', 'is the SQLite file, but GATEWAY_DATABASE_URL selects PostgreSQL: set one of them');
  }
  let url: DatabaseUrl;
  try {
    url = DatabaseUrl.parse(raw, (p) => path.resolve(cwd, p));
  } catch (err) {
    if (err instanceof DatabaseUrlError) throw new ConfigError('GATEWAY_DATABASE_URL', err.message);
    throw err;
  }
  let passwordFile: string | undefined;
  if (passwordFileRaw !== undefined) {
    if (url.hasPassword) {
      throw new ConfigError('GATEWAY_DATABASE_PASSWORD_FILE', 'GATEWAY_DATABASE_URL holds a password too: keep it in one place');
    }
    passwordFile = path.resolve(cwd, passwordFileRaw);
    try {
      readPasswordFile(passwordFile);
    } catch (err) {
      if (err instanceof DatabaseUrlError) throw new ConfigError('GATEWAY_DATABASE_PASSWORD_FILE', err.message);
      throw err;
    }
  }
  return { url, passwordFile, poolSize: int(env, 'GATEWAY_DATABASE_POOL_SIZE', 10, 1, 500) };
}

/** Builds the configuration from an environment. `cwd` anchors relative paths. */
export function loadConfig(env: Env = process.env, cwd: string = process.cwd()): Readonly<Config> {
  const port = int(env, 'GATEWAY_PORT', 3000, 0, 65535);
  const host = str(env, 'GATEWAY_HOST', '127.0.0.1');
  const originRaw = str(env, 'GATEWAY_ORIGIN', `http://localhost:${port}`);
  let originUrl: URL;
  try {
    originUrl = new URL(originRaw);
  } catch {
    throw new ConfigError('GATEWAY_ORIGIN', `not a URL: "${originRaw}"`);
  }
  if (originUrl.origin !== originRaw.replace(/\/$/, '')) {
    throw new ConfigError('GATEWAY_ORIGIN', 'must be a bare origin such as https://idp.example.dk (no path)');
  }
  const isLocalhost = originUrl.hostname === 'localhost' || originUrl.hostname === '127.0.0.1';
  if (originUrl.protocol !== 'https:' && !isLocalhost) {
    // NSIS 4.1.6 (Low) 2: channels exchanging personal data are protected against interception.
    throw new ConfigError('GATEWAY_ORIGIN', 'must use https:// unless it is localhost');
  }
  const rpId = str(env, 'GATEWAY_RP_ID', originUrl.hostname);
  if (originUrl.hostname !== rpId && !originUrl.hostname.endsWith(`.${rpId}`)) {
    throw new ConfigError('GATEWAY_RP_ID', `"${rpId}" is not the origin's host or a registrable suffix of it`);
  }

  const varDir = path.resolve(cwd, str(env, 'GATEWAY_VAR_DIR', 'var'));
  const outbox = oneOf<OutboxKind>(env, 'GATEWAY_OUTBOX', 'file', ['file', 'smtp']);
  let smtp: SmtpConfig | undefined;
  if (outbox === 'smtp') {
    const smtpHost = optional(env, 'GATEWAY_SMTP_HOST');
    if (!smtpHost) throw new ConfigError('GATEWAY_SMTP_HOST', 'required when GATEWAY_OUTBOX=smtp');
    const from = optional(env, 'GATEWAY_SMTP_FROM');
    if (!from) throw new ConfigError('GATEWAY_SMTP_FROM', 'required when GATEWAY_OUTBOX=smtp');
    const passwordFile = optional(env, 'GATEWAY_SMTP_PASSWORD_FILE');
    smtp = {
      host: smtpHost,
      port: int(env, 'GATEWAY_SMTP_PORT', 587, 1, 65535),
      secure: bool(env, 'GATEWAY_SMTP_SECURE', false),
      user: optional(env, 'GATEWAY_SMTP_USER'),
      passwordFile: passwordFile ? path.resolve(cwd, passwordFile) : undefined,
      from,
      rejectUnauthorized: bool(env, 'GATEWAY_SMTP_TLS_REJECT_UNAUTHORIZED', true),
    };
  }

  const orgCvr = str(env, 'GATEWAY_DEMO_ORG_CVR', '12345674');
  if (!isValidCvr(orgCvr)) {
    throw new ConfigError('GATEWAY_DEMO_ORG_CVR', 'must be an 8-digit CVR number with a valid modulus-11 check digit');
  }
  const challengeTtlSeconds = int(env, 'GATEWAY_CHALLENGE_TTL_SECONDS', 120, 10, 120);

  const config: Config = {
    port,
    host,
    origin: originUrl.origin,
    rpId,
    rpName: str(env, 'GATEWAY_RP_NAME', 'Local IdP'),
    varDir,
    dbFile: path.resolve(cwd, str(env, 'GATEWAY_DB_FILE', path.join(varDir, 'gateway.db'))),
    sqliteCheckpoint: oneOf(env, 'GATEWAY_SQLITE_CHECKPOINT', 'thread', ['thread', 'commit'] as const),
    database: postgresSettings(env, cwd),
    scim: loadScimConfig(env, cwd),
    idm: loadIdmConfig(env, cwd),
    secretFile: path.resolve(cwd, str(env, 'GATEWAY_SECRET_FILE', path.join(varDir, 'gateway-secret.key'))),
    bodyLimitBytes: int(env, 'GATEWAY_BODY_LIMIT_BYTES', 64 * 1024, 1024, 1024 * 1024),
    trustProxy: trustProxy(env),
    developmentMode: bool(env, 'GATEWAY_DEVELOPMENT_MODE', originUrl.protocol === 'http:' && isLocalhost),
    logLevel: oneOf<LogLevel>(env, 'GATEWAY_LOG_LEVEL', 'info', ['fatal', 'error', 'warn', 'info', 'debug', 'silent']),
    enrolmentTtlMinutes: int(env, 'GATEWAY_ENROLMENT_TTL_MINUTES', 24 * 60, 1, 30 * 24 * 60),
    activationCodeTtlMinutes: int(env, 'GATEWAY_ACTIVATION_CODE_TTL_MINUTES', 30, 1, 7 * 24 * 60),
    challengeTtlSeconds,
    sessionIdleMinutes: int(env, 'GATEWAY_SESSION_IDLE_MINUTES', 15, 1, 24 * 60),
    sessionAbsoluteMinutes: int(env, 'GATEWAY_SESSION_ABSOLUTE_MINUTES', 8 * 60, 1, 7 * 24 * 60),
    outbox,
    outboxDir: path.resolve(cwd, str(env, 'GATEWAY_OUTBOX_DIR', path.join(varDir, 'outbox'))),
    smtp,
    seedDemo: bool(env, 'GATEWAY_SEED_DEMO', true),
    workers: workers(env),
    demo: {
      orgName: str(env, 'GATEWAY_DEMO_ORG_NAME', 'Demo Organisation ApS'),
      orgCvr,
      adminName: str(env, 'GATEWAY_DEMO_ADMIN_NAME', 'First Administrator'),
      adminEmail: str(env, 'GATEWAY_DEMO_ADMIN_EMAIL', 'admin@demo.example'),
    },
    hsm: hsmSettings(env, cwd, varDir),
    secureCookies: originUrl.protocol === 'https:',
    tokenTtlSeconds: int(env, 'GATEWAY_TOKEN_TTL_SECONDS', 300, 30, 3600),
    tokenAudiences: audiences(env),
    federationLevel: oneOf<AssuranceLevel>(env, 'GATEWAY_FEDERATION_LOA', 'substantial', IDENTITY_ASSURANCE_LEVELS),
    keyPropagationSeconds: int(env, 'GATEWAY_KEY_PROPAGATION_SECONDS', 3600, 0, 30 * 24 * 3600),
    auditCheckpointEvery: int(env, 'GATEWAY_AUDIT_CHECKPOINT_EVERY', 100, 1, 1_000_000),
    auditCheckpointSeconds: int(env, 'GATEWAY_AUDIT_CHECKPOINT_SECONDS', 300, 1, 24 * 3600),
    auditRetentionDays: int(env, 'GATEWAY_AUDIT_RETENTION_DAYS', 0, 0, 100 * 365),
    auditWitnessDir: path.resolve(cwd, str(env, 'GATEWAY_AUDIT_WITNESS_DIR', path.join(varDir, 'audit-witness'))),
    auditWitnessUrl: witnessUrl(env),
    auditWitnessToken: witnessToken(env),
    stepUpMinutes: int(env, 'GATEWAY_STEP_UP_MINUTES', 5, 1, 60),
    helpdeskActionsPerHour: int(env, 'GATEWAY_HELPDESK_ACTIONS_PER_HOUR', 20, 1, 10_000),
    bulkApprovalThreshold: int(env, 'GATEWAY_BULK_APPROVAL_THRESHOLD', 5, 1, 1000),
    oidcClientsFile: optional(env, 'GATEWAY_OIDC_CLIENTS_FILE') ? path.resolve(cwd, optional(env, 'GATEWAY_OIDC_CLIENTS_FILE') ?? '') : undefined,
    saml: samlSettings(env, cwd, originUrl.origin),
    attestation: {
      conveyance: oneOf(env, 'GATEWAY_ATTESTATION_CONVEYANCE', 'direct', ['direct', 'enterprise'] as const),
      highCertification: oneOf(env, 'GATEWAY_AAL_HIGH_CERTIFICATION', 'FIDO_CERTIFIED_L2', CERTIFICATION_ORDER),
      requireDeviceBound: bool(env, 'GATEWAY_REQUIRE_DEVICE_BOUND', true),
      allowAaguids: optional(env, 'GATEWAY_AAGUID_ALLOW') ? aaguids(env, 'GATEWAY_AAGUID_ALLOW') : null,
      blockAaguids: aaguids(env, 'GATEWAY_AAGUID_BLOCK'),
    },
    mds: {
      blobFile: optional(env, 'GATEWAY_MDS_BLOB_FILE') ? path.resolve(cwd, optional(env, 'GATEWAY_MDS_BLOB_FILE') ?? '') : undefined,
      rootFile: optional(env, 'GATEWAY_MDS_ROOT_FILE') ? path.resolve(cwd, optional(env, 'GATEWAY_MDS_ROOT_FILE') ?? '') : undefined,
      url: optional(env, 'GATEWAY_MDS_URL'),
    },
    metricsToken: metricsToken(env),
    rateLimit: {
      // A workforce behind one NAT shares an IP: generous per IP, tight per account.
      ipPerMinute: int(env, 'GATEWAY_RATE_LIMIT_IP_PER_MINUTE', 600, 0, 10_000_000),
      // Per account AND client (the holder's trusted browser, else the IP): issue 13, 1.
      accountPerMinute: int(env, 'GATEWAY_RATE_LIMIT_ACCOUNT_PER_MINUTE', 20, 0, 10_000_000),
      // Failed requests per account from untrusted clients before each further one is delayed.
      accountSoftPerMinute: int(env, 'GATEWAY_RATE_LIMIT_ACCOUNT_SOFT_PER_MINUTE', 10, 0, 10_000_000),
    },
    timeZone: timeZone(env),
    defaultLanguage: defaultLanguage(env),
  };
  if ((config.mds.blobFile || config.mds.url) && !config.mds.rootFile) {
    throw new ConfigError('GATEWAY_MDS_ROOT_FILE', 'name the FIDO MDS root certificate (DER) to verify the metadata BLOB against');
  }
  if (config.developmentMode && originUrl.protocol === 'https:') {
    throw new ConfigError('GATEWAY_DEVELOPMENT_MODE', 'development mode is only for a gateway on http://localhost; an https origin is a real deployment');
  }
  if (config.sessionAbsoluteMinutes < config.sessionIdleMinutes) {
    throw new ConfigError('GATEWAY_SESSION_ABSOLUTE_MINUTES', 'must not be shorter than GATEWAY_SESSION_IDLE_MINUTES');
  }
  return Object.freeze(config);
}
