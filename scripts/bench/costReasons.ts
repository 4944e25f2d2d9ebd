/**
 * Why each cost of a sign-in is there: one fixed sentence per cost category of profileCosts.ts,
 * citing the NSIS 2.0.1 clause that requires it (or saying that none does). The figures beside
 * these sentences are always measured; only the reasons are fixed text.
 */
export const COST_REASONS: Record<string, string> = {
  'HTTP (Node http, Express, router, body parser)': 'Two requests per ceremony (options, then verify): WebAuthn is a challenge and its answer. The reference pays the same.',
  'WebAuthn verification (SimpleWebAuthn, WebCrypto key import, P-256)':
    'NSIS 3.2.1 (Substantial) 1-2, 3.3: the assertion signature over the challenge is the possession factor (with user verification). The reference pays the same.',
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
};

export const reasonOf = (cost: string): string => COST_REASONS[cost] ?? '–';

/** Costs both servers pay by construction (the floor of any WebAuthn sign-in over HTTP). */
export const SHARED_COSTS = new Set(['HTTP (Node http, Express, router, body parser)', 'WebAuthn verification (SimpleWebAuthn, WebCrypto key import, P-256)']);
