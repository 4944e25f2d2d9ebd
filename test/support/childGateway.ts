/**
 * The real gateway as a separate process: `node --import tsx server/main.ts`, exactly what
 * `npm start` runs, in its own process group (so `kill -9` of the group takes every cluster worker
 * with it), with its own var/ directory, a free port of 127.0.0.1, the demo seed (its one-time
 * enrolment link is read from the 0600 file the start-up line names) and the file outbox (activation codes are read from the mail
 * files). Used by the crash-safety test and the soak, where the gateway must really die.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { HsmConnection, destroyKeyPair, readPin } from '../../hsm/index.js';
import { str } from '../../server/store/sqlite/rows.js';
import { FIRST_ADMIN_LINK_FILE, readEnrolmentLinkFile } from '../../server/admin/enrolmentLinkFile.js';
import { openStore } from '../../server/store/openStore.js';
import { DatabaseUrl } from '../../server/store/postgres/index.js';
import { dropStore, gatewayDatabase, storeEnv, storeRefOf, type StoreRef } from './backend.js';
import { enrolmentLinkIn, type SeededGateway } from './journeys.js';
import { repoRoot } from './testGateway.js';
import { openSqlFile } from './sqliteInspection.js';

export interface OutboxMail {
  file: string;
  to: string;
  subject: string;
  kind: string;
  text: string;
}

/** Reads the file outbox's mails to `to`, oldest first (a half-written file is left out). */
export function readOutbox(dir: string, to: string): OutboxMail[] {
  if (!fs.existsSync(dir)) return [];
  const mails: OutboxMail[] = [];
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.eml')).sort()) {
    const file = path.join(dir, f);
    let raw: string;
    try {
      raw = fs.readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    const [head = '', ...rest] = raw.split('\r\n\r\n');
    const header = (name: string) => new RegExp(`^${name}: (.*)$`, 'm').exec(head)?.[1] ?? '';
    if (header('To') !== to) continue;
    mails.push({ file, to, subject: header('Subject'), kind: header('X-Gateway-Kind'), text: rest.join('\r\n\r\n') });
  }
  return mails;
}

/** The 8-digit code of an activation or reactivation mail, if it is one (and complete). */
export function codeOf(mail: OutboxMail): string | undefined {
  if (mail.kind !== 'activation-code' && mail.kind !== 'reactivation-code') return undefined;
  const m = /^\s+(\d{4}) (\d{4})\s*$/m.exec(mail.text);
  return m ? `${m[1]}${m[2]}` : undefined;
}

export interface ChildGatewayOptions {
  /** Reuse a var/ directory (a restart after a crash); default: a fresh temporary one. */
  varDir?: string;
  /** Reuse a port (a restart); default: a free one. */
  port?: number;
  /** Extra environment, e.g. GATEWAY_WORKERS or raised limits. */
  env?: Record<string, string>;
  /** The store to run on (several instances sharing one PostgreSQL database); default: a new one of the run's backend (backend.ts). */
  storeRef?: StoreRef;
  /** How long to wait for the gateway to answer its health check (default 60 s). */
  startTimeoutMs?: number;
}

export interface ChildGateway extends SeededGateway {
  readonly pid: number;
  readonly port: number;
  readonly varDir: string;
  readonly dbFile: string;
  /** Where its store lives: dbFile, or (GATEWAY_TEST_BACKEND=postgres) its own PostgreSQL database. */
  readonly storeRef: StoreRef;
  /** The environment that points a tool at the same store. */
  readonly storeEnv: Record<string, string>;
  readonly outboxDir: string;
  /** Everything the process printed (stdout and stderr, the last 256 KiB). */
  output(): string;
  /** Mails delivered to `to` so far, oldest first. */
  mailsTo(to: string): OutboxMail[];
  /** Waits (up to 15 s) for a code mail to `to` and returns the newest code. */
  latestCode(to: string): Promise<string>;
  /** Waits (up to 15 s) for an enrolment mail to `to` and returns the newest link. */
  latestEnrolmentLink(to: string): Promise<string>;
  /** kill -9 of the whole process group (every cluster worker too); resolves once it is gone. */
  kill(): Promise<void>;
  /** SIGTERM and wait for a clean exit. */
  stop(): Promise<void>;
  /** Resident set size of every process in the group, in bytes (Linux /proc). */
  rssBytes(): number;
  /** Open file descriptors of every process in the group (Linux /proc). */
  openHandles(): number;
}

