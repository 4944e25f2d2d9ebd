/** Namespace-aware reading of a parsed SAML document: children by (namespace, local name), text, attributes. */
import { SamlError } from '../errors.js';

const ELEMENT_NODE = 1;

function isElement(node: Node): node is Element {
  return node.nodeType === ELEMENT_NODE;
}

/** Element children of `parent` with this namespace and local name, in document order. */
export function childrenNs(parent: Element, ns: string, localName: string): Element[] {
  const out: Element[] = [];
  for (let child = parent.firstChild; child; child = child.nextSibling) {
    if (isElement(child) && child.namespaceURI === ns && child.localName === localName) out.push(child);
  }
  return out;
}

/** All element children of `parent`. */
export function elementChildren(parent: Element): Element[] {
  const out: Element[] = [];
  for (let child = parent.firstChild; child; child = child.nextSibling) if (isElement(child)) out.push(child);
  return out;
}

/** The single child with this name, undefined when absent; SAML_MALFORMED when repeated. */
export function optionalChild(parent: Element, ns: string, localName: string): Element | undefined {
  const found = childrenNs(parent, ns, localName);
  if (found.length > 1) throw new SamlError('SAML_MALFORMED', `<${localName}> appears ${found.length} times in <${parent.localName}>`);
  return found[0];
}

/** The single child with this name; SAML_MALFORMED when absent or repeated. */
export function requiredChild(parent: Element, ns: string, localName: string): Element {
  const found = optionalChild(parent, ns, localName);
  if (!found) throw new SamlError('SAML_MALFORMED', `<${localName}> is missing in <${parent.localName}>`);
  return found;
}

/** Every descendant element (document order) with this namespace and local name. */
export function descendantsNs(root: Element | Document, ns: string, localName: string): Element[] {
  return Array.from(root.getElementsByTagNameNS(ns, localName));
}

/**
 * The whole text content of an element, trimmed. Reads every text node, so
 * a comment inside a value (`user<!---->@evil`) cannot cut it short: the
 * element must hold text only.
 */
export function textOf(el: Element): string {
  let text = '';
  for (let child = el.firstChild; child; child = child.nextSibling) {
    if (isElement(child)) throw new SamlError('SAML_MALFORMED', `<${el.localName}> must contain text only`);
    if (child.nodeType === 3 || child.nodeType === 4) text += child.nodeValue ?? '';
  }
  return text.trim();
}

/** An attribute value, undefined when absent. */
export function attr(el: Element, name: string): string | undefined {
  return el.hasAttribute(name) ? (el.getAttribute(name) ?? undefined) : undefined;
}

/** An attribute value; SAML_MALFORMED when absent or empty. */
export function requiredAttr(el: Element, name: string): string {
  const value = attr(el, name);
  if (!value) throw new SamlError('SAML_MALFORMED', `<${el.localName}> has no ${name} attribute`);
  return value;
}

/** xs:boolean ("true", "1", "false", "0"); undefined when absent. */
export function booleanAttr(el: Element, name: string): boolean | undefined {
  const value = attr(el, name);
  if (value === undefined) return undefined;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new SamlError('SAML_MALFORMED', `${name} is not an xs:boolean: "${value}"`);
}

/** xs:dateTime in UTC as SAML requires (saml-core 1.3.3); SAML_MALFORMED otherwise. */
export function instantAttr(el: Element, name: string): Date {
  const value = requiredAttr(el, name);
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/.test(value)) {
    throw new SamlError('SAML_MALFORMED', `${name} is not a UTC xs:dateTime: "${value}"`);
  }
  const date = new Date(value.replace(/(\.\d{3})\d+Z$/, '$1Z'));
  if (Number.isNaN(date.getTime())) throw new SamlError('SAML_MALFORMED', `${name} is not a valid instant: "${value}"`);
  return date;
}
