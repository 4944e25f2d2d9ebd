/**
 * WebAuthn mutations (issue 7, "Hostile input"): VALID responses from the software authenticator
 * (real P-256 keys) for sign-in, activation and enrolment, mutated systematically, against a real
 * gateway (real SQLite, real SoftHSM). Two kinds of mutation:
 * - edited: bytes or fields changed after signing, signature kept — the signature (or an earlier
 *   check) must refuse;
 * - re-signed: the change is signed again with the credential's own private key — only the
 *   semantic checks (type, challenge, origin, RP ID hash, flags, counter, owner) can refuse.
 * Random bit flips use fast-check with a fixed seed.
 *
 * Every case asserts: the expected status and problem code, no session cookie, no token, the
 * refusal reason in the audit trail (which may only grow, its chain verifying), and every table
 * unchanged except what a refusal spends by design (the presented challenge; for enrolment, one
 * more failed registration counted against the link). The one documented side effect is clone
 * detection (NSIS 3.2.3 (Low) 4): a counter that does not increase suspends (sign-in) or revokes
 * (reactivation) the key; those cases use fresh keys and assert exactly that.
 */
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { isoCBOR } from '@simplewebauthn/server/helpers';
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { createHash, createPrivateKey, randomBytes, sign as cryptoSign } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { GENESIS_HASH, verifyChain, type AuditEntry } from '../../server/audit/index.js';
import { challengeOf } from '../../server/ceremonies/index.js';
import { FixedClock } from '../../server/clock.js';
import { MAX_ENROLMENT_FAILURES } from '../../server/flows/enrolment/completeEnrolment.js';
import { issueEnrolment } from '../../server/flows/enrolment/issueEnrolment.js';
import { createIdentity } from '../../server/flows/identities/createIdentity.js';
import { ApiClient, field, obj, type ApiResponse } from '../support/apiClient.js';
import { activeAdmin, activeEmployee, enrol, signIn, handedOver } from '../support/journeys.js';
import { AUTH_DATA_FLAGS, SoftAuthenticator } from '../support/softAuthenticator.js';
import { startTestGateway, type TestGateway } from '../support/testGateway.js';
import { ephemeralSql, sql, type SqlConnection } from '../support/sqliteInspection.js';
import { dbGet, rowText, tableRowObjects } from '../support/dbInspection.js';
import { auditEntries, read } from '../support/storeReads.js';

const SEED = 0x7e57_0007;
/** Random bit-flip runs per ceremony and target. */
const RUNS = {
  signin: { signature: 60, authenticatorData: 60, clientDataJSON: 60 },
  activation: { signature: 25, authenticatorData: 25, clientDataJSON: 25 },
  enrolment: { attestationObject: 30, authenticatorData: 25, clientDataJSON: 25 },
};
const SESSION = 'gw_session';
const AUDIENCE = 'urn:demo:intranet';
const EVIL_ORIGIN = 'https://evil.example';

type Ceremony = 'signin' | 'activation' | 'enrolment';
const tally: Record<Ceremony, { tried: number; refused: number }> = {
  signin: { tried: 0, refused: 0 },
  activation: { tried: 0, refused: 0 },
  enrolment: { tried: 0, refused: 0 },
};

// --- bytes -------------------------------------------------------------------------------------

const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64url');
const bytes = (s: string): Buffer => Buffer.from(s, 'base64url');
const sha256 = (d: Uint8Array | string): Buffer => createHash('sha256').update(d).digest();

/** Flips bit `n` (modulo the length) of a base64url value. */
function flipBit(s: string, n: number): string {
  const b = bytes(s);
  const i = n % (b.length * 8);
  b[i >> 3] = (b[i >> 3] ?? 0) ^ (1 << (i & 7));
  return b64(b);
}

function clientDataOf(clientDataJSON: string): Record<string, unknown> {
  return { ...obj(JSON.parse(bytes(clientDataJSON).toString('utf8'))) };
}

type Edit<T> = (v: T) => T;
const setField =
  (k: string, v: unknown): Edit<Record<string, unknown>> =>
  (cd) => ({ ...cd, [k]: v });
const dropField =
  (k: string): Edit<Record<string, unknown>> =>
  (cd) => {
    const copy = { ...cd };
    delete copy[k];
    return copy;
  };
const clearFlags =
  (mask: number): Edit<Buffer> =>
  (ad) => {
    const c = Buffer.from(ad);
    c[32] = (c[32] ?? 0) & ~mask;
    return c;
  };
const rpIdHashOf =
  (rpId: string): Edit<Buffer> =>
  (ad) => {
    const c = Buffer.from(ad);
    sha256(rpId).copy(c, 0);
    return c;
  };
const truncateTo =
  (n: number): Edit<Buffer> =>
  (ad) =>
    Buffer.from(ad.subarray(0, n));
const extendBy =
  (extra: Buffer): Edit<Buffer> =>
  (ad) =>
    Buffer.concat([ad, extra]);

function privateKeyOf(auth: SoftAuthenticator, credentialId: string) {
  return createPrivateKey({ key: bytes(auth.exportCredential(credentialId).privateKeyPkcs8), format: 'der', type: 'pkcs8' });
}

/** An assertion with clientDataJSON and/or authenticatorData changed and the signature KEPT. */
function edited(r: AuthenticationResponseJSON, e: { clientData?: Edit<Record<string, unknown>>; authData?: Edit<Buffer> }): AuthenticationResponseJSON {
  return {
    ...r,
    response: {
      ...r.response,
      clientDataJSON: e.clientData ? b64(Buffer.from(JSON.stringify(e.clientData(clientDataOf(r.response.clientDataJSON))))) : r.response.clientDataJSON,
      authenticatorData: e.authData ? b64(e.authData(bytes(r.response.authenticatorData))) : r.response.authenticatorData,
    },
  };
}

/** The same changes, then signed again (WebAuthn §6.3.3) with `signer`'s key for `signerId`. */
function resigned(
  r: AuthenticationResponseJSON,
  signer: SoftAuthenticator,
  signerId: string,
  e: { clientData?: Edit<Record<string, unknown>>; authData?: Edit<Buffer> },
): AuthenticationResponseJSON {
  const m = edited(r, e);
  const signature = cryptoSign('sha256', Buffer.concat([bytes(m.response.authenticatorData), sha256(bytes(m.response.clientDataJSON))]), privateKeyOf(signer, signerId));
  return { ...m, response: { ...m.response, signature: b64(signature) } };
}

function withId(r: AuthenticationResponseJSON, id: string, rawId = id): AuthenticationResponseJSON {
  return { ...r, id, rawId };
}

// --- registration bytes (attestationObject, WebAuthn §6.5.4) -------------------------------------

interface AttObj {
  fmt: string;
  attStmt: Map<string, number | Uint8Array>;
  authData: Buffer;
}

function decodeAttObj(r: RegistrationResponseJSON): AttObj {
  const m: unknown = isoCBOR.decodeFirst(new Uint8Array(bytes(r.response.attestationObject)));
  assert.ok(m instanceof Map);
  const fmt: unknown = m.get('fmt');
  const attStmt: unknown = m.get('attStmt');
  const authData: unknown = m.get('authData');
  assert.ok(typeof fmt === 'string' && attStmt instanceof Map && authData instanceof Uint8Array);
  const stmt = new Map<string, number | Uint8Array>();
  for (const [k, v] of attStmt) {
    assert.ok(typeof k === 'string' && (typeof v === 'number' || v instanceof Uint8Array));
    stmt.set(k, v);
  }
  return { fmt, attStmt: stmt, authData: Buffer.from(authData) };
}

function withAttObj(r: RegistrationResponseJSON, a: AttObj): RegistrationResponseJSON {
  const encoded = isoCBOR.encode(
    new Map<string, string | Uint8Array | Map<string, number | Uint8Array>>([
      ['fmt', a.fmt],
      ['attStmt', a.attStmt],
      ['authData', new Uint8Array(a.authData)],
    ]),
  );
  return { ...r, response: { ...r.response, attestationObject: b64(encoded), authenticatorData: b64(a.authData) } };
}

