/**
 * Parsing of untrusted SAML XML. Refuses before and after parsing what SAML
 * never needs and attacks use: a DOCTYPE (XXE, entity expansion), entity
 * declarations, processing instructions, any parser warning or error, a
 * document over the size limit or nested too deep (xml-crypto canonicalises
 * recursively). Every refusal is a typed SamlError, never a crash.
 */
import { DOMParser } from '@xmldom/xmldom';
import { SamlError } from '../errors.js';

export interface ParseLimits {
  /** Largest accepted document in UTF-8 bytes. */
  maxBytes: number;
  /** Deepest accepted element nesting. */
  maxDepth: number;
  /** Most elements accepted in one document. */
  maxElements: number;
}

export const DEFAULT_PARSE_LIMITS: ParseLimits = Object.freeze({ maxBytes: 256 * 1024, maxDepth: 40, maxElements: 5000 });

const ELEMENT_NODE = 1;
const PROCESSING_INSTRUCTION_NODE = 7;
const DOCUMENT_TYPE_NODE = 10;
const ENTITY_REFERENCE_NODE = 5;

/** Walks the tree iteratively (no recursion on hostile depth) and checks node kinds and limits. */
function checkTree(doc: Document, limits: ParseLimits): void {
  const stack: { node: Node; depth: number }[] = [{ node: doc, depth: 0 }];
  let elements = 0;
  while (stack.length > 0) {
    const item = stack.pop();
    if (!item) break;
    const { node, depth } = item;
    if (node.nodeType === DOCUMENT_TYPE_NODE || node.nodeType === ENTITY_REFERENCE_NODE) {
      throw new SamlError('SAML_XML_FORBIDDEN_CONSTRUCT', 'a DOCTYPE or entity reference is not allowed');
    }
    // xmldom keeps the XML declaration as a processing instruction "xml" of the document: that one is fine.
    if (node.nodeType === PROCESSING_INSTRUCTION_NODE && !(node.nodeName === 'xml' && node.parentNode === doc)) {
      throw new SamlError('SAML_XML_FORBIDDEN_CONSTRUCT', 'processing instructions are not allowed');
    }
    if (node.nodeType === ELEMENT_NODE) {
      elements += 1;
      if (elements > limits.maxElements) throw new SamlError('SAML_MESSAGE_TOO_LARGE', `more than ${limits.maxElements} elements`);
      if (depth > limits.maxDepth) throw new SamlError('SAML_MESSAGE_TOO_LARGE', `elements nested deeper than ${limits.maxDepth}`);
    }
    for (let child = node.firstChild; child; child = child.nextSibling) stack.push({ node: child, depth: depth + 1 });
  }
}

/**
 * Parses `xml` into a DOM document with namespaces, or throws SamlError
 * (SAML_MESSAGE_TOO_LARGE, SAML_XML_FORBIDDEN_CONSTRUCT, SAML_MALFORMED).
 */
export function parseXml(xml: string, limits: ParseLimits = DEFAULT_PARSE_LIMITS): Document {
  if (Buffer.byteLength(xml, 'utf8') > limits.maxBytes) {
    throw new SamlError('SAML_MESSAGE_TOO_LARGE', `the XML document is larger than ${limits.maxBytes} bytes`);
  }
  // Before parsing: the parser must never see a DTD.
  if (/<!DOCTYPE/i.test(xml) || /<!ENTITY/i.test(xml)) {
    throw new SamlError('SAML_XML_FORBIDDEN_CONSTRUCT', 'a DOCTYPE or entity declaration is not allowed');
  }
  const problems: string[] = [];
  const record = (level: string) => (message: unknown) => {
    problems.push(`${level}: ${String(message)}`);
  };
  let doc: Document;
  try {
    doc = new DOMParser({
      errorHandler: { warning: record('warning'), error: record('error'), fatalError: record('fatal') },
    }).parseFromString(xml, 'text/xml');
  } catch (err) {
    throw new SamlError('SAML_MALFORMED', 'the XML document cannot be parsed', { cause: err });
  }
  if (problems.length > 0) throw new SamlError('SAML_MALFORMED', `the XML document is not well-formed (${problems[0]})`);
  if (!doc?.documentElement) throw new SamlError('SAML_MALFORMED', 'the XML document has no root element');
  checkTree(doc, limits);
  return doc;
}
