/** Writes docs/lifecycle.md from the lifecycle table. */
import fs from 'node:fs';
import { renderLifecycleMarkdown } from '../server/lifecycle/renderTable.js';

fs.writeFileSync('docs/lifecycle.md', renderLifecycleMarkdown());
process.stdout.write('wrote docs/lifecycle.md\n');
