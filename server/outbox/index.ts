export type { OutboxSink, OutgoingMail, SecretMinter } from './types.js';
export { SECRET_PLACEHOLDER } from './types.js';
export { FileSink } from './FileSink.js';
export { SmtpSink } from './SmtpSink.js';
export { OutboxDispatcher } from './OutboxDispatcher.js';