function editRegistration(
  r: RegistrationResponseJSON,
  e: { clientData?: Edit<Record<string, unknown>>; authData?: Edit<Buffer>; att?: Edit<AttObj> },
): RegistrationResponseJSON {
  const clientDataJSON = e.clientData ? b64(Buffer.from(JSON.stringify(e.clientData(clientDataOf(r.response.clientDataJSON))))) : r.response.clientDataJSON;
  let a = decodeAttObj(r);
  if (e.authData) a = { ...a, authData: e.authData(a.authData) };
  if (e.att) a = e.att(a);
  return withAttObj({ ...r, response: { ...r.response, clientDataJSON } }, a);
}

/** Packed self attestation (WebAuthn §8.2) signed again by `signer`'s key for `signerId`. */
function resignPackedSelf(r: RegistrationResponseJSON, signer: SoftAuthenticator, signerId: string): RegistrationResponseJSON {
  const a = decodeAttObj(r);
  const sig = cryptoSign('sha256', Buffer.concat([a.authData, sha256(bytes(r.response.clientDataJSON))]), privateKeyOf(signer, signerId));
  a.attStmt.set('sig', new Uint8Array(sig));
  return withAttObj(r, a);
}

/** attestedCredentialData (§6.5.1): aaguid(16) | credIdLen(2) | credId | COSE key, after 37 bytes. */
function spliceCredentialId(r: RegistrationResponseJSON, newId: string): RegistrationResponseJSON {
  const a = decodeAttObj(r);
  const len = a.authData.readUInt16BE(53);
  const id = bytes(newId);
  const lenBytes = Buffer.alloc(2);
  lenBytes.writeUInt16BE(id.length);
  const authData = Buffer.concat([a.authData.subarray(0, 53), lenBytes, id, a.authData.subarray(55 + len)]);
  return { ...withAttObj(r, { ...a, authData }), id: newId, rawId: newId };
}

// --- database snapshots ------------------------------------------------------------------------

interface Allowance {
  table: string;
  columns: readonly string[];
  rows: number;
}
/** The presented challenge is consumed even when the response is refused (single use). */
const CHALLENGE_BURNT: Allowance = { table: 'challenges', columns: ['consumed_at'], rows: 1 };
/** A failed registration is counted against its enrolment link (NSIS 3.2.2 lockout). */
const LINK_FAILURE_COUNTED: Allowance = { table: 'enrolments', columns: ['failed_attempts'], rows: 1 };

/**
 * A snapshot of every table of the durable file except audit_events (checked separately: it may
 * only grow), and of the challenges in the ephemeral file, built by SQLite itself (quote() of
 * every column, rows in rowid order; test/support/sqliteInspection.ts) so that hundreds of cases
 * stay fast. For a table with an allowance: the other columns as one string, and the allowed
 * columns row by row, so the test can tell exactly how many rows changed there.
 */
interface DbState {
  tables: Map<string, { rest: string; allowed: string[] }>;
}

const columnCache = new Map<string, string[]>();
function columnsOf(db: SqlConnection, table: string): string[] {
  const cached = columnCache.get(table);
  if (cached) return cached;
  const cols = db
    .prepare(`PRAGMA table_info("${table}")`)
    .all()
    .map((r) => field<string>(r, 'name'));
  columnCache.set(table, cols);
  return cols;
}

async function dbState(gw: TestGateway, allow: readonly Allowance[]): Promise<DbState> {
  return gw.storeRef.engine === 'sqlite' ? sqliteDbState(gw, allow) : portableDbState(gw, allow);
}

/**
 * The same snapshot on PostgreSQL (no rowid): rows read with SELECT *, paired by the text of the
 * columns that must not change (sorted), so the allowed columns still compare row by row.
 */
async function portableDbState(gw: TestGateway, allow: readonly Allowance[]): Promise<DbState> {
  const tables = new Map<string, { rest: string; allowed: string[] }>();
  for (const [name, rows] of [...(await tableRowObjects(gw))].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const allowed = allow.find((a) => a.table === name)?.columns ?? [];
    const keyed = rows
      .map((r) => {
        const rest = Object.keys(r).filter((c) => !allowed.includes(c));
        return { rest: rowText(r, rest), allowed: rowText(r, allowed) };
      })
      .sort((a, b) => (a.rest < b.rest ? -1 : a.rest > b.rest ? 1 : 0));
    tables.set(name, { rest: `${keyed.length}:${keyed.map((k) => k.rest).join('\n')}`, allowed: allowed.length === 0 ? [] : keyed.map((k) => k.allowed) });
  }
  return { tables };
}

function sqliteDbState(gw: TestGateway, allow: readonly Allowance[]): DbState {
  const durable = sql(gw);
  const names = durable
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name <> 'audit_events' ORDER BY name")
    .all()
    .map((r) => ({ db: durable, name: field<string>(r, 'name') }));
  // The challenges live in the ephemeral file (the rate-limit counters there change with every request).
  names.push({ db: ephemeralSql(gw), name: 'challenges' });
  const tables = new Map<string, { rest: string; allowed: string[] }>();
  const row = (cols: readonly string[]): string => (cols.length === 0 ? "''" : cols.map((c) => `quote("${c}")`).join(" || ',' || "));
  for (const { db, name } of names) {
    const allowed = allow.find((a) => a.table === name)?.columns ?? [];
    const rest = columnsOf(db, name).filter((c) => !allowed.includes(c));
    const restText = field<string | null>(db.prepare(`SELECT count(*) || ':' || coalesce(group_concat(r, char(10)), '') AS t FROM (SELECT ${row(rest)} AS r FROM "${name}" ORDER BY rowid)`).get(), 't');
    const allowedRows =
      allowed.length === 0
        ? []
        : db
            .prepare(`SELECT rowid || ':' || ${row(allowed)} AS r FROM "${name}" ORDER BY rowid`)
            .all()
            .map((r) => field<string>(r, 'r'));
    tables.set(name, { rest: restText ?? '', allowed: allowedRows });
  }
  return { tables };
}

function assertDbUnchanged(before: DbState, after: DbState, allow: readonly Allowance[], where: string): void {
  assert.deepEqual([...after.tables.keys()], [...before.tables.keys()], `${where}: the set of tables changed`);
  for (const [name, b] of before.tables) {
    const a = after.tables.get(name);
    assert.ok(a);
    const allowance = allow.find((x) => x.table === name);
    assert.equal(a.rest, b.rest, `${where}: table ${name} changed${allowance ? ` outside ${allowance.columns.join(', ')}` : ''}`);
    if (!allowance) continue;
    const changed = a.allowed.filter((r, i) => r !== b.allowed[i]).length;
    assert.equal(changed, allowance.rows, `${where}: expected ${allowance.rows} row(s) of ${name} to change in ${allowance.columns.join(', ')}, ${changed} did`);
  }
}

async function settle(gw: TestGateway): Promise<void> {
  for (let i = 0; i < 3; i++) await gw.runtime.outbox.flush();
}

/** The entries appended after `head`, checked to extend the chain from it (the whole chain is verified at the end). */
async function auditSince(gw: TestGateway, head: { seq: number; hash: string }): Promise<AuditEntry[]> {
  const store = gw.runtime.store;
  if (head.seq > 0) {
    const hash = await read(store, (tx) => tx.audit.hashAt(head.seq));
    assert.equal(hash, head.hash, 'an earlier audit entry changed');
  }
  const appended = (await auditEntries(store, head.seq + 1));
  const verdict = verifyChain(appended, head.seq > 0 ? head.hash : GENESIS_HASH, head.seq + 1);
  assert.ok(verdict.ok, `audit chain broken: ${JSON.stringify(verdict)}`);
  return appended;
}

function hasSessionCookie(res: ApiResponse): boolean {
  return res.headers.getSetCookie().some((c) => c.startsWith(`${SESSION}=`) && !/Max-Age=0/i.test(c));
}

