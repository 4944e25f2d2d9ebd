/**
 * A contract server for the MitID Erhverv IdM API, for the tests: real HTTPS on 127.0.0.1 with
 * mutual TLS against a test CA (a client without a certificate of that CA does not get past the
 * handshake), the endpoints and shapes the gateway's client uses (requests checked with the same
 * zod schemas, strictly), state in memory, faults on demand (an HTTP status such as 500, 409 or
 * 429 before any effect; a hang; a hang AFTER the effect, the "unknown outcome"; a reset; a
 * broken answer), token expiry, and a record of every call and of every state change actually
 * made, so tests can assert exactly-once effects.
 *
 * Assumption where the documentation package is not public: suspending a suspended employee (or
 * reactivating an active one) answers 409.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { z } from 'zod';
import {
  LOCAL_IDP,
  createEmployeeRequestSchema,
  nonsensitiveProfileRequestSchema,
  searchRequestSchema,
  updateProfileRequestSchema,
} from '../../server/idm/index.js';
import type { IdmPki } from './idmPki.js';

export interface ContractEmployee {
  uuid: string;
  id: number;
  status: 'Active' | 'Suspended' | 'Pending';
  givenName: string;
  surname: string;
  emailAddress: string;
  registeredIal: string;
  rid: string | null;
  invoiceMethodUuid: string | null;
  authenticators: { uuid: string; type: string; status: string; id: string | null }[];
}

export type Fault =
  | { kind: 'status'; status: number; retryAfter?: string }
  | { kind: 'hang' }
  | { kind: 'hang-after-effect' }
  | { kind: 'reset' }
  | { kind: 'bad-json' };

export interface FaultRule {
  method?: string;
  path: RegExp;
  times: number;
  fault: Fault;
}

export interface RecordedCall {
  method: string;
  path: string;
  body: unknown;
  bearer: string | null;
  clientCertSubjectCn: string | null;
  /** The status sent; null when nothing was sent (hang, reset). */
  status: number | null;
  fault: Fault['kind'] | null;
}

export type Effect = { kind: 'create' | 'suspend' | 'reactivate' | 'delete' | 'profile' | 'email'; uuid: string };

interface Answer {
  status: number;
  body?: unknown;
  effect?: Effect;
}

const json = (status: number, body?: unknown): Answer => (body === undefined ? { status } : { status, body });

export class IdmContractServer {
  readonly employees = new Map<string, ContractEmployee>();
  readonly calls: RecordedCall[] = [];
  readonly effects: Effect[] = [];
  tokenTtlSeconds = 3600;
  private readonly tokens = new Map<string, number>();
  private readonly rules: FaultRule[] = [];
  private readonly sockets = new Set<Socket>();
  private nextId = 1000;
  private server!: https.Server;
  url = '';

  constructor(
    readonly pki: IdmPki,
    private readonly serverCredentials: { keyPem: string; certPem: string } = { keyPem: pki.serverKeyPem, certPem: pki.serverCertPem },
  ) {}

