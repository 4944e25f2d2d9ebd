/**
 * Why each cost of a sign-in is there: one fixed sentence per cost category of profileCosts.ts,
 * citing the NSIS 2.0.1 clause that requires it (or saying that none does). The figures beside
 * these sentences are always measured; only the reasons are fixed text.
 */
import { OTHER_THREADS } from './profileCosts.js';
import { HTTP_PARTS, WEBAUTHN_PARTS } from './profileParts.js';
export const COST_REASONS: Record<string, string> = {
  'HTTP (Node http, Express, router, body parser)':
    'Two requests per ceremony (options, then verify): WebAuthn is a challenge and its answer. The same Node http, Express 5 and express.json as the reference; what the gateway adds per answer is 13 more headers (helmet\'s 11 security headers, Cache-Control: no-store, X-Request-Id), 2 cookies on the verify answer (session, MACed device cookie), a second router (the app\'s, then the API\'s exact-path table) and the close listener of the request log; the parts below say how much each costs. Beyond those, the same calls cost more in the gateway\'s processes: two workers share the two cores with the generators (with GATEWAY_WORKERS=1 every part comes closer to the reference\'s), and its wait for a core lands where a call wakes another process or thread.',
  'WebAuthn verification (SimpleWebAuthn, WebCrypto key import, P-256)':
    'NSIS 3.2.1 (Substantial) 1-2, 3.3: the assertion signature over the challenge is the possession factor (with user verification). The same library call as the reference (one key import, two SHA-256, one ECDSA check); the gateway adds one COSE decode of the stored key (strict DER signature check, §6.5.5) and two JSON reads of the client data (challenge, crossOrigin). Checked one at a time (the stage table\'s two CPU rows) the gateway\'s check and the library call alone cost the same CPU: the difference here is the same calls costing more in the gateway\'s busier processes (the parts below: most where a job is handed to the thread pool).',
  'Store reads and other statements (driver included)':
    'The key, its person and their state read once per request, so a suspension is seen on the very next request (NSIS 3.2.3 (Low) 1) and the counter compared (NSIS 3.2.3 (Low) 3-4, clones).',
  'Ephemeral store (challenge, rate-limit counters)':
    'NSIS 3.3.1: challenges single use across instances and workers (consumed once, expire); the rate-limit counters shared by all processes (NSIS 3.2.3 (Low) 4).',
  'Durable write transaction (statements, COMMIT and its fsync)':
    'NSIS 6 (Low) 7: the counter compare-and-set, the session and the audit events survive a crash: one durable commit per sign-in. The reference keeps nothing.',
  'HSM signature of the token (PKCS#11, SoftHSM)':
    'NSIS 6 (Low) 1-3 and key protection: the identity token is signed by a key that never leaves the HSM. The reference signs with a key in its own memory (under "Tokens").',
  'Logging (pino, request log)': 'NSIS 6 (Low) 7: every request and outcome logged for the operator, secrets kept out (NSIS 4.1.6).',
  'Flows and routes (the server\'s own logic)': 'The lifecycle checks of a sign-in (key active, person bound, not suspended) and the answer; the reference\'s own handler is counted here too.',
  'Garbage collection': 'Follows from the allocations of every item above.',
  'Rate limiting (per IP and per account, without its store)': 'NSIS 3.2.3 (Low) 4: brute force and lockout by strangers limited per IP and per account.',
  'Tokens and cookies (claims, JWS, MACs)':
    'NSIS 6 (Low) 5: sessions and device cookies MACed, token claims built. For the reference: its JWT signed with jose and an in-process key.',
  'Other (V8 outside JavaScript, npm helpers)': 'V8 and small npm helpers outside the categories above.',
  'Audit event hashing (canonical JSON, SHA-256)': 'NSIS 6 (Low) 7: an integrity-protected log: every event hashed into the audit chain.',
  'Input parsing (zod)': 'Every input parsed before use (a refusal, never a 5xx, for bad input); the reference trusts its input.',
  'Security headers (helmet)': 'Browser hardening of every answer (CSP, HSTS, no framing); the reference sends none.',
  'Metrics (prom-client)': 'Operations: the /metrics histograms the operator watches (no NSIS clause; could be sampled).',
  'The benchmark\'s own probe (event-loop histogram, profiler)': 'The benchmark\'s measurement, not the server\'s cost.',
  [OTHER_THREADS]:
    "The processes' threads other than JavaScript's (/proc minus the thread's own): libuv's pool runs WebCrypto's SHA-256 and ECDSA jobs (both servers) and the gateway's WAL fdatasync after each group commit (NSIS 6 (Low) 7); V8's threads mark, sweep and compile concurrently (more heap, more of it); the WAL checkpoint Worker copies the WAL into the file; V8's profiler thread is the benchmark's own. The table thread by thread below splits it by kind of thread (scripts/bench/threadKinds.ts).",
};

