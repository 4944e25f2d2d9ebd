/** Writes docs/duties.md from the separation-of-duties table. */
import fs from 'node:fs';
import { renderDutiesMarkdown } from '../server/duties/renderTable.js';

fs.writeFileSync('docs/duties.md', renderDutiesMarkdown());
process.stdout.write('wrote docs/duties.md\n');
