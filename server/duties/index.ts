export * from './table.js';
export * from './decide.js';
export { renderDutiesMarkdown } from './renderTable.js';
