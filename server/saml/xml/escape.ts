/** Escaping for XML text and attribute values in the documents the IdP writes. */
const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** Escapes text or an attribute value; refuses characters XML 1.0 cannot carry. */
export function escapeXml(value: string): string {
  // XML 1.0 2.2 Char: no C0 controls other than tab, LF, CR; no lone surrogates; no U+FFFE/U+FFFF.
  if (/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/.test(value) || /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(value)) {
    throw new TypeError('the value contains characters that XML cannot carry');
  }
  return value.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

/** saml-core 1.3.3: xs:dateTime in UTC, millisecond precision. */
export function samlInstant(date: Date): string {
  return date.toISOString();
}
