/**
 * Seeds a gateway database with N active security keys for the growth benchmark (issue 7):
 * each with its own employee in the organisation and exactly the rows a real enrolment and
 * activation leave behind: identity and role, consumed enrolment link, the key (state active,
 * a real COSE P-256 public key and a "none" attestation object), consumed activation code, the
 * activation sign-in's session, the two state-history rows (issue, activate), the two delivered
 * mails (the outbox keeps their envelope, the body erased) and the six audit events, appended to
 * the hash chain as the gateway appends them. Not written: the consumed WebAuthn challenges (the
 * gateway prunes those). Two more audit events mark where a seed run starts and ends, so an
 * auditor can tell seeded rows from real ones; names, the proofing method and the key label say
 * so too. The private halves of the public keys are discarded: no seeded key can sign in.
 *
 *   npm run seed -- --keys 1000000                  # into the configured database (var/gateway.db)
 *   npm run seed -- --keys 100000 --db /tmp/b.db --org-cvr 12345674
 *
 * For benchmark databases only. Stop the gateway first: a database another process has open is
 * refused, and the load runs without fsync (synchronous=OFF on its own connection). The database
 * must already exist and be migrated (start the gateway once on it); anything else is refused.
 * The load is one transaction: a seed killed midway leaves a journal that the next read-write
 * open (the gateway's start, or the next seed) rolls back, leaving the database as it was.
 */
