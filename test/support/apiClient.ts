/**
 * A tiny HTTP client that behaves like one browser: it keeps its cookies and sends JSON with the
 * gateway's origin, as the real pages do.
 */
export interface ApiResponse {
  status: number;
  headers: Headers;
  body: unknown;
  /** Shorthand for problem+json answers. */
  code: string | undefined;
}

export class ApiClient {
  private cookies = new Map<string, string>();

  constructor(readonly origin: string) {}

  async request(method: string, path: string, body?: unknown, extraHeaders: Record<string, string> = {}): Promise<ApiResponse> {
    const headers: Record<string, string> = { origin: this.origin, ...extraHeaders };
    if (this.cookies.size > 0) headers['cookie'] = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    let payload: string | undefined;
    if (body !== undefined) {
      payload = typeof body === 'string' ? body : JSON.stringify(body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(this.origin + path, { method, headers, body: payload, redirect: 'manual' });
    for (const c of res.headers.getSetCookie()) {
      const [pair = ''] = c.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      if (/Max-Age=0/i.test(c) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const text = await res.text();
    let parsed: unknown = text;
    if (text && (res.headers.get('content-type') ?? '').includes('json')) parsed = JSON.parse(text);
    const code =
      typeof parsed === 'object' && parsed !== null && 'code' in parsed && typeof parsed.code === 'string' ? parsed.code : undefined;
    return { status: res.status, headers: res.headers, body: parsed, code };
  }

  post(path: string, body: unknown = {}, headers?: Record<string, string>) {
    return this.request('POST', path, body, headers);
  }
  get(path: string) {
    return this.request('GET', path);
  }
  patch(path: string, body: unknown) {
    return this.request('PATCH', path, body);
  }
  cookie(name: string): string | undefined {
    return this.cookies.get(name);
  }
  /** A cookie the browser's own script would set (e.g. gw_lang, the language switch's choice). */
  setCookie(name: string, value: string): void {
    this.cookies.set(name, value);
  }
  dropCookie(name: string): void {
    this.cookies.delete(name);
  }
}

/** Narrows an unknown JSON body to a record for reading fields in tests. */
export function obj(v: unknown): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`expected a JSON object, got ${JSON.stringify(v)}`);
  return v as Record<string, unknown>;
}

export function field<T = unknown>(v: unknown, ...path: string[]): T {
  let cur: unknown = v;
  for (const p of path) cur = Array.isArray(cur) ? cur[Number(p)] : obj(cur)[p];
  return cur as T;
}
