/**
 * Holds the FIDO metadata BLOB in force (FIDO MDS 3.0 3.1.8; NSIS 3.2.1 (High) 5-6 needs the
 * model's certification and compromise status). A BLOB replaces the one in force only when it
 * verifies AND its serial number is greater: a refused, replayed or older BLOB leaves the previous
 * one in force, and the load result says why. Pure apart from reading the file or URL.
 */
import { readFile, stat } from 'node:fs/promises';
import type { Clock } from '../../clock.js';
import { normalizeAaguid, type Entry } from './entry.js';
import { isMdsError, type MdsErrorCode } from './errors.js';
import { verifyBlob, type VerifiedBlob } from './verifyBlob.js';
import { parseRoots } from './certificates.js';

export type FetchLike = (url: string, init: { signal: AbortSignal; headers: Record<string, string> }) => Promise<{
  ok: boolean;
  status: number;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
}>;

export interface MetadataStoreOptions {
  /** DER trust anchors for the BLOB signer (GlobalSign Root CA - R3 for the FIDO Alliance). */
  roots: readonly Uint8Array[];
  clock: Clock;
  /** Defaults to globalThis.fetch. */
  fetch?: FetchLike;
  fetchTimeoutMs?: number;
  /** Refuse a file or download larger than this (default 32 MiB; the 2024 BLOB is about 4 MB). */
  maxBytes?: number;
}

/** Why a load did not replace the BLOB in force. */
export type MdsRefusalCode =
  | MdsErrorCode
  /** Verified, but its number is not greater than the one in force (replay or rollback). */
  | 'MDS_NOT_NEWER'
  /** The file or URL could not be read (or was too large). */
  | 'MDS_UNAVAILABLE';

export type MdsLoadResult =
  | { replaced: true; source: string; number: number; nextUpdate: Date; previousNumber: number | null }
  | { replaced: false; source: string; code: MdsRefusalCode; message: string; currentNumber: number | null };

export interface MdsCurrent {
  number: number;
  nextUpdate: Date;
  /** nextUpdate has passed by the clock: a newer BLOB should have been loaded. */
  stale: boolean;
}

const DEFAULT_MAX_BYTES = 32 * 1024 * 1024;

export class MetadataStore {
  private blob: VerifiedBlob | undefined;
  private readonly roots: readonly Uint8Array[];
  private readonly clock: Clock;
  private readonly fetchImpl: FetchLike | undefined;
  private readonly fetchTimeoutMs: number;
  private readonly maxBytes: number;

  constructor(opts: MetadataStoreOptions) {
    parseRoots(opts.roots); // fail at start on a bad configuration, not at the first load
    this.roots = opts.roots.map((r) => Uint8Array.from(r));
    this.clock = opts.clock;
    this.fetchImpl = opts.fetch ?? (typeof globalThis.fetch === 'function' ? (globalThis.fetch as FetchLike) : undefined);
    this.fetchTimeoutMs = opts.fetchTimeoutMs ?? 30_000;
    this.maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  }

  /** Verifies a BLOB (the JWT text) and puts it in force if it is newer. */
  async loadFromJwt(jwt: string, source = 'jwt'): Promise<MdsLoadResult> {
    let candidate: VerifiedBlob;
    try {
      candidate = await verifyBlob(jwt, { roots: this.roots, now: this.clock.now() });
    } catch (err) {
      if (isMdsError(err)) return this.refused(source, err.code, err.message);
      throw err;
    }
    // Compared after verification (not before): two concurrent loads cannot roll back.
    const current = this.blob;
    if (current !== undefined && candidate.number <= current.number) {
      return this.refused(source, 'MDS_NOT_NEWER', `BLOB no. ${candidate.number} is not newer than no. ${current.number} in force`);
    }
    this.blob = candidate;
    return { replaced: true, source, number: candidate.number, nextUpdate: candidate.nextUpdate, previousNumber: current?.number ?? null };
  }

  /** Reads a BLOB an operator placed on disk (machines without internet). */
  async loadFromFile(path: string): Promise<MdsLoadResult> {
    const source = `file:${path}`;
    let text: string;
    try {
      const st = await stat(path);
      if (st.size > this.maxBytes) return this.refused(source, 'MDS_UNAVAILABLE', `${path} is larger than ${this.maxBytes} bytes`);
      text = await readFile(path, 'utf8');
    } catch (err) {
      return this.refused(source, 'MDS_UNAVAILABLE', `cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`);
    }
    return this.loadFromJwt(text, source);
  }

  /** Downloads a BLOB (e.g. https://mds3.fidoalliance.org/) for deployments configured to. */
  async loadFromUrl(url: string): Promise<MdsLoadResult> {
    const source = url;
    if (this.fetchImpl === undefined) return this.refused(source, 'MDS_UNAVAILABLE', 'no fetch implementation available');
    let text: string;
    try {
      const res = await this.fetchImpl(url, { signal: AbortSignal.timeout(this.fetchTimeoutMs), headers: { accept: 'application/jwt, text/plain, */*' } });
      if (!res.ok) return this.refused(source, 'MDS_UNAVAILABLE', `GET ${url} answered ${res.status}`);
      const declared = Number(res.headers.get('content-length') ?? '0');
      if (declared > this.maxBytes) return this.refused(source, 'MDS_UNAVAILABLE', `GET ${url}: ${declared} bytes is too large`);
      text = await res.text();
    } catch (err) {
      return this.refused(source, 'MDS_UNAVAILABLE', `GET ${url} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (text.length > this.maxBytes) return this.refused(source, 'MDS_UNAVAILABLE', `GET ${url}: the answer is too large`);
    return this.loadFromJwt(text, source);
  }

  /** The entry of a FIDO2 model; accepts any case, with or without dashes. */
  lookup(aaguid: string): Entry | undefined {
    const key = normalizeAaguid(aaguid);
    return key === null ? undefined : this.blob?.entries.get(key);
  }

  /** The model's description ("Vendor Model"), or null when unknown. */
  describe(aaguid: string): string | null {
    const d = this.lookup(aaguid)?.description;
    return d === undefined || d === '' ? null : d;
  }

  /** Every model the current BLOB describes by AAGUID. */
  entries(): Entry[] {
    return this.blob ? [...this.blob.entries.values()] : [];
  }

  current(): MdsCurrent | undefined {
    const b = this.blob;
    if (b === undefined) return undefined;
    return { number: b.number, nextUpdate: b.nextUpdate, stale: this.clock.now().getTime() >= b.nextUpdate.getTime() };
  }

  private refused(source: string, code: MdsRefusalCode, message: string): MdsLoadResult {
    return { replaced: false, source, code, message, currentNumber: this.blob?.number ?? null };
  }
}
