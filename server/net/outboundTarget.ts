/**
 * Server-side requests to URLs that someone registered (OpenID Connect back-channel logout URIs):
 * outside development mode they may only reach public addresses (blind SSRF otherwise: a logout
 * token POSTed at the gateway's own loopback services, the internal network or a cloud metadata
 * endpoint). The host is checked when the URL is registered (its name resolved) and again on
 * every request, by the resolver the connection itself uses, so a name that resolves elsewhere
 * later (DNS rebinding) is refused too.
 */
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { isPublicAddress } from './addresses.js';

/** Why a target is refused; `undefined` from the checks means it may be used. */
export type TargetRefusal = { reason: 'not-public'; address: string } | { reason: 'not-http'; address: string };

/** The URL's host as an address literal (brackets removed), or undefined for a name. */
function literalHost(url: URL): string | undefined {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return net.isIP(host) === 0 ? undefined : host;
}

/**
 * The checks that need no DNS: the scheme, and a host that is an address literal (the URL parser
 * has already turned `2130706433` or `0x7f.1` into `127.0.0.1`) or the name `localhost`.
 */
export function refusedWithoutLookup(target: string, developmentMode: boolean): TargetRefusal | undefined {
  const url = new URL(target);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { reason: 'not-http', address: url.protocol };
  if (developmentMode) return undefined;
  const literal = literalHost(url);
  if (literal !== undefined) return isPublicAddress(literal) ? undefined : { reason: 'not-public', address: literal };
  const name = url.hostname.toLowerCase().replace(/\.$/, '');
  if (name === 'localhost' || name.endsWith('.localhost')) return { reason: 'not-public', address: name };
  return undefined;
}

/**
 * The same, then the host's name resolved: refused if ANY of its addresses is not public. A name
 * that does not resolve now is let through: it is checked again when a request is made.
 */
export async function refusedTarget(target: string, developmentMode: boolean): Promise<TargetRefusal | undefined> {
  const early = refusedWithoutLookup(target, developmentMode);
  if (early || developmentMode) return early;
  const url = new URL(target);
  if (literalHost(url) !== undefined) return undefined;
  let addresses: dns.LookupAddress[];
  try {
    addresses = await dns.promises.lookup(url.hostname, { all: true });
  } catch {
    return undefined;
  }
  const bad = addresses.find((a) => !isPublicAddress(a.address));
  return bad ? { reason: 'not-public', address: bad.address } : undefined;
}

/** A resolver for node:http that hands the connection only public addresses. */
const publicOnlyLookup: net.LookupFunction = (hostname, options, callback) => {
  dns.lookup(hostname, { all: true, ...(options.family ? { family: options.family } : {}) }, (err, addresses) => {
    if (err) {
      callback(err, '', 0);
      return;
    }
    const bad = addresses.find((a) => !isPublicAddress(a.address));
    const first = addresses[0];
    if (bad || !first) {
      const refused: NodeJS.ErrnoException = new Error(`refused: ${hostname} resolves to a non-public address ${bad?.address ?? '(none)'}`);
      refused.code = 'EADDRNOTPUBLIC';
      callback(refused, '', 0);
      return;
    }
    if (options.all) callback(null, addresses);
    else callback(null, first.address, first.family);
  });
};

/**
 * POSTs a form to `target` and resolves with the status code. Outside development mode the target
 * must be public at the moment of the request (literal checked here, names by the resolver the
 * connection uses); a refusal rejects with an error whose message starts with "refused:".
 * Redirects are not followed.
 */
export function postForm(target: string, form: Record<string, string>, opts: { developmentMode: boolean; timeoutMs: number }): Promise<number> {
  const refusal = refusedWithoutLookup(target, opts.developmentMode);
  if (refusal) return Promise.reject(new Error(`refused: ${refusal.reason} ${refusal.address}`));
  const url = new URL(target);
  const body = new URLSearchParams(form).toString();
  const request = url.protocol === 'https:' ? https.request : http.request;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) },
        timeout: opts.timeoutMs,
        ...(opts.developmentMode ? {} : { lookup: publicOnlyLookup }),
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timed out after ${opts.timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}