  async start(): Promise<this> {
    this.server = https.createServer(
      { key: this.serverCredentials.keyPem, cert: this.serverCredentials.certPem, ca: this.pki.caPem, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2' },
      (req, res) => void this.handle(req, res),
    );
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.server.on('secureConnection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** The next `times` calls matching get `fault`. */
  fail(rule: FaultRule): void {
    this.rules.push({ ...rule });
  }

  /** Every token issued so far is refused from now on (401). */
  expireTokens(): void {
    this.tokens.clear();
  }

  /** An employee made outside the gateway (by hand in MitID Erhverv, or earlier). */
  seed(e: Partial<ContractEmployee> & { emailAddress: string; subjectNameId?: string | null }): ContractEmployee {
    const uuid = e.uuid ?? randomUUID();
    const employee: ContractEmployee = {
      uuid,
      id: this.nextId++,
      status: e.status ?? 'Active',
      givenName: e.givenName ?? 'Seeded',
      surname: e.surname ?? 'Person',
      emailAddress: e.emailAddress,
      registeredIal: e.registeredIal ?? 'Substantial',
      rid: e.rid ?? null,
      invoiceMethodUuid: null,
      authenticators: e.subjectNameId ? [{ uuid: randomUUID(), type: LOCAL_IDP, status: 'Active', id: e.subjectNameId }] : (e.authenticators ?? []),
    };
    this.employees.set(uuid, employee);
    return employee;
  }

  callsTo(method: string, path: RegExp): RecordedCall[] {
    return this.calls.filter((c) => c.method === method && path.test(c.path));
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const path = new URL(req.url ?? '/', 'https://x').pathname;
    const raw = await readBody(req);
    let body: unknown = null;
    try {
      body = raw.length > 0 ? JSON.parse(raw) : null;
    } catch {
      body = raw;
    }
    const auth = req.headers.authorization;
    const bearer = auth?.startsWith('Bearer ') ? auth.slice(7) : null;
    const socket = req.socket;
    const cn = socket instanceof TLSSocket ? (socket.getPeerCertificate().subject?.CN ?? null) : null;
    const call: RecordedCall = { method, path, body, bearer, clientCertSubjectCn: typeof cn === 'string' ? cn : null, status: null, fault: null };
    this.calls.push(call);

    const rule = this.rules.find((r) => (r.method === undefined || r.method === method) && r.path.test(path) && r.times > 0);
    if (rule) {
      rule.times--;
      call.fault = rule.fault.kind;
      if (rule.fault.kind === 'status') {
        call.status = rule.fault.status;
        res.writeHead(rule.fault.status, { 'content-type': 'application/json', ...(rule.fault.retryAfter ? { 'retry-after': rule.fault.retryAfter } : {}) });
        res.end(JSON.stringify({ error: 'injected', status: rule.fault.status }));
        return;
      }
      if (rule.fault.kind === 'hang') return;
      if (rule.fault.kind === 'reset') {
        req.socket.destroy();
        return;
      }
      if (rule.fault.kind === 'bad-json') {
        call.status = 200;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"employeeUuid": ');
        return;
      }
    }
    const answer = this.route(method, path, body, bearer);
    if (answer.effect) this.effects.push(answer.effect);
    if (rule?.fault.kind === 'hang-after-effect') return;
    call.status = answer.status;
    if (answer.body === undefined) {
      res.writeHead(answer.status);
      res.end();
    } else {
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer.body));
    }
  }

  private route(method: string, path: string, body: unknown, bearer: string | null): Answer {
    if (method === 'POST' && path === '/api/administration/idmlogin/tls/authenticate') {
      const token = randomBytes(24).toString('base64url');
      this.tokens.set(token, Date.now() + this.tokenTtlSeconds * 1000);
      return json(200, { accessToken: token, tokenType: 'Bearer', expiresIn: this.tokenTtlSeconds });
    }
    const exp = bearer === null ? undefined : this.tokens.get(bearer);
    if (exp === undefined || exp < Date.now()) return json(401, { error: 'invalid_token' });

    const base = '/api/administration/identity/employee';
    if (method === 'POST' && path === base) return this.create(body);
    if (method === 'POST' && path === `${base}/search`) {
      if (!searchRequestSchema.safeParse(body).success) return json(400, { error: 'bad search request' });
      const employees = [...this.employees.values()].map((e) => ({ id: e.id, uuid: e.uuid, status: e.status, emailAddress: e.emailAddress, rid: e.rid, profile: { givenName: e.givenName, surname: e.surname } }));
      return json(200, { employees });
    }
    const m = /^\/api\/administration\/identity\/employee\/([^/]+)(\/.*)?$/.exec(path);
    const e = m?.[1] ? this.employees.get(decodeURIComponent(m[1])) : undefined;
    if (!m) return json(404, { error: 'no such endpoint' });
    if (!e) return json(404, { error: 'no such employee' });
    const rest = m[2] ?? '';
    const validated = <T>(schema: z.ZodType<T>, then: (v: T) => Answer): Answer => {
      const r = schema.safeParse(body);
      return r.success ? then(r.data) : json(400, { error: 'bad request', issues: r.error.issues.map((i) => i.path.join('.')) });
    };
    switch (`${method} ${rest}`) {
      case 'GET ':
        return json(200, { uuid: e.uuid, identityProfile: { status: e.status, rid: e.rid, emailAddress: e.emailAddress, givenName: e.givenName, surname: e.surname } });
      case 'DELETE ':
        this.employees.delete(e.uuid);
        return { status: 204, effect: { kind: 'delete', uuid: e.uuid } };
      case 'PUT /suspend':
        if (e.status === 'Suspended') return json(409, { error: 'already suspended' });
        e.status = 'Suspended';
        return { status: 204, effect: { kind: 'suspend', uuid: e.uuid } };
      case 'PUT /reactivate':
        if (e.status === 'Active') return json(409, { error: 'already active' });
        e.status = 'Active';
        return { status: 204, effect: { kind: 'reactivate', uuid: e.uuid } };
      case 'PUT /profile':
        return validated(updateProfileRequestSchema, (v) => {
          Object.assign(e, { givenName: v.givenName, surname: v.surname, emailAddress: v.emailAddress, registeredIal: v.registeredIal });
          return { status: 204, effect: { kind: 'profile', uuid: e.uuid } };
        });
      case 'PUT /profile/nonsensitive':
        return validated(nonsensitiveProfileRequestSchema, (v) => {
          e.emailAddress = v.emailAddress;
          return { status: 204, effect: { kind: 'email', uuid: e.uuid } };
        });
      case 'GET /authenticators':
        return json(200, { authenticators: e.authenticators });
      default:
        return json(404, { error: 'no such endpoint' });
    }
  }

  private create(body: unknown): Answer {
    const r = createEmployeeRequestSchema.safeParse(body);
    if (!r.success) return json(400, { error: 'bad request', issues: r.error.issues.map((i) => i.path.join('.')) });
    const { identityProfile: p, identityAuthenticators: a, identityOrganizationProfile: o } = r.data;
    const taken = [...this.employees.values()].some(
      (e) => e.authenticators.some((x) => x.type === LOCAL_IDP && x.id?.toLowerCase() === a.subjectNameId.toLowerCase()) || (p.rid !== undefined && e.rid === p.rid),
    );
    if (taken) return json(409, { error: 'an account exists' });
    const e = this.seed({ emailAddress: p.emailAddress, givenName: p.givenName, surname: p.surname, status: p.status, registeredIal: p.registeredIal, rid: p.rid ?? null, subjectNameId: a.subjectNameId });
    e.invoiceMethodUuid = o.invoiceMethodUuid;
    return { status: 200, body: { employeeUuid: e.uuid }, effect: { kind: 'create', uuid: e.uuid } };
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > 1024 * 1024) req.destroy();
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** `serverCredentials`: another server certificate (e.g. pki.strangerServer, one the client must refuse). */
export async function startIdmContractServer(pki: IdmPki, serverCredentials?: { keyPem: string; certPem: string }): Promise<IdmContractServer> {
  return new IdmContractServer(pki, serverCredentials).start();
}
