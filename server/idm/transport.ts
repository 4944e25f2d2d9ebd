/**
 * HTTPS to the IdM API with mutual TLS: our system certificate from the PKCS#12 file, the server
 * verified against the public roots (or the configured anchors), TLS 1.2 or newer. Every call
 * has a deadline and a cap on the answer's size; failures without an HTTP answer become typed
 * IdmErrors (timeout, connection, TLS). Unlike some clients, the server certificate is always
 * verified: the bearer token and personal data go over this channel (NSIS 4.1.6).
 */
import https from 'node:https';
import { TLSSocket } from 'node:tls';
import type { IdmCredentials } from './credentials.js';
import { IdmError, errorForTransport } from './errors.js';

export interface TransportOptions {
  /** https://... of the IdM API (e.g. https://services.nemlog-in.dk). */
  baseUrl: string;
  credentials: IdmCredentials;
  /** Deadline of one call, connection included. */
  timeoutMs: number;
  /** Largest answer read (the employee search lists every employee). */
  maxResponseBytes: number;
}

export interface HttpAnswer {
  status: number;
  /** Parsed JSON, or null for an empty or non-JSON answer. */
  body: unknown;
  /** The start of the answer as text, control characters removed, for error messages. */
  snippet: string;
  retryAfterSeconds: number | undefined;
}

export interface CertificateInfo {
  subject: string;
  validTo: string;
  fingerprint256: string;
}

function retryAfter(header: string | string[] | undefined, now: number): number | undefined {
  if (typeof header !== 'string') return undefined;
  if (/^\d{1,7}$/.test(header.trim())) return Number(header.trim());
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}

export class IdmTransport {
  private readonly base: URL;
  private readonly agent: https.Agent;
  private certificate: CertificateInfo | null = null;
  private readonly watched = new WeakSet<TLSSocket>();

  constructor(private readonly options: TransportOptions) {
    this.base = new URL(options.baseUrl);
    if (this.base.protocol !== 'https:') throw new TypeError('the IdM API base URL must be https');
    const { pfx, passphrase, ca } = options.credentials;
    this.agent = new https.Agent({ pfx, passphrase, ...(ca ? { ca } : {}), minVersion: 'TLSv1.2', keepAlive: true, maxSockets: 4 });
  }

  /** Our certificate as last presented in a handshake (subject, expiry), for the admin page. */
  clientCertificate(): CertificateInfo | null {
    return this.certificate;
  }

  send(method: string, path: string, init: { json?: unknown; bearer?: string }, what: string): Promise<HttpAnswer> {
    const url = new URL(this.base.pathname.replace(/\/$/, '') + path, this.base);
    const payload = init.json === undefined ? undefined : Buffer.from(JSON.stringify(init.json), 'utf8');
    const headers: Record<string, string> = { accept: 'application/json' };
    if (payload) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(payload.length);
    } else if (method !== 'GET' && method !== 'DELETE') headers['content-length'] = '0';
    if (init.bearer) headers['authorization'] = `Bearer ${init.bearer}`;

    return new Promise<HttpAnswer>((resolve, reject) => {
      let settled = false;
      const finish = (fn: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        fn();
      };
      const req = https.request(url, { method, headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > this.options.maxResponseBytes) {
            req.destroy(new IdmError('IDM_BAD_RESPONSE', `${what}: the answer is larger than ${this.options.maxResponseBytes} bytes`));
            return;
          }
          chunks.push(c);
        });
        res.on('end', () =>
          finish(() => {
            const raw = Buffer.concat(chunks).toString('utf8');
            let body: unknown = null;
            if (raw.length > 0 && /json/i.test(res.headers['content-type'] ?? '')) {
              try {
                body = JSON.parse(raw);
              } catch (err) {
                reject(new IdmError('IDM_BAD_RESPONSE', `${what}: the answer is not valid JSON`, { cause: err, status: res.statusCode ?? 0 }));
                return;
              }
            }
            resolve({
              status: res.statusCode ?? 0,
              body,
              snippet: raw.slice(0, 300).replace(/[\u0000-\u001f\u007f]/g, ' '),
              retryAfterSeconds: retryAfter(res.headers['retry-after'], Date.now()),
            });
          }),
        );
        res.on('error', (err) => finish(() => reject(errorForTransport(err, what))));
      });
      req.on('socket', (socket) => {
        // A kept-alive socket is handed to request after request: listen once per socket, not per request.
        if (!(socket instanceof TLSSocket) || this.watched.has(socket)) return;
        this.watched.add(socket);
        socket.once('secureConnect', () => {
          const cert = socket.getCertificate();
          if (cert && 'valid_to' in cert) {
            this.certificate = { subject: Object.entries(cert.subject ?? {}).map(([k, v]) => `${k}=${String(v)}`).join(', '), validTo: cert.valid_to, fingerprint256: cert.fingerprint256 };
          }
        });
      });
      const timer = setTimeout(() => req.destroy(new IdmError('IDM_TIMEOUT', `${what}: no answer within ${this.options.timeoutMs} ms`)), this.options.timeoutMs);
      req.on('error', (err) => finish(() => reject(errorForTransport(err, what))));
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
