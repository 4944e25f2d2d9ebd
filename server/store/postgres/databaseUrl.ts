/**
 * GATEWAY_DATABASE_URL: where the PostgreSQL adapter connects, parsed and checked up front
 * (CONVENTIONS 8). Pure: no driver, no I/O. The password is held apart from the object: the parsed
 * value prints, logs and serialises as the URL with the password replaced by `***`, and no
 * message of this module ever repeats the raw text (it may hold the password).
 *
 * The accepted form is libpq's URI form, narrowed to what the gateway needs:
 *   postgres[ql]://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=...&sslrootcert=...]
 *   postgres[ql]://USER[:PASSWORD]@[:PORT]/DATABASE?host=/run/postgresql     (Unix socket)
 * One host: failover is the job of the address in front of the cluster (Patroni's virtual IP or
 * HAProxy, a managed service's writer endpoint); see docs/architecture-postgres.md.
 * TLS (NSIS 4.1.6 (Low) 2: channels carrying personal data are protected against interception):
 * `sslmode=verify-full` (certificate chain AND host name checked) is the default and the only
 * choice for a TCP host other than loopback; `disable` is allowed for a Unix socket or loopback.
 * libpq's `require`, `prefer`, `allow` and `verify-ca` are refused: they accept a server they
 * cannot name.
 */
import { inspect } from 'node:util';

export type SslMode = 'disable' | 'verify-full';

/** Why a database URL was refused. The message never contains the URL or its password. */
export class DatabaseUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatabaseUrlError';
  }
}

const ALLOWED_PARAMS = ['host', 'sslmode', 'sslrootcert'] as const;
const REFUSED_SSL_MODES: Record<string, string> = {
  require: 'encrypts but accepts any server certificate',
  prefer: 'falls back to no encryption',
  allow: 'falls back to no encryption',
  'verify-ca': 'does not check the host name',
};
/** PostgreSQL's identifier limit (NAMEDATALEN - 1), in bytes. */
const MAX_NAME_BYTES = 63;

function decode(part: string, what: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new DatabaseUrlError(`the ${what} is not valid percent-encoding`);
  }
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127(?:\.\d{1,3}){3}$/.test(host);
}

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const IPV6 = /^[0-9A-Fa-f:.]{2,45}$/;

/**
 * The passwords, outside the objects: a copy of a DatabaseUrl (a logger's redaction clones what
 * it logs) carries no password and still prints the same redacted text.
 */
const passwords = new WeakMap<DatabaseUrl, string>();

/** A parsed, checked GATEWAY_DATABASE_URL. */
export class DatabaseUrl {
  /** A host name or IP address (TCP), or an absolute directory holding the server's Unix socket. */
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly sslMode: SslMode;
  /** CA certificate file (PEM) to verify the server against; the system's CAs when absent. */
  readonly sslRootCert: string | undefined;
  /** Whether the URL carried a password (which is kept outside the object, see revealPassword). */
  readonly hasPassword: boolean;

  private constructor(fields: {
    host: string;
    port: number;
    database: string;
    user: string;
    password: string | undefined;
    sslMode: SslMode;
    sslRootCert: string | undefined;
  }) {
    this.host = fields.host;
    this.port = fields.port;
    this.database = fields.database;
    this.user = fields.user;
    this.hasPassword = fields.password !== undefined;
    if (fields.password !== undefined) passwords.set(this, fields.password);
    this.sslMode = fields.sslMode;
    this.sslRootCert = fields.sslRootCert;
  }

  /** True when the server is reached through a Unix socket directory. */
  get isSocket(): boolean {
    return this.host.startsWith('/');
  }

  /** The password, for the one place that opens connections (pool.ts). */
  revealPassword(): string | undefined {
    return passwords.get(this);
  }

  /** The URL with the password replaced by `***`: safe for logs and error messages. */
  toString(): string {
    const auth = `${encodeURIComponent(this.user)}${this.hasPassword ? ':***' : ''}@`;
    const params = new URLSearchParams();
    let hostPart: string;
    if (this.isSocket) {
      hostPart = '';
      params.set('host', this.host);
    } else {
      hostPart = this.host.includes(':') ? `[${this.host}]` : this.host;
    }
    params.set('sslmode', this.sslMode);
    if (this.sslRootCert !== undefined) params.set('sslrootcert', this.sslRootCert);
    return `postgres://${auth}${hostPart}:${this.port}/${encodeURIComponent(this.database)}?${params.toString()}`;
  }

  toJSON(): string {
    return this.toString();
  }

  [inspect.custom](): string {
    return `DatabaseUrl(${this.toString()})`;
  }

