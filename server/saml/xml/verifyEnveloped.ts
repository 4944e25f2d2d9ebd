/**
 * Verification of the enveloped signature on the root element of a SAML
 * message (HTTP-POST binding, signed metadata), built to resist XML
 * signature wrapping (XSW; CVE-2024-32962 and CVE-2025-29774/29775 in
 * xml-crypto, fixed in >= 6.0.1 which we require):
 *
 * - the document holds exactly one ds:Signature, a child of the root;
 * - its SignedInfo has exactly one Reference, to "#" + the root's ID, with
 *   only the enveloped and exclusive c14n transforms, a SHA-2 digest and an
 *   RSA-SHA-2 signature method (never SHA-1, never "WithComments");
 * - no other element carries the same ID;
 * - the key comes from the SP's metadata only, never from ds:KeyInfo;
 * - the caller reads ONLY the element returned here, which is re-parsed from
 *   the canonical octets the signature covers (xml-crypto's signed
 *   references), never nodes of the received document. Comments are not in
 *   those octets, so a comment inside a NameID cannot truncate it.
 */
import { createHash } from 'node:crypto';
import { SignedXml } from 'xml-crypto';
import { ACCEPTED_SIGNATURE_ALGORITHMS, ALG, NS } from '../constants.js';
import { SamlError } from '../errors.js';
import { attr, childrenNs, descendantsNs, elementChildren, requiredChild } from './dom.js';
import { type ParseLimits, DEFAULT_PARSE_LIMITS, parseXml } from './parse.js';

export interface VerifiedElement {
  /** The signed root element, re-parsed from the signed canonical octets: the only thing to read. */
  element: Element;
  /** Index in the certificate list of the certificate whose key verified the signature. */
  certificateIndex: number;
  /** Lower-case hex SHA-256 of that certificate's DER. */
  certificateSha256: string;
  signatureAlgorithm: string;
}

const ACCEPTED_DIGESTS = new Set<string>([ALG.sha256, 'http://www.w3.org/2001/04/xmldsig-more#sha384', ALG.sha512]);
const ACCEPTED_TRANSFORMS = new Set<string>([ALG.enveloped, ALG.excC14n]);
const ID_ATTRIBUTES = ['ID', 'Id', 'id'] as const;

export function certificateSha256(pem: string): string {
  const body = pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
  return createHash('sha256').update(Buffer.from(body, 'base64')).digest('hex');
}

function wrapped(message: string): SamlError {
  return new SamlError('SAML_SIGNATURE_WRAPPED', message);
}

/** Structural checks on the (not yet verified) Signature; returns its SignatureMethod. */
function checkSignatureShape(doc: Document, root: Element, rootId: string): { signature: Element; algorithm: string } {
  const signatures = descendantsNs(doc, NS.ds, 'Signature');
  if (signatures.length === 0) throw new SamlError('SAML_UNSIGNED', `<${root.localName}> is not signed`);
  if (signatures.length > 1) throw wrapped(`${signatures.length} signatures in the document, exactly one is accepted`);
  const signature = signatures[0];
  if (!signature || signature.parentNode !== root) throw wrapped('the signature is not a child of the root element');
  const signedInfo = requiredChild(signature, NS.ds, 'SignedInfo');
  const c14n = attr(requiredChild(signedInfo, NS.ds, 'CanonicalizationMethod'), 'Algorithm');
  if (c14n !== ALG.excC14n) throw new SamlError('SAML_SIGNATURE_ALGORITHM_REFUSED', `canonicalization ${c14n ?? '(none)'} is not accepted`);
  const algorithm = attr(requiredChild(signedInfo, NS.ds, 'SignatureMethod'), 'Algorithm') ?? '';
  if (!ACCEPTED_SIGNATURE_ALGORITHMS.has(algorithm)) throw new SamlError('SAML_SIGNATURE_ALGORITHM_REFUSED', `signature method ${algorithm} is not accepted`);
  const references = childrenNs(signedInfo, NS.ds, 'Reference');
  if (references.length !== 1) throw wrapped(`${references.length} references in SignedInfo, exactly one is accepted`);
  const reference = references[0] as Element;
  if (attr(reference, 'URI') !== `#${rootId}`) throw wrapped('the signature does not reference the root element');
  const transforms = childrenNs(requiredChild(reference, NS.ds, 'Transforms'), NS.ds, 'Transform').map((t) => attr(t, 'Algorithm') ?? '');
  if (!transforms.includes(ALG.enveloped) || transforms.some((t) => !ACCEPTED_TRANSFORMS.has(t)) || transforms.length > 2) {
    throw new SamlError('SAML_SIGNATURE_ALGORITHM_REFUSED', `transforms ${transforms.join(', ')} are not accepted`);
  }
  const digest = attr(requiredChild(reference, NS.ds, 'DigestMethod'), 'Algorithm') ?? '';
  if (!ACCEPTED_DIGESTS.has(digest)) throw new SamlError('SAML_SIGNATURE_ALGORITHM_REFUSED', `digest ${digest} is not accepted`);
  return { signature, algorithm };
}

