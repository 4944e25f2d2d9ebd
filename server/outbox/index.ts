export type { OutboxSink, OutgoingMail } from './types.js';
export { FileSink } from './FileSink.js';
export { SmtpSink } from './SmtpSink.js';
export { OutboxDispatcher } from './OutboxDispatcher.js';
