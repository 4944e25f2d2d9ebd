/**
 * Witnesses outside the database: every checkpoint, as it is made, also goes to
 *
 * - a directory (GATEWAY_AUDIT_WITNESS_DIR, default var/audit-witness): one file per checkpoint,
 *   `<n, 12 digits>.checkpoint`, holding the signed note exactly as the database does. Files are
 *   created without ever replacing one (link(2) of a fully written and fsynced temporary file),
 *   so a second, different checkpoint n is refused as a conflict. Put the directory on other
 *   storage than the database (another disk, a mount only this host appends to, a WORM share).
 * - optionally a remote sink (GATEWAY_AUDIT_WITNESS_URL): each note is POSTed as
 *   `text/plain; charset=utf-8` with the header `Checkpoint-Number: <n>`; any 2xx answer counts
 *   as stored. Deliveries are recorded (audit_witness_deliveries) and retried in order until
 *   they succeed.
 *
 * `npm run audit:verify` compares the database with a witness directory, so checkpoints (and the
 * entries they vouch for) removed after they were witnessed are found.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export class WitnessConflictError extends Error {
  override readonly name = 'WitnessConflictError';
}

export interface WitnessedCheckpoint {
  n: number;
  file: string;
  note: string;
}

const FILE = /^(\d{12})\.checkpoint$/;

export function witnessFileName(n: number): string {
  if (!Number.isSafeInteger(n) || n < 1) throw new TypeError(`witnessFileName: bad checkpoint number ${n}`);
  return `${String(n).padStart(12, '0')}.checkpoint`;
}

export class DirectoryWitness {
  readonly sink = 'directory';
  /** Highest checkpoint number known to exist in the directory (probed upwards from here). */
  private known: number | undefined;

  constructor(readonly dir: string) {}

  private file(n: number): string {
    return path.join(this.dir, witnessFileName(n));
  }

  read(n: number): string | undefined {
    try {
      return fs.readFileSync(this.file(n), 'utf8');
    } catch (err) {
      if (err instanceof Error && 'code' in err && err.code === 'ENOENT') return undefined;
      throw err;
    }
  }

  /**
   * Stores checkpoint n durably. The same note again is a no-op; a different note for n throws
   * WitnessConflictError (a witness never replaces what it holds).
   */
  write(n: number, note: string): void {
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o750 });
    const target = this.file(n);
    const existing = this.read(n);
    if (existing !== undefined) {
      if (existing !== note) throw new WitnessConflictError(`the witness already holds a different checkpoint ${n} (${target})`);
      this.known = Math.max(this.known ?? 0, n);
      return;
    }
    const tmp = path.join(this.dir, `.${witnessFileName(n)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    const fd = fs.openSync(tmp, 'wx', 0o640);
    try {
      fs.writeSync(fd, note);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    try {
      fs.linkSync(tmp, target);
    } catch (err) {
      if (!(err instanceof Error && 'code' in err && err.code === 'EEXIST')) throw err;
      // Another process wrote n meanwhile: the same note is fine, another is a conflict.
      if (this.read(n) !== note) throw new WitnessConflictError(`the witness already holds a different checkpoint ${n} (${target})`);
    } finally {
      fs.rmSync(tmp, { force: true });
    }
    const dirFd = fs.openSync(this.dir, 'r');
    try {
      fs.fsyncSync(dirFd);
    } finally {
      fs.closeSync(dirFd);
    }
    this.known = Math.max(this.known ?? 0, n);
  }

  /** The newest checkpoint the directory holds (a full listing the first time, then probing upwards). */
  latest(): WitnessedCheckpoint | undefined {
    if (this.known === undefined || (this.known > 0 && this.read(this.known) === undefined)) {
      const all = listWitnessDirectory(this.dir);
      this.known = all.length > 0 ? (all[all.length - 1]?.n ?? 0) : 0;
    }
    while (this.read(this.known + 1) !== undefined) this.known++;
    if (this.known === 0) return undefined;
    const note = this.read(this.known);
    return note === undefined ? undefined : { n: this.known, file: this.file(this.known), note };
  }
}

/** Every checkpoint file of a witness directory, by number (a missing directory holds none). */
export function listWitnessDirectory(dir: string): WitnessedCheckpoint[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (err) {
    if (err instanceof Error && 'code' in err && err.code === 'ENOENT') return [];
    throw err;
  }
  const out: WitnessedCheckpoint[] = [];
  for (const name of names) {
    const m = FILE.exec(name);
    if (!m?.[1]) continue;
    const file = path.join(dir, name);
    out.push({ n: Number(m[1]), file, note: fs.readFileSync(file, 'utf8') });
  }
  return out.sort((a, b) => a.n - b.n);
}

/** The remote sink: POSTs each signed note to a URL. */
export class HttpWitness {
  readonly sink: string;

  constructor(
    readonly url: string,
    private readonly token: string | undefined,
    private readonly timeoutMs = 10_000,
  ) {
    this.sink = `url ${url}`;
  }

  async deliver(n: number, note: string): Promise<void> {
    const res = await fetch(this.url, {
      method: 'POST',
      headers: {
        'Content-Type': 'text/plain; charset=utf-8',
        'Checkpoint-Number': String(n),
        ...(this.token ? { Authorization: `Bearer ${this.token}` } : {}),
      },
      body: note,
      signal: AbortSignal.timeout(this.timeoutMs),
      redirect: 'error',
    });
    // Drain the body so the connection can be reused; its content does not matter.
    await res.arrayBuffer().catch(() => undefined);
    if (res.status < 200 || res.status > 299) throw new Error(`the witness at ${this.url} answered ${res.status}`);
  }
}
