export { LIFECYCLE_TABLE, LIFECYCLE_ACTIONS, TERMINAL_STATES } from './table.js';
export { EFFECTS } from './table.js';
export type { LifecycleAction, TransitionRow, Evidence, Guard, Effect } from './table.js';
export { decideTransition } from './decideTransition.js';
export type { TransitionRequest, KeyStatus } from './decideTransition.js';