/** A port the kernel considers free right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function childEnv(varDir: string, port: number, extra: Record<string, string>): Record<string, string> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined));
  return {
    ...inherited,
    SOFTHSM2_CONF: process.env['SOFTHSM2_CONF'] ?? path.join(repoRoot, 'var', 'softhsm2.conf'),
    GATEWAY_VAR_DIR: varDir,
    GATEWAY_PORT: String(port),
    GATEWAY_HOST: '127.0.0.1',
    GATEWAY_ORIGIN: `http://localhost:${port}`,
    GATEWAY_HSM_PIN_FILE: path.join(repoRoot, 'var', 'hsm-user.pin'),
    GATEWAY_SEED_DEMO: 'true',
    GATEWAY_OUTBOX: 'file',
    GATEWAY_LOG_LEVEL: 'warn',
    // One process unless a test asks for a cluster (the default, auto, forks one per CPU).
    GATEWAY_WORKERS: '1',
    ...extra,
  };
}

/** Live pids of the process group `pgid` (the primary and its cluster workers). */
export function groupPids(pgid: number): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // /proc/<pid>/stat: "pid (comm) state ppid pgrp ..."; comm may hold spaces, so split after ')'.
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // A zombie (Z) is dead already; orphaned workers may wait for a reaper that never comes.
      if (Number(fields[2]) === pgid && fields[0] !== 'Z') pids.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