/** No second element may carry the root's ID (the classic XSW move). */
function checkUniqueId(doc: Document, rootId: string): void {
  let count = 0;
  const all = doc.getElementsByTagName('*');
  for (let i = 0; i < all.length; i += 1) {
    const el = all.item(i);
    if (el && ID_ATTRIBUTES.some((name) => el.getAttribute(name) === rootId)) count += 1;
  }
  if (count !== 1) throw wrapped(`${count} elements carry the ID ${rootId}`);
}

/**
 * Verifies the enveloped signature of `doc` (parsed from `xml` by parseXml)
 * against each of `certificates` (PEM) in turn. Throws SamlError:
 * SAML_WRONG_MESSAGE_TYPE, SAML_UNSIGNED, SAML_SIGNATURE_WRAPPED,
 * SAML_SIGNATURE_ALGORITHM_REFUSED, SAML_SIGNATURE_INVALID.
 */
export function verifyEnveloped(
  xml: string,
  doc: Document,
  expected: { ns: string; localName: string },
  certificates: readonly string[],
  limits: ParseLimits = DEFAULT_PARSE_LIMITS,
): VerifiedElement {
  const root = doc.documentElement;
  if (root.namespaceURI !== expected.ns || root.localName !== expected.localName) {
    throw new SamlError('SAML_WRONG_MESSAGE_TYPE', `expected <${expected.localName}>, got <${root.localName}>`);
  }
  const rootId = attr(root, 'ID');
  if (!rootId || !/^[A-Za-z_][\w.-]*$/.test(rootId)) throw new SamlError('SAML_MALFORMED', 'the root element has no valid ID');
  const { signature, algorithm } = checkSignatureShape(doc, root, rootId);
  checkUniqueId(doc, rootId);

  let verified: { index: number; canonical: string } | undefined;
  let lastError: unknown;
  for (const [index, pem] of certificates.entries()) {
    const sig = new SignedXml({ publicCert: pem, getCertFromKeyInfo: () => null });
    try {
      sig.loadSignature(signature);
      if (sig.checkSignature(xml)) {
        const refs = sig.getSignedReferences();
        if (refs.length !== 1 || refs[0] === undefined) throw wrapped(`${refs.length} signed references`);
        verified = { index, canonical: refs[0] };
        break;
      }
    } catch (err) {
      if (err instanceof SamlError) throw err;
      lastError = err;
    }
  }
  if (!verified) {
    throw new SamlError('SAML_SIGNATURE_INVALID', `the signature of <${root.localName}> does not verify with any of ${certificates.length} certificates`, {
      cause: lastError,
    });
  }
  // From here on, only the signed octets count.
  const element = parseXml(verified.canonical, limits).documentElement;
  if (element.namespaceURI !== expected.ns || element.localName !== expected.localName || attr(element, 'ID') !== rootId) {
    throw wrapped('the signed element is not the root element');
  }
  if (descendantsNs(element, NS.ds, 'Signature').length > 0 || elementChildren(element).length === 0) {
    throw wrapped('the signed element still contains a signature');
  }
  const pem = certificates[verified.index] ?? '';
  return { element, certificateIndex: verified.index, certificateSha256: certificateSha256(pem), signatureAlgorithm: algorithm };
}
