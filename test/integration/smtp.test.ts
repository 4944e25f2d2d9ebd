/**
 * The second channel (NSIS 3.2.2) over a real SMTP conversation: the gateway runs with
 * GATEWAY_OUTBOX=smtp and its production SmtpSink (nodemailer) talks to a real smtp-server on
 * 127.0.0.1. The activation code is read from the message the SMTP server received, never from
 * the gateway's own state.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { FixedClock } from '../../server/clock.js';
import { ApiClient, field } from '../support/apiClient.js';
import { activate, enrol } from '../support/journeys.js';
import { SoftAuthenticator } from '../support/softAuthenticator.js';
import { startTestGateway, type TestGateway } from '../support/testGateway.js';
import { databaseText, dbAll } from '../support/dbInspection.js';
import { read } from '../support/storeReads.js';

interface ReceivedMail {
  envelopeFrom: string;
  envelopeTo: string[];
  header(name: string): string | undefined;
  body: string;
}

interface Mailhost {
  port: number;
  messages: ReceivedMail[];
  close(): Promise<void>;
}

function decodeQuotedPrintable(s: string): string {
  const latin1 = s.replace(/=\r?\n/g, '').replace(/=([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return Buffer.from(latin1, 'latin1').toString('utf8');
}

/** Just enough RFC 5322 / MIME for a single-part text message. */
function parseMail(raw: string, envelopeFrom: string, envelopeTo: string[]): ReceivedMail {
  const split = raw.indexOf('\r\n\r\n');
  assert.ok(split > 0, 'a message with a header and a body');
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
  const header = (name: string): string | undefined => new RegExp(`^${name}:[ \\t]*(.*)$`, 'im').exec(head)?.[1]?.trim();
  let body = raw.slice(split + 4);
  const cte = (header('Content-Transfer-Encoding') ?? '7bit').toLowerCase();
  if (cte === 'quoted-printable') body = decodeQuotedPrintable(body);
  else if (cte === 'base64') body = Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  return { envelopeFrom, envelopeTo, header, body: body.replace(/\r\n/g, '\n') };
}

