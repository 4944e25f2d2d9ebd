/**
 * Hostile AuthnRequests: unsigned, wrongly signed, wrapped (signature moved,
 * second AuthnRequest inserted, duplicate IDs, comment injection), replayed,
 * expired, from an unknown SP, to an ACS outside the metadata, ForceAuthn
 * with IsPassive, XXE/DOCTYPE, oversized and garbage input: every one is
 * refused with a typed SamlError (stable code, SAML status, and an answer
 * address only when the request was authentic), never a crash.
 */
import assert from 'node:assert/strict';
import { deflateRawSync } from 'node:zlib';
import { before, test } from 'node:test';
import fc from 'fast-check';
import {
  ALG,
  OIOSAML,
  STATUS,
  type SamlErrorCode,
  type ReceiveAuthnRequestDeps,
  isSamlError,
  receiveAuthnRequest,
} from '../../server/saml/index.js';
import { authnRequestXml, postFields, signPost, signRedirect, unsignedRedirect } from './craft.js';
import { ACS_URL, IDP_ENTITY_ID, MemoryReplayStore, SP_ENTITY_ID, SSO_URL, type TestSp, makeSp, rawQuery, softwareKey } from './support.js';

let sp: TestSp;
let attacker: Awaited<ReturnType<typeof softwareKey>>;

before(async () => {
  // The SP side needs no IdP certificate here: only requests are tested.
  sp = await makeSp([]);
  attacker = await softwareKey('Attacker');
});

function deps(overrides: Partial<ReceiveAuthnRequestDeps> = {}): ReceiveAuthnRequestDeps {
  return {
    lookup: (id) => (id === SP_ENTITY_ID ? sp.serviceProvider : undefined),
    replay: new MemoryReplayStore(),
    policy: { idpEntityId: IDP_ENTITY_ID, ssoUrls: { redirect: SSO_URL, post: SSO_URL }, idpLevel: 'substantial' },
    now: new Date(),
    ...overrides,
  };
}

