export { Store, normaliseEmail } from './Store.js';
export type * from './Store.js';
export { KeyRepository } from './keyRepository.js';
export type * from './keyRepository.js';
export { CheckpointRepository } from './checkpointRepository.js';
export type * from './checkpointRepository.js';
export { ApprovalRepository } from './approvalRepository.js';
export type * from './approvalRepository.js';