/** A real SMTP server (no TLS, no AUTH) that keeps every message it accepts. */
async function startMailhost(port = 0, messages: ReceivedMail[] = []): Promise<Mailhost> {
  const server = new SMTPServer({
    secure: false,
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    closeTimeout: 1000,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        messages.push(parseMail(Buffer.concat(chunks).toString('utf8'), from, session.envelope.rcptTo.map((r) => r.address)));
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const bound = (server.server.address() as AddressInfo).port;
  return {
    port: bound,
    messages,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The code as the holder reads it: 4 digits, a space, 4 digits, on a line of its own. */
function codeIn(mail: ReceivedMail): string {
  const m = /^[ \t]*(\d{4}) (\d{4})[ \t]*$/m.exec(mail.body);
  assert.ok(m?.[1] && m[2], `no activation code in:\n${mail.body}`);
  return `${m[1]}${m[2]}`;
}

function mailsTo(host: Mailhost, to: string, kind: string): ReceivedMail[] {
  return host.messages.filter((m) => m.envelopeTo.includes(to) && m.header('X-Gateway-Kind') === kind);
}

async function outboxRows(gw: TestGateway, recipient: string) {
  // Ties of creation time: SQLite by insertion order (rowid); PostgreSQL by id, as its adapter does.
  const tie = gw.storeRef.engine === 'sqlite' ? 'rowid' : 'id';
  return (await dbAll(gw, `SELECT kind, body, sent_at, attempts, last_error, next_attempt_at FROM outbox WHERE recipient = ? ORDER BY created_at, ${tie}`, [recipient])).map((r) => ({
      kind: field<string>(r, 'kind'),
      body: field<string | null>(r, 'body'),
      sentAt: field<string | null>(r, 'sent_at'),
      attempts: field<number>(r, 'attempts'),
      lastError: field<string | null>(r, 'last_error'),
      nextAttemptAt: field<string>(r, 'next_attempt_at'),
    }));
}

/** Every value in every table (the audit trail included), as one string. */
function wholeDatabase(gw: TestGateway): Promise<string> {
  return databaseText(gw);
}

describe('the second channel over a real SMTP server (NSIS 3.2.2)', () => {
  const clock = new FixedClock(new Date());
  const FROM = 'idp@demo.example';
  let host: Mailhost;
  let gw: TestGateway;
  let admin: ApiClient;

  before(async () => {
    host = await startMailhost();
    gw = await startTestGateway({
      clock,
      env: {
        GATEWAY_OUTBOX: 'smtp',
        GATEWAY_SMTP_HOST: '127.0.0.1',
        GATEWAY_SMTP_PORT: String(host.port),
        GATEWAY_SMTP_SECURE: 'false',
        GATEWAY_SMTP_FROM: FROM,
      },
    });
  });
  after(async () => {
    await gw.close();
    await host.close();
  });

  it('NSIS 3.2.2: the activation code travels through a real SMTP server (second channel)', async () => {
    assert.equal(gw.runtime.outbox.description, `smtp 127.0.0.1:${host.port}`);
    const email = gw.seed.admin.email;
    const link = gw.seed.enrolmentLink;
    assert.ok(link);
    admin = new ApiClient(gw.origin);
    const auth = new SoftAuthenticator();
    const keyId = await enrol(gw, admin, auth, link, 'Admin key');
    await gw.runtime.outbox.flush();

    const [mail, ...more] = mailsTo(host, email, 'activation-code');
    assert.ok(mail, `no activation-code mail reached the SMTP server; got ${host.messages.length} message(s)`);
    assert.equal(more.length, 0);
    assert.equal(mail.envelopeFrom, FROM);
    assert.deepEqual(mail.envelopeTo, [email]);
    assert.match(mail.header('From') ?? '', /idp@demo\.example/);
    assert.match(mail.header('To') ?? '', /admin@demo\.example/);
    assert.equal(mail.header('Subject'), 'Your security key activation code');
    const code = codeIn(mail);

    // Delivered: the stored body (the only place the code was in clear) is erased.
    const rows = (await outboxRows(gw, email));
    assert.deepEqual(
      rows.map((r) => [r.kind, r.body, r.sentAt !== null]),
      [['activation-code', null, true]],
    );
    assert.equal((await read(gw.runtime.store, (tx) => tx.outbox.pendingCount())), 0);
    assert.ok(!(await wholeDatabase(gw)).includes(code), 'the activation code is stored in clear somewhere');

    const act = await activate(gw, admin, auth, email, code);
    assert.equal(act.status, 200, JSON.stringify(act.body));
    assert.equal(field(act.body, 'credential', 'state'), 'active');
    assert.equal((await read(gw.runtime.store, (tx) => tx.credentials.get(keyId)))?.state, 'active');
    assert.equal((await admin.get('/api/me')).status, 200);

    // The activation notice goes the same way.
    await gw.runtime.outbox.flush();
    assert.equal(mailsTo(host, email, 'activate-notice').length, 1);
    assert.ok((await outboxRows(gw, email)).every((r) => r.body === null && r.sentAt !== null));
  });

  it('NSIS 3.2.2: while the SMTP server is down the code stays queued, and it is delivered once the server is back', async () => {
    assert.ok(admin, 'needs the administrator signed in by the previous test');
    const email = 'jens@demo.example';
    const created = await admin.post('/api/admin/identities', { name: 'Jens', email, ial: 'substantial', proofingMethod: 'ID document checked in person by HR' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    // Handed over in person (an explicit choice), so that only the code travels by mail.
    const issued = await admin.post(`/api/admin/identities/${field<string>(created.body, 'identity', 'id')}/enrolments`, { delivery: 'handover' });
    assert.equal(issued.status, 201, JSON.stringify(issued.body));
    await gw.runtime.outbox.flush();
    assert.equal(mailsTo(host, email, 'enrolment-handover').length, 1, 'the bound address is told of the handover');

    const port = host.port;
    await host.close();

    const client = new ApiClient(gw.origin);
    const auth = new SoftAuthenticator();
    const keyId = await enrol(gw, client, auth, field<string>(issued.body, 'link'), 'Jens key');
    await gw.runtime.outbox.flush();

    const [queued] = (await outboxRows(gw, email)).filter((r) => r.kind === 'activation-code');
    assert.ok(queued);
    assert.equal(queued.kind, 'activation-code');
    assert.equal(queued.sentAt, null);
    assert.ok(queued.attempts >= 1, 'a delivery was attempted');
    assert.ok(queued.lastError, 'the failure is recorded');
    assert.ok(queued.body, 'the message is kept for the retry');
    assert.ok((await read(gw.runtime.store, (tx) => tx.outbox.pendingCount())) > 0);
    assert.ok(queued.nextAttemptAt > clock.now().toISOString(), 'the retry is backed off');

    host = await startMailhost(port, host.messages);
    // Back up, but the retry is not due yet: nothing is sent early.
    await gw.runtime.outbox.flush();
    assert.equal(mailsTo(host, email, 'activation-code').length, 0);
    assert.ok((await read(gw.runtime.store, (tx) => tx.outbox.pendingCount())) > 0);

    // Once the backoff has passed, the dispatcher's next round delivers it.
    clock.set(new Date(new Date(queued.nextAttemptAt).getTime() + 1000));
    await gw.runtime.outbox.flush();
    const [mail] = mailsTo(host, email, 'activation-code');
    assert.ok(mail, 'the queued code was delivered after the outage');
    assert.equal((await read(gw.runtime.store, (tx) => tx.outbox.pendingCount())), 0);
    const [sent] = (await outboxRows(gw, email)).filter((r) => r.kind === 'activation-code');
    assert.equal(sent?.body, null);
    assert.ok(sent?.sentAt);

    const act = await activate(gw, client, auth, email, codeIn(mail));
    assert.equal(act.status, 200, JSON.stringify(act.body));
    assert.equal((await read(gw.runtime.store, (tx) => tx.credentials.get(keyId)))?.state, 'active');
  });
});