async function refused(promise: Promise<unknown>, code: SamlErrorCode, answerable = false): Promise<void> {
  await assert.rejects(promise, (err) => {
    assert.ok(isSamlError(err), `a SamlError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.equal(err.answerTo !== undefined, answerable, `answerable: ${err.message}`);
    return true;
  });
}

const spKey = () => sp.signing.privateKeyPem;

test('OIOSAML 3 AuthnRequest: a correctly signed request by either binding is accepted (control)', async () => {
  const viaRedirect = await receiveAuthnRequest(deps(), { binding: 'redirect', rawQuery: signRedirect(authnRequestXml(), spKey(), { relayState: 'r' }) });
  assert.equal(viaRedirect.relayState, 'r');
  const viaPost = await receiveAuthnRequest(deps(), { binding: 'post', fields: postFields(signPost(authnRequestXml(), spKey())) });
  assert.equal(viaPost.acs.location, ACS_URL);
});

test('OIOSAML 3 AuthnRequest: unsigned requests are refused (SAML_UNSIGNED) by both bindings', async () => {
  await refused(receiveAuthnRequest(deps(), { binding: 'redirect', rawQuery: unsignedRedirect(authnRequestXml()) }), 'SAML_UNSIGNED');
  await refused(receiveAuthnRequest(deps(), { binding: 'post', fields: postFields(authnRequestXml()) }), 'SAML_UNSIGNED');
  // A Redirect query that drops the query signature but keeps an embedded XML signature is still unsigned.
  await refused(receiveAuthnRequest(deps(), { binding: 'redirect', rawQuery: unsignedRedirect(signPost(authnRequestXml(), spKey())) }), 'SAML_UNSIGNED');
});

test('OIOSAML 3 AuthnRequest: a request signed by another key, or changed after signing, is refused (SAML_SIGNATURE_INVALID)', async () => {
  await refused(receiveAuthnRequest(deps(), { binding: 'redirect', rawQuery: signRedirect(authnRequestXml(), attacker.privateKeyPem) }), 'SAML_SIGNATURE_INVALID');
  await refused(receiveAuthnRequest(deps(), { binding: 'post', fields: postFields(signPost(authnRequestXml(), attacker.privateKeyPem)) }), 'SAML_SIGNATURE_INVALID');
  const query = signRedirect(authnRequestXml(), spKey(), { relayState: 'original' });
  await refused(receiveAuthnRequest(deps(), { binding: 'redirect', rawQuery: query.replace('RelayState=original', 'RelayState=changed') }), 'SAML_SIGNATURE_INVALID');
  const signed = signPost(authnRequestXml(), spKey());
  await refused(receiveAuthnRequest(deps(), { binding: 'post', fields: postFields(signed.replace(ACS_URL, 'https://evil.example/acs')) }), 'SAML_SIGNATURE_INVALID');
  await refused(
    receiveAuthnRequest(deps(), { binding: 'redirect', rawQuery: signRedirect(authnRequestXml(), spKey(), { sigAlg: ALG.rsaSha1, hash: 'sha1' }) }),
    'SAML_SIGNATURE_ALGORITHM_REFUSED',
  );
});

test('OIOSAML 3 AuthnRequest: XML signature wrapping is refused and only the signed element is read', async () => {
  const genuine = signPost(authnRequestXml({ id: '_genuine' }), spKey());
  const genuineBody = genuine.replace(/^<\?xml[^>]*>/, '');
  // 1. Signature moved: a new root (evil ACS) wraps the genuine signed request.
  const wrappedRoot = authnRequestXml({ id: '_evil', acsUrl: 'https://evil.example/acs', inner: `<samlp:Extensions>${genuineBody}</samlp:Extensions>` });
  await refused(receiveAuthnRequest(deps(), { binding: 'post', fields: postFields(wrappedRoot) }), 'SAML_SIGNATURE_WRAPPED');
  // 2. A second AuthnRequest element with the same ID inserted into the genuine one.
  const inserted = genuine.replace('</samlp:AuthnRequest>', `<samlp:Extensions>${authnRequestXml({ id: '_genuine', acsUrl: 'https://evil.example/acs' })}</samlp:Extensions></samlp:AuthnRequest>`);
  await refused(receiveAuthnRequest(deps(), { binding: 'post', fields: postFields(inserted) }), 'SAML_SIGNATURE_WRAPPED');
  // 3. Two signatures (a second, attacker-made one appended).
  const twice = genuine.replace('</samlp:AuthnRequest>', `${/<ds:Signature[\s\S]*<\/ds:Signature>/.exec(signPost(authnRequestXml(), attacker.privateKeyPem))?.[0] ?? ''}</samlp:AuthnRequest>`);
  await refused(receiveAuthnRequest(deps(), { binding: 'post', fields: postFields(twice) }), 'SAML_SIGNATURE_WRAPPED');
  // 4. The reference points elsewhere than the root.
  const elsewhere = genuine.replace('URI="#_genuine"', 'URI="#_other"');
  await refused(receiveAuthnRequest(deps(), { binding: 'post', fields: postFields(elsewhere) }), 'SAML_SIGNATURE_WRAPPED');
});

test('OIOSAML 3 AuthnRequest: a comment injected into a signed value neither breaks the signature nor truncates what is read', async () => {
  const signed = signPost(authnRequestXml({ acsUrl: ACS_URL }), spKey());
  // Exclusive c14n without comments: the signature still verifies; the value read is the whole signed one.
  const injected = signed.replace(`>${SP_ENTITY_ID}<`, `>${SP_ENTITY_ID.slice(0, 12)}<!--x-->${SP_ENTITY_ID.slice(12)}<`);
  assert.notEqual(injected, signed);
  const request = await receiveAuthnRequest(deps(), { binding: 'post', fields: postFields(injected) });
  assert.equal(request.issuer, SP_ENTITY_ID);
  // With the exc-c14n#WithComments algorithm the signature is refused outright.
  const withComments = signed.replace(`Algorithm="${ALG.excC14n}"`, `Algorithm="${ALG.excC14n}WithComments"`);
  await refused(receiveAuthnRequest(deps(), { binding: 'post', fields: postFields(withComments) }), 'SAML_SIGNATURE_ALGORITHM_REFUSED');
});

test('OIOSAML 3 AuthnRequest: a replayed request is refused (SAML_REPLAYED), not answered', async () => {
  const d = deps();
  const query = signRedirect(authnRequestXml(), spKey());
  await receiveAuthnRequest(d, { binding: 'redirect', rawQuery: query });
  await refused(receiveAuthnRequest(d, { binding: 'redirect', rawQuery: query }), 'SAML_REPLAYED');
  const url = await sp.saml.getAuthorizeUrlAsync('', undefined, {});
  await receiveAuthnRequest(d, { binding: 'redirect', rawQuery: rawQuery(url) });
  await refused(receiveAuthnRequest(d, { binding: 'redirect', rawQuery: rawQuery(url) }), 'SAML_REPLAYED');
});

test('OIOSAML 3 AuthnRequest: an expired or future IssueInstant is refused and answered Requester/RequestDenied at the ACS', async () => {
  const old = signRedirect(authnRequestXml({ issueInstant: new Date(Date.now() - 6 * 60_000) }), spKey());
  await refused(receiveAuthnRequest(deps(), { binding: 'redirect', rawQuery: old }), 'SAML_REQUEST_EXPIRED', true);
  const future = signRedirect(authnRequestXml({ issueInstant: new Date(Date.now() + 5 * 60_000) }), spKey());
  await assert.rejects(receiveAuthnRequest(deps(), { binding: 'redirect', rawQuery: future }), (err) => {
    assert.ok(isSamlError(err, 'SAML_REQUEST_FROM_FUTURE'));
    assert.deepEqual(err.status, { top: STATUS.requester, second: STATUS.requestDenied });
    assert.equal(err.answerTo?.acsUrl, ACS_URL);
    return true;
  });
});

test('OIOSAML 3 AuthnRequest: an unknown SP, an ACS outside the metadata or a wrong Destination is refused', async () => {
  await refused(receiveAuthnRequest(deps(), { binding: 'redirect', rawQuery: signRedirect(authnRequestXml({ issuer: 'https://unknown.example' }), spKey()) }), 'SAML_UNKNOWN_ISSUER');
  await refused(
    receiveAuthnRequest(deps(), { binding: 'redirect', rawQuery: signRedirect(authnRequestXml({ acsUrl: 'https://evil.example/acs' }), spKey()) }),
    'SAML_ACS_NOT_IN_METADATA',
  );
  await refused(receiveAuthnRequest(deps(), { binding: 'redirect', rawQuery: signRedirect(authnRequestXml({ inner: '', acsUrl: null, id: '_idx' }).replace('<samlp:AuthnRequest ', '<samlp:AuthnRequest AssertionConsumerServiceIndex="7" '), spKey()) }), 'SAML_ACS_NOT_IN_METADATA');
  await refused(receiveAuthnRequest(deps(), { binding: 'redirect', rawQuery: signRedirect(authnRequestXml({ destination: 'https://other-idp.example/sso' }), spKey()) }), 'SAML_DESTINATION_MISMATCH', true);
  await refused(receiveAuthnRequest(deps(), { binding: 'redirect', rawQuery: signRedirect(authnRequestXml({ destination: null }), spKey()) }), 'SAML_DESTINATION_MISMATCH', true);
});

test('NSIS 6 (Substantial) 8 / OIOSAML 3 AuthnRequest: ForceAuthn with IsPassive is refused (answered Requester); ForceAuthn alone is carried', async () => {
  await refused(receiveAuthnRequest(deps(), { binding: 'redirect', rawQuery: signRedirect(authnRequestXml({ forceAuthn: true, isPassive: true }), spKey()) }), 'SAML_FORCE_AND_PASSIVE', true);
  const forced = await receiveAuthnRequest(deps(), { binding: 'redirect', rawQuery: signRedirect(authnRequestXml({ forceAuthn: true }), spKey()) });
  assert.equal(forced.forceAuthn, true);
});

test('NSIS 6 (Low) 2 / OIOSAML 3 AuthnRequest: a level above the IdP, a maximum comparison or the person profile is answered NoAuthnContext', async () => {
  const context = (refs: string[], comparison = 'minimum') =>
    `<samlp:RequestedAuthnContext Comparison="${comparison}">${refs.map((r) => `<saml:AuthnContextClassRef>${r}</saml:AuthnContextClassRef>`).join('')}</samlp:RequestedAuthnContext>`;
  for (const inner of [context([OIOSAML.loaHigh]), context([OIOSAML.loaLow], 'maximum'), context([OIOSAML.profilePerson]), context(['urn:example:unknown'])]) {
    await assert.rejects(receiveAuthnRequest(deps(), { binding: 'redirect', rawQuery: signRedirect(authnRequestXml({ inner }), spKey()) }), (err) => {
      assert.ok(isSamlError(err, 'SAML_NO_AUTHN_CONTEXT'), String(err));
      assert.equal(err.status.second, STATUS.noAuthnContext);
      assert.ok(err.answerTo);
      return true;
    });
  }
  const exact = await receiveAuthnRequest(deps(), { binding: 'redirect', rawQuery: signRedirect(authnRequestXml({ inner: context([OIOSAML.loaSubstantial, OIOSAML.loaHigh], 'exact') }), spKey()) });
  assert.equal(exact.minimumLevel, 'substantial');
  const better = await receiveAuthnRequest(deps(), { binding: 'redirect', rawQuery: signRedirect(authnRequestXml({ inner: context([OIOSAML.loaLow], 'better') }), spKey()) });
  assert.equal(better.minimumLevel, 'substantial');
  const professional = await receiveAuthnRequest(deps(), { binding: 'redirect', rawQuery: signRedirect(authnRequestXml({ inner: context([OIOSAML.profileProfessional, OIOSAML.loaSubstantial]) }), spKey()) });
  assert.equal(professional.requestedContext?.professional, true);
});

test('OIOSAML 3 AuthnRequest: DOCTYPE, entity declarations (XXE) and processing instructions are refused before parsing', async () => {
  const xxe = `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>${authnRequestXml({ issuer: '&x;' })}`;
  await refused(receiveAuthnRequest(deps(), { binding: 'post', fields: postFields(xxe) }), 'SAML_XML_FORBIDDEN_CONSTRUCT');
  await refused(receiveAuthnRequest(deps(), { binding: 'redirect', rawQuery: signRedirect(xxe, spKey()) }), 'SAML_XML_FORBIDDEN_CONSTRUCT');
  const bomb = `<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>${authnRequestXml({ issuer: '&lol2;' })}`;
  await refused(receiveAuthnRequest(deps(), { binding: 'post', fields: postFields(bomb) }), 'SAML_XML_FORBIDDEN_CONSTRUCT');
  const pi = signPost(authnRequestXml(), spKey()).replace('<saml:Issuer>', '<?evil data?><saml:Issuer>');
  await refused(receiveAuthnRequest(deps(), { binding: 'post', fields: postFields(pi) }), 'SAML_XML_FORBIDDEN_CONSTRUCT');
});

test('OIOSAML 3 AuthnRequest: oversized input is refused (SAML_MESSAGE_TOO_LARGE): long form fields, deflate bombs, deep nesting', async () => {
  await refused(receiveAuthnRequest(deps(), { binding: 'post', fields: { SAMLRequest: 'A'.repeat(300 * 1024) } }), 'SAML_MESSAGE_TOO_LARGE');
  const bomb = deflateRawSync(Buffer.from(`<a>${' '.repeat(10 * 1024 * 1024)}</a>`)).toString('base64');
  await refused(receiveAuthnRequest(deps(), { binding: 'redirect', rawQuery: `SAMLRequest=${encodeURIComponent(bomb)}` }), 'SAML_MESSAGE_TOO_LARGE');
  const deep = authnRequestXml({ inner: `<samlp:Extensions>${'<x>'.repeat(100)}${'</x>'.repeat(100)}</samlp:Extensions>` });
  await refused(receiveAuthnRequest(deps(), { binding: 'post', fields: postFields(deep) }), 'SAML_MESSAGE_TOO_LARGE');
  await refused(receiveAuthnRequest(deps(), { binding: 'redirect', rawQuery: signRedirect(authnRequestXml(), spKey(), { relayState: 'r'.repeat(81) }) }), 'SAML_MESSAGE_TOO_LARGE');
});

test('OIOSAML 3 AuthnRequest: malformed input is refused with SAML_MALFORMED or SAML_WRONG_MESSAGE_TYPE', async () => {
  const cases: [Parameters<typeof receiveAuthnRequest>[1], SamlErrorCode][] = [
    [{ binding: 'redirect', rawQuery: '' }, 'SAML_MALFORMED'],
    [{ binding: 'redirect', rawQuery: 'SAMLRequest=%%%' }, 'SAML_MALFORMED'],
    [{ binding: 'redirect', rawQuery: 'SAMLRequest=bm90IGRlZmxhdGVk' }, 'SAML_MALFORMED'],
    [{ binding: 'redirect', rawQuery: `${signRedirect(authnRequestXml(), spKey())}&SAMLRequest=AAAA` }, 'SAML_MALFORMED'],
    [{ binding: 'post', fields: { SAMLRequest: '!!!' } }, 'SAML_MALFORMED'],
    [{ binding: 'post', fields: { SAMLRequest: ['a', 'b'] } }, 'SAML_MALFORMED'],
    [{ binding: 'post', fields: postFields('<samlp:AuthnRequest') }, 'SAML_MALFORMED'],
    [{ binding: 'post', fields: postFields(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>`) }, 'SAML_WRONG_MESSAGE_TYPE'],
    [{ binding: 'post', fields: postFields(signPost(authnRequestXml({ version: '1.1' }), spKey())) }, 'SAML_UNSUPPORTED_VERSION'],
  ];
  for (const [message, code] of cases) await refused(receiveAuthnRequest(deps(), message), code);
});

test('OIOSAML 3 AuthnRequest: arbitrary input never crashes the parser: it is accepted or refused with a SamlError', async () => {
  const signed = signPost(authnRequestXml(), spKey());
  await fc.assert(
    fc.asyncProperty(fc.oneof(fc.string(), fc.constant(signed)), fc.nat({ max: signed.length }), fc.string({ maxLength: 8 }), async (base, at, insert) => {
      const xml = base.slice(0, at) + insert + base.slice(at);
      for (const message of [
        { binding: 'post' as const, fields: postFields(xml) },
        { binding: 'redirect' as const, rawQuery: unsignedRedirect(xml) },
        { binding: 'redirect' as const, rawQuery: xml },
      ]) {
        try {
          await receiveAuthnRequest(deps(), message);
        } catch (err) {
          assert.ok(isSamlError(err), `not a SamlError: ${String(err)}`);
        }
      }
    }),
    { numRuns: 150 },
  );
});
