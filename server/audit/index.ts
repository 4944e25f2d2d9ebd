export { canonicalJson } from './canonicalJson.js';
export type { JsonValue } from './canonicalJson.js';
export { entryHash, verifyChain, GENESIS_HASH } from './hashChain.js';
export type { AuditEntry, AuditEntryBody, ChainVerdict } from './hashChain.js';