  /**
   * Parses and checks `raw`. `resolvePath` makes a relative sslrootcert absolute (config.ts
   * anchors it at the working directory).
   */
  static parse(raw: string, resolvePath: (p: string) => string = (p) => p): DatabaseUrl {
    const m = /^(postgres(?:ql)?):\/\/([^/?#]*)(\/[^?#]*)?(\?[^#]*)?$/.exec(raw.trim());
    if (!m) {
      throw new DatabaseUrlError('expected postgres://USER:PASSWORD@HOST:PORT/DATABASE (or postgresql://), without a fragment');
    }
    const authority = m[2] ?? '';
    const pathPart = m[3] ?? '';
    const query = m[4] ?? '';

    const at = authority.lastIndexOf('@');
    if (at < 0) throw new DatabaseUrlError('name the database user (postgres://USER@HOST/DATABASE)');
    const userInfo = authority.slice(0, at);
    const hostPort = authority.slice(at + 1);
    const colon = userInfo.indexOf(':');
    const user = decode(colon < 0 ? userInfo : userInfo.slice(0, colon), 'user name');
    const password = colon < 0 ? undefined : decode(userInfo.slice(colon + 1), 'password');
    if (user === '') throw new DatabaseUrlError('name the database user (postgres://USER@HOST/DATABASE)');
    if (Buffer.byteLength(user) > MAX_NAME_BYTES) throw new DatabaseUrlError(`the user name is longer than ${MAX_NAME_BYTES} bytes`);
    if (password === '') throw new DatabaseUrlError('the password is empty: leave out the colon, or use GATEWAY_DATABASE_PASSWORD_FILE');

    if (hostPort.includes(',')) {
      throw new DatabaseUrlError(
        'one host only: put the failover address in front of the cluster (a Patroni virtual IP or HAProxy, or the managed service endpoint)',
      );
    }
    let host: string;
    let portText: string | undefined;
    const v6 = /^\[([^\]]*)\](?::(.*))?$/.exec(hostPort);
    if (v6) {
      host = v6[1] ?? '';
      portText = v6[2];
      if (!IPV6.test(host)) throw new DatabaseUrlError('the bracketed host is not an IPv6 address');
    } else {
      const c = hostPort.lastIndexOf(':');
      host = decode(c < 0 ? hostPort : hostPort.slice(0, c), 'host');
      portText = c < 0 ? undefined : hostPort.slice(c + 1);
    }
    let port = 5432;
    if (portText !== undefined && portText !== '') {
      if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
        throw new DatabaseUrlError('the port must be a number from 1 to 65535');
      }
      port = Number(portText);
    }

    const database = decode(pathPart.replace(/^\//, ''), 'database name');
    if (database === '' || database.includes('/')) throw new DatabaseUrlError('name the database (postgres://USER@HOST/DATABASE)');
    if (Buffer.byteLength(database) > MAX_NAME_BYTES) throw new DatabaseUrlError(`the database name is longer than ${MAX_NAME_BYTES} bytes`);

    const params = new URLSearchParams(query.replace(/^\?/, ''));
    const seen = new Set<string>();
    for (const key of params.keys()) {
      if (!(ALLOWED_PARAMS as readonly string[]).includes(key)) {
        throw new DatabaseUrlError(`unknown parameter "${key}" (allowed: ${ALLOWED_PARAMS.join(', ')})`);
      }
      if (seen.has(key)) throw new DatabaseUrlError(`parameter "${key}" is given twice`);
      seen.add(key);
    }
    const hostParam = params.get('host');
    if (hostParam !== null) {
      if (host !== '' && host !== 'localhost') {
        throw new DatabaseUrlError('the host is given twice (in the address and in ?host=)');
      }
      host = hostParam;
    }
    if (host === '') throw new DatabaseUrlError('name the host (postgres://USER@HOST/DATABASE, or ?host=/socket/directory)');
    const socket = host.startsWith('/');
    if (socket) {
      if (host.includes('\0') || /(^|\/)\.\.(\/|$)/.test(host)) throw new DatabaseUrlError('the socket directory must be a plain absolute path');
    } else if (!HOSTNAME.test(host) && !IPV6.test(host)) {
      throw new DatabaseUrlError('the host is neither a host name, an IP address nor an absolute socket directory');
    }

    const modeParam = params.get('sslmode');
    const local = socket || isLoopback(host);
    let sslMode: SslMode;
    if (modeParam === null) {
      sslMode = local ? 'disable' : 'verify-full';
    } else if (modeParam === 'disable' || modeParam === 'verify-full') {
      sslMode = modeParam;
    } else {
      const why = REFUSED_SSL_MODES[modeParam];
      throw new DatabaseUrlError(
        why ? `sslmode=${modeParam} ${why}; use verify-full` : `sslmode must be verify-full (or disable for a Unix socket or loopback)`,
      );
    }
    if (sslMode === 'disable' && !local) {
      // NSIS 4.1.6 (Low) 2: personal data crosses this connection.
      throw new DatabaseUrlError('sslmode=disable is only allowed for a Unix socket or a loopback address; use verify-full');
    }
    if (sslMode === 'verify-full' && socket) throw new DatabaseUrlError('TLS over a Unix socket is not supported; use sslmode=disable there');
    const rootCert = params.get('sslrootcert');
    if (rootCert !== null && sslMode !== 'verify-full') throw new DatabaseUrlError('sslrootcert only goes with sslmode=verify-full');
    if (rootCert === '') throw new DatabaseUrlError('sslrootcert is empty');

    return new DatabaseUrl({
      host,
      port,
      database,
      user,
      password,
      sslMode,
      sslRootCert: rootCert === null ? undefined : resolvePath(rootCert),
    });
  }
}
