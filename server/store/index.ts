export { Store, normaliseEmail } from './Store.js';
export type * from './Store.js';
