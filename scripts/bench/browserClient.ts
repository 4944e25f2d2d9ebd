/**
 * One virtual browser for the load generator: JSON over node:http on a shared keep-alive agent,
 * the gateway's origin header, and its own cookie jar. The session cookie a sign-in sets is not
 * sent back: every ceremony is a fresh morning sign-in, not a re-sign-in that first ends the
 * previous session (that would add a write per ceremony that a first sign-in does not pay).
 */
import http from 'node:http';

export interface JsonResponse {
  status: number;
  body: unknown;
  /** The problem+json `code`, when there is one. */
  code: string | undefined;
}

/**
 * No request waits for ever: a request not answered in full within this time, counted from the
 * moment it is made, fails the ceremony, counted as an error, and the phase goes on to its end.
 * `socket: CONNECT_TIMEOUT` when its connection was never accepted (node's own request timeout
 * starts only once the socket is connected, so a SYN the server's listen queue dropped would wait
 * for the kernel's retries, over two minutes), `socket: REQUEST_TIMEOUT` when the server took the
 * request and never answered (a pool that ran dry, a lock nobody releases).
 */
export const REQUEST_TIMEOUT_MS = 30_000;

/** Cookies the jar never sends back (see the file comment). */
const NOT_SENT_BACK = new Set(['gw_session', '__Host-gw_session']);

export class BrowserClient {
  private readonly cookies = new Map<string, string>();
  /** The request on its way and where it is (for the load generator's watchdog), or undefined. */
  inFlight: string | undefined;
  private readonly url: URL;

  constructor(
    readonly origin: string,
    private readonly agent: http.Agent,
    private readonly timeoutMs = REQUEST_TIMEOUT_MS,
  ) {
    this.url = new URL(origin);
  }

  post(path: string, body: unknown): Promise<JsonResponse> {
    const payload = Buffer.from(JSON.stringify(body));
    const headers: http.OutgoingHttpHeaders = {
      origin: this.origin,
      'content-type': 'application/json',
      'content-length': payload.length,
      accept: 'application/json',
    };
    if (this.cookies.size > 0) headers['cookie'] = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    return new Promise<JsonResponse>((settle, fail) => {
      const timer = setTimeout(() => {
        const connecting = !req.socket || req.socket.connecting;
        const what = connecting ? 'no connection accepted for' : 'no answer to';
        const err = Object.assign(new Error(`${what} POST ${path} within ${this.timeoutMs / 1000} s`), { code: connecting ? 'CONNECT_TIMEOUT' : 'REQUEST_TIMEOUT' });
        this.inFlight = undefined;
        // Settled here, so a response cut off halfway still fails with this error, not the reset's.
        fail(err);
        req.destroy(err);
      }, this.timeoutMs);
      const started = Date.now();
      this.inFlight = `POST ${path}, waiting for a socket`;
      const resolve = (r: JsonResponse) => {
        clearTimeout(timer);
        this.inFlight = undefined;
        settle(r);
      };
      const reject = (err: unknown) => {
        clearTimeout(timer);
        this.inFlight = undefined;
        fail(err);
      };
      const req = http.request(
        { host: this.url.hostname === 'localhost' ? '127.0.0.1' : this.url.hostname, port: this.url.port, path, method: 'POST', headers, agent: this.agent },
        (res) => {
          this.inFlight = `POST ${path}, answered ${res.statusCode ?? '?'} after ${Date.now() - started} ms, reading the body`;
          this.keepCookies(res.headers['set-cookie']);
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            if (text && (res.headers['content-type'] ?? '').includes('json')) {
              try {
                parsed = JSON.parse(text);
              } catch {
                parsed = text;
              }
            }
            const code =
              typeof parsed === 'object' && parsed !== null && 'code' in parsed && typeof parsed.code === 'string' ? parsed.code : undefined;
            resolve({ status: res.statusCode ?? 0, body: parsed, code });
          });
        },
      );
      req.on('error', reject);
      req.on('socket', (socket) => {
        this.inFlight = `POST ${path}, ${socket.connecting ? 'connecting' : 'sent on a kept-alive connection'}`;
        if (socket.connecting) socket.once('connect', () => (this.inFlight = `POST ${path}, sent on a new connection`));
      });
      req.end(payload);
    });
  }

  private keepCookies(setCookie: string[] | undefined): void {
    for (const c of setCookie ?? []) {
      const [pair = ''] = c.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (NOT_SENT_BACK.has(name)) continue;
      if (/Max-Age=0/i.test(c) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
}

/** Reads `body.a.b...` from a JSON answer, or undefined. */
export function pick(body: unknown, ...path: string[]): unknown {
  let cur: unknown = body;
  for (const p of path) {
    if (typeof cur !== 'object' || cur === null || Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}
