/**
 * The ceremonies a browser runs against the gateway, as the load generator and the population
 * builder run them: sign-in (options -> assertion -> verify with an audience, so an HSM-signed
 * identity token is issued), enrolment (link -> new credential -> verify) and activation
 * (options -> assertion -> verify with the second-channel code).
 */
import type { SoftAuthenticator, SoftCreationOptions, SoftRequestOptions } from '../../test/support/softAuthenticator.js';
import { type BrowserClient, type JsonResponse, pick } from './browserClient.js';

export type CeremonyOutcome = { ok: true; authenticatorMs: number; body: unknown } | { ok: false; error: string };

/** `status CODE` for a refused step, so failures are counted by kind and never dropped. */
function failure(step: string, res: JsonResponse): CeremonyOutcome {
  return { ok: false, error: `${step}: ${res.status}${res.code ? ` ${res.code}` : ''}` };
}

function isString(v: unknown): v is string {
  return typeof v === 'string';
}

function descriptors(v: unknown): { id: string }[] | undefined {
  if (!Array.isArray(v)) return undefined;
  return v.map((d) => pick(d, 'id')).filter(isString).map((id) => ({ id }));
}

/** The request options the gateway (or the reference) sent, narrowed to what the authenticator reads. */
export function requestOptionsOf(body: unknown): SoftRequestOptions | undefined {
  const challenge = pick(body, 'options', 'challenge');
  if (!isString(challenge)) return undefined;
  const rpId = pick(body, 'options', 'rpId');
  const allow = descriptors(pick(body, 'options', 'allowCredentials'));
  return { challenge, ...(isString(rpId) ? { rpId } : {}), ...(allow ? { allowCredentials: allow } : {}) };
}

/** The creation options of an enrolment, narrowed to what the authenticator reads. */
export function creationOptionsOf(body: unknown, origin: string): SoftCreationOptions | undefined {
  const challenge = pick(body, 'options', 'challenge');
  const userId = pick(body, 'options', 'user', 'id');
  if (!isString(challenge) || !isString(userId)) return undefined;
  const rpId = pick(body, 'options', 'rp', 'id');
  const params = pick(body, 'options', 'pubKeyCredParams');
  const exclude = descriptors(pick(body, 'options', 'excludeCredentials'));
  const residentKey = pick(body, 'options', 'authenticatorSelection', 'residentKey');
  return {
    challenge,
    origin,
    rp: isString(rpId) ? { id: rpId } : {},
    user: { id: userId },
    ...(Array.isArray(params) ? { pubKeyCredParams: params.map((p) => ({ alg: Number(pick(p, 'alg')) })) } : {}),
    ...(exclude ? { excludeCredentials: exclude } : {}),
    ...(isString(residentKey) ? { authenticatorSelection: { residentKey } } : {}),
  };
}

/** options -> assertion -> verify with `audience`; success means 200 with an identity token. */
export async function signInCeremony(client: BrowserClient, auth: SoftAuthenticator, email: string, audience: string): Promise<CeremonyOutcome> {
  const opt = await client.post('/api/signin/options', { email });
  if (opt.status !== 200) return failure('options', opt);
  const options = requestOptionsOf(opt.body);
  if (!options) return { ok: false, error: 'options: malformed body' };
  const t0 = performance.now();
  const response = await auth.getAssertion(options, client.origin);
  const authenticatorMs = performance.now() - t0;
  const ver = await client.post('/api/signin/verify', { response, audience });
  if (ver.status !== 200) return failure('verify', ver);
  const token = pick(ver.body, 'token');
  // A compact JWS: the HSM-signed identity token the relying party receives.
  if (!isString(token) || token.split('.').length !== 3) return { ok: false, error: 'verify: 200 without an identity token' };
  return { ok: true, authenticatorMs, body: ver.body };
}

/** link -> new credential -> verify; success means 201 with the key issued. */
export async function enrolCeremony(client: BrowserClient, auth: SoftAuthenticator, token: string, label: string): Promise<CeremonyOutcome> {
  const opt = await client.post('/api/enrolment/options', { token });
  if (opt.status !== 200) return failure('options', opt);
  const options = creationOptionsOf(opt.body, client.origin);
  if (!options) return { ok: false, error: 'options: malformed body' };
  const t0 = performance.now();
  const response = await auth.createCredential(options);
  const authenticatorMs = performance.now() - t0;
  const ver = await client.post('/api/enrolment/verify', { token, label, response });
  if (ver.status !== 201) return failure('verify', ver);
  if (pick(ver.body, 'credential', 'state') !== 'issued') return { ok: false, error: 'verify: 201 without an issued key' };
  return { ok: true, authenticatorMs, body: ver.body };
}

/** options -> assertion -> verify with the code from the second channel; success means 200, key active. */
export async function activateCeremony(client: BrowserClient, auth: SoftAuthenticator, email: string, code: string): Promise<CeremonyOutcome> {
  const opt = await client.post('/api/activation/options', { email });
  if (opt.status !== 200) return failure('activation options', opt);
  const options = requestOptionsOf(opt.body);
  if (!options) return { ok: false, error: 'activation options: malformed body' };
  const t0 = performance.now();
  const response = await auth.getAssertion(options, client.origin);
  const authenticatorMs = performance.now() - t0;
  const ver = await client.post('/api/activation/verify', { code, response });
  if (ver.status !== 200) return failure('activation verify', ver);
  if (pick(ver.body, 'credential', 'state') !== 'active') return { ok: false, error: 'activation verify: 200 without an active key' };
  return { ok: true, authenticatorMs, body: ver.body };
}
