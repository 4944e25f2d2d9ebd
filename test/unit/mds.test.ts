/**
 * FIDO Metadata Service (MDS3) BLOB verification and the metadata in force.
 *
 * NSIS 3.2.1 (High) 5-6 needs the model's certification level and compromise status; the gateway
 * only believes them from a BLOB that verifies (FIDO MDS 3.0 3.1.8): signature with the x5c leaf,
 * chain to the configured root, certificates valid and nextUpdate ahead at the (pinned) time.
 * A refused BLOB never replaces the one in force, and an older or replayed one is not taken.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { FixedClock } from '../../server/clock.js';
import { MdsError, MetadataStore, summarizeStatus, verifyBlob, type FetchLike, type MdsErrorCode, type MdsRefusalCode } from '../../server/assurance/mds/index.js';
import { buildTestBlob, createTestPki, makeSelfSignedRoot, signBlob, tamperPayload, tamperSignature, type TestPki } from '../support/mdsFixtures.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const mdsDir = path.resolve(repoRoot, '..', 'shared', 'fido-mds');
const BLOB_FILE = path.join(mdsDir, 'mds3-blob-2024-12-02.jwt');
const REAL_JWT = readFileSync(BLOB_FILE, 'utf8');
const GLOBALSIGN_R3 = new Uint8Array(readFileSync(path.join(mdsDir, 'globalsign-root-r3.der')));

const INSIDE = new Date('2024-12-15T00:00:00Z'); // signer valid 2024-06-26..2025-07-28, nextUpdate 2025-01-01
const YUBIKEY_5 = 'ee882879-721c-4913-9775-3dfcce97072a'; // 'YubiKey 5 Series' in BLOB no. 121
const TRUU_REVOKED = 'ba86dc56-635f-4141-aef6-00227b1b9af6'; // 'TruU Windows Authenticator', REVOKED 2023-12-20

/** The real payload, decoded without verification: only used as material for test BLOBs. */
const REAL_PAYLOAD = JSON.parse(Buffer.from(REAL_JWT.trim().split('.')[1] ?? '', 'base64url').toString('utf8')) as {
  no: number;
  entries: { aaguid?: string; metadataStatement?: { description?: string }; statusReports: { status: string; effectiveDate?: string }[] }[];
};

