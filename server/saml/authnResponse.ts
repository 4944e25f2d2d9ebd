/**
 * Answering a verified AuthnRequest: the signed, encrypted OIOSAML 3
 * Response for a completed sign-in, or a status-only refusal. The Assertion
 * is signed through the SamlSigningKey port (the HSM), then encrypted to the
 * SP's first encryption certificate with the algorithms its metadata allows;
 * the result is an HTTP-POST form for the ACS and the broker-log entry.
 */
import { createHash } from 'node:crypto';
import type { AuthnRequestAnswer } from './authnRequestAnswer.js';
import { type AssertionInput, buildAssertion, newSamlId } from './assertion.js';
import { type PostForm, encodePost } from './bindings/post.js';
import type { BrokerLogEntry } from './brokerLog.js';
import { type EncryptionChoice, chooseEncryption, encryptAssertion } from './encryptAssertion.js';
import type { AssuranceLevel } from '../domain/types.js';
import { type AnswerableRequest, type SamlStatus, SamlError } from './errors.js';
import { atLeast } from './levels.js';
import type { SamlSigningKey } from './ports.js';
import { errorResponseXml, successResponseXml } from './response.js';
import type { ServiceProvider } from './spMetadata.js';
import { signEnveloped } from './xml/signEnveloped.js';

export interface IssuedResponse {
  /** The Response XML (unsigned envelope, signed and encrypted assertion inside). */
  xml: string;
  /** What to POST to the ACS. */
  form: PostForm;
  /** The broker-log entry (NSIS 6 (Low) 7). */
  log: BrokerLogEntry;
}

export interface SignInResult {
  /** The person's NameID at this SP and its format (persistent by default). */
  nameId: { value: string; format?: string };
  level: AssertionInput['level'];
  authnInstant: Date;
  sessionIndex: string;
  cvr: string;
  orgName: string;
  extraAttributes?: AssertionInput['extraAttributes'];
}

export interface IssueResponseInput {
  idpEntityId: string;
  request: AuthnRequestAnswer;
  serviceProvider: ServiceProvider;
  signIn: SignInResult;
  now: Date;
  /** Per-SP override of md:EncryptionMethod based selection. */
  encryption?: EncryptionChoice;
  authnContextClassRef?: string;
  /** The request's minimum level: an assertion below it is never issued (SAML_NO_AUTHN_CONTEXT). */
  minimumLevel?: AssuranceLevel;
}

/** The signed and encrypted success Response for a completed sign-in. */
export async function issueAuthnResponse(key: SamlSigningKey, input: IssueResponseInput): Promise<IssuedResponse> {
  const { request, serviceProvider: sp, signIn, now } = input;
  if (input.minimumLevel && !atLeast(signIn.level, input.minimumLevel)) {
    throw new SamlError('SAML_NO_AUTHN_CONTEXT', `the sign-in reached ${signIn.level}, ${input.minimumLevel} was requested`, { answerTo: request });
  }
  const assertion = buildAssertion({
    idpEntityId: input.idpEntityId,
    audience: sp.entityId,
    recipient: request.acsUrl,
    inResponseTo: request.id,
    issueInstant: now,
    authnInstant: signIn.authnInstant,
    sessionIndex: signIn.sessionIndex,
    nameId: signIn.nameId,
    level: signIn.level,
    cvr: signIn.cvr,
    orgName: signIn.orgName,
    extraAttributes: signIn.extraAttributes,
    authnContextClassRef: input.authnContextClassRef,
  });
  const signed = await signEnveloped(assertion.xml, key, { rootLocalName: 'Assertion', afterLocalName: 'Issuer' });
  const certificate = sp.encryptionCertificates[0];
  if (!certificate) throw new TypeError('the SP record has no encryption certificate');
  const choice = input.encryption ?? chooseEncryption(sp.encryptionMethods);
  const encrypted = await encryptAssertion(signed, certificate, choice);
  const id = newSamlId();
  const xml = successResponseXml({ id, idpEntityId: input.idpEntityId, destination: request.acsUrl, inResponseTo: request.id, issueInstant: now }, encrypted);
  const log: BrokerLogEntry = {
    kind: 'Response',
    direction: 'out',
    id,
    inResponseTo: request.id,
    issuer: input.idpEntityId,
    destination: request.acsUrl,
    binding: 'post',
    status: { top: 'urn:oasis:names:tc:SAML:2.0:status:Success' },
    assertionId: assertion.id,
    nameId: signIn.nameId.value,
    sessionIndex: signIn.sessionIndex,
    attributes: assertion.attributes.map((a) => ({ name: a.name, values: [...a.values] })),
    assertionSha256: createHash('sha256').update(signed, 'utf8').digest('hex'),
    encryption: { content: choice.content, keyTransport: choice.keyTransport },
  };
  return { xml, form: encodePost(request.acsUrl, 'SAMLResponse', xml, request.relayState), log };
}

/** A status-only Response to an answerable request (refused, NoPassive, NoAuthnContext...). */
export function issueErrorResponse(idpEntityId: string, to: AnswerableRequest, status: SamlStatus, now: Date, message?: string): IssuedResponse {
  const id = newSamlId();
  const xml = errorResponseXml({ id, idpEntityId, destination: to.acsUrl, inResponseTo: to.id, issueInstant: now }, status, message);
  const log: BrokerLogEntry = { kind: 'Response', direction: 'out', id, inResponseTo: to.id, issuer: idpEntityId, destination: to.acsUrl, binding: 'post', status };
  return { xml, form: encodePost(to.acsUrl, 'SAMLResponse', xml, to.relayState), log };
}

/** The refusal of a SamlError, when it may be sent to the SP (err.answerTo set); undefined otherwise. */
export function answerRefusal(idpEntityId: string, err: SamlError, now: Date): IssuedResponse | undefined {
  return err.answerTo ? issueErrorResponse(idpEntityId, err.answerTo, err.status, now) : undefined;
}