import { createHash, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import { generateKeyObjects } from './lib/keyPairs.js';
import { pathToFileURL } from 'node:url';
import { isoCBOR } from '@simplewebauthn/server/helpers';
import type { JsonValue } from '../server/audit/canonicalJson.js';
import { amrFor, authenticatorLevel } from '../server/assurance/levels.js';
import { decideAal } from '../server/assurance/policy.js';
import { addMinutes } from '../server/clock.js';
import { loadConfig } from '../server/config.js';
import { SYSTEM_ACTOR, type Actor } from '../server/domain/types.js';
import { LIFECYCLE_TABLE } from '../server/lifecycle/index.js';
import type { AuditInput } from '../server/domain/audit.js';
import { SeedRepository, type SeedBatch } from '../server/store/sqlite/index.js';
import { createProgress } from './lib/progress.js';

export interface SeedKeysOptions {
  /** An existing, migrated gateway database. */
  dbFile: string;
  /** How many keys (and employees) to add. */
  keys: number;
  /** CVR of the organisation the employees join (default: the demo organisation's). */
  orgCvr?: string;
  /** WebAuthn RP ID hashed into each key's authenticator data (default "localhost"). */
  rpId?: string;
  /** Keys generated and written per batch (default 10,000, about 170,000 rows). */
  batchKeys?: number;
  /** Called after every batch with the number of keys written so far. */
  onProgress?: (done: number) => void;
  /** Called before each index is rebuilt at the end of the load. */
  onIndex?: (name: string) => void;
}

export interface SeedKeysResult {
  identities: number;
  keys: number;
  auditEntries: number;
  seconds: number;
}

const DEMO_CVR = '12345674';
const DEFAULT_BATCH = 10_000;
/** The defaults of GATEWAY_ENROLMENT_TTL_MINUTES, GATEWAY_ACTIVATION_CODE_TTL_MINUTES, GATEWAY_SESSION_ABSOLUTE_MINUTES. */
const ENROLMENT_TTL_MINUTES = 1440;
const CODE_TTL_MINUTES = 30;
const SESSION_ABSOLUTE_MINUTES = 480;
const CREDENTIAL_ID_BYTES = 32;
const PROOFING_METHOD = 'Benchmark seed (scripts/seed-keys.ts): not a real person';
const LABEL = 'Security key (seeded)';

/**
 * AAGUIDs of common FIDO2 security keys (YubiKey 5 NFC, Feitian ePass FIDO2-NFC, Google Titan v2),
 * so the fleet report looks like a real fleet's. With "none" attestation nothing is verified, so
 * no model name or certification is recorded, exactly as for a real key registered that way.
 */
const AAGUIDS = ['2fc0579f-8113-47ea-b116-bb5a8db9202a', 'ee041bce-25e5-4cdb-8f86-897fd6418464', '42b4fb4a-2866-43b2-9bf7-6c6669c2e5d3'];
const POOL_SIZE = 8;
/** The two mails an enrolment and activation send, as server/lifecycle/mails.ts words them. */
const CODE_MAIL = { kind: 'activation-code', subject: 'Your security key activation code' };
const NOTICE_MAIL = { kind: 'activate-notice', subject: `Your security key "${LABEL}" is now active` };

const FIRST = ['Mette', 'Anne', 'Kirsten', 'Hanne', 'Lars', 'Jens', 'Peter', 'Søren', 'Mads', 'Freja', 'Ida', 'Emil', 'Asger', 'Signe', 'Jørgen', 'Åse'];
const LAST = ['Jensen', 'Nielsen', 'Hansen', 'Pedersen', 'Andersen', 'Christensen', 'Larsen', 'Sørensen', 'Rasmussen', 'Jørgensen', 'Mølgaard', 'Østergaard'];
const ascii = (s: string) =>
  s
    .toLowerCase()
    .replace(/ø/g, 'oe')
    .replace(/æ/g, 'ae')
    .replace(/å/g, 'aa');

/** COSE_Key (RFC 9053) of an EC2 P-256 key, in CTAP2 canonical order, as authenticators send it. */
function coseP256(publicKey: KeyObject): Uint8Array {
  const jwk = publicKey.export({ format: 'jwk' });
  if (jwk.x === undefined || jwk.y === undefined) throw new TypeError('seed: expected a P-256 public key');
  return isoCBOR.encode(
    new Map<number, number | Uint8Array>([
      [1, 2],
      [3, -7],
      [-1, 1],
      [-2, new Uint8Array(Buffer.from(jwk.x, 'base64url'))],
      [-3, new Uint8Array(Buffer.from(jwk.y, 'base64url'))],
    ]),
  );
}

interface KeyTemplate {
  aaguid: string;
  publicKey: Uint8Array;
  /** A "none" attestation object whose credential id bytes start at `credIdOffset`. */
  attestationObject: Buffer;
  credIdOffset: number;
}

/**
 * A few real key pairs; every seeded key reuses one's public key. The attestation object
 * (WebAuthn 6.5.4: fmt "none", authenticator data with UP, UV, AT, counter 0, the AAGUID, the
 * credential id and the COSE key) is encoded once per pool key and only the credential id is
 * patched in per seeded key, which keeps a million keys fast.
 */
function keyTemplates(rpId: string): KeyTemplate[] {
  const rpIdHash = createHash('sha256').update(rpId).digest();
  return Array.from({ length: POOL_SIZE }, (_, i) => {
    const aaguid = AAGUIDS[i % AAGUIDS.length] ?? AAGUIDS[0] ?? '';
    const { publicKey } = generateKeyObjects('ec', { namedCurve: 'P-256' });
    const cose = coseP256(publicKey);
    const placeholder = randomBytes(CREDENTIAL_ID_BYTES);
    const idLen = Buffer.alloc(2);
    idLen.writeUInt16BE(CREDENTIAL_ID_BYTES);
    const authData = Buffer.concat([
      rpIdHash,
      Buffer.from([0x45]),
      Buffer.alloc(4),
      Buffer.from(aaguid.replace(/-/g, ''), 'hex'),
      idLen,
      placeholder,
      cose,
    ]);
    const attestationObject = Buffer.from(
      isoCBOR.encode(
        new Map<string, unknown>([
          ['fmt', 'none'],
          ['attStmt', new Map()],
          ['authData', new Uint8Array(authData)],
        ]) as Parameters<typeof isoCBOR.encode>[0],
      ),
    );
    const credIdOffset = attestationObject.indexOf(placeholder);
    if (credIdOffset < 0) throw new Error('seed: credential id not found in the attestation template');
    return { aaguid, publicKey: cose, attestationObject, credIdOffset };
  });
}

/**
 * Adds `keys` active keys (one per new employee) to an existing gateway database, in one
 * transaction (all or nothing), generated and written `batchKeys` at a time. The audit chain is
 * extended as the gateway extends it.
 */
export async function seedKeys(opts: SeedKeysOptions): Promise<SeedKeysResult> {
  if (!Number.isSafeInteger(opts.keys) || opts.keys < 1) throw new TypeError('seedKeys: keys must be a positive integer');
  const batchKeys = opts.batchKeys ?? DEFAULT_BATCH;
  if (!Number.isSafeInteger(batchKeys) || batchKeys < 1) throw new TypeError('seedKeys: batchKeys must be a positive integer');
  const started = performance.now();
  const repo = SeedRepository.openForBulkLoad(opts.dbFile);
  try {
    const cvr = opts.orgCvr ?? DEMO_CVR;
    const organisationId = repo.organisationIdByCvr(cvr);
    if (organisationId === undefined) throw new Error(`no organisation with CVR ${cvr} in ${opts.dbFile} (start the gateway once to seed the demo organisation)`);
    const before = repo.counts();
    const templates = keyTemplates(opts.rpId ?? 'localhost');
    // NSIS 3.2.1: the level a device-bound, user-verifying key with unverified attestation gets,
    // decided by the same policy function the gateway uses at registration.
    const decision = decideAal(
      { aaguid: AAGUIDS[0] ?? '', attestationFormat: 'none', attestationVerified: false, certification: null, compromised: false, userVerified: true, backupEligible: false },
      { highCertification: 'FIDO_CERTIFIED_L2', requireDeviceBound: true, allowAaguids: null, blockAaguids: [] },
    );
    if (decision.refused) throw new Error(`seed: the policy refuses the seeded keys: ${decision.reasons.join('; ')}`);
    const aal = decision.level;
    const sessionAal = authenticatorLevel({ userVerified: true, backupEligible: false, keyLevel: aal });
    const amr = amrFor({ userVerified: true });
    const activateRow = LIFECYCLE_TABLE.find((r) => r.action === 'activate' && r.from.includes('issued'));
    if (!activateRow) throw new Error('seed: the lifecycle table has no activate row');
    const tag = randomBytes(3).toString('hex');

    const marker = (type: string, data: { [key: string]: JsonValue }): AuditInput => ({
      at: new Date().toISOString(),
      type,
      actorId: SYSTEM_ACTOR.identityId,
      actorRole: SYSTEM_ACTOR.role,
      subjectId: organisationId,
      data,
    });
    let auditEntries = 0;
    let done = 0;
    repo.beginLoad();
    while (done < opts.keys) {
      const n = Math.min(batchKeys, opts.keys - done);
      const batch = emptyBatch();
      if (done === 0) batch.audit.push(marker('bench.seed-started', { keys: opts.keys, tool: 'scripts/seed-keys.ts', tag }));
      const random = randomBytes(n * (CREDENTIAL_ID_BYTES + 32 * 3 + 16));
      let r = 0;
      const take = (len: number) => random.subarray(r, (r += len));
      for (let k = 0; k < n; k++) {
        const index = done + k + 1;
        const now = new Date();
        const at = now.toISOString();
        const first = FIRST[index % FIRST.length] ?? 'Anne';
        const last = LAST[Math.floor(index / FIRST.length) % LAST.length] ?? 'Jensen';
        const identityId = randomUUID();
        const enrolmentId = randomUUID();
        const id = randomUUID();
        const codeId = randomUUID();
        const email = `${ascii(first)}.${ascii(last)}.${tag}${index}@bench.demo.example`;
        const holder: Actor = { identityId, role: 'holder' };
        const template = templates[index % templates.length];
        if (!template) throw new Error('seed: no key template');
        const credIdBytes = take(CREDENTIAL_ID_BYTES);
        const attestationObject = Buffer.from(template.attestationObject);
        credIdBytes.copy(attestationObject, template.credIdOffset);
        // One-time secrets that were never handed out: their stored hashes are random values,
        // indistinguishable from HMACs of tokens nobody holds.
        const tokenHash = take(32).toString('hex');
        const codeHash = take(32).toString('hex');
        const sessionHash = take(32).toString('hex');
        const sid = take(16).toString('base64url');
        const enrolmentExpiresAt = addMinutes(now, ENROLMENT_TTL_MINUTES).toISOString();
        const codeExpiresAt = addMinutes(now, CODE_TTL_MINUTES).toISOString();
        const audit = (type: string, actor: Actor, subjectId: string, data: { [key: string]: JsonValue }): number =>
          batch.audit.push({ at, type, actorId: actor.identityId, actorRole: actor.role, subjectId, data }) - 1;

        // Binding (Gateway.createIdentity) and enrolment link (Gateway.issueEnrolment).
        batch.identities.push({
          id: identityId,
          organisationId,
          name: `${first} ${last}`,
          email,
          ial: 'substantial',
          proofingMethod: PROOFING_METHOD,
          proofedBy: SYSTEM_ACTOR.identityId,
          createdAt: at,
        });
        batch.roles.push({ identityId, role: 'employee', grantedBy: SYSTEM_ACTOR.identityId, grantedAt: at });
        audit('identity.created', SYSTEM_ACTOR, identityId, { organisationId, ial: 'substantial', proofingMethod: PROOFING_METHOD, roles: ['employee'] });
        batch.enrolments.push({ id: enrolmentId, identityId, tokenHash, createdBy: SYSTEM_ACTOR.identityId, createdAt: at, expiresAt: enrolmentExpiresAt, consumedAt: at });
        audit('enrolment.issued', SYSTEM_ACTOR, identityId, { enrolmentId, expiresAt: enrolmentExpiresAt, supersededEarlier: 0 });

        // Registration (Gateway.completeEnrolment): the key is issued, a code goes out.
        batch.credentials.push({
          id,
          identityId,
          credentialId: credIdBytes.toString('base64url'),
          publicKey: template.publicKey,
          aaguid: template.aaguid,
          signCount: 1,
          transports: ['nfc', 'usb'],
          backupEligible: false,
          backupState: false,
          attestationFormat: 'none',
          attestationObject,
          userVerifiedAtRegistration: true,
          label: LABEL,
          state: 'active',
          stateReason: 'activated',
          createdAt: at,
          updatedAt: at,
          activatedAt: at,
          lastUsedAt: at,
          expiresAt: null,
          enrolmentId,
          aal,
          attestationVerified: false,
          model: null,
          certification: null,
          aalReasons: decision.reasons,
        });
        const issued = audit('credential.issued', holder, id, {
          identityId,
          enrolmentId,
          aaguid: template.aaguid,
          attestationFormat: 'none',
          attestationVerified: false,
          backupEligible: false,
          aal,
          model: null,
          certification: null,
          clause: 'NSIS 3.2.1, 3.2.2',
        });
        batch.credentialEvents.push({
          credentialId: id,
          action: 'issue',
          fromState: null,
          toState: 'issued',
          actorId: identityId,
          actorRole: 'holder',
          reason: 'registered',
          note: null,
          clause: 'NSIS 3.2.2',
          at,
          auditIndex: issued,
        });
        batch.activationCodes.push({ id: codeId, credentialId: id, purpose: 'activate', codeHash, requestedBy: identityId, createdAt: at, expiresAt: codeExpiresAt, consumedAt: at });
        batch.deliveredMails.push({ id: randomUUID(), recipient: email, subject: CODE_MAIL.subject, kind: CODE_MAIL.kind, createdAt: at, sentAt: at });
        audit('activation-code.issued', holder, id, { codeId, purpose: 'activate', expiresAt: codeExpiresAt, channel: 'email' });

        // Activation (Gateway.completeActivation): possession plus the code, then the first session.
        const activated = audit('credential.activate', holder, id, {
          identityId,
          from: 'issued',
          to: 'active',
          reason: 'activated',
          note: null,
          clause: activateRow.clause,
        });
        batch.credentialEvents.push({
          credentialId: id,
          action: 'activate',
          fromState: 'issued',
          toState: 'active',
          actorId: identityId,
          actorRole: 'holder',
          reason: 'activated',
          note: null,
          clause: activateRow.clause,
          at,
          auditIndex: activated,
        });
        batch.deliveredMails.push({ id: randomUUID(), recipient: email, subject: NOTICE_MAIL.subject, kind: NOTICE_MAIL.kind, createdAt: at, sentAt: at });
        batch.sessions.push({
          idHash: sessionHash,
          identityId,
          credentialId: id,
          aal: sessionAal,
          amr,
          sid,
          createdAt: at,
          lastSeenAt: at,
          absoluteExpiresAt: addMinutes(now, SESSION_ABSOLUTE_MINUTES).toISOString(),
        });
        audit('signin.succeeded', holder, id, { identityId, via: 'activation', aal: sessionAal, amr, session: sessionHash.slice(0, 16) });
      }
      done += n;
      if (done === opts.keys) {
        batch.audit.push(marker('bench.seed-completed', { keys: opts.keys, tag }));
      }
      repo.insertBatch(batch);
      auditEntries += batch.audit.length;
      opts.onProgress?.(done);
      // Let timers and I/O (a progress line, a server in the same process) run between batches.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    repo.commitLoad(opts.onIndex);
    const after = repo.counts();
    return {
      identities: after.identities - before.identities,
      keys: after.credentials - before.credentials,
      auditEntries,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    repo.close();
  }
}

function emptyBatch(): SeedBatch {
  return { identities: [], roles: [], enrolments: [], credentials: [], activationCodes: [], sessions: [], credentialEvents: [], deliveredMails: [], audit: [] };
}

function parseArgs(argv: string[]): { keys: number; db: string | undefined; orgCvr: string | undefined; batch: number | undefined } {
  const out: { keys: number; db: string | undefined; orgCvr: string | undefined; batch: number | undefined } = { keys: 0, db: undefined, orgCvr: undefined, batch: undefined };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`${flag ?? ''} needs a value`);
    i++;
    if (flag === '--keys') out.keys = Number(value.replace(/[_,]/g, ''));
    else if (flag === '--db') out.db = value;
    else if (flag === '--org-cvr') out.orgCvr = value;
    else if (flag === '--batch') out.batch = Number(value);
    else throw new Error(`unknown option ${flag ?? ''}`);
  }
  if (!Number.isSafeInteger(out.keys) || out.keys < 1) throw new Error('--keys must be a positive integer');
  return out;
}

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`seed: ${err instanceof Error ? err.message : String(err)}\nusage: npm run seed -- --keys N [--db file] [--org-cvr CVR] [--batch keys-per-batch]\n`);
    return 2;
  }
  const config = loadConfig();
  const dbFile = args.db ?? config.dbFile;
  const progress = createProgress({ label: 'seed', total: args.keys, unit: 'keys' });
  let indexing = false;
  process.stderr.write(`seed: adding ${args.keys.toLocaleString('en-US')} active keys to ${dbFile} (stop the gateway first)\n`);
  const result = await seedKeys({
    dbFile,
    keys: args.keys,
    orgCvr: args.orgCvr ?? config.demo.orgCvr,
    rpId: config.rpId,
    ...(args.batch !== undefined ? { batchKeys: args.batch } : {}),
    onProgress: (done) => progress.update(done),
    onIndex: (name) => {
      if (!indexing) progress.done();
      indexing = true;
      process.stderr.write(`seed: rebuilding index ${name}\n`);
    },
  });
  if (!indexing) progress.done();
  process.stdout.write(
    `seed: ${result.keys} keys and ${result.identities} employees added, ${result.auditEntries} audit entries appended, in ${result.seconds.toFixed(1)} s\n`,
  );
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`seed: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