async function refusedWith(p: Promise<unknown>, code: MdsErrorCode): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof MdsError, `expected MdsError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  });
}

function storeAt(at: Date | string, roots: Uint8Array[] = [GLOBALSIGN_R3], fetch?: FetchLike): { store: MetadataStore; clock: FixedClock } {
  const clock = new FixedClock(at);
  return { store: new MetadataStore(fetch ? { roots, clock, fetch } : { roots, clock }), clock };
}

describe('FIDO MDS3: the real BLOB no. 121 (NSIS 3.2.1 (High) 5-6: certification from verified metadata)', () => {
  it('verifies with the clock pinned inside the validity window, with 280 entries and descriptions', async () => {
    const blob = await verifyBlob(REAL_JWT, { roots: [GLOBALSIGN_R3], now: INSIDE });
    assert.equal(blob.number, 121);
    assert.equal(blob.nextUpdate.toISOString(), '2025-01-01T00:00:00.000Z');
    assert.match(blob.legalHeader, /fidoalliance\.org/);
    assert.match(blob.signer, /CN=mds\.fidoalliance\.org/);
    assert.equal(blob.totalEntries, 280);
    assert.equal(REAL_PAYLOAD.entries.filter((e) => (e.metadataStatement?.description ?? '').trim() !== '').length, 280);
    // 92 entries are U2F/UAF (attestation key identifiers / AAID) without an AAGUID: not indexed.
    assert.equal(blob.entries.size, 188);
    for (const e of blob.entries.values()) {
      assert.notEqual(e.description, '', e.aaguid);
      assert.match(e.aaguid, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    }
  });

  it('reports a YubiKey 5 as certified L1 and not compromised, and the revoked TruU model as compromised', async () => {
    const blob = await verifyBlob(REAL_JWT, { roots: [GLOBALSIGN_R3], now: INSIDE });
    const yk = blob.entries.get(YUBIKEY_5);
    assert.ok(yk);
    assert.equal(yk.description, 'YubiKey 5 Series');
    assert.match(yk.description, /YubiKey/);
    assert.equal(yk.certificationStatus, 'FIDO_CERTIFIED_L1');
    assert.equal(yk.latestStatus, 'FIDO_CERTIFIED_L1');
    assert.equal(yk.compromised, false);
    assert.ok(yk.attestationRootCertificates.length >= 1);
    assert.match(new X509Certificate(Buffer.from(yk.attestationRootCertificates[0] ?? '', 'base64')).subject, /Yubico U2F Root CA/);

    const truu = blob.entries.get(TRUU_REVOKED);
    assert.ok(truu);
    assert.equal(truu.latestStatus, 'REVOKED');
    assert.equal(truu.compromised, true);
    assert.equal(truu.certificationStatus, null);
    assert.deepEqual([...blob.entries.values()].filter((e) => e.compromised).map((e) => e.aaguid), [TRUU_REVOKED]);

    // The BLOB's quirks are absorbed: a root certificate with a leading tab (OneSpan DIGIPASS FX1 BIO),
    // a description with a trailing space (TOKEN2), a model with no attestation roots (Windows Hello).
    for (const e of blob.entries.values()) for (const c of e.attestationRootCertificates) assert.doesNotThrow(() => new X509Certificate(Buffer.from(c, 'base64')));
    assert.equal(blob.entries.get('eabb46cc-e241-80bf-ae9e-96fa6d2975cf')?.description, 'TOKEN2 PIN Plus Security Key Series');
  });

  it('issue rule: a BLOB with one payload byte changed is refused with MDS_SIGNATURE_INVALID', async () => {
    const tampered = tamperPayload(REAL_JWT, 'YubiKey 5 Series', 'YubiKey 6 Series');
    assert.notEqual(tampered, REAL_JWT.trim());
    await refusedWith(verifyBlob(tampered, { roots: [GLOBALSIGN_R3], now: INSIDE }), 'MDS_SIGNATURE_INVALID');
  });

  it('issue rule: a BLOB with one signature byte changed is refused with MDS_SIGNATURE_INVALID', async () => {
    await refusedWith(verifyBlob(tamperSignature(REAL_JWT), { roots: [GLOBALSIGN_R3], now: INSIDE }), 'MDS_SIGNATURE_INVALID');
  });

  it('issue rule: a chain to a root that is not configured is refused with MDS_CHAIN_INVALID', async () => {
    const wrongRoot = await makeSelfSignedRoot();
    await refusedWith(verifyBlob(REAL_JWT, { roots: [wrongRoot], now: INSIDE }), 'MDS_CHAIN_INVALID');
  });

  it('issue rule: outside the certificates\' validity (2026-11-22) and after nextUpdate the BLOB is MDS_EXPIRED', async () => {
    await refusedWith(verifyBlob(REAL_JWT, { roots: [GLOBALSIGN_R3], now: new Date('2026-11-22T00:00:00Z') }), 'MDS_EXPIRED');
    await refusedWith(verifyBlob(REAL_JWT, { roots: [GLOBALSIGN_R3], now: new Date('2024-06-01T00:00:00Z') }), 'MDS_EXPIRED');
    // certificates still valid, but nextUpdate 2025-01-01 has come
    await refusedWith(verifyBlob(REAL_JWT, { roots: [GLOBALSIGN_R3], now: new Date('2025-01-01T00:00:00Z') }), 'MDS_EXPIRED');
  });

  it('refuses what is not a JWS with MDS_MALFORMED, and a configuration without roots outright', async () => {
    await refusedWith(verifyBlob('not a jwt', { roots: [GLOBALSIGN_R3], now: INSIDE }), 'MDS_MALFORMED');
    await refusedWith(verifyBlob('a.b.c', { roots: [GLOBALSIGN_R3], now: INSIDE }), 'MDS_MALFORMED');
    await assert.rejects(verifyBlob(REAL_JWT, { roots: [], now: INSIDE }), TypeError);
  });
});

describe('FIDO MDS3: the metadata in force (NSIS 3.2.1: a refused BLOB leaves the previous in force)', () => {
  let pki: TestPki;
  let wrongRoot: Uint8Array;
  let dir: string;
  before(async () => {
    [pki, wrongRoot, dir] = await Promise.all([createTestPki(), makeSelfSignedRoot(), mkdtemp(path.join(tmpdir(), 'mds-test-'))]);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loads the real BLOB from a file and answers lookups and descriptions', async () => {
    const { store } = storeAt(INSIDE);
    assert.equal(store.current(), undefined);
    assert.equal(store.describe(YUBIKEY_5), null);
    const r = await store.loadFromFile(BLOB_FILE);
    assert.equal(r.replaced, true, JSON.stringify(r));
    assert.deepEqual(store.current(), { number: 121, nextUpdate: new Date('2025-01-01T00:00:00Z'), stale: false });
    assert.equal(store.describe(YUBIKEY_5), 'YubiKey 5 Series');
    assert.equal(store.describe(YUBIKEY_5.toUpperCase().replace(/-/g, '')), 'YubiKey 5 Series');
    assert.equal(store.lookup(YUBIKEY_5)?.certificationStatus, 'FIDO_CERTIFIED_L1');
    assert.equal(store.describe('00000000-0000-0000-0000-000000000000'), null);
    assert.equal(store.lookup('not an aaguid'), undefined);
  });

  it('issue rule: tampered (payload or signature), wrong-root and expired BLOBs are refused and no. 121 stays in force', async () => {
    const { store, clock } = storeAt(INSIDE);
    assert.equal((await store.loadFromJwt(REAL_JWT)).replaced, true);

    const refusals: [string, MdsRefusalCode][] = [];
    const payloadTampered = await store.loadFromJwt(tamperPayload(REAL_JWT, '"no":121', '"no":821'));
    const signatureTampered = await store.loadFromJwt(tamperSignature(REAL_JWT));
    for (const r of [payloadTampered, signatureTampered]) {
      assert.equal(r.replaced, false);
      if (!r.replaced) refusals.push([r.source, r.code]);
    }
    assert.deepEqual(refusals.map(([, c]) => c), ['MDS_SIGNATURE_INVALID', 'MDS_SIGNATURE_INVALID']);
    assert.equal(store.current()?.number, 121);
    assert.equal(store.describe(YUBIKEY_5), 'YubiKey 5 Series');

    // a newer BLOB signed under a root this store does not trust
    const foreign = await buildTestBlob({ no: 500, nextUpdate: '2025-02-01', entries: [], pki });
    const r3 = await store.loadFromJwt(foreign.jwt);
    assert.ok(!r3.replaced && r3.code === 'MDS_CHAIN_INVALID' && r3.currentNumber === 121, JSON.stringify(r3));

    clock.set('2026-11-22T00:00:00Z');
    const r4 = await store.loadFromJwt(REAL_JWT);
    assert.ok(!r4.replaced && r4.code === 'MDS_EXPIRED', JSON.stringify(r4));
    assert.equal(store.current()?.number, 121);
    assert.equal(store.current()?.stale, true);
    assert.equal(store.lookup(TRUU_REVOKED)?.compromised, true);
  });

  it('a store configured with a wrong root refuses the real BLOB with MDS_CHAIN_INVALID and holds nothing', async () => {
    const { store } = storeAt(INSIDE, [wrongRoot]);
    const r = await store.loadFromFile(BLOB_FILE);
    assert.ok(!r.replaced && r.code === 'MDS_CHAIN_INVALID' && r.currentNumber === null, JSON.stringify(r));
    assert.equal(store.current(), undefined);
  });

  it('a test BLOB (openssl PKI, ES256, x5c [leaf, intermediate]) verifies against its own test root only', async () => {
    const entries = REAL_PAYLOAD.entries.slice(0, 3);
    const t = await buildTestBlob({ no: 7, nextUpdate: '2025-01-01', entries, pki });
    const blob = await verifyBlob(t.jwt, { roots: [t.rootDer], now: INSIDE });
    assert.equal(blob.number, 7);
    assert.equal(blob.totalEntries, 3);
    await refusedWith(verifyBlob(t.jwt, { roots: [GLOBALSIGN_R3], now: INSIDE }), 'MDS_CHAIN_INVALID');
    await refusedWith(verifyBlob(t.jwt, { roots: [wrongRoot], now: INSIDE }), 'MDS_CHAIN_INVALID');
    await refusedWith(verifyBlob(tamperSignature(t.jwt), { roots: [t.rootDer], now: INSIDE }), 'MDS_SIGNATURE_INVALID');
  });

  it('an RS256 test BLOB signed directly under the root verifies; certificates outside validity are MDS_EXPIRED', async () => {
    const rsa = await buildTestBlob({ no: 1, nextUpdate: '2030-01-01', entries: [], alg: 'RS256', intermediate: false });
    assert.equal((await verifyBlob(rsa.jwt, { roots: [rsa.rootDer], now: INSIDE })).number, 1);
    const old = await buildTestBlob({ no: 1, nextUpdate: '2030-01-01', entries: [], notBefore: '2020-01-01T00:00:00Z', notAfter: '2024-01-01T00:00:00Z' });
    await refusedWith(verifyBlob(old.jwt, { roots: [old.rootDer], now: INSIDE }), 'MDS_EXPIRED');
  });

  it('a signed BLOB that is not an MDS3 payload is MDS_MALFORMED; duplicate AAGUIDs are MDS_MALFORMED', async () => {
    await refusedWith(verifyBlob(await signBlob(pki, { no: 1, nextUpdate: '2025-01-01' }), { roots: [pki.rootDer], now: INSIDE }), 'MDS_MALFORMED');
    await refusedWith(verifyBlob(await signBlob(pki, { no: 1, nextUpdate: 'soon', entries: [] }), { roots: [pki.rootDer], now: INSIDE }), 'MDS_MALFORMED');
    const yk = REAL_PAYLOAD.entries.find((e) => e.aaguid === YUBIKEY_5);
    const dup = await buildTestBlob({ no: 2, nextUpdate: '2025-01-01', entries: [yk, yk], pki });
    await refusedWith(verifyBlob(dup.jwt, { roots: [pki.rootDer], now: INSIDE }), 'MDS_MALFORMED');
  });

  it('issue rule: a newer BLOB reporting USER_KEY_REMOTE_COMPROMISE for a model replaces no. 121 and reports it compromised', async () => {
    const entries = structuredClone(REAL_PAYLOAD.entries);
    const yk = entries.find((e) => e.aaguid === YUBIKEY_5);
    assert.ok(yk);
    yk.statusReports.push({ status: 'USER_KEY_REMOTE_COMPROMISE' });
    const newer = await buildTestBlob({ no: REAL_PAYLOAD.no + 1, nextUpdate: '2025-02-01', entries, pki });
    const file = path.join(dir, 'mds-122.jwt');
    await writeFile(file, newer.jwt);

    const { store } = storeAt(INSIDE, [GLOBALSIGN_R3, newer.rootDer]);
    assert.equal((await store.loadFromFile(BLOB_FILE)).replaced, true);
    assert.equal(store.lookup(YUBIKEY_5)?.compromised, false);

    const r = await store.loadFromFile(file);
    assert.deepEqual(r, { replaced: true, source: `file:${file}`, number: 122, nextUpdate: new Date('2025-02-01T00:00:00Z'), previousNumber: 121 });
    const entry = store.lookup(YUBIKEY_5);
    assert.equal(entry?.compromised, true);
    assert.equal(entry?.latestStatus, 'USER_KEY_REMOTE_COMPROMISE');
    assert.equal(entry?.certificationStatus, null);
    assert.equal(store.describe(YUBIKEY_5), 'YubiKey 5 Series');
    assert.equal(store.lookup('fa2b99dc-9e39-4257-8f92-4a30d23c4118')?.compromised, false); // YubiKey 5 Series with NFC

    // rollback to no. 121, or a replay of no. 122, is not taken
    const back = await store.loadFromJwt(REAL_JWT);
    assert.ok(!back.replaced && back.code === 'MDS_NOT_NEWER', JSON.stringify(back));
    const replay = await store.loadFromFile(file);
    assert.ok(!replay.replaced && replay.code === 'MDS_NOT_NEWER');
    assert.equal(store.current()?.number, 122);
    assert.equal(store.lookup(YUBIKEY_5)?.compromised, true);
  });

  it('loads from a configured URL through the injected fetch; an unreachable source is MDS_UNAVAILABLE', async () => {
    const calls: string[] = [];
    const fetch: FetchLike = async (url) => {
      calls.push(url);
      if (url.endsWith('/down')) return { ok: false, status: 503, headers: { get: () => null }, text: async () => '' };
      return { ok: true, status: 200, headers: { get: () => null }, text: async () => REAL_JWT };
    };
    const { store } = storeAt(INSIDE, [GLOBALSIGN_R3], fetch);
    const down = await store.loadFromUrl('https://mds.example.test/down');
    assert.ok(!down.replaced && down.code === 'MDS_UNAVAILABLE');
    const missing = await store.loadFromFile(path.join(dir, 'no-such.jwt'));
    assert.ok(!missing.replaced && missing.code === 'MDS_UNAVAILABLE');
    const ok = await store.loadFromUrl('https://mds.example.test/');
    assert.ok(ok.replaced && ok.number === 121);
    assert.deepEqual(calls, ['https://mds.example.test/down', 'https://mds.example.test/']);
  });
});

describe('FIDO MDS3 status reports: the latest relevant report decides (NSIS 3.2.1 (High): not compromised, certified)', () => {
  it('orders reports by effectiveDate whatever the BLOB order; same day: the higher level is the latest', () => {
    const s = summarizeStatus([
      { status: 'FIDO_CERTIFIED_L2', effectiveDate: '2024-10-12' },
      { status: 'FIDO_CERTIFIED_L1', effectiveDate: '2024-06-04' },
      { status: 'FIDO_CERTIFIED', effectiveDate: '2024-06-04' },
    ]);
    assert.deepEqual(s.reports.map((r) => r.status), ['FIDO_CERTIFIED', 'FIDO_CERTIFIED_L1', 'FIDO_CERTIFIED_L2']);
    assert.equal(s.latestStatus, 'FIDO_CERTIFIED_L2');
    assert.equal(s.certificationStatus, 'FIDO_CERTIFIED_L2');
    assert.equal(s.compromised, false);
  });

  it('a compromise is not cleared by an informational report, only by a later certification; undated counts as newest', () => {
    const compromisedThenUpdate = summarizeStatus([
      { status: 'FIDO_CERTIFIED_L1', effectiveDate: '2020-01-01' },
      { status: 'ATTESTATION_KEY_COMPROMISE', effectiveDate: '2021-01-01' },
      { status: 'UPDATE_AVAILABLE', effectiveDate: '2022-01-01' },
    ]);
    assert.equal(compromisedThenUpdate.compromised, true);
    assert.equal(compromisedThenUpdate.latestStatus, 'UPDATE_AVAILABLE');
    assert.equal(compromisedThenUpdate.certificationStatus, null);

    const recertified = summarizeStatus([
      { status: 'USER_KEY_PHYSICAL_COMPROMISE', effectiveDate: '2021-01-01' },
      { status: 'FIDO_CERTIFIED_L2', effectiveDate: '2023-01-01' },
    ]);
    assert.equal(recertified.compromised, false);
    assert.equal(recertified.certificationStatus, 'FIDO_CERTIFIED_L2');

    const sameDay = summarizeStatus([
      { status: 'REVOKED', effectiveDate: '2023-01-01' },
      { status: 'FIDO_CERTIFIED_L1', effectiveDate: '2023-01-01' },
    ]);
    assert.equal(sameDay.compromised, true);

    const undated = summarizeStatus([{ status: 'USER_KEY_REMOTE_COMPROMISE' }, { status: 'FIDO_CERTIFIED_L3', effectiveDate: '2030-01-01' }]);
    assert.equal(undated.latestStatus, 'USER_KEY_REMOTE_COMPROMISE');
    assert.equal(undated.compromised, true);

    assert.deepEqual(summarizeStatus([]), { reports: [], latestStatus: null, certificationStatus: null, compromised: false });
    assert.equal(summarizeStatus([{ status: 'SOME_FUTURE_STATUS' }]).latestStatus, 'SOME_FUTURE_STATUS');
  });
});
