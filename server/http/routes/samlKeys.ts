/**
 * The security officers' view of the SAML signing keys (issue 15, on the security page since
 * issue 16): each key with its certificate's subject, issuer, validity and SHA-256 fingerprint and
 * whether a CA issued it; the PKCS#10 request for the CA (signed in the HSM); the import of the
 * CA-issued certificate, refused with the X.509 reason unless it certifies this very key.
 * Generation, activation and destruction are in ./saml.ts (the latter two wait for a second
 * security officer, NSIS 6 (Substantial) 11). Every refusal is audited as saml.key.change-refused.
 */
import { X509Certificate } from 'node:crypto';
import type { Response } from 'express';
import { z } from 'zod';
import { isX509Error } from '../../../hsm/x509/errors.js';
import type { SamlKeyRecord } from '../../domain/saml.js';
import { GatewayError, NotFoundError } from '../../errors.js';
import type { SamlDeps } from '../../flows/saml/samlDeps.js';
import { route, type RouteSpec } from '../registry.js';
import { sessionOf } from './shared.js';

const KEY_REFUSED = 'saml.key.change-refused';

const certificateBody = z.object({ certificatePem: z.string().min(1).max(64 * 1024) }).strict();

/** What the page shows of a key: never its HSM object id. */
export function samlKeyView(k: SamlKeyRecord) {
  const c = new X509Certificate(k.certificatePem);
  const details = c.publicKey.asymmetricKeyDetails;
  return {
    kid: k.kid,
    state: k.state,
    algorithm: `RSA-${details?.modulusLength ?? 0}`,
    signatureAlgorithm: 'RSA-SHA256',
    createdAt: k.createdAt,
    activatedAt: k.activatedAt,
    retiredAt: k.retiredAt,
    destroyedAt: k.destroyedAt,
    certificate: {
      subject: c.subject,
      issuer: c.issuer,
      validFrom: new Date(c.validFrom).toISOString(),
      validTo: new Date(c.validTo).toISOString(),
      sha256: c.fingerprint256,
      /** Self-signed in the HSM (test, or until the CA's certificate is imported), else CA-issued. */
      selfSigned: c.subject === c.issuer && c.verify(c.publicKey),
      pem: k.certificatePem,
    },
  };
}

function kidOf(raw: unknown): string {
  if (typeof raw !== 'string' || !/^[A-Za-z0-9_-]{20,128}$/.test(raw)) throw new NotFoundError('Unknown SAML key.');
  return raw;
}

export function samlKeyRoutes(deps: { saml: SamlDeps }): RouteSpec[] {
  const { saml } = deps;
  const officer = (res: Response) => ({ identityId: sessionOf(res).identity.id, role: 'security-officer' as const });
  return [
    route({
      method: 'get',
      path: '/api/security/saml/keys',
      summary: 'The SAML signing keys with state, algorithm and their certificates (subject, issuer, validity, SHA-256, self-signed or CA-issued)',
      tag: 'security',
      access: { kind: 'role', role: 'security-officer' },
      clause: 'NSIS 4.1.6 (Low) 3, 6 (Substantial) 11',
      auditRefusal: KEY_REFUSED,
      responses: { 200: '{ keys: [...] }', 403: 'Role' },
      handler: async ({ res }) => {
        res.json({ keys: (await saml.keys.keys()).map(samlKeyView) });
      },
    }),
    route({
      method: 'get',
      path: '/api/security/saml/keys/:kid/csr',
      summary: 'A PKCS#10 certification request for a pending or active SAML key, signed in the HSM by the key itself (for the CA, OCES3)',
      tag: 'security',
      access: { kind: 'role', role: 'security-officer' },
      clause: 'NSIS 4.1.6 (Low) 3',
      auditRefusal: KEY_REFUSED,
      contentTypes: { 200: 'application/pkcs10' },
      responses: { 200: 'The request (PEM)', 403: 'Role', 404: 'No pending or active key of that kid' },
      handler: async ({ req, res }) => {
        const kid = kidOf(req.params['kid']);
        const pem = await saml.keys.certificationRequest(kid);
        res.type('application/pkcs10').setHeader('Content-Disposition', `attachment; filename="saml-${kid.slice(0, 8)}.csr.pem"`);
        res.send(pem);
      },
    }),
    route({
      method: 'post',
      path: '/api/security/saml/keys/:kid/certificate',
      summary: 'Import the CA-issued certificate of a pending SAML key (refused unless it certifies this key, is valid now and allows signatures)',
      tag: 'security',
      access: { kind: 'role', role: 'security-officer' },
      stepUp: true,
      body: certificateBody,
      clause: 'NSIS 4.1.6 (Low) 3',
      auditRefusal: KEY_REFUSED,
      responses: { 200: '{ key }', 400: 'X509_MALFORMED, X509_KEY_MISMATCH, X509_NOT_VALID_NOW, X509_WRONG_USAGE, VALIDATION_FAILED', 401: 'Step-up', 403: 'Role', 404: 'Unknown key', 409: 'Not pending (SAML_KEY_STATE)' },
      handler: async ({ req, res, body }) => {
        const kid = kidOf(req.params['kid']);
        try {
          await saml.keys.importCertificate(kid, body.certificatePem, officer(res));
        } catch (err) {
          if (isX509Error(err) && err.code !== 'X509_BAD_REQUEST') throw new GatewayError(err.code, 400, `The certificate is refused: ${err.message}.`);
          throw err;
        }
        const key = (await saml.keys.keys()).find((k) => k.kid === kid);
        if (!key) throw new NotFoundError('Unknown SAML key.');
        res.json({ key: samlKeyView(key) });
      },
    }),
  ];
}