// --- expected refusals -------------------------------------------------------------------------

/** Why a mutated response must be refused, independent of the ceremony. */
type Outcome =
  | 'not-verified'
  | 'challenge-unknown'
  | 'challenge-foreign'
  | 'no-challenge'
  | 'unknown-credential'
  | 'other-identity'
  | 'other-enrolment'
  | 'already-registered'
  | 'link-used';

interface Expected {
  status: number;
  code: string;
  refusal: { type: string; reason: string };
  burnt: boolean;
  counted: boolean;
}

function expectFor(ceremony: Ceremony, outcome: Outcome): Expected {
  const reason: Record<Outcome, string> = {
    'not-verified': ceremony === 'signin' ? 'assertion-not-verified' : ceremony === 'activation' ? 'possession-not-proven' : 'registration-not-verified',
    'challenge-unknown': 'challenge-unknown-or-used',
    'challenge-foreign': 'challenge-for-other-ceremony-or-browser',
    'no-challenge': 'no-challenge',
    'unknown-credential': 'unknown-credential',
    'other-identity': 'key-of-another-identity',
    'other-enrolment': 'challenge-for-other-enrolment',
    'already-registered': 'credential-already-registered',
    'link-used': 'already-used',
  };
  // A challenge that was found is consumed, whatever happens next.
  const burnt = !['challenge-unknown', 'no-challenge', 'link-used'].includes(outcome);
  const refusal = { type: `${ceremony}.refused`, reason: reason[outcome] };
  if (ceremony === 'signin') return { status: 401, code: 'SIGNIN_FAILED', refusal, burnt, counted: false };
  if (ceremony === 'activation') {
    const code = outcome === 'not-verified' ? 'CEREMONY_FAILED' : outcome === 'unknown-credential' || outcome === 'other-identity' ? 'ACTIVATION_NOT_PENDING' : 'CHALLENGE_INVALID';
    return { status: 400, code, refusal, burnt, counted: false };
  }
  if (outcome === 'already-registered') return { status: 409, code: 'CONFLICT', refusal, burnt, counted: true };
  if (outcome === 'link-used') return { status: 400, code: 'ENROLMENT_INVALID', refusal, burnt, counted: false };
  return { status: 400, code: outcome === 'not-verified' ? 'CEREMONY_FAILED' : 'CHALLENGE_INVALID', refusal, burnt, counted: true };
}

/** For a clientDataJSON mutation: which refusal path it takes (a challenge that still reads the same is found). */
function outcomeOfClientData(mutated: string, original: string): Outcome {
  const ch = challengeOf(mutated);
  if (ch === original) return 'not-verified';
  return ch === undefined ? 'no-challenge' : 'challenge-unknown';
}

/**
 * Sends one mutated response and checks the refusal end to end. Counts the case as tried, and as
 * refused only when every check held.
 */
async function mustRefuse(gw: TestGateway, ceremony: Ceremony, client: ApiClient, path: string, body: unknown, e: Expected, label: string): Promise<AuditEntry[]> {
  tally[ceremony].tried++;
  await settle(gw);
  const allow = [...(e.burnt ? [CHALLENGE_BURNT] : []), ...(e.counted ? [LINK_FAILURE_COUNTED] : [])];
  const before = await dbState(gw, allow);
  const head = (await read(gw.runtime.store, (tx) => tx.audit.head()));
  const sessionBefore = client.cookie(SESSION);
  const res = await client.post(path, body);
  const where = `${ceremony} [${label}] -> ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`;
  assert.equal(res.status, e.status, where);
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/, where);
  assert.equal(res.code, e.code, where);
  assert.equal(hasSessionCookie(res), false, `${where}: a session cookie was set`);
  assert.equal(client.cookie(SESSION), sessionBefore, `${where}: the session cookie changed`);
  assert.equal(field(res.body, 'token'), undefined, `${where}: a token was issued`);
  await settle(gw);
  assertDbUnchanged(before, await dbState(gw, allow), allow, where);
  const audit = await auditSince(gw, head);
  const reasons = audit.filter((x) => x.type === e.refusal.type).map((x) => x.data['reason']);
  assert.ok(reasons.includes(e.refusal.reason), `${where}: expected audit reason ${e.refusal.reason}, got ${JSON.stringify(reasons)}`);
  const wrong = audit.filter((x) => x.type === 'signin.succeeded' || x.type === 'token.issued' || x.type.startsWith('credential.'));
  assert.deepEqual(wrong, [], `${where}: the refusal left ${wrong.map((x) => x.type).join(', ')}`);
  tally[ceremony].refused++;
  return audit;
}

// --- parties -----------------------------------------------------------------------------------

interface Party {
  auth: SoftAuthenticator;
  email: string;
  credentialId: string;
  identityId: string;
  keyId: string;
  /** The user handle its key was registered with (WebAuthn user.id = the identity id's bytes). */
  userHandle: string;
}

async function party(gw: TestGateway, auth: SoftAuthenticator, email: string, keyId: string): Promise<Party> {
  const [credentialId] = auth.credentialIds();
  assert.ok(credentialId);
  const key = (await read(gw.runtime.store, (tx) => tx.credentials.get(keyId)));
  assert.ok(key);
  return { auth, email, credentialId, identityId: key.identityId, keyId, userHandle: b64(Buffer.from(key.identityId, 'utf8')) };
}

async function issuedEmployee(gw: TestGateway, admin: ApiClient, email: string): Promise<Party & { code: string }> {
  const created = await admin.post('/api/admin/identities', { name: email.split('@')[0], email, ial: 'substantial', proofingMethod: 'ID document checked in person by HR' });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const issued = await admin.post(`/api/admin/identities/${field<string>(created.body, 'identity', 'id')}/enrolments`, {});
  assert.equal(issued.status, 201, JSON.stringify(issued.body));
  const auth = new SoftAuthenticator();
  const keyId = await enrol(gw, new ApiClient(gw.origin), auth, await gw.latestEnrolmentLink(email));
  return { ...(await party(gw, auth, email, keyId)), code: await gw.latestCode(email) };
}

/** An authenticator holding a credential the gateway has never seen. */
async function stranger(gw: TestGateway): Promise<{ auth: SoftAuthenticator; credentialId: string }> {
  const auth = new SoftAuthenticator();
  const r = await auth.createCredential({
    challenge: b64(randomBytes(32)),
    rp: { id: new URL(gw.origin).hostname, name: 'Local IdP' },
    user: { id: b64(randomBytes(16)), name: 'mallory@evil.example' },
    origin: gw.origin,
  });
  return { auth, credentialId: r.id };
}

async function consumedChallenge(gw: TestGateway, ceremony: 'signin' | 'activation' | 'registration'): Promise<string> {
  const row = await dbGet(gw, 'SELECT challenge FROM challenges WHERE ceremony = ? AND consumed_at IS NOT NULL LIMIT 1', [ceremony], { ephemeral: true });
  return field<string>(row, 'challenge');
}

// --- the assertion cases (sign-in and activation) ----------------------------------------------

interface AssertionCtx {
  gw: TestGateway;
  ceremony: 'signin' | 'activation';
  client: ApiClient;
  holder: Party;
  other: Party;
  strange: { auth: SoftAuthenticator; credentialId: string };
  /** The challenge the unmutated response answers. */
  challenge: string;
  /** Options of this ceremony fetched by this same browser: another outstanding challenge. */
  outstanding(): Promise<string>;
  /** Options of this ceremony fetched by another browser. */
  otherBrowser(): Promise<string>;
  /** Options of the other assertion ceremony fetched by this browser. */
  otherCeremony(): Promise<string>;
  used(): Promise<string>;
}

interface AssertionCase {
  name: string;
  /** Whose options the holder's response answers: the holder's (default), the other person's, or none (discoverable). */
  options?: (c: 'signin' | 'activation') => 'holder' | 'other' | 'discoverable';
  outcome: Outcome;
  mutate(r: AuthenticationResponseJSON, x: AssertionCtx): AuthenticationResponseJSON | Promise<AuthenticationResponseJSON>;
}

