/**
 * The in-memory reference the gateway is compared with: the same two sign-in endpoints and the
 * request/response shapes the load generator uses, and nothing else — users, keys and challenges
 * in Maps, @simplewebauthn/server's verifyAuthenticationResponse, an ES256 JWT signed by jose with
 * a key held in this process. No storage, no audit, no HSM, no lifecycle, one process.
 *
 * Run by the bench as its own process; environment: BENCH_REF_PORT, BENCH_REF_ORIGIN,
 * BENCH_REF_RP_ID, BENCH_REF_POPULATION (a JSON file of {email, credentialId, publicKey} with the
 * COSE public keys of the population, handed over directly instead of registering).
 */
import { generateAuthenticationOptions, verifyAuthenticationResponse, type AuthenticationResponseJSON } from '@simplewebauthn/server';
import express, { type Request, type Response } from 'express';
import { SignJWT, generateKeyPair } from 'jose';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';

interface RefKey {
  email: string;
  credentialId: string;
  publicKey: Uint8Array<ArrayBuffer>;
  counter: number;
  userId: string;
}

function required(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is required`);
  return v;
}

const port = Number(required('BENCH_REF_PORT'));
const origin = required('BENCH_REF_ORIGIN');
const rpId = required('BENCH_REF_RP_ID');

function loadPopulation(file: string): RefKey[] {
  const parsed: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
  if (!Array.isArray(parsed)) throw new Error('population: expected an array');
  return parsed.map((entry: unknown) => {
    if (typeof entry !== 'object' || entry === null) throw new Error('population: expected objects');
    const { email, credentialId, publicKey } = entry as Record<string, unknown>;
    if (typeof email !== 'string' || typeof credentialId !== 'string' || typeof publicKey !== 'string') throw new Error('population: bad entry');
    return { email, credentialId, publicKey: new Uint8Array(Buffer.from(publicKey, 'base64url')), counter: 0, userId: randomUUID() };
  });
}

const keys = loadPopulation(required('BENCH_REF_POPULATION'));
const byEmail = new Map(keys.map((k) => [k.email, k]));
const byCredentialId = new Map(keys.map((k) => [k.credentialId, k]));
/** flow cookie -> the one open challenge of that browser. */
const challenges = new Map<string, { challenge: string; email: string; expires: number }>();
const { privateKey } = await generateKeyPair('ES256');

function flowOf(req: Request): string | undefined {
  const m = /(?:^|;\s*)gw_flow=([A-Za-z0-9_-]{16,128})/.exec(req.headers.cookie ?? '');
  return m?.[1];
}

const app = express();
app.disable('x-powered-by');
app.use(express.json({ limit: 65536 }));

app.get('/health', (_req: Request, res: Response) => {
  res.json({ status: 'ok' });
});

app.post('/api/signin/options', async (req: Request, res: Response) => {
  const body: unknown = req.body;
  const email = typeof body === 'object' && body !== null && 'email' in body && typeof body.email === 'string' ? body.email : undefined;
  const key = email ? byEmail.get(email) : undefined;
  if (!email || !key) {
    res.status(400).json({ code: 'UNKNOWN_USER' });
    return;
  }
  let flow = flowOf(req);
  if (!flow) {
    flow = randomBytes(32).toString('base64url');
    res.append('Set-Cookie', `gw_flow=${flow}; Path=/; HttpOnly; SameSite=Strict; Max-Age=900`);
  }
  const options = await generateAuthenticationOptions({ rpID: rpId, userVerification: 'required', allowCredentials: [{ id: key.credentialId }] });
  challenges.set(flow, { challenge: options.challenge, email, expires: Date.now() + 120_000 });
  res.json({ options });
});

app.post('/api/signin/verify', async (req: Request, res: Response) => {
  const body: unknown = req.body;
  const flow = flowOf(req);
  const open = flow ? challenges.get(flow) : undefined;
  if (flow) challenges.delete(flow);
  if (typeof body !== 'object' || body === null || !('response' in body) || !open || open.expires < Date.now()) {
    res.status(401).json({ code: 'SIGNIN_FAILED' });
    return;
  }
  // The library validates the response's structure itself; a malformed one throws and is refused.
  const response = body.response as AuthenticationResponseJSON;
  const audience = 'audience' in body && typeof body.audience === 'string' ? body.audience : 'urn:reference';
  const key = typeof response?.id === 'string' ? byCredentialId.get(response.id) : undefined;
  if (!key || key.email !== open.email) {
    res.status(401).json({ code: 'SIGNIN_FAILED' });
    return;
  }
  try {
    const result = await verifyAuthenticationResponse({
      response,
      expectedChallenge: open.challenge,
      expectedOrigin: origin,
      expectedRPID: rpId,
      requireUserVerification: true,
      credential: { id: key.credentialId, publicKey: key.publicKey, counter: key.counter },
    });
    if (!result.verified) throw new Error('not verified');
    key.counter = result.authenticationInfo.newCounter;
  } catch {
    res.status(401).json({ code: 'SIGNIN_FAILED' });
    return;
  }
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({ email: key.email, amr: ['hwk'], acr: 'substantial' })
    .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: 'reference' })
    .setIssuer(origin)
    .setSubject(key.userId)
    .setAudience(audience)
    .setIssuedAt(now)
    .setExpirationTime(now + 300)
    .setJti(randomUUID())
    .sign(privateKey);
  res.json({ identity: { id: key.userId, email: key.email }, token });
});

const server = app.listen(port, '127.0.0.1');
const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