/** Starts `server/main.ts` as its own process group and waits until it serves. */
export async function startChildGateway(opts: ChildGatewayOptions = {}): Promise<ChildGateway> {
  const varDir = opts.varDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'gw-child-'));
  // A restart on the same var/ finds the same store (backend.ts remembers a PostgreSQL database there).
  const storeRef = opts.storeRef ?? (opts.varDir ? storeRefOf(varDir) : (await gatewayDatabase(varDir)).ref);
  const port = opts.port ?? (await freePort());
  const origin = `http://localhost:${port}`;
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', path.join('server', 'main.ts')], {
    cwd: repoRoot,
    env: childEnv(varDir, port, { ...storeEnv(storeRef), ...(opts.env ?? {}) }),
    // Its own process group: kill(-pid) reaches the primary and every worker it forked.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('the gateway process did not start');
  let out = '';
  const append = (d: Buffer) => {
    out += d.toString();
    if (out.length > 256 * 1024) out = out.slice(-256 * 1024);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let gone = false;
  void exited.then(() => (gone = true));

  const deadline = Date.now() + (opts.startTimeoutMs ?? 60_000);
  for (;;) {
    if (gone) throw new Error(`the gateway exited during start:\n${out}`);
    if (Date.now() > deadline) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
      throw new Error(`the gateway did not answer within the start timeout:\n${out}`);
    }
    try {
      const res = await fetch(`${origin}/api/health`);
      const body: unknown = await res.json();
      // Listening and the demo seed printed (main.ts seeds before it listens).
      if (res.status === 200 && typeof body === 'object' && body !== null && 'status' in body && body.status === 'ok') break;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }

  // The seed writes the file before the gateway listens, and removes it when it issued no link.
  const link = readEnrolmentLinkFile(path.join(varDir, FIRST_ADMIN_LINK_FILE));
  const dbFile = path.join(varDir, 'gateway.db');
  const outboxDir = path.join(varDir, 'outbox');
  const gateway: ChildGateway = {
    pid,
    port,
    origin,
    varDir,
    dbFile,
    storeRef,
    storeEnv: storeEnv(storeRef),
    outboxDir,
    seed: {
      get enrolmentLink() {
        return link;
      },
      admin: { email: process.env['GATEWAY_DEMO_ADMIN_EMAIL'] ?? 'admin@demo.example' },
    },
    output: () => out,
    mailsTo: (to) => readOutbox(outboxDir, to),
    async latestCode(to) {
      const until = Date.now() + 15_000;
      for (;;) {
        const codes = readOutbox(outboxDir, to)
          .map(codeOf)
          .filter((c): c is string => c !== undefined);
        const last = codes[codes.length - 1];
        if (last) return last;
        if (Date.now() > until) throw new Error(`no activation code mailed to ${to}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async latestEnrolmentLink(to) {
      const until = Date.now() + 15_000;
      for (;;) {
        const links = readOutbox(outboxDir, to)
          .filter((m) => m.kind === 'enrolment-link')
          .map((m) => enrolmentLinkIn(m.text))
          .filter((l): l is string => l !== undefined);
        const last = links[links.length - 1];
        if (last) return last;
        if (Date.now() > until) throw new Error(`no enrolment link mailed to ${to}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async kill() {
      if (gone) return;
      process.kill(-pid, 'SIGKILL');
      await exited;
      // The workers are in the same group; wait until the kernel has reaped every one of them.
      const until = Date.now() + 10_000;
      while (groupPids(pid).length > 0 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 20));
    },
    async stop() {
      if (gone) return;
      process.kill(-pid, 'SIGTERM');
      const timer = setTimeout(() => {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }, 15_000);
      await exited;
      clearTimeout(timer);
    },
    rssBytes() {
      let total = 0;
      for (const p of groupPids(pid)) {
        try {
          const m = /^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${p}/status`, 'utf8'));
          total += Number(m?.[1] ?? 0) * 1024;
        } catch {
          // ended meanwhile
        }
      }
      return total;
    },
    openHandles() {
      let total = 0;
      for (const p of groupPids(pid)) {
        try {
          total += fs.readdirSync(`/proc/${p}/fd`).length;
        } catch {
          // ended meanwhile
        }
      }
      return total;
    },
  };
  return gateway;
}

/**
 * Destroys the signing keys a child gateway generated on the shared development token (each fresh
 * var/ gets its own), so test runs do not pile up key objects; then removes the var/ directory.
 */
export async function disposeChildVarDir(varDir: string): Promise<void> {
  const ref = storeRefOf(varDir);
  const dbFile = path.join(varDir, 'gateway.db');
  if (ref.engine === 'postgres' || fs.existsSync(dbFile)) {
    let ckaIds: string[] = [];
    if (ref.engine === 'postgres') {
      const store = await openStore({ database: { url: DatabaseUrl.parse(ref.urlText), poolSize: 1, passwordFile: undefined }, dbFile }, { migrate: false });
      try {
        ckaIds = (await store.read((tx) => tx.signingKeys.list())).filter((k) => k.state !== 'destroyed').map((k) => k.ckaId);
      } finally {
        await store.close();
      }
    } else {
      const db = openSqlFile(dbFile, { readonly: true });
      try {
        ckaIds = db
          .prepare("SELECT cka_id FROM signing_keys WHERE state != 'destroyed'")
          .all()
          .map((r) => str(r, 'cka_id'));
      } finally {
        db.close();
      }
    }
    if (ckaIds.length > 0) {
      process.env['SOFTHSM2_CONF'] ??= path.join(repoRoot, 'var', 'softhsm2.conf');
      const hsm = await HsmConnection.open({
        modulePath: process.env['GATEWAY_HSM_MODULE'] ?? '/usr/lib/softhsm/libsofthsm2.so',
        tokenLabel: process.env['GATEWAY_HSM_TOKEN_LABEL'] ?? 'gateway',
        pin: readPin({ GATEWAY_HSM_PIN_FILE: path.join(repoRoot, 'var', 'hsm-user.pin') }, path.join(repoRoot, 'var')),
      });
      try {
        for (const id of ckaIds) await destroyKeyPair(hsm, id).catch(() => 0);
      } finally {
        await hsm.close();
      }
    }
  }
  await dropStore(ref);
  fs.rmSync(varDir, { recursive: true, force: true });
}