const re = (x: AssertionCtx, r: AuthenticationResponseJSON, e: { clientData?: Edit<Record<string, unknown>>; authData?: Edit<Buffer> }) =>
  resigned(r, x.holder.auth, x.holder.credentialId, e);

const ASSERTION_CASES: readonly AssertionCase[] = [
  // WebAuthn §7.2 step 11: type
  { name: '§7.2 step 11: type webauthn.create (re-signed)', outcome: 'not-verified', mutate: (r, x) => re(x, r, { clientData: setField('type', 'webauthn.create') }) },
  { name: '§7.2 step 11: type payment.get (re-signed)', outcome: 'not-verified', mutate: (r, x) => re(x, r, { clientData: setField('type', 'payment.get') }) },
  { name: '§7.2 step 11: type webauthn.create (edited, signature kept)', outcome: 'not-verified', mutate: (r) => edited(r, { clientData: setField('type', 'webauthn.create') }) },
  // WebAuthn §7.2 step 12, NSIS 3.3.1 (Low) 3: challenge
  {
    name: '§7.2 step 12: another outstanding challenge of this browser (edited, signature kept)',
    outcome: 'not-verified',
    mutate: async (r, x) => edited(r, { clientData: setField('challenge', await x.outstanding()) }),
  },
  { name: '§7.2 step 12: a random challenge (re-signed)', outcome: 'challenge-unknown', mutate: (r, x) => re(x, r, { clientData: setField('challenge', b64(randomBytes(32))) }) },
  { name: '§7.2 step 12: a used challenge (re-signed)', outcome: 'challenge-unknown', mutate: async (r, x) => re(x, r, { clientData: setField('challenge', await x.used()) }) },
  { name: '§7.2 step 12: no challenge (re-signed)', outcome: 'no-challenge', mutate: (r, x) => re(x, r, { clientData: dropField('challenge') }) },
  {
    name: "§7.2 step 12: another browser's outstanding challenge (re-signed)",
    outcome: 'challenge-foreign',
    mutate: async (r, x) => re(x, r, { clientData: setField('challenge', await x.otherBrowser()) }),
  },
  {
    name: "§7.2 step 12: the other ceremony's challenge (re-signed)",
    outcome: 'challenge-foreign',
    mutate: async (r, x) => re(x, r, { clientData: setField('challenge', await x.otherCeremony()) }),
  },
  // WebAuthn §7.2 step 13: origin
  { name: '§7.2 step 13: another origin (re-signed)', outcome: 'not-verified', mutate: (r, x) => re(x, r, { clientData: setField('origin', EVIL_ORIGIN) }) },
  { name: '§7.2 step 13: origin with a trailing slash (re-signed)', outcome: 'not-verified', mutate: (r, x) => re(x, r, { clientData: setField('origin', `${x.gw.origin}/`) }) },
  {
    name: '§7.2 step 13: origin on another port (re-signed)',
    outcome: 'not-verified',
    mutate: (r, x) => re(x, r, { clientData: setField('origin', `http://localhost:${Number(new URL(x.gw.origin).port) + 1}`) }),
  },
  { name: '§7.2 step 13: origin with https (re-signed)', outcome: 'not-verified', mutate: (r, x) => re(x, r, { clientData: setField('origin', x.gw.origin.replace('http:', 'https:')) }) },
  { name: '§7.2 step 13: origin by IP address (re-signed)', outcome: 'not-verified', mutate: (r, x) => re(x, r, { clientData: setField('origin', x.gw.origin.replace('localhost', '127.0.0.1')) }) },
  {
    name: '§7.2 step 14: cross-origin iframe under a foreign top origin (re-signed)',
    outcome: 'not-verified',
    mutate: (r, x) => re(x, r, { clientData: (cd) => ({ ...cd, crossOrigin: true, topOrigin: EVIL_ORIGIN }) }),
  },
  {
    name: '§7.2 step 14: cross-origin iframe without a top origin (re-signed; the gateway is never framed)',
    outcome: 'not-verified',
    mutate: (r, x) => re(x, r, { clientData: setField('crossOrigin', true) }),
  },
  { name: '§7.2 step 13: topOrigin without crossOrigin (re-signed)', outcome: 'not-verified', mutate: (r, x) => re(x, r, { clientData: setField('topOrigin', EVIL_ORIGIN) }) },
  { name: '§7.2 step 13: another origin (edited, signature kept)', outcome: 'not-verified', mutate: (r) => edited(r, { clientData: setField('origin', EVIL_ORIGIN) }) },
  // WebAuthn §7.2 step 15: RP ID hash
  { name: '§7.2 step 15: RP ID hash of evil.example (re-signed)', outcome: 'not-verified', mutate: (r, x) => re(x, r, { authData: rpIdHashOf('evil.example') }) },
  { name: '§7.2 step 15: RP ID hash of 127.0.0.1 (re-signed)', outcome: 'not-verified', mutate: (r, x) => re(x, r, { authData: rpIdHashOf('127.0.0.1') }) },
  { name: '§7.2 step 15: RP ID hash of "localhost." (re-signed)', outcome: 'not-verified', mutate: (r, x) => re(x, r, { authData: rpIdHashOf('localhost.') }) },
  // WebAuthn §7.2 steps 16-17, NSIS 3.2.1 (Substantial) 2: user present and verified
  { name: '§7.2 step 16: UP flag cleared (re-signed)', outcome: 'not-verified', mutate: (r, x) => re(x, r, { authData: clearFlags(AUTH_DATA_FLAGS.UP) }) },
  { name: '§7.2 step 17: UV flag cleared, UV required (re-signed)', outcome: 'not-verified', mutate: (r, x) => re(x, r, { authData: clearFlags(AUTH_DATA_FLAGS.UV) }) },
  { name: '§7.2 steps 16-17: UP and UV cleared (re-signed)', outcome: 'not-verified', mutate: (r, x) => re(x, r, { authData: clearFlags(AUTH_DATA_FLAGS.UP | AUTH_DATA_FLAGS.UV) }) },
  // WebAuthn §6.1: authenticatorData layout
  { name: '§6.1: authenticatorData truncated to 36 bytes (re-signed)', outcome: 'not-verified', mutate: (r, x) => re(x, r, { authData: truncateTo(36) }) },
  { name: '§6.1: authenticatorData truncated to 32 bytes (re-signed)', outcome: 'not-verified', mutate: (r, x) => re(x, r, { authData: truncateTo(32) }) },
  { name: '§6.1: authenticatorData truncated to 1 byte (re-signed)', outcome: 'not-verified', mutate: (r, x) => re(x, r, { authData: truncateTo(1) }) },
  { name: '§6.1: authenticatorData extended by one byte (re-signed)', outcome: 'not-verified', mutate: (r, x) => re(x, r, { authData: extendBy(Buffer.alloc(1)) }) },
  { name: '§6.1: authenticatorData extended by 16 bytes (re-signed)', outcome: 'not-verified', mutate: (r, x) => re(x, r, { authData: extendBy(randomBytes(16)) }) },
  // WebAuthn §7.2 step 20: signature
  {
    name: "§7.2 step 20: signed by the other person's key",
    outcome: 'not-verified',
    mutate: (r, x) => resigned(r, x.other.auth, x.other.credentialId, {}),
  },
  {
    name: "§7.2 step 20: a signature transplanted from another of the holder's assertions",
    outcome: 'not-verified',
    mutate: (r, x) => ({ ...r, response: { ...r.response, signature: re(x, r, { clientData: setField('challenge', b64(randomBytes(32))) }).response.signature } }),
  },
  // WebAuthn §7.2 steps 5-6: the credential and its owner
  {
    name: "§7.2 step 6: another person's credential answers the holder's challenge",
    outcome: 'other-identity',
    mutate: (r, x) => x.other.auth.getAssertion({ challenge: x.challenge, rpId: 'localhost' }, x.gw.origin, { credentialId: x.other.credentialId }),
  },
  {
    name: "§7.2 step 6: credential id swapped to the other person's, signature kept",
    outcome: 'other-identity',
    mutate: (r, x) => withId(r, x.other.credentialId),
  },
  {
    name: "§7.2 step 20: credential id swapped to the other person's, signature kept, where that person may answer",
    options: (c) => (c === 'signin' ? 'discoverable' : 'other'),
    outcome: 'not-verified',
    mutate: (r, x) => withId(r, x.other.credentialId),
  },
  { name: '§7.2 step 5: id and rawId disagree', outcome: 'not-verified', mutate: (r, x) => withId(r, r.id, x.other.credentialId) },
  {
    name: "§7.2 step 6: the other person's userHandle",
    outcome: 'not-verified',
    mutate: (r, x) => ({ ...r, response: { ...r.response, userHandle: x.other.userHandle } }),
  },
  { name: '§7.2 step 6: a random userHandle', outcome: 'not-verified', mutate: (r) => ({ ...r, response: { ...r.response, userHandle: b64(randomBytes(16)) } }) },
  { name: '§7.2 step 5: an unknown credential id, signature kept', outcome: 'unknown-credential', mutate: (r) => withId(r, b64(randomBytes(32))) },
  {
    name: '§7.2 step 5: an unknown credential answers with its own valid signature',
    outcome: 'unknown-credential',
    mutate: (_r, x) => x.strange.auth.getAssertion({ challenge: x.challenge, rpId: 'localhost' }, x.gw.origin, { credentialId: x.strange.credentialId }),
  },
];

