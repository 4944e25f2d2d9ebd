/**
 * The adapters the store conformance suite runs against, and what every test file of it shares.
 * Each test names the property of the PORT it proves (server/ports/store.ts), never an engine's
 * detail: a second adapter passes by being added to ADAPTERS.
 *
 * An adapter under test opens a fresh, empty, migrated database, and can describe it so that
 * worker threads (test/store/worker.ts) open the same database with their own connections, as
 * separate gateway processes or instances would: concurrency within one SQLite process would be
 * serial by construction and prove nothing. On PostgreSQL each worker has a pool of its own, big
 * enough that its 25 callers each run on a connection of their own: 100 parallel connections.
 *
 * PostgreSQL: a database of its own per test file on the throw-away test cluster
 * (test/support/postgres.ts, freshDatabase()), dropped when the file is done.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { NewCredential } from '../../server/domain/keys.js';
import type { Credential, Identity, Organisation } from '../../server/domain/types.js';
import type { Store, WriteTx } from '../../server/ports/store.js';
import { DatabaseUrl, PostgresStore } from '../../server/store/postgres/index.js';
import { SqliteStore } from '../../server/store/sqlite/index.js';
import { freshDatabase } from '../support/postgres.js';

/** What a worker thread needs to open the same database (JSON). */
export type StoreSpec = { adapter: 'sqlite'; file: string } | { adapter: 'postgres'; url: string; poolSize: number };

export interface AdapterUnderTest {
  name: string;
  /** A fresh, empty, migrated database: its store and how to reach it again. */
  fresh(): Promise<{ store: Store; spec: StoreSpec; dispose(): Promise<void> }>;
}

/** Opens the database a spec names (in a test or a worker thread). */
export async function openSpec(spec: StoreSpec): Promise<Store> {
  switch (spec.adapter) {
    case 'sqlite':
      return SqliteStore.open(spec.file);
    case 'postgres':
      return PostgresStore.open({ url: DatabaseUrl.parse(spec.url), poolSize: spec.poolSize });
  }
}

const sqlite: AdapterUnderTest = {
  name: 'sqlite',
  async fresh() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gw-store-'));
    const spec: StoreSpec = { adapter: 'sqlite', file: path.join(dir, 'gateway.db') };
    const store = await openSpec(spec);
    return {
      store,
      spec,
      async dispose() {
        await store.close();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

const postgres: AdapterUnderTest = {
  name: 'postgres',
  async fresh() {
    const db = await freshDatabase();
    const spec: StoreSpec = { adapter: 'postgres', url: db.urlText, poolSize: 25 };
    const store = await openSpec(spec);
    return {
      store,
      spec,
      async dispose() {
        await store.close();
        await db.drop();
      },
    };
  },
};

/** Every adapter the suite runs against. */
export const ADAPTERS: readonly AdapterUnderTest[] = [sqlite, postgres];

// --- fixtures, written through the port -------------------------------------------------------

export const T0 = '2030-01-01T00:00:00.000Z';

export function later(seconds: number, from = T0): string {
  return new Date(new Date(from).getTime() + seconds * 1000).toISOString();
}

export async function organisation(tx: WriteTx, cvr = String(10000000 + Math.floor(Math.random() * 89999999))): Promise<Organisation> {
  const o = { id: randomUUID(), cvr, name: `Org ${cvr}`, createdAt: T0 };
  await tx.organisations.insert(o);
  return o;
}

export async function person(tx: WriteTx, org: Organisation, over: Partial<{ name: string; email: string; createdAt: string }> = {}): Promise<Identity> {
  const id = randomUUID();
  await tx.identities.insert({
    id,
    organisationId: org.id,
    name: over.name ?? `Person ${id.slice(0, 8)}`,
    email: over.email ?? `${id.slice(0, 8)}@example.test`,
    ial: 'substantial',
    proofingMethod: 'ID document checked in person',
    proofedBy: null,
    createdAt: over.createdAt ?? T0,
  });
  await tx.identities.grantRole(id, 'employee', null, T0);
  const i = await tx.identities.get(id);
  if (!i) throw new Error('the identity was not stored');
  return i;
}

export function newKey(identityId: string, over: Partial<NewCredential> = {}): NewCredential {
  return {
    id: randomUUID(),
    identityId,
    credentialId: randomUUID().replace(/-/g, ''),
    publicKey: new Uint8Array([1, 2, 3, 4]),
    aaguid: '00000000-0000-0000-0000-000000000001',
    signCount: 0,
    transports: ['usb'],
    backupEligible: false,
    backupState: false,
    attestationFormat: 'packed',
    attestationObject: new Uint8Array([5, 6, 7]),
    userVerifiedAtRegistration: true,
    label: 'Key',
    state: 'issued',
    stateReason: null,
    createdAt: T0,
    expiresAt: null,
    enrolmentId: null,
    aal: 'substantial',
    attestationVerified: false,
    model: null,
    certification: null,
    aalReasons: [],
    ...over,
  };
}

export async function key(tx: WriteTx, identityId: string, over: Partial<NewCredential> = {}): Promise<Credential> {
  const k = newKey(identityId, over);
  await tx.credentials.insert(k);
  const stored = await tx.credentials.get(k.id);
  if (!stored) throw new Error('the key was not stored');
  return stored;
}

/** An organisation, one person and one key of theirs, committed. */
export async function holderWithKey(store: Store, over: Partial<NewCredential> = {}): Promise<{ org: Organisation; holder: Identity; key: Credential }> {
  return store.write(async (tx) => {
    const org = await organisation(tx);
    const holder = await person(tx, org);
    return { org, holder, key: await key(tx, holder.id, over) };
  });
}