export const reasonOf = (cost: string): string => COST_REASONS[cost] ?? '–';

/**
 * Why a part of HTTP or WebAuthn verification (profileParts.ts) costs the gateway more than the
 * reference: what the gateway's answers and code hold beyond the reference's, and where the
 * scaling of oversubscribed samples (profileCosts.ts) cannot separate waiting from work.
 */
const WAKE =
  'a call that wakes another thread or process (here the kernel often switches the caller out: the wait it then has for a core is charged where it stood, and the gateway, 2 workers beside 2 generators, waits more than the one-process reference)';
export const PART_REASONS: Record<string, string> = {
  [HTTP_PARTS.socket]: `Same writes (one writev per answer, about 0.65 KB more headers each in the gateway); ${WAKE}.`,
  [HTTP_PARTS.headers]: '13 more headers per answer (11 security headers: browser hardening, CSP, no framing; no-store; the request id of the log line) and 2 Set-Cookie on the verify answer (NSIS 6 (Low) 5: the session; the device cookie of issue 13, 1), each validated and serialised by Node.',
  [HTTP_PARTS.answer]: 'Same res.json (JSON.stringify, weak ETag, Content-Length) of bodies of about the same size (options; identity and token).',
  [HTTP_PARTS.body]: 'Same express.json; the gateway also checks the media type first (CSRF: JSON only, NSIS 3.3.1 / issue 7), a second content-type parse per request.',
  [HTTP_PARTS.routing]: "Two routers per request: the app's (request context, malformed-path check, security headers, the /api mount) and the API's, whose exact-path table runs the API's middleware (CSRF, rate limits, body, session: their own work is in their rows); the reference's one router tries express.json and its 3 routes.",
  [HTTP_PARTS.parse]: 'Same llhttp parse; the gateway\'s requests carry 2 cookies (flow, device; the bench sends no session back) where the reference\'s carry 1.',
  [HTTP_PARTS.finish]: "The request log's close listener on every answer (one log line and one histogram observation per request, NSIS 6 (Low) 7), beside Node's own finish handling.",
  [HTTP_PARTS.hooks]: "The SQLite writer's AsyncLocalStorage (refuses a write from inside a write transaction) turns on Node's promise hooks for every promise of the process; the reference has none.",
  [HTTP_PARTS.loop]: 'Node\'s stream and promise plumbing, more of it per request in the gateway (more awaits: store, rate limits, HSM).',
  [WEBAUTHN_PARTS.importKey]: 'Same import of the COSE key as a JWK (P-256 point validated) on every verification in both: SimpleWebAuthn takes key bytes and has no way to hand it an imported key.',
  [WEBAUTHN_PARTS.verify]: `Same ECDSA check, run on libuv's pool (its CPU is in "Other threads"); ${WAKE}.`,
  [WEBAUTHN_PARTS.digest]: `Same two SHA-256 (client data, RP ID) as WebCrypto jobs on libuv's pool: microseconds of hashing, the rest ${WAKE}.`,
  [WEBAUTHN_PARTS.random]: 'Same 32 random challenge bytes per options request.',
  [WEBAUTHN_PARTS.cbor]: 'The gateway decodes the stored COSE key once more before the library does (only an EC2 key gets the strict DER signature check, WebAuthn §6.5.5).',
  [WEBAUTHN_PARTS.asn1]: 'Same unwrapping of the DER signature to raw r||s (the gateway\'s own strict DER check is in its flows).',
  [WEBAUTHN_PARTS.base64]: 'Same base64url decoding of the response\'s fields.',
  [WEBAUTHN_PARTS.other]: 'Same library code (options, comparisons of origin, RP ID hash, flags, counter).',
};

export const partReasonOf = (part: string): string => PART_REASONS[part] ?? '–';

/** Costs both servers pay by construction (the floor of any WebAuthn sign-in over HTTP). */
export const SHARED_COSTS = new Set(['HTTP (Node http, Express, router, body parser)', 'WebAuthn verification (SimpleWebAuthn, WebCrypto key import, P-256)']);