// --- the registration cases (enrolment) --------------------------------------------------------

interface RegistrationCtx {
  gw: TestGateway;
  client: ApiClient;
  auth: SoftAuthenticator;
  other: Party;
  /** Another browser's outstanding challenge for the same link. */
  otherBrowser(): Promise<string>;
  /** This browser's outstanding challenge for another person's link. */
  otherLink(): Promise<string>;
  /** This browser's sign-in challenge. */
  otherCeremony(): Promise<string>;
  /** Another outstanding registration challenge of this browser and link. */
  outstanding(): Promise<string>;
  used(): Promise<string>;
}

interface RegistrationCase {
  name: string;
  attestation?: 'none' | 'packed-self';
  outcome: Outcome;
  mutate(r: RegistrationResponseJSON, x: RegistrationCtx): RegistrationResponseJSON | Promise<RegistrationResponseJSON>;
}

const cd = (e: Edit<Record<string, unknown>>) => (r: RegistrationResponseJSON) => editRegistration(r, { clientData: e });
const ad = (e: Edit<Buffer>) => (r: RegistrationResponseJSON) => editRegistration(r, { authData: e });

// With "none" attestation nothing is signed: an edit is what a hostile client can send anyway.
const REGISTRATION_CASES: readonly RegistrationCase[] = [
  { name: '§7.1 step 7: type webauthn.get', outcome: 'not-verified', mutate: cd(setField('type', 'webauthn.get')) },
  { name: '§7.1 step 7: type webauthn.get, packed self attestation kept', attestation: 'packed-self', outcome: 'not-verified', mutate: cd(setField('type', 'webauthn.get')) },
  { name: '§7.1 step 8: a random challenge', outcome: 'challenge-unknown', mutate: cd(setField('challenge', b64(randomBytes(32)))) },
  { name: '§7.1 step 8: a used challenge', outcome: 'challenge-unknown', mutate: async (r, x) => cd(setField('challenge', await x.used()))(r) },
  { name: '§7.1 step 8: no challenge', outcome: 'no-challenge', mutate: cd(dropField('challenge')) },
  { name: "§7.1 step 8: another browser's outstanding challenge for this link", outcome: 'challenge-foreign', mutate: async (r, x) => cd(setField('challenge', await x.otherBrowser()))(r) },
  { name: "§7.1 step 8: this browser's challenge for another person's link", outcome: 'other-enrolment', mutate: async (r, x) => cd(setField('challenge', await x.otherLink()))(r) },
  { name: '§7.1 step 8: a sign-in challenge', outcome: 'challenge-foreign', mutate: async (r, x) => cd(setField('challenge', await x.otherCeremony()))(r) },
  {
    name: '§7.1 step 8: another outstanding challenge of this link and browser, packed self attestation kept',
    attestation: 'packed-self',
    outcome: 'not-verified',
    mutate: async (r, x) => cd(setField('challenge', await x.outstanding()))(r),
  },
  { name: '§7.1 step 9: another origin', outcome: 'not-verified', mutate: cd(setField('origin', EVIL_ORIGIN)) },
  { name: '§7.1 step 9: origin with a trailing slash', outcome: 'not-verified', mutate: (r, x) => cd(setField('origin', `${x.gw.origin}/`))(r) },
  {
    name: '§7.1 step 9: origin on another port',
    outcome: 'not-verified',
    mutate: (r, x) => cd(setField('origin', `http://localhost:${Number(new URL(x.gw.origin).port) + 1}`))(r),
  },
  { name: '§7.1 step 10: cross-origin iframe under a foreign top origin', outcome: 'not-verified', mutate: cd((c) => ({ ...c, crossOrigin: true, topOrigin: EVIL_ORIGIN })) },
  { name: '§7.1 step 10: cross-origin iframe without a top origin (the gateway is never framed)', outcome: 'not-verified', mutate: cd(setField('crossOrigin', true)) },
  { name: '§7.1 step 13: RP ID hash of evil.example', outcome: 'not-verified', mutate: ad(rpIdHashOf('evil.example')) },
  { name: '§7.1 step 13: RP ID hash of 127.0.0.1', outcome: 'not-verified', mutate: ad(rpIdHashOf('127.0.0.1')) },
  { name: '§7.1 step 14: UP flag cleared', outcome: 'not-verified', mutate: ad(clearFlags(AUTH_DATA_FLAGS.UP)) },
  { name: '§7.1 step 15: UV flag cleared, UV required', outcome: 'not-verified', mutate: ad(clearFlags(AUTH_DATA_FLAGS.UV)) },
  { name: '§6.5.1: AT flag cleared (no attested credential data)', outcome: 'not-verified', mutate: ad(clearFlags(AUTH_DATA_FLAGS.AT)) },
  { name: '§6.5.1: authenticatorData truncated inside the public key', outcome: 'not-verified', mutate: ad((a) => Buffer.from(a.subarray(0, a.length - 10))) },
  { name: '§6.5.1: authenticatorData extended by 16 bytes', outcome: 'not-verified', mutate: ad(extendBy(randomBytes(16))) },
  {
    name: '§7.1 step 19: packed self attestation signature with a flipped bit',
    attestation: 'packed-self',
    outcome: 'not-verified',
    mutate: (r) => editRegistration(r, { att: (a) => ({ ...a, attStmt: new Map([...a.attStmt].map(([k, v]) => [k, k === 'sig' && v instanceof Uint8Array ? bytes(flipBit(b64(v), v.length * 8 - 1)) : v])) }) }),
  },
  {
    name: "§7.1 step 19: packed self attestation signed by the other person's key",
    attestation: 'packed-self',
    outcome: 'not-verified',
    mutate: (r, x) => resignPackedSelf(r, x.other.auth, x.other.credentialId),
  },
  {
    name: '§8.7: "none" attestation carrying a statement',
    outcome: 'not-verified',
    mutate: (r) => editRegistration(r, { att: (a) => ({ ...a, attStmt: new Map<string, number | Uint8Array>([['alg', -7], ['sig', randomBytes(70)]]) }) }),
  },
  {
    // Found by the bit-flip property: the CBOR decoder clamps a byte string that claims to run
    // past the end, so a larger length byte on authData (the last item) decoded to the same bytes.
    name: '§6.5 (CTAP2 canonical CBOR): authData declared one byte longer than the attestation object holds, packed self attestation kept',
    attestation: 'packed-self',
    outcome: 'not-verified',
    mutate: (r) => {
      const raw = bytes(r.response.attestationObject);
      // text(8) "authData", then a byte string with a one-byte length (authData < 256 bytes here)
      const at = raw.indexOf(Buffer.from('686175746844617461', 'hex'));
      assert.ok(at >= 0 && raw[at + 9] === 0x58, 'authData with a one-byte length');
      const lengthAt = at + 10;
      assert.ok((raw[lengthAt] ?? 255) < 255);
      raw[lengthAt] = (raw[lengthAt] ?? 0) + 1;
      return { ...r, response: { ...r.response, attestationObject: b64(raw) } };
    },
  },
  { name: '§8.2: "packed" format without a statement', outcome: 'not-verified', mutate: (r) => editRegistration(r, { att: (a) => ({ ...a, fmt: 'packed' }) }) },
  {
    name: "§7.1 step 22: another person's credential id (already registered)",
    outcome: 'already-registered',
    mutate: (r, x) => spliceCredentialId(r, x.other.credentialId),
  },
];

const PLANNED: Record<Ceremony, number> = {
  signin: ASSERTION_CASES.length + RUNS.signin.signature + RUNS.signin.authenticatorData + RUNS.signin.clientDataJSON + 3 /* clone */ + 2 /* replay */,
  activation: ASSERTION_CASES.length + RUNS.activation.signature + RUNS.activation.authenticatorData + RUNS.activation.clientDataJSON + 2 /* clone */ + 1 /* replay */,
  enrolment: REGISTRATION_CASES.length + RUNS.enrolment.attestationObject + RUNS.enrolment.authenticatorData + RUNS.enrolment.clientDataJSON + 2 /* replay */,
};

// =================================================================================================

describe('WebAuthn mutations of valid responses are refused (NSIS 3.3.1, 3.2.2, 3.2.3; WebAuthn §7.1, §7.2)', () => {
  const clock = new FixedClock(new Date());
  let gw: TestGateway;
  let admin: Awaited<ReturnType<typeof activeAdmin>>;
  let ann: Party; // active: the sign-in holder
  let ben: Party; // active: the other person at sign-in, and the owner of an existing credential at enrolment
  let eva: Party & { code: string }; // issued, waiting for activation: the activation holder
  let eli: Party & { code: string }; // issued: the other person at activation
  let strange: { auth: SoftAuthenticator; credentialId: string };

  before(async () => {
    gw = await startTestGateway({ clock });
    admin = await activeAdmin(gw);
    const a = await activeEmployee(gw, admin.client, 'ann@demo.example', 'Ann');
    ann = await party(gw, a.auth, a.email, a.keyId);
    const b = await activeEmployee(gw, admin.client, 'ben@demo.example', 'Ben');
    ben = await party(gw, b.auth, b.email, b.keyId);
    eva = await issuedEmployee(gw, admin.client, 'eva@demo.example');
    eli = await issuedEmployee(gw, admin.client, 'eli@demo.example');
    strange = await stranger(gw);
  });
  after(async () => {
    await gw.close();
  });

  // --- sign-in ---------------------------------------------------------------------------------

  const assertionCtx = (ceremony: 'signin' | 'activation', client: ApiClient, challenge: string): AssertionCtx => {
    const optionsPath = ceremony === 'signin' ? '/api/signin/options' : '/api/activation/options';
    const holder = ceremony === 'signin' ? ann : eva;
    const fetchChallenge = async (c: ApiClient, path: string): Promise<string> => {
      const res = await c.post(path, { email: holder.email });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return field<string>(res.body, 'options', 'challenge');
    };
    return {
      gw,
      ceremony,
      client,
      holder,
      other: ceremony === 'signin' ? ben : eli,
      strange,
      challenge,
      outstanding: () => fetchChallenge(client, optionsPath),
      otherBrowser: () => fetchChallenge(new ApiClient(gw.origin), optionsPath),
      otherCeremony: () => fetchChallenge(client, ceremony === 'signin' ? '/api/activation/options' : '/api/signin/options'),
      used: () => consumedChallenge(gw, ceremony),
    };
  };

  /** A fresh, valid assertion by the holder and the client that asked for it. */
  const freshAssertion = async (ceremony: 'signin' | 'activation', optionsFor: 'holder' | 'other' | 'discoverable' = 'holder') => {
    const holder = ceremony === 'signin' ? ann : eva;
    const other = ceremony === 'signin' ? ben : eli;
    const client = new ApiClient(gw.origin);
    const body = optionsFor === 'discoverable' ? {} : { email: optionsFor === 'holder' ? holder.email : other.email };
    const opt = await client.post(ceremony === 'signin' ? '/api/signin/options' : '/api/activation/options', body);
    assert.equal(opt.status, 200, JSON.stringify(opt.body));
    const options = field<PublicKeyCredentialRequestOptionsJSON>(opt.body, 'options');
    const response = await holder.auth.getAssertion(options, gw.origin, { credentialId: holder.credentialId });
    return { client, response, challenge: options.challenge };
  };

  const verifyPath = (c: 'signin' | 'activation') => (c === 'signin' ? '/api/signin/verify' : '/api/activation/verify');
  const verifyBody = (c: 'signin' | 'activation', response: AuthenticationResponseJSON) =>
    c === 'signin' ? { response, audience: AUDIENCE } : { code: eva.code, response };

  const runAssertionCases = async (ceremony: 'signin' | 'activation'): Promise<void> => {
    for (const k of ASSERTION_CASES) {
      const { client, response, challenge } = await freshAssertion(ceremony, k.options?.(ceremony) ?? 'holder');
      const mutated = await k.mutate(response, assertionCtx(ceremony, client, challenge));
      await mustRefuse(gw, ceremony, client, verifyPath(ceremony), verifyBody(ceremony, mutated), expectFor(ceremony, k.outcome), k.name);
    }
  };

  type Target = 'signature' | 'authenticatorData' | 'clientDataJSON';
  const runBitFlips = async (ceremony: 'signin' | 'activation', target: Target, numRuns: number): Promise<void> => {
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: 1 << 20 }), async (bit) => {
        const { client, response, challenge } = await freshAssertion(ceremony);
        const mutated = { ...response, response: { ...response.response, [target]: flipBit(response.response[target], bit) } };
        const outcome = target === 'clientDataJSON' ? outcomeOfClientData(mutated.response.clientDataJSON, challenge) : 'not-verified';
        await mustRefuse(gw, ceremony, client, verifyPath(ceremony), verifyBody(ceremony, mutated), expectFor(ceremony, outcome), `${target} bit ${bit}`);
      }),
      { seed: SEED, numRuns, endOnFailure: true },
    );
  };

  it('control: an unmutated sign-in response is accepted (a session and a token), and replaying it is refused (NSIS 3.3.1 (Low) 3)', async () => {
    const { client, response } = await freshAssertion('signin');
    const ok = await client.post('/api/signin/verify', { response, audience: AUDIENCE });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.ok(client.cookie(SESSION));
    assert.equal(typeof field(ok.body, 'token'), 'string');
    // Replaying the whole accepted response: in the same browser and in another one.
    await mustRefuse(gw, 'signin', client, '/api/signin/verify', { response, audience: AUDIENCE }, expectFor('signin', 'challenge-unknown'), 'replay, same browser');
    await mustRefuse(gw, 'signin', new ApiClient(gw.origin), '/api/signin/verify', { response, audience: AUDIENCE }, expectFor('signin', 'challenge-unknown'), 'replay, other browser');
  });

  it('NSIS 3.3.1, WebAuthn §7.2 steps 5-20: each listed sign-in mutation is refused with 401 SIGNIN_FAILED, no session, no token, nothing changed', async () => {
    await runAssertionCases('signin');
    assert.equal((await read(gw.runtime.store, (tx) => tx.credentials.get(ann.keyId)))?.state, 'active');
  });

  it('NSIS 3.3.1, WebAuthn §7.2 step 20 (property): a sign-in signature with one flipped bit is refused', async () => {
    await runBitFlips('signin', 'signature', RUNS.signin.signature);
  });

  it('NSIS 3.3.1, WebAuthn §7.2 steps 15-20 (property): sign-in authenticatorData with one flipped bit is refused', async () => {
    await runBitFlips('signin', 'authenticatorData', RUNS.signin.authenticatorData);
  });

  it('NSIS 3.3.1, WebAuthn §7.2 steps 10-13 (property): sign-in clientDataJSON with one flipped bit is refused', async () => {
    await runBitFlips('signin', 'clientDataJSON', RUNS.signin.clientDataJSON);
    // After every refusal the holder's key still signs in.
    const ok = await signIn(gw, new ApiClient(gw.origin), ann.auth, ann.email);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    const key = (await read(gw.runtime.store, (tx) => tx.credentials.get(ann.keyId)));
    assert.equal(key?.state, 'active');
  });

  it('NSIS 3.2.3 (Low) 4, WebAuthn §7.2 step 21: a sign-in whose counter is replayed, equal, lower or zero is refused and suspends the key as a suspected clone', async () => {
    const cases: [string, (stored: number) => number][] = [
      ['equal', (s) => s],
      ['lower', (s) => s - 1],
      ['zero', () => 0],
    ];
    for (const [name, counterFor] of cases) {
      // A fresh key per case: the reaction changes the key for good.
      const emp = await activeEmployee(gw, admin.client, `clone-${name}@demo.example`, `Clone ${name}`);
      const holderSession = new ApiClient(gw.origin);
      assert.equal((await signIn(gw, holderSession, emp.auth, emp.email)).status, 200);
      const stored = (await read(gw.runtime.store, (tx) => tx.credentials.get(emp.keyId)))?.signCount ?? -1;
      assert.ok(stored >= 2);
      tally.signin.tried++;
      const c = new ApiClient(gw.origin);
      const opt = await c.post('/api/signin/options', { email: emp.email });
      const response = await emp.auth.getAssertion(field<PublicKeyCredentialRequestOptionsJSON>(opt.body, 'options'), gw.origin, { counter: counterFor(stored) });
      await settle(gw);
      const sessions = Number(field(await dbGet(gw, 'SELECT count(*) AS n FROM sessions'), 'n'));
      const head = (await read(gw.runtime.store, (tx) => tx.audit.head()));
      const res = await c.post('/api/signin/verify', { response, audience: AUDIENCE });
      assert.equal(res.status, 401, `${name}: ${JSON.stringify(res.body)}`);
      assert.equal(res.code, 'SIGNIN_FAILED');
      assert.equal(hasSessionCookie(res), false);
      assert.equal(field(res.body, 'token'), undefined);
      const key = (await read(gw.runtime.store, (tx) => tx.credentials.get(emp.keyId)));
      assert.equal(key?.state, 'suspended', name);
      assert.equal(key?.stateReason, 'suspected-clone', name);
      assert.equal(key?.signCount, stored, `${name}: the stored counter moved`);
      assert.equal(Number(field(await dbGet(gw, 'SELECT count(*) AS n FROM sessions'), 'n')), sessions, `${name}: a session was created`);
      assert.equal((await holderSession.get('/api/me')).status, 401, `${name}: the key's earlier session survived`);
      const audit = await auditSince(gw, head);
      assert.ok(audit.some((e) => e.type === 'credential.suspend' && e.data['reason'] === 'suspected-clone' && e.actorRole === 'system'), name);
      assert.ok(audit.some((e) => e.type === 'signin.refused' && e.data['reason'] === 'counter-not-increasing'), name);
      assert.ok(!audit.some((e) => e.type === 'signin.succeeded' || e.type === 'token.issued'), name);
      const alerts = (await gw.mailsTo(admin.email)).filter((m) => m.kind === 'clone-alert' && m.text.includes(`Clone ${name}`));
      assert.equal(alerts.length, 1, `${name}: the helpdesk was not alerted`);
      // The suspected copy can only be revoked, and the real key no longer signs in either.
      const again = await admin.client.post(`/api/helpdesk/credentials/${emp.keyId}/reactivate`, { reason: 'found' });
      assert.equal(again.code, 'LIFECYCLE_REACTIVATION_FORBIDDEN', JSON.stringify(again.body));
      assert.equal((await signIn(gw, new ApiClient(gw.origin), emp.auth, emp.email)).status, 401);
      tally.signin.refused++;
    }
  });

  // --- activation ------------------------------------------------------------------------------

  it('NSIS 3.2.2, WebAuthn §7.2 steps 5-20: each listed activation mutation is refused (possession not proven), the code is not spent and the key stays issued', async () => {
    await runAssertionCases('activation');
    assert.equal((await read(gw.runtime.store, (tx) => tx.credentials.get(eva.keyId)))?.state, 'issued');
    assert.equal((await read(gw.runtime.store, (tx) => tx.credentials.get(eli.keyId)))?.state, 'issued');
  });

  it('NSIS 3.2.2, WebAuthn §7.2 step 20 (property): an activation signature with one flipped bit is refused', async () => {
    await runBitFlips('activation', 'signature', RUNS.activation.signature);
  });

  it('NSIS 3.2.2, WebAuthn §7.2 steps 15-20 (property): activation authenticatorData with one flipped bit is refused', async () => {
    await runBitFlips('activation', 'authenticatorData', RUNS.activation.authenticatorData);
  });

  it('NSIS 3.2.2, WebAuthn §7.2 steps 10-13 (property): activation clientDataJSON with one flipped bit is refused', async () => {
    await runBitFlips('activation', 'clientDataJSON', RUNS.activation.clientDataJSON);
  });

  it('control: after every refusal the real activation works with the same code, and replaying it is refused (NSIS 3.2.2)', async () => {
    const { client, response } = await freshAssertion('activation');
    const ok = await client.post('/api/activation/verify', { code: eva.code, response });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal((await read(gw.runtime.store, (tx) => tx.credentials.get(eva.keyId)))?.state, 'active');
    await mustRefuse(gw, 'activation', new ApiClient(gw.origin), '/api/activation/verify', { code: eva.code, response }, expectFor('activation', 'challenge-unknown'), 'replay');
  });

  it('NSIS 3.2.3 (Low) 3-4, WebAuthn §7.2 step 21: a reactivation whose counter is equal or lower is refused and revokes the key as a suspected clone', async () => {
    const cases: [string, (stored: number) => number][] = [
      ['equal', (s) => s],
      ['lower', (s) => s - 2],
    ];
    for (const [name, counterFor] of cases) {
      const emp = await activeEmployee(gw, admin.client, `reclone-${name}@demo.example`, `Reclone ${name}`);
      for (let i = 0; i < 2; i++) assert.equal((await signIn(gw, new ApiClient(gw.origin), emp.auth, emp.email)).status, 200);
      assert.equal((await emp.client.post(`/api/me/credentials/${emp.keyId}/report-lost`, {})).status, 200);
      const started = await admin.client.post(`/api/helpdesk/credentials/${emp.keyId}/reactivate`, { reason: 'found' });
      assert.equal(started.status, 200, JSON.stringify(started.body));
      const code = await gw.latestCode(emp.email);
      const stored = (await read(gw.runtime.store, (tx) => tx.credentials.get(emp.keyId)))?.signCount ?? -1;
      assert.ok(stored >= 3);
      tally.activation.tried++;
      const c = new ApiClient(gw.origin);
      const opt = await c.post('/api/activation/options', { email: emp.email });
      const response = await emp.auth.getAssertion(field<PublicKeyCredentialRequestOptionsJSON>(opt.body, 'options'), gw.origin, { counter: counterFor(stored) });
      const head = (await read(gw.runtime.store, (tx) => tx.audit.head()));
      const res = await c.post('/api/activation/verify', { code, response });
      assert.equal(res.status, 400, `${name}: ${JSON.stringify(res.body)}`);
      assert.equal(res.code, 'CEREMONY_FAILED');
      assert.equal(hasSessionCookie(res), false);
      const key = (await read(gw.runtime.store, (tx) => tx.credentials.get(emp.keyId)));
      assert.equal(key?.state, 'revoked', name);
      assert.equal(key?.stateReason, 'suspected-clone', name);
      assert.equal(key?.signCount, stored, name);
      const audit = await auditSince(gw, head);
      assert.ok(audit.some((e) => e.type === 'activation.refused' && e.data['reason'] === 'counter-not-increasing'), name);
      assert.ok(audit.some((e) => e.type === 'credential.revoke' && e.data['reason'] === 'suspected-clone'), name);
      assert.ok(!audit.some((e) => e.type === 'signin.succeeded'), name);
      tally.activation.refused++;
    }
  });

  // --- enrolment -------------------------------------------------------------------------------

  let cat: { identityId: string; token: string; enrolmentId: string } | undefined; // the enrolment holder
  let dan: { identityId: string; token: string } | undefined; // another person with an open link

  const bind = async (email: string): Promise<string> => {
    const org = (await read(gw.runtime.store, (tx) => tx.identities.get(gw.seed.admin.id)))?.organisationId;
    assert.ok(org);
    return (
      await createIdentity(
        gw.runtime.flows,
        { identityId: gw.seed.admin.id, role: 'org-admin' },
        { organisationId: org, name: email, email, ial: 'substantial', proofingMethod: 'ID document checked in person by HR', roles: [] },
      )
    ).id;
  };
  const issue = async (identityId: string) => handedOver(await issueEnrolment(gw.runtime.flows, { identityId: gw.seed.admin.id, role: 'org-admin' }, identityId, undefined, 'handover'));

  /** The holder's link; a new one (the old withdrawn) before it would lock, so every case meets a live link. */
  const currentLink = async (): Promise<{ identityId: string; token: string; enrolmentId: string }> => {
    if (!cat) {
      const identityId = await bind('cat@demo.example');
      const e = await issue(identityId);
      cat = { identityId, token: e.token, enrolmentId: e.enrolmentId };
    }
    const held = cat;
    if (((await read(gw.runtime.store, (tx) => tx.enrolments.get(held.enrolmentId)))?.failedAttempts ?? 0) >= MAX_ENROLMENT_FAILURES - 1) {
      const e = await issue(held.identityId);
      cat = { ...held, token: e.token, enrolmentId: e.enrolmentId };
    }
    return cat;
  };
  const otherLink = async (): Promise<{ identityId: string; token: string }> => {
    if (!dan) {
      const identityId = await bind('dan@demo.example');
      dan = { identityId, token: (await issue(identityId)).token };
    }
    return dan;
  };

  const freshRegistration = async (attestation: 'none' | 'packed-self') => {
    const link = await currentLink();
    const client = new ApiClient(gw.origin);
    const opt = await client.post('/api/enrolment/options', { token: link.token });
    assert.equal(opt.status, 200, JSON.stringify(opt.body));
    const options = field<PublicKeyCredentialCreationOptionsJSON>(opt.body, 'options');
    const auth = new SoftAuthenticator({ attestation });
    const response = await auth.createCredential({ ...options, origin: gw.origin });
    return { client, auth, response, token: link.token, challenge: options.challenge };
  };

  const registrationCtx = (client: ApiClient, auth: SoftAuthenticator, token: string): RegistrationCtx => {
    const challengeFrom = async (c: ApiClient, path: string, body: unknown): Promise<string> => {
      const res = await c.post(path, body);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return field<string>(res.body, 'options', 'challenge');
    };
    return {
      gw,
      client,
      auth,
      other: ben,
      otherBrowser: () => challengeFrom(new ApiClient(gw.origin), '/api/enrolment/options', { token }),
      otherLink: async () => challengeFrom(client, '/api/enrolment/options', { token: (await otherLink()).token }),
      otherCeremony: () => challengeFrom(client, '/api/signin/options', {}),
      outstanding: () => challengeFrom(client, '/api/enrolment/options', { token }),
      used: () => consumedChallenge(gw, 'registration'),
    };
  };

  const enrolmentBody = (token: string, response: RegistrationResponseJSON) => ({ token, label: 'Mutant key', response });

  it('NSIS 3.2.2, WebAuthn §7.1 steps 7-22: each listed registration mutation is refused, nothing registered, the failure counted against the link', async () => {
    for (const k of REGISTRATION_CASES) {
      const { client, auth, response, token } = await freshRegistration(k.attestation ?? 'none');
      const mutated = await k.mutate(response, registrationCtx(client, auth, token));
      await mustRefuse(gw, 'enrolment', client, '/api/enrolment/verify', enrolmentBody(token, mutated), expectFor('enrolment', k.outcome), k.name);
    }
    assert.equal((await read(gw.runtime.store, (tx) => tx.credentials.listOfIdentity(cat?.identityId ?? ''))).length, 0);
  });

  it('NSIS 3.2.2, WebAuthn §7.1 step 19 (property): a packed-attested registration with one flipped bit in attestationObject, authenticatorData or clientDataJSON is refused', async () => {
    const targets: ['attestationObject' | 'authenticatorData' | 'clientDataJSON', number][] = [
      ['attestationObject', RUNS.enrolment.attestationObject],
      ['authenticatorData', RUNS.enrolment.authenticatorData],
      ['clientDataJSON', RUNS.enrolment.clientDataJSON],
    ];
    for (const [target, numRuns] of targets) {
      await fc.assert(
        fc.asyncProperty(fc.nat({ max: 1 << 20 }), async (bit) => {
          const { client, response, token, challenge } = await freshRegistration('packed-self');
          let mutated: RegistrationResponseJSON;
          let outcome: Outcome = 'not-verified';
          if (target === 'attestationObject') {
            mutated = { ...response, response: { ...response.response, attestationObject: flipBit(response.response.attestationObject, bit) } };
          } else if (target === 'authenticatorData') {
            // Inside the attestation object, where the gateway reads it.
            mutated = editRegistration(response, { authData: (a) => bytes(flipBit(b64(a), bit)) });
          } else {
            mutated = { ...response, response: { ...response.response, clientDataJSON: flipBit(response.response.clientDataJSON, bit) } };
            outcome = outcomeOfClientData(mutated.response.clientDataJSON, challenge);
          }
          await mustRefuse(gw, 'enrolment', client, '/api/enrolment/verify', enrolmentBody(token, mutated), expectFor('enrolment', outcome), `${target} bit ${bit}`);
        }),
        { seed: SEED, numRuns, endOnFailure: true },
      );
    }
  });

  it('control: after every refusal the link still registers a real key, and replaying the accepted registration is refused (NSIS 3.2.2 single use)', async () => {
    const { client, response, token } = await freshRegistration('packed-self');
    const ok = await client.post('/api/enrolment/verify', enrolmentBody(token, response));
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    await mustRefuse(gw, 'enrolment', client, '/api/enrolment/verify', enrolmentBody(token, response), expectFor('enrolment', 'link-used'), 'replay, same link');
    // The same response through another live link: its challenge is spent.
    await mustRefuse(gw, 'enrolment', client, '/api/enrolment/verify', enrolmentBody((await otherLink()).token, response), expectFor('enrolment', 'challenge-unknown'), 'replay, other link');
  });

  it('every WebAuthn mutation tried was refused (case count)', async (t) => {
    const tried = tally.signin.tried + tally.activation.tried + tally.enrolment.tried;
    const refused = tally.signin.refused + tally.activation.refused + tally.enrolment.refused;
    t.diagnostic(
      `webauthn mutations: ${tried} cases tried, ${refused} refused (sign-in ${tally.signin.tried}, activation ${tally.activation.tried}, enrolment ${tally.enrolment.tried})`,
    );
    assert.deepEqual(
      { signin: tally.signin.tried, activation: tally.activation.tried, enrolment: tally.enrolment.tried },
      PLANNED,
      'not every planned case ran',
    );
    assert.equal(refused, tried);
    const chain = verifyChain((await auditEntries(gw.runtime.store)));
    assert.ok(chain.ok, `audit chain broken: ${JSON.stringify(chain)}`);
  });
});
